import { isTidewireError } from '@tidewire/core';
import type { PendingPublish } from '@tidewire/core';
import { useChannel, usePresence, useTidewire } from '@tidewire/react';
import { useEffect, useRef, useState } from 'react';
import type { FormEvent } from 'react';
import type { Session } from './JoinForm';

export interface ChatMessage {
  readonly name: string;
  readonly text: string;
  readonly at: number;
}

const time = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function ChatRoom({ name, room, onLeave }: Session & { onLeave: () => void }) {
  // Everything about delivery (order, no duplicates, replay after a reconnect) is the core's job.
  const channel = `chat:${room}`;
  // `recent`: a reloaded page starts with the last 50 messages, then continues live (no gap, no duplicate).
  const { messages, status, gap, error } = useChannel<ChatMessage>(channel, { history: 500, recent: 50 });
  // Who is here: this page appears as a member (with its display name) while the room is open.
  const online = usePresence(channel, { enter: true, info: { name } });
  const client = useTidewire();
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(0);
  const [failure, setFailure] = useState<string>();
  /** A message whose ack did not come in time: it may have been stored, so a retry reuses its id. */
  const [unsure, setUnsure] = useState<{ id: string; message: ChatMessage }>();
  const list = useRef<HTMLOListElement>(null);
  // Not yet acknowledged, including what a previous page left in the outbox storage before a reload.
  const [pending, setPending] = useState<PendingPublish[]>([]);
  useEffect(() => {
    const update = () => setPending(client.listPendingPublishes().filter((p) => p.channel === channel));
    update();
    return client.on('pending', update);
  }, [client, channel]);
  // A pending message whose own echo has arrived is shown once, as delivered.
  const delivered = new Set(messages.map((m) => m.id));

  useEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [messages]);

  // Offline, a message waits in the outbox (up to `queueTimeout`, 5 min by default) and is sent
  // once when the line is back. Our own id makes a retry after a timeout idempotent: stored once.
  const publish = (id: string, message: ChatMessage) => {
    setFailure(undefined);
    setUnsure(undefined);
    setSending((n) => n + 1);
    client
      .publish(channel, message, { id })
      .catch((e: Error) => {
        if (isTidewireError(e) && e.code === 'timeout') setUnsure({ id, message });
        setFailure(`Not sent: “${message.text}” (${e.message})`);
      })
      .finally(() => setSending((n) => n - 1));
  };

  const send = (event: FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text) return;
    setDraft('');
    publish(crypto.randomUUID(), { name, text, at: Date.now() });
  };

  return (
    <main className="chat" data-status={status}>
      {gap && (
        <p className="notice" role="status">
          Some messages from while you were away could not be recovered ({gap.reason.replace('_', ' ')}).
        </p>
      )}
      {(error || failure) && (
        <p className="notice error" role="alert">
          {failure ?? error?.message}
          {unsure && (
            <button type="button" onClick={() => publish(unsure.id, unsure.message)}>
              Retry
            </button>
          )}
        </p>
      )}
      <ul className="online" data-testid="online" data-status={online.status} aria-label="Online">
        {online.members.map((m) => (
          <li key={m.clientId}>{(m.info as { name?: string } | undefined)?.name ?? 'someone'}</li>
        ))}
      </ul>
      <ol className="messages" ref={list} data-testid="messages">
        {messages.length === 0 && <li className="empty">No messages yet. Say hello!</li>}
        {messages.map((m) => (
          <li key={`${m.epoch}:${m.offset}`} className={m.data.name === name ? 'mine' : undefined} data-offset={m.offset}>
            <span className="who">{m.data.name}</span>
            <span className="text">{m.data.text}</span>
            <time>{time.format(m.data.at)}</time>
          </li>
        ))}
        {pending
          .filter((p) => !delivered.has(p.id))
          .map((p) => (
            <li key={p.id} className="mine pending" data-testid="pending">
              <span className="who">{name}</span>
              <span className="text">{(p.data as ChatMessage).text}</span>
              <time>sending…</time>
              <button type="button" onClick={() => client.cancelPublish(p.id)}>
                Cancel
              </button>
            </li>
          ))}
      </ol>
      <form className="composer" onSubmit={send}>
        <input
          name="message"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          placeholder={`Message #${room} as ${name}`}
          autoComplete="off"
          autoFocus
        />
        <button type="submit">Send</button>
        <button type="button" className="leave" onClick={onLeave}>
          Leave
        </button>
      </form>
      <p className="hint">{sending > 0 ? `${sending} sending…` : status === 'subscribed' ? 'Up to date' : `Channel ${status}`}</p>
    </main>
  );
}
