import { isUtf8 } from 'node:buffer';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Session } from '../session';
import { endThenRelease } from './endThenRelease';

/**
 * What SSE and long polling share on the server: unguessable session ids bound to a
 * per-session secret and to the Authorization header that opened them, and the upstream POST.
 *
 * The sid is in every request URL, and URLs end up in logs and proxies. So a sid alone
 * grants nothing: the server's first answer also carries a secret, and every later request of
 * the session must send it in the `x-tidewire-secret` header (never in a URL). This also covers
 * apps that authenticate by cookie, where the Authorization binding is empty.
 */

/** One HTTP-transport session, found by its id. */
export interface HttpSession {
  readonly kind: 'sse' | 'poll';
  /** SHA-256 of the Authorization header the session was opened with ('' when none). */
  readonly auth: Buffer;
  /** SHA-256 of the session's secret (see newSessionSecret). */
  readonly secret: Buffer;
  readonly session: Session;
  /** POST bodies may carry a frame per line (the client asked with `?batch=lines`, see {@link upstreamFrames}). */
  readonly upstreamLines?: boolean;
  /** The client hung up (DELETE): end the session quietly. */
  end(): void;
}

/** 144 random bits, URL-safe. Useless without the Authorization header it is bound to. */
export const newSessionId = (): string => randomBytes(18).toString('base64url');

export const authDigest = (request: IncomingMessage): Buffer => sha256(request.headers.authorization ?? '');

/** Constant-time: both sides are fixed-length digests. */
export const sameAuth = (http: HttpSession, request: IncomingMessage): boolean => timingSafeEqual(http.auth, authDigest(request));

/** The request header that proves possession of a session's secret. */
export const SECRET_HEADER = 'x-tidewire-secret';

/**
 * A session secret (144 random bits, URL-safe) and the digest the server keeps of it.
 * @returns `secret` to send to the client once, `digest` to keep
 */
export function newSessionSecret(): { secret: string; digest: Buffer } {
  const secret = randomBytes(18).toString('base64url');
  return { secret, digest: sha256(secret) };
}

/** Whether the request carries the session's secret. Constant-time: compares fixed-length digests. */
export function provesSecret(http: HttpSession, request: IncomingMessage): boolean {
  const sent = request.headers[SECRET_HEADER];
  return typeof sent === 'string' && timingSafeEqual(http.secret, sha256(sent));
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** readBody's answer for a body that is not UTF-8 (a symbol: no text can collide with it). */
export const INVALID_UTF8 = Symbol('invalid UTF-8');

export const NO_STORE = { 'cache-control': 'no-store' } as const;

/** Answer with `body` as JSON; through endThenRelease, like every end of a session's response. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...NO_STORE,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  endThenRelease(response, text);
}

/**
 * Read a body of at most `limit` bytes. Resolves undefined when it is bigger (the rest
 * is discarded, and the socket is cut if the client keeps sending).
 */
export function readBody(request: IncomingMessage, limit: number): Promise<string | undefined | typeof INVALID_UTF8> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    let size = 0;
    const chunks: Buffer[] = [];
    const tooLarge = (): void => {
      request.removeListener('data', onData);
      request.resume();
      setTimeout(() => request.destroy(), 1000).unref();
      resolve(undefined);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) return tooLarge();
      chunks.push(chunk);
    };
    if (declared > limit) return tooLarge();
    request.on('data', onData);
    request.once('end', () => {
      const body = Buffer.concat(chunks);
      // Not decoded with replacement characters: invalid UTF-8 is refused like on a WebSocket.
      resolve(isUtf8(body) ? body.toString('utf8') : INVALID_UTF8);
    });
    request.once('error', reject);
  });
}

/**
 * What the long-poll open answer adds for a client that asked for `?batch=lines`: `upstream: "lines"` —
 * its POST bodies may carry one frame per line (see {@link upstreamFrames}; protocol §13.2). A client
 * that does not see it (an older server) sends the JSON array.
 */
export const UPSTREAM_LINES = { upstream: 'lines' } as const;

/**
 * The frames of a POST body: a JSON array of frame texts (`["{…}",…]`, what every client may send)
 * or, with `lines` (a session whose client asked for the one-encoding format), a line feed and then
 * one frame text per line (`⏎{…}⏎{…}`), each exactly what a WebSocket client sends as one message,
 * so it is parsed once (the array parsed it twice). JSON text never holds a raw line feed, so a line
 * is a frame; the leading line feed marks the format, so every other body means what it always did.
 * @param body the POST body, valid UTF-8
 * @param lines whether the session reads lines
 * @returns the frames, or undefined when the body is neither
 */
export function upstreamFrames(body: string, lines: boolean): unknown[] | undefined {
  if (lines && body.startsWith('\n')) return body.slice(1).split('\n');
  try {
    const frames: unknown = JSON.parse(body);
    return Array.isArray(frames) ? frames : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Upstream frames: the body is a JSON array of frames, each a JSON text (exactly what a
 * WebSocket client would send as one message), or, negotiated, those texts one per line ({@link upstreamFrames}).
 * Each goes through `session.receive`, so size limits, rate limits and validation are the
 * WebSocket ones. Answers 204.
 */
export async function receiveFrames(request: IncomingMessage, response: ServerResponse, http: HttpSession, limit: number): Promise<void> {
  const { session } = http;
  let body: string | undefined | typeof INVALID_UTF8;
  try {
    body = await readBody(request, limit);
  } catch {
    return; // the client went away mid-body; nothing to answer
  }
  if (body === INVALID_UTF8) {
    sendJson(response, 400, { error: { code: 'bad_request', message: 'the body is not valid UTF-8' } });
    session.receiveInvalid('a POST body was not valid UTF-8');
    return;
  }
  if (body === undefined) {
    // Like a WebSocket frame past the hard cap: refuse and close the session.
    response.setHeader('connection', 'close');
    sendJson(response, 413, { error: { code: 'too_large', message: `request body exceeds ${limit} bytes` } });
    session.close('too_large', `request body exceeds ${limit} bytes`);
    return;
  }
  const frames = upstreamFrames(body, http.upstreamLines === true);
  if (!frames) {
    sendJson(response, 400, { error: { code: 'bad_request', message: 'the body must be a JSON array of frames' } });
    session.close('protocol_error', 'a POST body was not a JSON array of frames');
    return;
  }
  for (const frame of frames) {
    if (typeof frame === 'string') session.receive(frame);
    else session.receiveInvalid('each frame must be a JSON text (a string in the array)');
  }
  endThenRelease(response.writeHead(204, NO_STORE));
}
