import { useChannel } from '@tidewire/react';
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
  const { messages, publish, status, gap, error } = useChannel<ChatMessage>(`chat:${room}`, { history: 500 });
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(0);
  const [failure, setFailure] = useState<string>();
  const list = useRef<HTMLOListElement>(null);

  useEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [messages]);

  const send = (event: FormEvent) => {
    event.preventDefault();
    const text = draft.trim();
    if (!text) return;
    setDraft('');
    setFailure(undefined);
    // Offline, this waits in the outbox and is sent (once) when the line is back.
    setSending((n) => n + 1);
    publish({ name, text, at: Date.now() })
      .catch((e: Error) => setFailure(`Not sent: “${text}” (${e.message})`))
      .finally(() => setSending((n) => n - 1));
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
        </p>
      )}
      <ol className="messages" ref={list} data-testid="messages">
        {messages.length === 0 && <li className="empty">No messages yet. Say hello!</li>}
        {messages.map((m) => (
          <li key={`${m.epoch}:${m.offset}`} className={m.data.name === name ? 'mine' : undefined} data-offset={m.offset}>
            <span className="who">{m.data.name}</span>
            <span className="text">{m.data.text}</span>
            <time>{time.format(m.data.at)}</time>
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
