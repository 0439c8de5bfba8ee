// Like examples/cluster-demo, this example is not a workspace package: it imports the sources.
import { createClient, isTidewireError, websocket } from '../../../packages/core/src/index';
import type { Channel, Client, GetToken, TidewireError } from '../../../packages/core/src/index';
import { rpc } from '../../../packages/core/src/rpc';
import { sse } from '../../../packages/core/src/transports/sse';

/** A timeline post or chat line as stored: the server stamped `from` and `at`. */
interface Post {
  readonly text: string;
  readonly from: string;
  readonly at: number;
}
interface TrendingTag {
  readonly tag: string;
  readonly count: number;
}

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const make = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

/** What each typed error means to a user of this app. The `code` is what the SDK guarantees. */
const MEANING: Partial<Record<string, string>> = {
  unauthorized: 'Authentication required',
  token_expired: 'Your session expired',
  rate_limited: 'Rate limit exceeded',
  forbidden: 'Not allowed',
  bad_request: 'Not sent',
};

/** Show a typed error: its meaning, its stable `code` and the server's message. */
function showProblem(error: TidewireError): void {
  const box = $('#problem');
  box.hidden = false;
  box.dataset.code = error.code;
  box.replaceChildren(`${MEANING[error.code] ?? 'Error'} `, make('code', { textContent: error.code }), `: ${error.message}`);
}
function clearProblem(): void {
  $('#problem').hidden = true;
  delete $('#problem').dataset.code;
}

/** The connection badge of one client: which line (`timeline`/`chat`), its state and transport. */
function watchLine(client: Client, line: string, testId: string): void {
  client.subscribe(() => {
    const s = client.getSnapshot();
    const badge = $(`[data-testid=${testId}]`);
    badge.dataset.state = s.state;
    badge.textContent = `${line} · ${s.state === 'connected' || s.state === 'connecting' ? `${s.transport} ` : ''}${s.state}`;
    if (s.state === 'failed') showProblem(s.error);
  });
}

function renderPost(list: HTMLElement, post: Post): void {
  list.append(make('li', {}, make('span', { className: 'from', textContent: post.from }), make('span', { className: 'text', textContent: post.text })));
  list.lastElementChild?.scrollIntoView({ block: 'nearest' });
}

// --- the token: short-lived JWT, refreshed in-band (one small frame, no reconnect) ---------------
let token: string | undefined;
let refreshes = 0;
const expiryOf = (jwt: string) => (JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp: number }).exp * 1000;

/** Called by both clients before expiry (`refresh`) and after a refusal (`expired`). */
const getToken: GetToken = async ({ reason }) => {
  if (reason === 'connect' && token) return token;
  const response = await fetch('/api/token', { method: 'POST' });
  if (!response.ok) throw new Error('log in again');
  token = ((await response.json()) as { token: string }).token;
  if (reason === 'refresh') refreshes++;
  return token;
};
setInterval(() => {
  if (!token) return;
  const left = Math.max(0, Math.round((expiryOf(token) - Date.now()) / 1000));
  $('[data-testid=token]').textContent = `token expires in ${left} s · refreshed ${refreshes}×`;
  $('[data-testid=token]').dataset.refreshes = String(refreshes);
}, 250);

// --- the two connections: the read-mostly feed over SSE, the chat over WebSocket ------------------
let feed: Client | undefined;
let chat: Client | undefined;
let chatRoom: Channel<Post> | undefined;
let timeline: Channel<Post> | undefined;

function connect(authenticated: boolean): void {
  feed?.close();
  chat?.close();
  $('#timeline').replaceChildren();
  $('#chat').replaceChildren();
  const url = new URL('/tidewire', location.href).toString();
  const auth = authenticated ? { getToken } : {};
  feed = createClient({ url, transports: [sse()], ...auth });
  chat = createClient({ url, transports: [websocket()], ...auth });
  watchLine(feed, 'timeline', 'feed-line');
  watchLine(chat, 'chat', 'chat-line');
  timeline = feed.channel<Post>('timeline', { recent: 20 });
  timeline.on('message', (m) => renderPost($('#timeline'), m.data));
  feed.channel<{ tags: TrendingTag[] }>('trending', { recent: 1 }).on('message', (m) =>
    $('#trending').replaceChildren(...m.data.tags.map((t) => make('li', { textContent: `#${t.tag} ${t.count}` }))),
  );
  chatRoom = chat.channel<Post>('chat:lobby', { recent: 50 });
  chatRoom.on('message', (m) => renderPost($('#chat'), m.data));
  const client = chat;
  // A chat line over the server's per-user rate is refused `rate_limited` and re-sent by the client
  // once the server allows it: the publish does not reject, the refusal comes on `error`, typed.
  client.on('error', (e) => {
    if (e.code === 'rate_limited') showProblem(e);
  });
  client.on('pending', () => {
    const held = client.listPendingPublishes().length;
    $('[data-testid=held]').textContent = held ? `${held} waiting: over the rate limit or offline — sent as soon as the server allows, nothing lost` : '';
  });
  client.metrics.subscribe(() => {
    const rtt = client.getMetrics().rtt;
    if (rtt !== undefined) $('[data-testid=latency]').dataset.rtt = String(Math.round(rtt));
  });
}

/** Publish and show the outcome: the ack latency, or the typed refusal. */
async function send(channel: Channel<Post> | undefined, text: string): Promise<void> {
  if (!channel || !text) return;
  const started = performance.now();
  try {
    await channel.publish({ text } as Post);
    const ms = Math.round(performance.now() - started);
    $('[data-testid=latency]').textContent = `latency ${ms} ms (publish → ack)`;
    clearProblem();
  } catch (e) {
    if (isTidewireError(e)) showProblem(e);
  }
}

$('#login').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = String(new FormData(event.target as HTMLFormElement).get('name')).trim();
  void fetch('/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) })
    .then((r) => r.json() as Promise<{ name?: string; token?: string; error?: string }>)
    .then((body) => {
      if (!body.token) throw new Error(body.error ?? 'login failed');
      token = body.token;
      $('#whoami').textContent = `· ${body.name}`;
      $('#login').hidden = true;
      clearProblem();
      connect(true);
    });
});

$('#post').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = (event.target as HTMLFormElement).elements.namedItem('text') as HTMLInputElement;
  void send(timeline, input.value.trim()); // upstream over SSE: an HTTP POST
  input.value = '';
});
$('#say').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = (event.target as HTMLFormElement).elements.namedItem('text') as HTMLInputElement;
  void send(chatRoom, input.value.trim());
  input.value = '';
});
$('#block').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = (event.target as HTMLFormElement).elements.namedItem('name') as HTMLInputElement;
  const name = input.value.trim();
  if (!chat || !name) return;
  void rpc(chat, 'block', { name }).then(
    () => ($('#block').dataset.blocked = name),
    (e: TidewireError) => showProblem(e),
  );
  input.value = '';
});

// Before logging in the page still tries: the server answers `unauthorized`, shown as such.
connect(false);
const preset = new URLSearchParams(location.search).get('name');
if (preset) {
  $<HTMLInputElement>('#login input[name=name]').value = preset;
  $<HTMLFormElement>('#login').requestSubmit();
}
