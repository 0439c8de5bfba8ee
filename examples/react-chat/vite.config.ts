import react from '@vitejs/plugin-react';
import { defaultClientConditions, defineConfig } from 'vite';
import type { UserConfig } from 'vite';

const root = new URL('.', import.meta.url).pathname;

/** Shared by `vite` / `vite build` and by build.ts (the browser test builds programmatically). */
export const chatConfig: UserConfig = {
  root,
  plugins: [react()],
  // Workspace packages resolve to their TypeScript sources: no prior `pnpm build` needed.
  resolve: { conditions: ['@tidewire/source', ...defaultClientConditions] },
  // `vite` (dev) proxies the Tidewire endpoint to `pnpm serve` (port 8788) running next to it.
  server: { proxy: { '/tidewire': { target: 'http://127.0.0.1:8788', ws: true } } },
  build: { outDir: 'dist', emptyOutDir: true },
  // The SharedWorker (src/tidewire.worker.ts) is an ES module, as `new SharedWorker(…, { type: 'module' })` loads it.
  worker: { format: 'es' },
};

export default defineConfig(chatConfig);
