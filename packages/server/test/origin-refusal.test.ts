import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from '../src/index';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** A server on a free port whose logged errors (where a refused origin goes: the default logger keeps `warn` quiet) are recorded. */
async function serve() {
  const warnings: string[] = [];
  const server = createServer({ logger: { warn: () => {}, error: (message) => warnings.push(message) } });
  const { port } = new URL((await server.listen(0)).url);
  cleanups.push(() => server.close());
  return { port: Number(port), warnings };
}

interface Answer {
  status: number;
  body: string;
}

/** One raw request to the server's path, as a proxy would forward it: Host rewritten, Origin kept. */
function send(port: number, headers: Record<string, string>, upgrade = false, path = '/tidewire/sse'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      method: path.endsWith('/poll') ? 'POST' : 'GET',
      path: upgrade ? '/tidewire' : path,
      headers: upgrade ? { ...headers, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } : headers,
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// nginx's default proxy_pass: the page is https://app.example, the server sees Host: 127.0.0.1:port.
const behindProxy = { origin: 'https://app.example', host: 'upstream.internal:8080' };

describe('a refused origin', () => {
  it('answers 403 with code forbidden_origin on the WebSocket upgrade, the SSE stream and the long-poll open alike', async () => {
    const { port } = await serve();
    for (const [upgrade, path] of [[true, '/tidewire'], [false, '/tidewire/sse'], [false, '/tidewire/poll']] as const) {
      const answer = await send(port, behindProxy, upgrade, path);
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'forbidden_origin' } });
    }
  });

  it('is logged once per origin, saying what to configure, however often browsers retry', async () => {
    const { port, warnings } = await serve();
    for (let i = 0; i < 5; i++) {
      await send(port, behindProxy, i % 2 === 0);
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('https://app.example');
    expect(warnings[0]).toContain('Host: upstream.internal:8080');
    expect(warnings[0]).toContain('proxy_set_header Host $host');
    expect(warnings[0]).toContain("allowedOrigins: ['https://app.example']");

    await send(port, { origin: 'https://other.example', host: 'upstream.internal:8080' }, true);
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain('https://other.example');
  });

  it('stops logging after 100 distinct origins, so random origins cannot flood the log', async () => {
    const { port, warnings } = await serve();
    for (let i = 0; i < 110; i++) await send(port, { origin: `https://o${i}.example`, host: 'x' });
    expect(warnings).toHaveLength(100);
  });

  it('an allowed or same-host origin is neither refused nor logged', async () => {
    const { port, warnings } = await serve();
    const same = await send(port, { origin: `http://127.0.0.1:${port}` }, true);
    expect(same.status).toBe(101);
    expect(warnings).toEqual([]);
  });
});
