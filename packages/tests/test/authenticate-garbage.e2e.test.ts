import { describe, expect, it } from 'vitest';
import { allTransports, startQuietServer } from './helpers/transports';
import { openLine } from './helpers/raw-protocol-line';

/**
 * `authenticate` must answer `{ user, expiresAt? }` to admit, or null/throw to refuse, and a broken
 * hook must fail closed (sessionAuth.ts). A hook that answers garbage — the user itself instead of
 * `{ user }`, or `true` — is a broken hook; the server admits the connection instead.
 */
describe.each(allTransports)('authenticate answering garbage over %s', (name, transport) => {
  for (const [what, answer] of [
    ['a bare string (the user instead of { user })', 'alice'],
    ['true', true],
    ['a number', 42],
  ] as const) {
    it(`refuses the connection when authenticate answers ${what}`, async () => {
      await using t = await startQuietServer(transport, { authenticate: (() => answer) as never });
      const line = await openLine(name, t.url, transport, { type: 'connect', v: 1, token: 'whatever' });
      const first = line.frames[0];
      line.close();
      expect(first?.type === 'close' ? first.code : first?.type).toBe('unauthorized');
    });
  }
});
