// Like examples/cluster-demo, this example is not a workspace package: it imports the sources.
import { createClient } from '../../../packages/core/src/index';
import type { Channel, ChannelMessage, Client } from '../../../packages/core/src/index';
import { sse } from '../../../packages/core/src/transports/sse';

interface Dm {
  readonly text: string;
  readonly from: string;
  readonly at: number;
}

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const make = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

let me = '';
let client: Client;
let open: string | undefined;
/** Offsets shown in the open conversation: history and live messages meet without a duplicate. */
let shown = new Set<number>();
const unread = new Map<string, number>();
const channels = new Map<string, Channel<Dm>>();

/** `dm:Ada:Bob` → "Bob" (for Ada); `group:crew` → "#crew". */
const label = (channel: string) => (channel.startsWith('dm:') ? channel.split(':').slice(1).find((n) => n !== me)! : `#${channel.slice(6)}`);

function renderList(): void {
  $('#conversations').replaceChildren(
    ...[...channels.keys()].map((name) => {
      const button = make('button', { type: 'button' }, make('span', { textContent: label(name) }), make('span', { className: 'unread', textContent: unread.get(name) ? String(unread.get(name)) : '' }));
      button.addEventListener('click', () => void openConversation(name));
      const row = make('li', { className: name === open ? 'open' : '' }, button);
      row.dataset.channel = name;
      row.dataset.unread = String(unread.get(name) ?? 0);
      return row;
    }),
  );
}

function show(m: Pick<ChannelMessage<Dm>, 'offset' | 'data'>): void {
  if (shown.has(m.offset)) return;
  shown.add(m.offset);
  const row = make('li', {}, make('span', { className: 'from', textContent: m.data.from }), make('span', { className: 'text', textContent: m.data.text }));
  row.dataset.offset = String(m.offset);
  const later = [...$('#messages').children].find((li) => Number((li as HTMLElement).dataset.offset) > m.offset);
  $('#messages').insertBefore(row, later ?? null);
}

/** Open a conversation: its stored history first (newest 50), then what arrives live. */
async function openConversation(name: string): Promise<void> {
  open = name;
  shown = new Set();
  unread.set(name, 0);
  $('#messages').replaceChildren();
  $('#title').textContent = label(name);
  renderList();
  const page = await channels.get(name)!.history({ limit: 50 });
  if (open !== name) return;
  for (const m of [...page.messages].reverse()) show(m);
  $('#messages').dataset.loaded = name;
}

async function logIn(name: string): Promise<void> {
  const response = await fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  const body = (await response.json()) as { name: string; token: string; conversations: string[] };
  me = body.name;
  $('#whoami').textContent = `· ${me}`;
  // SSE only: the route-handler world (Next.js, serverless) cannot upgrade to WebSocket.
  client = createClient({ url: new URL('/tidewire', location.href).toString(), token: body.token, transports: [sse()] });
  client.subscribe(() => {
    const s = client.getSnapshot();
    $('#connection').dataset.state = s.state;
    $('#connection').textContent = s.state === 'connected' ? `connected · ${s.transport}` : s.state;
  });
  for (const name of body.conversations) {
    // One stream carries every conversation; each counts what arrives while it is not open.
    const channel = client.channel<Dm>(name);
    channel.on('message', (m) => {
      if (name === open) show(m);
      else if (m.data.from !== me) unread.set(name, (unread.get(name) ?? 0) + 1);
      renderList();
    });
    channels.set(name, channel);
  }
  $('#login').hidden = true;
  $('#inbox').hidden = false;
  renderList();
}

$('#login').addEventListener('submit', (event) => {
  event.preventDefault();
  void logIn(String(new FormData(event.target as HTMLFormElement).get('name')));
});
$('#composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('#composer input');
  const text = input.value.trim();
  input.value = '';
  if (open && text) void channels.get(open)!.publish({ text } as Dm);
});
const preset = new URLSearchParams(location.search).get('name');
if (preset) void logIn(preset);
