import { createClient, isTidewireError } from '@tidewire/core';
import type { Channel, Client } from '@tidewire/core';
import { rpc } from '@tidewire/core/rpc';
import { notify, renderMembers, renderMessage, renderSystem } from './render';
import type { RoomMessage } from './render';
import { roomKey, sealed, teamCodec } from './team-codec';

/** One joined room: its channel handle, its key when encrypted, and how to stop listening. */
interface JoinedRoom {
  readonly channel: Channel<RoomMessage>;
  readonly key?: CryptoKey;
  readonly stop: () => void;
}

const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
let client: Client;
let me = '';
let joined: JoinedRoom | undefined;

/** Log in over the Express API: the token it signs is what both `/api` and Tidewire check. */
async function logIn(name: string): Promise<void> {
  const response = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  const body = (await response.json()) as { name?: string; token?: string; error?: string };
  if (!response.ok || !body.token || !body.name) throw new Error(body.error ?? `login failed (${response.status})`);
  // A route behind the auth middleware, to show the same token works for the app's own API.
  const who = (await (await fetch('/api/me', { headers: { authorization: `Bearer ${body.token}` } })).json()) as { name: string };
  me = who.name;
  $('#whoami').textContent = `· ${me}`;
  client = createClient({
    url: new URL('/tidewire', location.href).toString(),
    token: body.token,
    codec: teamCodec(),
    // Broadcast to the room except the sender: our own messages are shown when sent (then ticked
    // on the server's ack), so the server's copy is not delivered back to us.
    echo: false,
  });
  client.subscribe(() => {
    const snapshot = client.getSnapshot();
    const badge = $<HTMLSpanElement>('#connection');
    badge.dataset.state = snapshot.state;
    badge.textContent = snapshot.state === 'connected' ? `connected · ${snapshot.transport}` : snapshot.state;
  });
  $('#login').setAttribute('hidden', '');
  $('#workspace').removeAttribute('hidden');
}

/** Leave the current room (presence and messages) and join `room`; a passphrase makes it `secret:`. */
async function join(room: string, passphrase: string): Promise<void> {
  joined?.stop();
  joined = undefined;
  $('#messages').replaceChildren();
  const name = `${passphrase ? 'secret' : 'room'}:${room}`;
  const key = passphrase ? await roomKey(room, passphrase) : undefined;
  // The last 50 messages, then live, with nothing missed or repeated in between.
  const channel = client.channel<RoomMessage>(name, { recent: 50 });
  const offMessage = channel.on('message', (m) => renderMessage(m.data, { mine: m.data.from === me, key }));
  const offGap = channel.on('gap', () => renderSystem('Some messages from while you were away could not be recovered.'));
  const presence = channel.presence;
  const offMembers = presence.subscribe(() => renderMembers(presence.getSnapshot().members));
  const offJoin = presence.on('join', (member) => renderSystem(`${String(member.user)} joined`));
  const offLeave = presence.on('leave', (member) => renderSystem(`${String(member.user)} left`));
  presence.enter().catch((e: Error) => notify(`Could not appear in the room: ${e.message}`, true));
  $('#room-title').textContent = `${key ? '🔒 ' : '#'}${room}`;
  joined = {
    channel,
    key,
    stop: () => {
      for (const off of [offMessage, offGap, offMembers, offJoin, offLeave]) off();
      presence.leave();
      channel.unsubscribe();
    },
  };
}

/** Send with an acknowledgement: the row shows `…` until the server stored it, then `✓`. */
function send(room: JoinedRoom, message: RoomMessage, wire: Record<string, unknown>): void {
  const row = renderMessage(message, { mine: true, key: room.key, acked: false });
  room.channel
    .publish(wire as unknown as RoomMessage)
    .then(() => (row.dataset.acked = 'true'))
    .catch((e: Error) => {
      row.dataset.acked = 'failed';
      notify(`Not sent (${isTidewireError(e) ? e.code : 'error'}): ${e.message}`, true);
    });
}

/** `/roll 2d6`: request/response with the server, which also posts the roll to the room. */
async function rollDice(room: JoinedRoom, spec: string): Promise<void> {
  try {
    // The answer comes back to the caller only; the room sees the roll the server posts.
    const result = (await rpc(client, 'roll', { room: room.channel.name, spec })) as NonNullable<RoomMessage['roll']>;
    notify(`You rolled ${result.spec}: ${result.total}`);
  } catch (e) {
    notify(`Roll refused: ${(e as Error).message}`, true);
  }
}

$('#login').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = new FormData(event.target as HTMLFormElement).get('name') as string;
  logIn(name).then(
    () => join('general', ''),
    (e: Error) => ($('#login-error').textContent = e.message),
  );
});

$('#join').addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(event.target as HTMLFormElement);
  void join(String(form.get('room')), String(form.get('passphrase') ?? ''));
});

$('#composer').addEventListener('submit', (event) => {
  event.preventDefault();
  if (!joined) return;
  const room = joined;
  const form = event.target as HTMLFormElement;
  const textInput = form.elements.namedItem('text') as HTMLInputElement;
  const fileInput = form.elements.namedItem('file') as HTMLInputElement;
  const text = textInput.value.trim();
  const file = fileInput.files?.[0];
  textInput.value = '';
  fileInput.value = '';
  notify('');
  if (text.startsWith('/roll ')) return void rollDice(room, text.slice(6));
  if (file) {
    void file.arrayBuffer().then((buffer) => {
      const shared = { from: me, file: new Uint8Array(buffer), name: file.name, type: file.type };
      send(room, shared, { file: shared.file, name: file.name, type: file.type });
    });
  }
  if (!text) return;
  // Secret rooms: the codec encrypts `sealed(...)` with the room key before it leaves the browser.
  send(room, { from: me, text }, room.key ? sealed(room.key, { text }) : { text });
});

// `?name=ada` logs in straight away (handy for two windows side by side).
const preset = new URLSearchParams(location.search).get('name');
if (preset) $<HTMLInputElement>('#login input[name=name]').value = preset;
if (preset) $<HTMLFormElement>('#login').requestSubmit();
