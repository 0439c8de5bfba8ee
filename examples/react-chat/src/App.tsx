import { useState } from 'react';
import { ChatRoom } from './ChatRoom';
import { ConnectionBadge } from './ConnectionBadge';
import { JoinForm } from './JoinForm';
import { SharedBadge } from './SharedBadge';
import type { Session } from './JoinForm';

/** `?name=…&room=…` joins straight away (and is what a reload keeps). */
function sessionFromUrl(): Session | null {
  const params = new URLSearchParams(location.search);
  const name = params.get('name')?.trim();
  return name ? { name, room: params.get('room')?.trim() || 'lobby' } : null;
}

export function App() {
  const [session, setSession] = useState<Session | null>(sessionFromUrl);

  const join = (next: Session | null) => {
    const url = new URL(location.href);
    const share = url.searchParams.get('share'); // kept: a reload stays shared (or not)
    url.search = new URLSearchParams({ ...next, ...(share && { share }) }).toString();
    history.replaceState(null, '', url);
    setSession(next);
  };

  return (
    <div className="app">
      <header>
        <h1>
          Tidewire chat{session && <span className="room"> #{session.room}</span>}
        </h1>
        <ConnectionBadge />
        <SharedBadge />
      </header>
      {session ? <ChatRoom {...session} onLeave={() => join(null)} /> : <JoinForm onJoin={join} />}
    </div>
  );
}
