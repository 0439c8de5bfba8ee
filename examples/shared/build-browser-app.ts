import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

export interface BrowserApp {
  /** The example's `src/` folder. */
  readonly srcDir: string;
  /** Output name → entry file in `srcDir` (e.g. `{ app: 'main.ts' }` writes `app.js`). */
  readonly entries: Readonly<Record<string, string>>;
  /** Static files copied as they are from `srcDir` (HTML, CSS). */
  readonly files: readonly string[];
}

/**
 * Build an example's browser app into `outDir` with esbuild, no framework: the examples are
 * about the SDK, not a UI library. Workspace packages resolve to their TypeScript sources
 * (the `@tidewire/source` condition), so no prior `pnpm build` is needed.
 */
export async function buildBrowserApp({ srcDir, entries, files }: BrowserApp, outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, join(srcDir, file)])),
    outdir: outDir,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    conditions: ['@tidewire/source'],
    logLevel: 'warning',
  });
  for (const file of files) await copyFile(join(srcDir, file), join(outDir, file));
}
