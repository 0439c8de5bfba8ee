import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** Build the browser app into `outDir` (esbuild, no framework): `app.js`, its HTML and CSS. */
export async function buildDmInbox(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: { app: here('./src/main.ts') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    conditions: ['@tidewire/source'],
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'styles.css']) await copyFile(here(`./src/${file}`), join(outDir, file));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildDmInbox(here('./dist'));
