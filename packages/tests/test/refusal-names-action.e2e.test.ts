import { describe, expect, it } from 'vitest';
import { rawWsLine } from './helpers/raw-ws-line';
import { startServer } from './helpers/servers';
import { withTestBroker } from './helpers/test-broker';
import { allTransports } from './helpers/transports';

/**
 * A refusal's message names what was refused. Reading a channel's history is authorized with
 * `action: 'subscribe'` (whoever may follow a channel may read its past), but the client asked for
 * history, not a subscription: the refusal says so, as a subscribe, publish, presence watch and
 * enter refusal each name their own request.
 */
const authorize = ({ channel }: { channel: string }) => !channel.startsWith('secret');
const quiet = { logger: { warn: () => {}, error: () => {} } };

describe('a refusal names the request it refuses (protocol level)', () => {
  it('subscribe, publish, presence, enter and history each say what was refused', async () => {
    await using t = await startServer(withTestBroker({ authorize, ...quiet }));
    const { ws, send, next } = await rawWsLine(t.url, 'alice');
    const requests = [
      { type: 'subscribe', id: 's', channel: 'secret' },
      { type: 'publish', id: 'p', channel: 'secret', data: 1 },
      { type: 'presence_subscribe', id: 'w', channel: 'secret' },
      { type: 'enter', id: 'e', channel: 'secret' },
      { type: 'history', id: 'h', channel: 'secret', limit: 5 },
    ];
    const answers: Record<string, unknown> = {};
    for (const request of requests) {
      send(request);
      const answer = await next((f) => f.id === request.id, request.type);
      answers[request.type] = [answer.code, answer.message];
    }
    expect(answers).toEqual({
      subscribe: ['forbidden', 'subscribe to "secret" is not allowed'],
      publish: ['forbidden', 'publish to "secret" is not allowed'],
      presence_subscribe: ['forbidden', 'presence to "secret" is not allowed'],
      enter: ['forbidden', 'enter to "secret" is not allowed'],
      history: ['forbidden', 'history of "secret" is not allowed'],
    });
    ws.close();
  });
});

describe.each(allTransports)('over %s: a history refusal', (_name, transport) => {
  it('rejects forbidden naming history, while the channel fails naming its subscribe', async () => {
    await using t = await startServer(withTestBroker({ authorize, ...quiet }), { transports: [transport()] });
    const secret = t.client().channel('secret');
    await expect(secret.history({ limit: 5 })).rejects.toMatchObject({ code: 'forbidden', message: 'history of "secret" is not allowed' });
    expect(secret.getSnapshot()).toMatchObject({ state: 'failed', error: { code: 'forbidden', message: 'subscribe to "secret" is not allowed' } });
  });
});
