import type { TransportClose, TransportEvents } from '../src/transport';

/** Transport events that only record what happened: for driving one transport in isolation. */
export function recorder() {
  const log = { opened: 0, frames: [] as string[], closes: [] as TransportClose[] };
  const events: TransportEvents = {
    onOpen: () => void log.opened++,
    onFrame: (text) => void log.frames.push(text),
    onClose: (info) => void log.closes.push(info),
  };
  return { log, events };
}
