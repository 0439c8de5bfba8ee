import { describe, expect, it } from 'vitest';
import { systemClock } from '../src/clock';
import type { TransportEvents, TransportFactory } from '../src/transport';
import { probeTransport } from '../src/upgrade-probe';
import { connected } from './fake-transport';
import { fullRecorder } from './http-line-fake';

/** A transport whose events the test fires by hand, as the probed WebSocket. */
function handDriven() {
  let events!: TransportEvents;
  let closed = false;
  const factory: TransportFactory = {
    name: 'websocket',
    open(_context, e) {
      events = e;
      return { send: () => {}, close: () => void (closed = true) };
    },
  };
  return { factory, events: () => events, closed: () => closed };
}

describe('an upgrade probe', () => {
  it('hands activity and invalid-frame reports to its new owner, in order with early frames', async () => {
    const line = handDriven();
    const probe = probeTransport(line.factory, { url: 'ws://rt.test/x' }, systemClock, 60_000);
    line.events().onOpen();
    line.events().onFrame(JSON.stringify(connected()));
    const success = await probe.result_;
    // Between success and adoption: kept, then replayed in order.
    line.events().onFrame('{"type":"ping"}');
    line.events().onInvalid?.('a binary WebSocket message');
    const { log, events } = fullRecorder();
    success.adopt(events);
    expect(log.frames).toEqual(['{"type":"ping"}']);
    expect(log.invalid).toEqual(['a binary WebSocket message']);
    line.events().onActivity?.(1234);
    line.events().onInvalid?.('again');
    expect(log.activity).toBe(1);
    expect(log.activityBytes).toBe(1234); // with its size: a trickle on an upgraded line is weighed like on any other
    expect(log.invalid).toEqual(['a binary WebSocket message', 'again']);
  });

  it('fails on an invalid report before the connected frame', async () => {
    const line = handDriven();
    const probe = probeTransport(line.factory, { url: 'ws://rt.test/x' }, systemClock, 60_000);
    line.events().onOpen();
    line.events().onInvalid?.('a binary WebSocket message');
    await expect(probe.result_).rejects.toThrow(/probe: invalid first frame \(a binary WebSocket message\)/);
    expect(line.closed()).toBe(true);
  });
});
