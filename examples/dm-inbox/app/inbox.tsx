'use client';
import { longpoll } from '@tidewire/core/longpoll';
import { sse } from '@tidewire/core/sse';
import { TidewireProvider, useChannel, useConnectionState } from '@tidewire/react';
import type { ClientOptions } from '@tidewire/react';
import { useState } from 'react';
import { logOut } from './actions';
import { Conversation } from './conversation';
import type { Dm } from './dm';
import { conversationLabel } from './dm';

/**
 * The two transports a route handler can serve, SSE first. `raceAfter: false`: long polling is
 * tried only when SSE fails (a buffering proxy), not raced against a slow first frame. No token:
 * the browser sends the HttpOnly session cookie with these same-origin requests.
 */
const CLIENT_OPTIONS: ClientOptions = { url: '/tidewire', transports: [sse(), longpoll()], raceAfter: false };

export interface InboxProps {
  /** The logged-in user (from the session cookie, on the server). */
  readonly me: string;
  /** The conversations `me` may use, in display order. */
  readonly conversations: readonly string[];
}

/**
 * The inbox, the page's one client component. The provider creates its client once and closes it
 * on unmount (logging out); nothing connects during the server render.
 */
export function Inbox(props: InboxProps) {
  return (
    <TidewireProvider options={CLIENT_OPTIONS}>
      <InboxView {...props} />
    </TidewireProvider>
  );
}

function InboxView({ me, conversations }: InboxProps) {
  const [open, setOpen] = useState<string>();
  const [unread, setUnread] = useState<Readonly<Record<string, number>>>({});
  const openConversation = (channel: string) => {
    setOpen(channel);
    setUnread((counts) => ({ ...counts, [channel]: 0 }));
  };
  const countUnread = (channel: string) => setUnread((counts) => ({ ...counts, [channel]: (counts[channel] ?? 0) + 1 }));

  return (
    <>
      <header>
        <h1>Inbox · {me}</h1>
        <ConnectionBadge />
        <form action={logOut}>
          <button type="submit">Log out</button>
        </form>
      </header>
      <main id="inbox">
        <nav>
          <ul id="conversations" data-testid="conversations">
            {conversations.map((channel) => (
              <ConversationRow key={channel} channel={channel} me={me} isOpen={channel === open} unread={unread[channel] ?? 0} onOpen={openConversation} onUnread={countUnread} />
            ))}
          </ul>
        </nav>
        {open ? (
          <Conversation key={open} channel={open} me={me} />
        ) : (
          <section>
            <h2 data-testid="title">Pick a conversation</h2>
          </section>
        )}
      </main>
    </>
  );
}

interface RowProps {
  readonly channel: string;
  readonly me: string;
  readonly isOpen: boolean;
  readonly unread: number;
  onOpen(channel: string): void;
  onUnread(channel: string): void;
}

/**
 * One conversation in the list. It holds the channel for as long as the inbox is open (all of
 * them share the one SSE stream) and counts what others write while it is not the open one;
 * after a drop, what was missed is replayed once and counted once.
 */
function ConversationRow({ channel, me, isOpen, unread, onOpen, onUnread }: RowProps) {
  useChannel<Dm>(channel, {
    history: 0,
    onMessage: (m) => {
      if (!isOpen && m.data.from !== me) onUnread(channel);
    },
  });
  return (
    <li data-channel={channel} data-unread={unread} className={isOpen ? 'open' : ''}>
      <button type="button" onClick={() => onOpen(channel)}>
        <span>{conversationLabel(channel, me)}</span>
        <span className="unread">{unread > 0 ? unread : ''}</span>
      </button>
    </li>
  );
}

function ConnectionBadge() {
  const { state, transport } = useConnectionState();
  return (
    <span className="badge" data-testid="connection" data-state={state}>
      {state === 'connected' ? `connected · ${transport}` : state}
    </span>
  );
}
