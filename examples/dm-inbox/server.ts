import { fileURLToPath, pathToFileURL } from 'node:url';
import { createDmApp } from './app';
import type { DmApp } from './app';
import { serveFetch } from './node-adapter';
import type { NodeAdapter } from './node-adapter';
import { buildIfMissing } from '../shared/listen';

export interface DmInbox {
  readonly url: string;
  readonly app: DmApp;
  readonly adapter: NodeAdapter;
  close(): Promise<void>;
}

/** The Fetch-API app behind the small Node adapter (where a Next.js or Hono deployment would sit). */
export async function startDmInbox(options: { port?: number; dir?: string; heartbeat?: number } = {}): Promise<DmInbox> {
  const dir = options.dir ?? fileURLToPath(new URL('./dist', import.meta.url));
  const app = await createDmApp({ dir, ...(options.heartbeat !== undefined && { tidewire: { heartbeat: options.heartbeat } }) });
  const adapter = await serveFetch(app.handle, options.port ?? 0);
  return {
    url: adapter.url,
    app,
    adapter,
    async close() {
      await app.close();
      await adapter.close();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dist = fileURLToPath(new URL('./dist', import.meta.url));
  await buildIfMissing(dist, async () => (await import('./build')).buildDmInbox(dist));
  const inbox = await startDmInbox({ port: Number(process.env.PORT ?? 8793) });
  console.log(`DM inbox on ${inbox.url} — log in as Ada, Bob or Eve in two windows. Ctrl+C to stop.`);
  process.once('SIGINT', () => void inbox.close().then(() => process.exit(0)));
}
