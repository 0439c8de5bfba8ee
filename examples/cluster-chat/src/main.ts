// Like examples/cluster-demo, this example is not a workspace package: it imports the sources.
import { createClient, isTidewireError, websocket } from '../../../packages/core/src/index';
import type { ChannelMessage, Client, PresenceMember, TransportFactory } from '../../../packages/core/src/index';
import { rpc } from '../../../packages/core/src/rpc';
import { longpoll } from '../../../packages/core/src/transports/longpoll';
import { sse } from '../../../packages/core/src/transports/sse';

/** A chat line as stored: the server stamped `from` and the node that took it (`via`). */
interface ChatLine {
  readonly text: string;
  readonly from: string;
  readonly via: string;
}
/** What `authenticate` made of us on the node we reached (presence shows it as `member.user`). */
interface ChatUser {
  readonly name: string;
  readonly node: string;
}
interface NodeStatus {
  readonly name: string;
  readonly alive: boolean;
  readonly connections: number;
}

const CHANNEL = 'chat:lobby';
/** `?transport=`: the one transport this page uses, so each can be watched surviving a node's death. */
const TRANSPORTS: Record<string, () => TransportFactory> = { websocket, sse, longpoll };
const params = new URLSearchParams(location.search);
const transport = Object.hasOwn(TRANSPORTS, params.get('transport') ?? '') ? params.get('transport')! : 'websocket';
const $ = <T extends Element>(selector: string) => document.querySelector<T>(selector)!;
const make = <K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};
let members: readonly PresenceMember[] = [];

function notify(text: string, error = false): void {
  $('#notice').textContent = text;
  $('#notice').classList.toggle('error', error);
}

/** Messages in delivery order: once each, in order, across reconnects and node deaths (the core's job). */
function renderMessage(m: ChannelMessage<ChatLine>): void {
  const row = make('li', {}, make('span', { className: 'from', textContent: m.data.from }), make('span', { className: 'text', textContent: m.data.text }), make('span', { className: 'via', textContent: `via ${m.data.via}` }));
  row.dataset.offset = String(m.offset);
  $('#messages').append(row);
  row.scrollIntoView({ block: 'end' });
}

/** Who's online, each with the node they are connected to; "you" marks this connection. */
function renderOnline(client: Client): void {
  const snapshot = client.getSnapshot();
  const mine = snapshot.state === 'connected' ? snapshot.session : undefined;
  const rows = [...members]
    .map((m) => ({ user: m.user as ChatUser, me: m.clientId === mine }))
    .sort((a, b) => a.user.name.localeCompare(b.user.name))
    .map(({ user, me }) => make('li', { className: me ? 'me' : '' }, make('span', { textContent: `${user.name} · node ${user.node}${me ? ' (you)' : ''}` })));
  $('#online').replaceChildren(...rows);
}

/**
 * Ask the node we reached for its name (an rpc: it answers on the same connection). Called on
 * every `connected`, so a move to another node after a crash shows at once.
 */
async function findNode(client: Client): Promise<void> {
  $<HTMLElement>('#whoami').dataset.node = '';
  try {
    $<HTMLElement>('#whoami').dataset.node = String(await rpc(client, 'whereAmI'));
  } catch {
    // interrupted by another drop: the next `connected` asks again
  }
  renderLine(client);
}

/** Features this example uses that the server's broker does not offer: said, not faked. */
function waitingFor(feature: string): void {
  $('#waiting').removeAttribute('hidden');
  const list = $('#waiting-list');
  if (![...list.children].some((li) => li.textContent === feature)) list.append(make('li', { textContent: feature }));
}

/** The connection panel: state, heartbeat, reconnects, what waits in the outbox. */
function renderLine(client: Client): void {
  const connection = client.getSnapshot();
  const metrics = client.getMetrics();
  const badge = $<HTMLSpanElement>('#connection');
  badge.dataset.state = connection.state;
  badge.textContent = connection.state === 'reconnecting' ? `reconnecting (attempt ${connection.attempt})` : connection.state;
  const node = $<HTMLElement>('#whoami').dataset.node;
  const rows: [string, string][] = [
    ['node', connection.state === 'connected' && node ? node : '—'],
    ['transport', transport],
    ['heartbeat', 'server ping every 5 s'],
    ['round trip', metrics.rtt === undefined ? '—' : `${Math.round(metrics.rtt)} ms`],
    ['reconnects', String(metrics.reconnects)],
    ['recovered', `${metrics.recovered} resubscribes`],
  ];
  $('#line').replaceChildren(...rows.flatMap(([k, v]) => [make('dt', { textContent: k }), make('dd', { textContent: v })]));
  const pending = client.listPendingPublishes();
  $('#outbox-count').textContent = String(pending.length);
  $('#outbox').replaceChildren(...pending.map((p) => make('li', { textContent: (p.data as { text: string }).text })));
}

/** The node panel: each node's state and a button that kills (SIGKILL) or restarts it. */
async function refreshNodes(action?: { name: string; verb: 'kill' | 'restart' }): Promise<void> {
  const response = await fetch(action ? `/control/nodes/${action.name}/${action.verb}` : '/control/nodes', { method: action ? 'POST' : 'GET' });
  const nodes = (await response.json()) as NodeStatus[];
  $('#nodes').replaceChildren(
    ...nodes.map((n) => {
      const verb = n.alive ? 'kill' : 'restart';
      const button = make('button', { type: 'button', textContent: n.alive ? `Kill ${n.name}` : `Restart ${n.name}` });
      button.addEventListener('click', () => void refreshNodes({ name: n.name, verb }));
      const row = make('li', {}, make('span', { className: 'name', textContent: `node ${n.name}` }), make('span', { textContent: n.alive ? `${n.connections} open` : 'down' }), button);
      row.title = 'connections the front door holds open to this node (WebSockets, SSE streams, held polls)';
      row.dataset.alive = String(n.alive);
      row.dataset.node = n.name;
      return row;
    }),
  );
}

/** Links that reload the page on another transport, the current one marked. */
function renderTransportSwitch(name: string): void {
  const links = Object.keys(TRANSPORTS).map((t) => {
    const link = make('a', { href: `?${new URLSearchParams({ name, transport: t }).toString()}`, textContent: t });
    if (t === transport) link.setAttribute('aria-current', 'true');
    return link;
  });
  $('#transports').replaceChildren(...links.flatMap((link, i) => (i ? [' · ', link] : [link])));
}

function start(name: string): void {
  $('#whoami').textContent = `· ${name}`;
  renderTransportSwitch(name);
  $('#login').setAttribute('hidden', '');
  $('#workspace').removeAttribute('hidden');
  const client = createClient({
    url: new URL('/tidewire', location.href).toString(),
    token: name,
    transports: [TRANSPORTS[transport]!()],
    // A node that dies takes its sockets along; come back quickly (full jitter, capped at 2 s).
    backoff: (attempt) => Math.random() * Math.min(2000, 250 * 2 ** attempt),
  });
  const channel = client.channel<ChatLine>(CHANNEL, { recent: 100 });
  channel.on('message', renderMessage);
  channel.on('gap', (g) => notify(`Some messages could not be recovered (${g.reason}).`, true));
  channel.on('error', (e) => {
    if (e.code === 'unsupported') waitingFor('recent messages on joining (history)');
    else notify(e.message, true);
  });
  channel.presence.subscribe(() => {
    const presence = channel.presence.getSnapshot();
    members = presence.members;
    if (presence.state === 'failed' && presence.error?.code === 'unsupported') waitingFor("who's online (presence)");
    renderOnline(client);
  });
  channel.presence.enter().catch((e: Error) => {
    if (!isTidewireError(e) || e.code !== 'unsupported') notify(`Not shown as online: ${e.message}`, true);
  });
  let wasConnected = false;
  client.subscribe(() => {
    const connected = client.getSnapshot().state === 'connected';
    if (connected && !wasConnected) void findNode(client);
    wasConnected = connected;
    renderLine(client);
  });
  client.metrics.subscribe(() => renderLine(client));
  client.on('pending', () => renderLine(client));

  // Every send is acknowledged by the cluster. Offline or between nodes it waits in the outbox and
  // is retried with the same id (stored once); the channel's order is the order of the acks.
  const send = (text: string) =>
    channel.publish({ text } as ChatLine).catch((e: Error) => notify(`Not sent (${isTidewireError(e) ? e.code : 'error'}): ${e.message}`, true));
  $('#composer').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = $<HTMLInputElement>('#composer input[name=text]');
    const text = input.value.trim();
    input.value = '';
    if (text) void send(text);
  });
  // More than the node's burst allows: the client paces itself within the announced rate limit.
  $('#burst').addEventListener('click', () => {
    for (let i = 1; i <= 20; i++) void send(`burst ${i}/20`);
  });
  const poll = () => refreshNodes().catch(() => {}).finally(() => setTimeout(poll, 1000));
  poll();
}

$('#login').addEventListener('submit', (event) => {
  event.preventDefault();
  start(String(new FormData(event.target as HTMLFormElement).get('name')).trim());
});
const preset = params.get('name');
if (preset) start(preset);
