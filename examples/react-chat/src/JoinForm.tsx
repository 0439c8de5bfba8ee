import { useState } from 'react';
import type { FormEvent } from 'react';

export interface Session {
  readonly name: string;
  readonly room: string;
}

/** Room names become channel names: keep them to the characters the server accepts. */
const toRoom = (text: string) =>
  text
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .slice(0, 64) || 'lobby';

export function JoinForm({ onJoin }: { onJoin: (session: Session) => void }) {
  const [name, setName] = useState('');
  const [room, setRoom] = useState('lobby');

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (name.trim()) onJoin({ name: name.trim().slice(0, 32), room: toRoom(room) });
  };

  return (
    <form className="join" onSubmit={submit}>
      <label>
        Your name
        <input name="name" value={name} onChange={(e) => setName(e.target.value)} placeholder="Ada" autoFocus required />
      </label>
      <label>
        Room
        <input name="room" value={room} onChange={(e) => setRoom(e.target.value)} placeholder="lobby" />
      </label>
      <button type="submit" disabled={!name.trim()}>
        Join
      </button>
    </form>
  );
}
