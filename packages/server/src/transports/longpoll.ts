import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeFrame, type CloseCode } from '@tidewire/core/protocol';
import { BURST_FLUSH_CHARS } from '../afterBurst';
import type { Link } from '../link';
import type { Session } from '../session';
import { releaseUnflushed } from './endThenRelease';
import { NO_STORE, UPSTREAM_LINES, authDigest, newSessionId, newSessionSecret, sendJson, type HttpSession } from './http';

export interface PollHost {
  /** How long a poll is held when there is nothing to send. */
  timeout: number;
  /** Extra time a client gets to come back before its session is dropped. */
  grace: number;
  openSession(link: Link, request: IncomingMessage): Session;
  register(sid: string, http: PollSession): void;
  unregister(sid: string): void;
  /** Makes the session ids (default: random; with a relay, ids that name this node). */
  newSessionId?: () => string;
}

export interface PollSession extends HttpSession {
  readonly kind: 'poll';
  /** `GET <path>/poll?sid=…&ack=n`: `ack` is the last batch the client received. */
  poll(response: ServerResponse, ack: number): void;
}

const JSON_HEADERS = { ...NO_STORE, 'content-type': 'application/json; charset=utf-8' };
const LINES_HEADERS = { ...NO_STORE, 'content-type': 'application/x-ndjson; charset=utf-8' };

/**
 * The two batch encodings (docs/protocol.md, "Long-poll batches"):
 * - `json` (legacy, the default): `{"seq":n,"frames":["<frame>",…]}` — every frame is a JSON
 *   string inside JSON, so it is escaped on the way out and parsed twice on the way in;
 * - `lines` (asked for with `?batch=lines` on the opening POST): `{"seq":n}` then one frame per
 *   line. A frame is JSON text and JSON text never holds a raw line feed, so the frames go out
 *   as they were encoded, once, and the client hands each line to its decoder as is.
 */
type BatchFormat = 'json' | 'lines';

function encodeBatch(format: BatchFormat, seq: number, frames: readonly string[]): string {
  if (format === 'json') return JSON.stringify({ seq, frames });
  return frames.length ? `{"seq":${seq}}\n${frames.join('\n')}` : `{"seq":${seq}}\n`;
}

/**
 * `POST <path>/poll`: open a session and answer `{ sid }`. Frames for the client wait in
 * an outbox; a poll takes all of them as one numbered batch (see BatchFormat). The batch
 * is kept until a later poll's `ack` covers it, and sent again otherwise, so a response
 * lost on the way (cut by a proxy) is re-delivered and a batch is never applied twice.
 */
export function openPollSession(request: IncomingMessage, response: ServerResponse, host: PollHost): void {
  const format: BatchFormat = new URL(request.url ?? '/', 'http://x').searchParams.get('batch') === 'lines' ? 'lines' : 'json';
  const headers = format === 'lines' ? LINES_HEADERS : JSON_HEADERS;
  const sid = (host.newSessionId ?? newSessionId)();
  const { secret, digest } = newSessionSecret();
  let outbox: string[] = [];
  let outboxChars = 0;
  let seq = 0;
  let unacked: { seq: number; body: string } | undefined;
  let waiting: ServerResponse | undefined;
  // The last answered poll, until a newer one is answered: its batch may still be on its way (see releaseLastAnswer).
  let lastAnswer: ServerResponse | undefined;
  let hold: NodeJS.Timeout | undefined;
  let expiry: NodeJS.Timeout | undefined;
  let flushQueued = false;
  let closing = false; // the close frame is queued; nothing else goes out
  let ended = false;
  // Resolved once a response carries the close frame (or the session ended): see Link.closeSent.
  let markCloseSent!: () => void;
  const closeSent = new Promise<void>((resolve) => (markCloseSent = resolve));

  const end = (): void => {
    if (ended) return;
    ended = true;
    markCloseSent();
    clearTimeout(hold);
    clearTimeout(expiry);
    host.unregister(sid);
    if (waiting) answer(waiting, encodeBatch(format, seq, []));
    releaseLastAnswer();
    session.onLinkClosed();
  };
  /**
   * A poll's answer is a whole batch (up to limits.maxBufferedBytes), and it may take long to reach a slow
   * client, so it gets no deadline of its own. But once the client polls again it has read it (or gave up
   * on it), and once the session is gone nobody will: from then on a peer that does not take the rest
   * gets the close grace, then loses the socket — else a peer that never reads, polling on fresh
   * connections, would pin a copy of the batch per connection.
   */
  const releaseLastAnswer = (): void => {
    if (lastAnswer) releaseUnflushed(lastAnswer);
    lastAnswer = undefined;
  };
  // Nobody is polling: drop the session unless a poll arrives in time.
  const armExpiry = (): void => {
    clearTimeout(expiry);
    if (!ended) expiry = setTimeout(end, host.timeout + host.grace).unref();
  };
  const answer = (res: ServerResponse, body: string): void => {
    if (waiting === res) {
      waiting = undefined;
      clearTimeout(hold);
    }
    // Encoded once: measuring the text and then writing it as a string would convert it to UTF-8 twice.
    const bytes = Buffer.from(body, 'utf8');
    res.writeHead(200, { ...headers, 'content-length': bytes.length }).end(bytes);
    if (lastAnswer !== res) releaseLastAnswer();
    lastAnswer = res;
    armExpiry();
  };
  const nextBatch = (): string => {
    seq++;
    if (closing) markCloseSent(); // this batch carries the close frame
    unacked = { seq, body: encodeBatch(format, seq, outbox) };
    outbox = [];
    outboxChars = 0;
    return unacked.body;
  };
  // Frames written in the same tick leave in one response.
  const flush = (): void => {
    flushQueued = false;
    if (waiting && outbox.length && !unacked) answer(waiting, nextBatch());
  };

  const origin = request.headers.origin;
  const link: Link = {
    ...(origin !== undefined && { remoteOrigin: origin }),
    transport: 'longpoll',
    send(text) {
      if (closing || ended) return;
      outbox.push(text);
      outboxChars += text.length;
      // A burst that never yields still streams: a held poll is answered once enough has
      // accumulated, instead of the whole burst waiting for its end in one batch.
      if (waiting && !unacked && outboxChars >= BURST_FLUSH_CHARS) return flush();
      if (waiting && !flushQueued) {
        flushQueued = true;
        setImmediate(flush);
      }
    },
    close(code: CloseCode, message: string, retryAfter?: number) {
      if (closing) return;
      link.send(encodeFrame({ type: 'close', code, message, ...(retryAfter !== undefined && { retryAfter }) }));
      closing = true;
      // The record stays until a poll has taken the close frame, or the session expires: after
      // `grace` only when no poll is waiting (a live client polls again within a round trip; a session
      // opened and never used — up to limits.maxPendingSessions of them — is not kept for a full poll cycle).
      if (!waiting && !ended) {
        clearTimeout(expiry);
        expiry = setTimeout(end, host.grace).unref();
      }
    },
    bufferedBytes: () => outboxChars + (unacked?.body.length ?? 0),
    closeSent: () => closeSent,
  };
  const session = host.openSession(link, request);

  host.register(sid, {
    kind: 'poll',
    upstreamLines: format === 'lines',
    auth: authDigest(request),
    secret: digest,
    session,
    end,
    poll(res, ack) {
      if (unacked && ack >= unacked.seq) unacked = undefined;
      clearTimeout(expiry);
      releaseLastAnswer(); // the client is back: it has read the last answer, or given up on it
      // A newer poll replaces an older one still held (the client gave up on it).
      if (waiting) answer(waiting, encodeBatch(format, seq, []));
      if (unacked) return answer(res, unacked.body);
      if (outbox.length) return answer(res, nextBatch());
      if (closing) {
        end();
        return sendJson(res, 410, { error: { code: 'gone', message: 'the session is closed' } });
      }
      waiting = res;
      hold = setTimeout(() => answer(res, encodeBatch(format, seq, [])), host.timeout);
      res.once('close', () => {
        if (waiting !== res) return;
        waiting = undefined; // cut before we answered; the next poll gets it all
        clearTimeout(hold);
        armExpiry();
      });
    },
  });
  armExpiry();
  // The secret goes out once, in the body: later requests prove it in a header (see http.ts).
  sendJson(response, 200, { sid, secret, ...(format === 'lines' && UPSTREAM_LINES) });
}
