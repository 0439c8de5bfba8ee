import type { IncomingMessage, ServerResponse } from 'node:http';
import { FetchResponseWriter, incomingFromFetch } from './fetchBridge';
import { endThenRelease, releaseUnflushed } from './transports/endThenRelease';
import { INVALID_UTF8, newSessionId, readBody } from './transports/http';

/**
 * Sticky-free HTTP transports (docs/scaling.md, "HTTP transports without sticky sessions").
 *
 * An SSE or long-poll session lives in the process that opened it (its held poll, its event
 * stream, its buffers cannot move). With a relay, that process names itself in the sid
 * (`<nodeId>.<random>`), and any other process that receives a POST, poll or DELETE for the
 * session hands the whole request to the owner through the relay and writes the owner's answer
 * back. The owner runs it through the same routes as a local request, so the secret, the
 * Authorization binding, limits and acks are checked where the session is. The server only
 * needs this small interface; `@tidewire/redis` implements it over Redis pub/sub.
 */

/** One HTTP request of a session, as relayed to its owner. Bodies are text (frames are JSON). */
export interface RelayedRequest {
  readonly method: string;
  /** Path and query, e.g. `/tidewire/poll?sid=…&ack=3`. */
  readonly url: string;
  /** Request headers, lower-case names (host, origin, authorization, x-tidewire-secret …). */
  readonly headers: Readonly<Record<string, string>>;
  /** The request body ('' when none). */
  readonly body: string;
}

/** The owner's answer: status, headers and the whole body as text. */
export interface RelayedResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** What a node does with a request relayed to it: run it against its local session. */
export type RelayedRequestHandler = (request: RelayedRequest) => Promise<RelayedResponse>;

/**
 * Carries HTTP-transport requests between server processes. Pass one per server:
 * `createServer({ broker, relay })`.
 */
export interface SessionRelay {
  /**
   * This process's id, unique in the cluster and stable for its life (a restarted process gets a
   * new one: its sessions died with it). Characters `[A-Za-z0-9_-]`, no `.`.
   */
  readonly nodeId: string;
  /**
   * Start answering requests relayed to this node with `handler`. Called once, by `createServer`.
   * @returns a function that stops serving
   */
  serve(handler: RelayedRequestHandler): () => void;
  /**
   * Send a request to the node that owns its session and wait for the answer.
   * @param nodeId the owner (the part of the sid before the first `.`)
   * @param request the request as received
   * @param timeout ms to wait for the answer (a held long poll needs the poll timeout and more)
   * @returns the owner's answer, or `undefined` when no process with that id is listening (it
   *   died: the session is gone) or it did not answer in time
   */
  forward(nodeId: string, request: RelayedRequest, timeout: number): Promise<RelayedResponse | undefined>;
}

/** A sid factory naming this node as the owner: `<nodeId>.<144 random bits>`. */
export const ownedSessionIds = (nodeId: string) => (): string => `${nodeId}.${newSessionId()}`;

/** The node a sid names as its owner, or undefined for a sid made without a relay. */
export function ownerOf(sid: string): string | undefined {
  const dot = sid.indexOf('.');
  return dot > 0 ? sid.slice(0, dot) : undefined;
}

/** Hop-by-hop and framing headers: each side of the relay frames its own message. */
const HOP_HEADERS = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);

function plainHeaders(headers: Iterable<[string, string | string[] | undefined]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (value === undefined || HOP_HEADERS.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/**
 * The receiving side: read the request (body up to `bodyLimit` bytes), relay it to the owner and
 * write its answer. An owner that is gone answers like an unknown session (404: the client
 * reconnects and recovers); a body past the limit is refused 413 here, as the owner would.
 */
export async function relayToOwner(
  relay: SessionRelay,
  owner: string,
  request: IncomingMessage,
  response: ServerResponse,
  options: { bodyLimit: number; timeout: number; keepAnswer: number },
): Promise<void> {
  let body: string | undefined | typeof INVALID_UTF8;
  try {
    body = await readBody(request, options.bodyLimit); // refused as soon as it is past the limit, as on the owner
  } catch {
    return; // the client went away mid-body
  }
  if (body === undefined) {
    response.setHeader('connection', 'close');
    return sendError(response, 413, 'too_large', `request body exceeds ${options.bodyLimit} bytes`);
  }
  if (body === INVALID_UTF8) return sendError(response, 400, 'bad_request', 'the body is not valid UTF-8');
  const relayed: RelayedRequest = {
    method: request.method ?? 'GET',
    url: request.url ?? '/',
    headers: plainHeaders(Object.entries(request.headers)),
    body,
  };
  const sid = new URL(relayed.url, 'http://x').searchParams.get('sid') ?? '';
  // The client is back (a new poll) or ends the session: the last answer it was sent here is read or given up.
  if (relayed.method === 'GET' || relayed.method === 'DELETE') releaseLastPollAnswer(relay, sid);
  const answer = await relay.forward(owner, relayed, options.timeout).catch(() => undefined);
  if (response.writableEnded || response.destroyed) return; // the client gave up meanwhile
  if (!answer) return sendError(response, 404, 'not_found', 'unknown session');
  // A relay is the app's or another process's: an answer Node would refuse to write (a status out of
  // range, a header value with CR/LF) is a gateway error, never a throw that ends the process.
  if (!writableAnswer(answer)) return sendError(response, 502, 'server_error', 'the session owner answered something that is not an HTTP response');
  // A poll answered with a batch is held the way the owner holds its own (see keepPollAnswer); any
  // other answer (an ack of a POST, a refusal, a DELETE) is released at once, as the owner does.
  const isBatch = relayed.method === 'GET' && answer.status === 200;
  sendText(response, answer.status, answer.headers, answer.body, !isBatch);
  if (isBatch) keepPollAnswer(relay, sid, response, options.keepAnswer);
}

/**
 * Per relay, per sid: the last poll answer this node wrote for a session it relays, until it is released.
 * Keyed by the relay so that two servers in one process keep apart.
 */
const lastPollAnswers = new WeakMap<SessionRelay, Map<string, ServerResponse>>();

/**
 * The owner's rule for its own poll answers (transports/longpoll.ts, releaseLastAnswer), applied on the
 * relaying node, which does not see the session: a batch may take long to reach a slow client, so it
 * gets no deadline while the client may still be reading it; once the client polls again (here: its
 * next relayed poll or DELETE reaches this node), or its session is gone, an unread rest gets the close
 * grace and then loses its socket. Without this a peer that never reads pins a copy of its batch here
 * per poll. The session is gone, or the client has polled again on some node, at the latest `keep` ms
 * after the answer: the owner ends a session not polled for `poll timeout + grace` (the server's
 * `transports.longpoll` options), which is what the caller passes.
 */
function keepPollAnswer(relay: SessionRelay, sid: string, response: ServerResponse, keep: number): void {
  let answers = lastPollAnswers.get(relay);
  if (!answers) lastPollAnswers.set(relay, (answers = new Map()));
  const byRelay = answers;
  // Two polls were relayed at once (the owner answers the older one empty): the newer answer is the client's now.
  const previous = byRelay.get(sid);
  if (previous && previous !== response) releaseUnflushed(previous);
  byRelay.set(sid, response);
  const expiry = setTimeout(() => {
    if (byRelay.get(sid) === response) byRelay.delete(sid);
    releaseUnflushed(response);
  }, keep).unref();
  // Finished (taken by the client) or destroyed: nothing is held any more.
  response.once('close', () => {
    clearTimeout(expiry);
    if (byRelay.get(sid) === response) byRelay.delete(sid);
  });
}

/** Release the last poll answer relayed through this node for `sid`, if one is still being written. */
function releaseLastPollAnswer(relay: SessionRelay, sid: string): void {
  const answers = lastPollAnswers.get(relay);
  const last = answers?.get(sid);
  if (!last) return;
  answers!.delete(sid);
  releaseUnflushed(last);
}

function writableAnswer(answer: RelayedResponse): boolean {
  const { status, headers, body } = answer as Partial<RelayedResponse>;
  if (!Number.isInteger(status) || status! < 200 || status! > 599 || typeof body !== 'string') return false;
  if (typeof headers !== 'object' || headers === null) return false;
  // Node's own rule for header values (it throws ERR_INVALID_CHAR otherwise): tab, visible ASCII, and Latin-1 above it.
  return Object.entries(headers).every(([name, value]) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) && typeof value === 'string' && !/[^\t\x20-\x7e\x80-\xff]/.test(value));
}

/**
 * The owning side: run a relayed request through the server's HTTP routes (via the same bridge
 * `fetchHandler` uses) and collect the whole answer. Only requests with a sid are relayed, so
 * this never opens a session and never streams forever.
 */
export async function answerRelayed(
  handle: (request: IncomingMessage, response: ServerResponse) => void,
  relayed: RelayedRequest,
): Promise<RelayedResponse> {
  const host = relayed.headers.host ?? 'relay.invalid';
  const url = new URL(relayed.url, `http://${host}`);
  const hasBody = relayed.method !== 'GET' && relayed.method !== 'HEAD';
  const request = new Request(url, { method: relayed.method, headers: relayed.headers, ...(hasBody && { body: relayed.body }) });
  const writer = new FetchResponseWriter(undefined);
  handle(incomingFromFetch(request, url), writer.asServerResponse());
  const response = await writer.response;
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => void (headers[name] = value));
  return { status: response.status, headers, body: await response.text() };
}

/**
 * Write a whole answer. `release`: through endThenRelease, like every answer the server ends (a peer
 * that does not read it loses the socket after the close grace); poll batches are released by keepPollAnswer.
 */
function sendText(response: ServerResponse, status: number, headers: Readonly<Record<string, string>>, body: string, release = true): void {
  // 204 and 304 carry no body, so no length either.
  response.writeHead(status, status === 204 || status === 304 ? headers : { ...headers, 'content-length': Buffer.byteLength(body) });
  if (release) endThenRelease(response, body || undefined);
  else response.end(body || undefined);
}

const sendError = (response: ServerResponse, status: number, code: string, message: string): void =>
  sendText(response, status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, JSON.stringify({ error: { code, message } }));
