import { build } from 'vite';
import { chatConfig } from './vite.config';

/** Build the chat app into `outDir` (the browser test uses this; `vite build` does the same into dist/). */
export async function buildChat(outDir: string): Promise<void> {
  await build({ ...chatConfig, configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
}
