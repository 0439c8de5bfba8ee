import { createHmac, timingSafeEqual } from 'node:crypto';

/** The demo's people and groups. A real app reads these from its database. */
export const USERS = ['Ada', 'Bob', 'Eve'] as const;
export const GROUPS: Readonly<Record<string, readonly string[]>> = {
  harbour: ['Ada', 'Bob', 'Eve'],
  crew: ['Ada', 'Bob'],
};

/** `dm:A:B` with the two names in sorted order, so both sides name the same channel. */
export const dmChannel = (a: string, b: string): string => `dm:${[a, b].sort().join(':')}`;

/** Every conversation `user` may read and write: a DM with each other user, and their groups. */
export function conversationsOf(user: string): string[] {
  const dms = USERS.filter((other) => other !== user).map((other) => dmChannel(user, other));
  const groups = Object.entries(GROUPS)
    .filter(([, members]) => members.includes(user))
    .map(([id]) => `group:${id}`);
  return [...dms, ...groups];
}

/** The per-user authorization of the `authorize` hook: `dm:A:B` for A and B only, `group:ID` for its members. */
export function mayUse(user: string, channel: string): boolean {
  const dm = /^dm:([^:]+):([^:]+)$/.exec(channel);
  if (dm) return dm[1]! < dm[2]! && (dm[1] === user || dm[2] === user);
  const group = /^group:(.+)$/.exec(channel);
  return !!group && (GROUPS[group[1]!]?.includes(user) ?? false);
}

/** The HttpOnly cookie that carries a signed login (`signToken`) from the login form to every request. */
export const SESSION_COOKIE = 'dm_session';

let warned = false;

/**
 * The secret that signs logins: `DM_INBOX_SECRET`, or the demo's own when unset — a fixed,
 * public string, fine on your machine and wrong anywhere else, so it says so once.
 */
export const sessionSecret = (): string => {
  const secret = process.env.DM_INBOX_SECRET;
  if (secret) return secret;
  if (!warned) console.warn('dm-inbox: DM_INBOX_SECRET is not set; logins are signed with the demo secret (set it outside a demo)');
  warned = true;
  return 'dm-inbox-demo-secret';
};

/** A signed login token `name.signature` (HMAC-SHA256). */
export function signToken(name: string, secret: string): string {
  return `${name}.${createHmac('sha256', secret).update(name).digest('base64url')}`;
}

/** The user a token names, or null when it is missing or forged. */
export function verifyToken(token: string | undefined | null, secret: string): string | null {
  const name = token?.split('.')[0] ?? '';
  if (!(USERS as readonly string[]).includes(name)) return null;
  const expected = Buffer.from(signToken(name, secret));
  const given = Buffer.from(token ?? '');
  return expected.length === given.length && timingSafeEqual(expected, given) ? name : null;
}
