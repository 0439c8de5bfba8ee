import { fallbackPlan } from '../fallback-plan';
import type { TransportFactory } from '../transport';
import type { HttpTransportOptions } from './http-line';
import { httpLine } from './http-line';

export type { HttpTransportOptions as LongPollTransportOptions } from './http-line';

/**
 * Long polling: `POST <url>/poll` opens a session; `GET <url>/poll?sid=…&ack=n` is held by
 * the server until frames are ready, answers `{ seq, frames }` and is re-issued at once
 * (one in flight). `ack` is the last batch received: the server keeps a batch until a later
 * poll acknowledges it, so a response lost on the way is delivered again, never twice.
 */
export function longpoll(options: HttpTransportOptions = {}): TransportFactory {
  return {
    name: 'longpoll',
    // Listed with others, a fallback transport brings the plan that chooses among them.
    plan: fallbackPlan,
    open(context, events) {
      const line = httpLine('poll', context, events, options, true);
      let ack = 0;
      let failures = 0;
      const poll = async (): Promise<void> => {
        while (!line.done) {
          try {
            const res = await line.request('GET', { params: { ack } });
            const { seq, frames } = (await res.json()) as { seq: number; frames: string[] };
            failures = 0;
            if (seq > ack) {
              ack = seq;
              for (const frame of frames) if (!line.done) events.onFrame(frame);
            }
          } catch (cause) {
            // The server said no (unknown session: 404/410): give up. A cut or garbled
            // response: poll again with the same ack, a couple of times.
            if ((cause as { status: number }).status < 500 || ++failures > 2) return line.fail('longpoll: polling failed', cause);
            await new Promise((r) => setTimeout(r, 200 * failures));
          }
        }
      };
      line
        .request('POST')
        .then((res) => res.json())
        .then((body: { sid: string }) => {
          if (line.done) return;
          line.sid = body.sid;
          events.onOpen();
          void poll();
        })
        .catch((cause: unknown) => line.fail('longpoll: could not open a session', cause));
      return line;
    },
  };
}
