import type { Clock } from './clock';
import { Timer } from './clock';
import type { ConnectedFrame } from './protocol/frames';
import { connectFrame, decodeServerFrame } from './protocol/codec';
import type { Transport, TransportContext, TransportEvents, TransportFactory } from './transport';

export interface ProbeSuccess {
  readonly transport: Transport;
  readonly connected: ConnectedFrame;
  /** Hand the live transport's further events to its new owner (frames that came early are replayed). */
  adopt(events: TransportEvents): void;
}

export interface Probe {
  readonly result_: Promise<ProbeSuccess>;
  cancel_(): void;
}

/**
 * Opens a second, independent session on a better transport while the current one keeps
 * working. It succeeds only when the server's `connected` frame arrives within the deadline —
 * an open socket that never speaks (a black hole) does not count.
 */
export function probeTransport(
  factory: TransportFactory,
  context: TransportContext,
  clock: Clock,
  deadline: number,
): Probe {
  let owner: TransportEvents | undefined;
  let settled = false;
  // What arrived between success and adoption, replayed to the new owner in order (frames and invalid-frame reports alike).
  const early: ((events: TransportEvents) => void)[] = [];
  let transport: Transport | undefined;
  let rejectProbe: (reason: Error) => void = () => {};

  const fail = (why: string) => {
    if (settled) return;
    settled = true;
    timer.stop_();
    transport?.close();
    rejectProbe(new Error(why));
  };
  const timer = new Timer(clock); // the one timer rule: no overflow, a late deadline sees what arrived
  timer.start_(deadline, () => fail('probe: no answer within the deadline'));

  const result = new Promise<ProbeSuccess>((resolve, reject) => {
    rejectProbe = reject;
    try {
      transport = factory.open(context, {
        onOpen: () => {
          if (!settled) transport?.send(connectFrame(context.token));
        },
        onFrame: (text) => {
          if (owner) return owner.onFrame(text);
          if (settled) return void early.push((events) => events.onFrame(text));
          const decoded = decodeServerFrame(text);
          if (!decoded.ok || decoded.frame.type !== 'connected') return fail('probe: unexpected first frame');
          settled = true;
          timer.stop_();
          const live = transport!;
          resolve({
            transport: live,
            connected: decoded.frame,
            adopt(events) {
              owner = events;
              for (const replay of early.splice(0)) replay(events);
            },
          });
        },
        // Bytes of a slow frame keep the adopted line alive as on any other line.
        onActivity: (bytes) => owner?.onActivity?.(bytes), // with their size, as on any other line (see liveBytes)
        onInvalid: (reason) => {
          if (owner) return owner.onInvalid?.(reason);
          if (settled) return void early.push((events) => events.onInvalid?.(reason));
          fail(`probe: invalid first frame (${reason})`);
        },
        onClose: (info) => (owner ? owner.onClose(info) : fail(`probe: closed (${info.message})`)),
      });
    } catch (cause) {
      fail(`probe: could not open (${String(cause)})`);
    }
  });
  return { result_: result, cancel_: () => fail('probe: cancelled') };
}
