import Fastify from 'fastify';
import { mountTidewire, mountedAppSuite } from './helpers/mounted-app';

/**
 * Tidewire inside a Fastify 5 app (docs/server.md, "Mounting in Express and Fastify"): Fastify's
 * own http server, `app.server`, is handed to `attach`; `/tidewire` (WebSocket upgrades included)
 * is Tidewire's, every other request goes to Fastify's router as before.
 */
mountedAppSuite('a Fastify app', async () => {
  const app = Fastify();
  app.get('/api/hello', () => ({ hello: 'world' }));
  app.post('/api/echo', (request) => ({ echo: request.body }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return mountTidewire(app.server, () => app.close());
});
