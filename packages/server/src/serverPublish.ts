import type { Broker } from './broker/broker';
import { toWireData } from './bytes';
import { withPublishedText } from './encode';
import { TidewireServerError } from './errors';
import { jsonTextOf, storedCopy } from './jsonValue';
import { nextMessageId } from './messageId';
import type { ServerCounters } from './metrics';
import { SERVER_SCOPE } from './publisherScope';
import type { ResolvedOptions } from './options';
import type { Session } from './session';

/** Where a server-side publish was stored: `{ id, epoch, offset }`. */
export interface PublishReceipt {
  readonly id: string;
  readonly epoch: string;
  readonly offset: number;
}

/** What `server.publish` needs from the server. */
export interface ServerPublishContext {
  readonly options: ResolvedOptions;
  readonly broker: Broker;
  readonly counters: ServerCounters;
  /** The sessions on this process, searched for `except`. */
  readonly sessions: Iterable<Session>;
}

/**
 * `server.publish` once the server is known to be open: checks the channel and the data, then stores it.
 * @throws TidewireServerError `invalid_channel`, `invalid_data` (see `TidewireServer.publish`), synchronously:
 * its one caller turns them into a rejection.
 */
export function publishFromServer(
  ctx: ServerPublishContext,
  channel: string,
  data: unknown,
  options: { id?: string; except?: string },
): Promise<PublishReceipt> {
  if (!ctx.options.isChannel(channel)) throw new TidewireServerError('invalid_channel', `invalid channel name: ${JSON.stringify(channel)}`);
  data = toWireData(data); // bytes travel as the {"$b64"} envelope (protocol §17)
  const text = jsonTextOf(data, ctx.options.limits.maxDepth - 1, 'publish data');
  data = storedCopy(data, text); // the caller may mutate its object once this returns
  // Without an id this publish cannot be a retry, so it bypasses the dedupe window.
  const fresh = options.id === undefined;
  const id = options.id ?? nextMessageId();
  const startedAt = performance.now();
  // The excepted session gets the position without the data (it must not see a hole); only a
  // session on this process can be excepted, and only while it lasts (a reconnect is a new session).
  if (options.except !== undefined) for (const session of ctx.sessions) if (session.id === options.except) session.skipOnce(channel, id);
  // The text measured here is the one every subscriber's `message` frame carries (encode.ts): stringified once.
  const stored = { id, data, fresh, bytes: text.length, scope: SERVER_SCOPE };
  // Not an async function: a publish loop that never yields holds every publish's continuation until it
  // ends, and a suspended async frame (every local kept) is several times a `then` callback's garbage.
  return withPublishedText(data, text, () => ctx.broker.publish(channel, stored)).then(({ epoch, offset }) => {
    ctx.counters.published(startedAt);
    return { id, epoch, offset };
  });
}
