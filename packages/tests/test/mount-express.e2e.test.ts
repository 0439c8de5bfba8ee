import express from 'express';
import { mountTidewire, mountedAppSuite } from './helpers/mounted-app';

/**
 * Tidewire inside an Express 5 app (docs/server.md, "Mounting in Express and Fastify"): the http
 * server `app.listen()` returns is handed to `attach`, which serves `/tidewire` (WebSocket upgrades
 * included) and passes every other request to the app — whose body parsers never see Tidewire's.
 */
mountedAppSuite('an Express app', async () => {
  const app = express();
  app.use(express.json()); // a global body parser must not eat the transports' POST bodies
  app.get('/api/hello', (_req, res) => void res.json({ hello: 'world' }));
  app.post('/api/echo', (req, res) => void res.json({ echo: req.body as unknown }));
  const http = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return mountTidewire(http, () => new Promise<void>((resolve) => http.close(() => resolve())));
});
