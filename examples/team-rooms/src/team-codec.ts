import { binary } from '@tidewire/core/binary';
import type { PayloadCodec } from '@tidewire/core';

/**
 * The codec hook of this app (`createClient({ codec: teamCodec() })`): what a message looks like
 * on the wire, and back. Two jobs, both invisible to the rest of the app:
 *
 * - **Files**: a message `{ file: Uint8Array, name, type }` travels with its bytes in the
 *   protocol's bytes envelope (`binary()` from `@tidewire/core/binary` does the encoding).
 * - **End-to-end encryption**: `sealed(key, body)` publishes `body` encrypted with AES-GCM under a
 *   key only the room's members derived (from a passphrase the server never sees). The server
 *   stores and relays `{ $e2e: { iv, ct } }`; members get a {@link SealedBody} to open.
 */

/** A message body to encrypt before it leaves the browser. */
export class Sealed {
  constructor(
    readonly key: CryptoKey,
    readonly body: unknown,
  ) {}
}

/** An encrypted body as it arrived: open it with the room's key (rejects when the key is wrong). */
export class SealedBody {
  constructor(
    readonly iv: Uint8Array,
    readonly ciphertext: Uint8Array,
  ) {}

  async open<T>(key: CryptoKey): Promise<T> {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: this.iv as BufferSource }, key, this.ciphertext as BufferSource);
    return JSON.parse(new TextDecoder().decode(plain)) as T;
  }
}

/** What a member of a `secret:` room sends: `{ sealed: new Sealed(key, { text }) }`. */
export function sealed(key: CryptoKey, body: unknown): { sealed: Sealed } {
  return { sealed: new Sealed(key, body) };
}

/**
 * The room key from a passphrase: PBKDF2 (SHA-256, 100 000 rounds, salted with the room name) →
 * AES-GCM 256. Everyone who types the same passphrase for the same room derives the same key.
 */
export async function roomKey(room: string, passphrase: string): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: new TextEncoder().encode(`tidewire-team-rooms:${room}`), iterations: 100_000 },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

const bytes = binary();
const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

async function encrypt(seal: Sealed): Promise<{ iv: unknown; ct: unknown }> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = new TextEncoder().encode(JSON.stringify(seal.body));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, seal.key, plain));
  return { iv: bytes.encode(iv), ct: bytes.encode(ct) };
}

/** @returns the codec for `createClient({ codec })` */
export function teamCodec(): PayloadCodec {
  return {
    encode(data) {
      if (!isRecord(data)) return data;
      if (data.sealed instanceof Sealed) {
        const { sealed: seal, ...rest } = data;
        return encrypt(seal).then(($e2e) => ({ ...rest, $e2e }));
      }
      if (data.file instanceof Uint8Array) return { ...data, file: bytes.encode(data.file) };
      return data;
    },
    decode(data) {
      if (!isRecord(data)) return data;
      const e2e = data.$e2e;
      if (isRecord(e2e)) {
        const iv = bytes.decode(e2e.iv);
        const ct = bytes.decode(e2e.ct);
        const { $e2e: _ciphertext, ...rest } = data;
        // Not bytes: somebody sent garbage; deliver it unopened (a codec must never throw).
        return iv instanceof Uint8Array && ct instanceof Uint8Array ? { ...rest, sealed: new SealedBody(iv, ct) } : data;
      }
      if (data.file !== undefined) return { ...data, file: bytes.decode(data.file) };
      return data;
    },
  };
}
