import type { ChannelMessage } from '@tidewire/react';

/** A message as stored: the server's `onPublish` stamps `from` and `at` on what the client sent (`text`). */
export interface Dm {
  readonly text: string;
  readonly from: string;
  readonly at: number;
}

/** How a conversation is named for `me`: `dm:Ada:Bob` → "Bob" (for Ada), `group:crew` → "#crew". */
export function conversationLabel(channel: string, me: string): string {
  if (channel.startsWith('dm:')) return channel.split(':').slice(1).find((name) => name !== me) ?? channel;
  return `#${channel.slice('group:'.length)}`;
}

/**
 * The stored history and the live messages of a conversation as one list, oldest first: both may
 * hold the same message (it arrived while the history was read), so positions are kept once.
 * @param past the history page's messages, any order
 * @param live what arrived since the conversation was opened
 * @returns every message once, by position
 */
export function mergeByPosition(past: readonly ChannelMessage<Dm>[], live: readonly ChannelMessage<Dm>[]): ChannelMessage<Dm>[] {
  const byPosition = new Map<string, ChannelMessage<Dm>>();
  for (const m of [...past, ...live]) byPosition.set(`${m.epoch}:${m.offset}`, m);
  // Offsets order messages within an epoch; across a server reset (a new epoch) the stable sort keeps arrival order.
  return [...byPosition.values()].sort((a, b) => (a.epoch === b.epoch ? a.offset - b.offset : 0));
}
