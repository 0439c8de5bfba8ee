import { fallbackPlan } from '../fallback-plan';
import type { TransportFactory } from '../transport';
import type { HttpTransportOptions } from './http-line';
import { frameLimit } from './frame-limit';
import { httpLine } from './http-line';

export type { HttpTransportOptions as LongPollTransportOptions } from './http-line';

/**
 * What a poll answer may hold beyond one frame of `maxFrameBytes`: 4 MiB, the reference server's
 * default `maxBufferedBytes` — past it the server closes a client that falls behind (`slow_consumer`)
 * instead of batching more, so a batch never holds more than that plus the frame that crossed it.
 */
const BATCH_SLACK = 4 * 1024 * 1024;

/** The longest pause before polling again after answers that brought nothing new, in ms. */
const MAX_IDLE_PAUSE = 1000;

/**
 * An answer that brought nothing new faster than this (ms) was not held by a server (whose poll
 * timeout holds a poll for seconds) but bounced by something in between: only such answers count
 * towards the pause, so a healthy server's poll-timeout answers never delay its next message.
 */
const BOUNCED_WITHIN = 50;

/** A poll answer: batch number and its frames. */
interface Batch {
  readonly seq: number;
  readonly frames: readonly string[];
}

/**
 * Decode a poll answer; `undefined` when it is not a batch. Asked for with `?batch=lines`, the
 * server answers `{"seq":n}` then one frame per line (frames are JSON text, which never holds a
 * raw line feed), so each frame is decoded once, by the connection. A server that does not know
 * that format answers the legacy `{"seq":n,"frames":["<frame>",…]}` (no line feed), also read.
 */
function decodeBatch(text: string): Batch | undefined {
  const lines = text.split('\n');
  let body: unknown;
  try {
    body = JSON.parse(lines[0]!);
  } catch {
    return undefined;
  }
  const { seq, frames = lines.slice(1).filter(Boolean) } = (body ?? {}) as { seq?: unknown; frames?: unknown };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || !Array.isArray(frames)) return undefined;
  return frames.every((frame) => typeof frame === 'string') ? { seq, frames: frames as string[] } : undefined;
}

/**
 * Long polling: `POST <url>/poll` opens a session; `GET <url>/poll?sid=…&ack=n` is held by
 * the server until frames are ready, answers a batch (`{"seq":n}` then a frame per line) and is re-issued at once
 * (one in flight), before the batch's frames are handled. `ack` is the last batch received: the server keeps a batch until a later
 * poll acknowledges it, so a response lost on the way is delivered again, never twice.
 *
 * Answers are read chunk by chunk (each chunk counts as activity, so a large batch slower than
 * the heartbeat allowance keeps the line alive) and decoded once at the end. A batch that does
 * not decode is reported (`onInvalid`) and polled again with the same `ack`. A line (a frame) longer
 * than `maxFrameBytes`, or an answer longer than that plus 4 MiB, is not read further: the line ends
 * (`invalid_frame`) and the client reconnects.
 *
 * @param options `fetch`: an implementation to use instead of the client's or the global one;
 *   `maxFrameBytes`: the longest frame read (default 64 MiB, see frame-limit.ts)
 * @returns the transport factory to list in `createClient({ transports })`
 * @throws TidewireError `invalid_options` when `maxFrameBytes` is not a positive integer
 */
export function longpoll(options: HttpTransportOptions = {}): TransportFactory {
  frameLimit(options); // a bad maxFrameBytes throws here, where the app wrote it
  return {
    name: 'longpoll',
    // Listed with others, a fallback transport brings the plan that chooses among them.
    plan: fallbackPlan,
    open(context, events) {
      const line = httpLine('poll', context, events, options, { hangUp: true });
      let ack = 0;
      let failures = 0;
      // A whole answer is held until it ends (it is decoded once), so both what one line (a frame) and what
      // the answer may hold are bounded: an endless line stops at maxFrameBytes, an endless body of short
      // lines at BATCH_SLACK more (see there).
      const readAll = async (res: Response): Promise<string> => {
        const parts: string[] = [];
        let chars = 0;
        let arriving = 0; // characters of the line still arriving
        const onText = (text: string): void => {
          const lastEnd = text.lastIndexOf('\n');
          arriving = lastEnd === -1 ? arriving + text.length : text.length - lastEnd - 1;
          if (arriving > line.maxFrameBytes) return line.tooLarge('a long-poll line (one frame)');
          if ((chars += text.length) > line.maxFrameBytes + BATCH_SLACK) return line.tooLarge('a long-poll answer');
          parts.push(text);
        };
        await line.read(res, onText);
        return parts.join('');
      };
      let idle = 0; // answers in a row that brought nothing new
      /** The next poll, already on its way while the frames of the last batch are handled. */
      let next: Promise<Response> | undefined;
      let polledAt = 0;
      const request = (): Promise<Response> => {
        polledAt = performance.now();
        const sent = line.request('GET', { params: { ack } });
        sent.catch(() => {}); // awaited by the loop; not an unhandled rejection if the line ends first
        return sent;
      };
      const poll = async (): Promise<void> => {
        while (!line.done) {
          try {
            const res = await (next ?? request());
            next = undefined;
            const text = await readAll(res);
            if (line.done) return;
            const batch = decodeBatch(text);
            if (!batch) {
              events.onInvalid?.(`a long-poll answer that is not a batch (${text.length} characters)`);
              throw new Error('longpoll: undecodable batch');
            }
            failures = 0;
            if (batch.seq <= ack) {
              // Nothing new. Held until the server's poll timeout: poll again at once. Bounced at once (a
              // broken proxy): after the second such answer in a row, with a growing pause, never in a tight loop.
              idle = performance.now() - polledAt < BOUNCED_WITHIN ? idle + 1 : 0;
              if (idle > 1) await new Promise((r) => setTimeout(r, Math.min(MAX_IDLE_PAUSE, 25 * 2 ** idle)));
            } else {
              idle = 0;
              ack = batch.seq;
              // Acknowledged and polled again before the frames are handled: the server prepares the next
              // batch while this one is decoded (handling a batch of a burst took as long as the round trip).
              next = request();
              for (const frame of batch.frames) if (!line.done) events.onFrame(frame);
            }
          } catch (cause) {
            next = undefined;
            if (line.done) return;
            // The server said no (unknown session: 404/410): give up. A cut or garbled
            // response: poll again with the same ack, a couple of times.
            const status = (cause as { status?: number }).status;
            if ((status !== undefined && status < 500) || ++failures > 2) return line.fail('longpoll: polling failed', cause);
            await new Promise((r) => setTimeout(r, 200 * failures));
          }
        }
      };
      line
        .request('POST', { params: { batch: 'lines' } })
        .then(readAll)
        .then((text) => {
          if (line.done) return;
          if (!line.adopt(text)) {
            events.onInvalid?.('the long-poll open answer carries no session');
            return line.fail('longpoll: the server did not open a session');
          }
          events.onOpen();
          void poll();
        })
        .catch((cause: unknown) => line.fail('longpoll: could not open a session', cause));
      return line;
    },
  };
}
