import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Build the browser app into `outDir`: `app.js` (the rooms), `ops.js` (the operator dashboard),
 * their HTML and CSS. esbuild, no framework: the example is about the SDK, not a UI library.
 */
export async function buildTeamRooms(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: { app: here('./src/main.ts'), ops: here('./src/ops.ts') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    // Workspace packages resolve to their TypeScript sources: no prior `pnpm build` needed.
    conditions: ['@tidewire/source'],
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'ops.html', 'styles.css']) await copyFile(here(`./src/${file}`), join(outDir, file));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await buildTeamRooms(here('./dist'));
