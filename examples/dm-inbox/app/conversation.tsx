import { useChannel, useTidewire } from '@tidewire/react';
import type { ChannelMessage } from '@tidewire/react';
import { useEffect, useMemo, useState } from 'react';
import type { Dm } from './dm';
import { conversationLabel, mergeByPosition } from './dm';

/**
 * The open conversation: its stored history (the newest 50) as soon as it opens, then what arrives
 * live, each message once; and the composer. Mounted with `key={channel}`, so opening another
 * conversation starts from a clean slate.
 */
export function Conversation({ channel, me }: { channel: string; me: string }) {
  const client = useTidewire();
  // Subscribed before the history is read: a message arriving in between is in one list or both, never in neither.
  const live = useChannel<Dm>(channel, { history: 200 });
  const [past, setPast] = useState<readonly ChannelMessage<Dm>[]>();
  const [historyError, setHistoryError] = useState<string>();
  const [draft, setDraft] = useState('');

  useEffect(() => {
    const handle = client.channel<Dm>(channel);
    let current = true;
    handle.history({ limit: 50 }).then(
      (page) => current && setPast(page.messages),
      (error: Error) => current && setHistoryError(error.message),
    );
    return () => {
      current = false;
      handle.unsubscribe();
    };
  }, [client, channel]);

  const messages = useMemo(() => mergeByPosition(past ?? [], live.messages), [past, live.messages]);
  const problem = historyError ?? live.error?.message;

  return (
    <section>
      <h2 data-testid="title">{conversationLabel(channel, me)}</h2>
      {problem && <p role="alert">{problem}</p>}
      <ol id="messages" data-testid="messages" data-loaded={past ? channel : undefined}>
        {messages.map((m) => (
          <li key={`${m.epoch}:${m.offset}`} data-offset={m.offset}>
            <span className="from">{m.data.from}</span>
            <span className="text">{m.data.text}</span>
          </li>
        ))}
      </ol>
      <form
        id="composer"
        onSubmit={(event) => {
          event.preventDefault();
          const text = draft.trim();
          setDraft('');
          // Offline, this waits in the outbox and is sent once when the line is back. The server adds `from` and `at`.
          if (text) live.publish({ text } as Dm).catch((error: Error) => setHistoryError(error.message));
        }}
      >
        <input name="text" placeholder="Write a message" autoComplete="off" value={draft} onChange={(event) => setDraft(event.target.value)} />
        <button>Send</button>
      </form>
    </section>
  );
}
