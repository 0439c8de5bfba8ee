import type { PresenceMember } from '@tidewire/core';
import { SealedBody } from './team-codec';

/** A room message as the app reads it after the codec (the server stamped `from`). */
export interface RoomMessage {
  readonly from: string;
  readonly text?: string;
  /** A shared file: its bytes (decoded by the codec), name and MIME type. */
  readonly file?: Uint8Array;
  readonly name?: string;
  readonly type?: string;
  /** A dice roll the server posted after an rpc. */
  readonly roll?: { spec: string; dice: number[]; total: number };
  /** An encrypted body (secret rooms), opened with the room key. */
  readonly sealed?: SealedBody;
}

const list = () => document.querySelector<HTMLOListElement>('#messages')!;

function element<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

/** A line saying who joined or left, or what went wrong. */
export function renderSystem(text: string): void {
  list().append(element('li', { className: 'system', textContent: text }));
}

function fileNode(message: RoomMessage): Node {
  const blob = new Blob([message.file as BlobPart], { type: message.type || 'application/octet-stream' });
  const url = URL.createObjectURL(blob);
  const label = `${message.name ?? 'file'} (${message.file?.byteLength ?? 0} bytes)`;
  if (message.type?.startsWith('image/')) return element('span', { className: 'text' }, element('img', { src: url, alt: message.name ?? 'image' }), label);
  return element('a', { className: 'text', href: url, download: message.name ?? 'file', textContent: label });
}

/**
 * Append a message. Returns the row so the sender can mark its ack. An encrypted body is opened
 * asynchronously, but its row is placed now: the order on screen is the order of delivery.
 */
export function renderMessage(message: RoomMessage, options: { mine: boolean; key?: CryptoKey; acked?: boolean }): HTMLLIElement {
  const row = element('li', { className: options.mine ? 'mine' : '' }, element('span', { className: 'from', textContent: message.from }));
  if (options.acked !== undefined) row.dataset.acked = String(options.acked);
  if (message.sealed || options.key) row.append(element('span', { className: 'lock', textContent: '🔒', title: 'end-to-end encrypted' }));
  if (message.roll) {
    row.append(element('span', { className: 'text', textContent: `rolled ${message.roll.spec}: ${message.roll.dice.join(' + ')} = ${message.roll.total}` }));
  } else if (message.file instanceof Uint8Array) {
    row.append(fileNode(message));
  } else if (message.sealed) {
    const text = element('span', { className: 'text', textContent: 'decrypting…' });
    row.append(text);
    if (!options.key) text.textContent = '(encrypted: join with the passphrase to read it)';
    else
      message.sealed.open<{ text: string }>(options.key).then(
        (body) => (text.textContent = body.text),
        () => (text.textContent = '(cannot decrypt: a different passphrase)'),
      );
  } else {
    row.append(element('span', { className: 'text', textContent: message.text ?? '' }));
  }
  row.append(element('span', { className: 'ack' }));
  list().append(row);
  row.scrollIntoView({ block: 'end' });
  return row;
}

/** The "Here now" list: each member once, by the name they entered with. */
export function renderMembers(members: readonly PresenceMember[]): void {
  const names = [...new Set(members.map((m) => String(m.user)))].sort();
  document.querySelector('#members')!.replaceChildren(...names.map((name) => element('li', {}, element('span', { textContent: name }))));
}

/** The status line under the composer (`error` in red). */
export function notify(text: string, error = false): void {
  const notice = document.querySelector<HTMLParagraphElement>('#notice')!;
  notice.textContent = text;
  notice.classList.toggle('error', error);
}
