// @vitest-environment node
// What ESLint's no-restricted-imports would enforce, as a test (the repo has no lint step for it),
// plus the size budget of the binding's own code.
import { readdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { expect, it } from 'vitest';

const src = new URL('../src/', import.meta.url);
const files = readdirSync(src).filter((f) => f.endsWith('.ts'));

it('cleans up with onScopeDispose only (works in any effectScope), never component unmount hooks', () => {
  for (const file of files) {
    const code = readFileSync(new URL(file, src), 'utf8');
    expect(code, file).not.toMatch(/\bonUnmounted\b|\bonBeforeUnmount\b/);
    expect(code, file).not.toMatch(/:\s*any\b|<any>|\bas any\b/); // no `any` in types
  }
});

it('ships at most 1.5 KB min+gzip of its own code (vue and @tidewire/core external)', async () => {
  const result = await build({
    entryPoints: [new URL('index.ts', src).pathname],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    external: ['vue', '@tidewire/core'],
    write: false,
  });
  const bytes = gzipSync(result.outputFiles[0]!.contents).length;
  expect(bytes).toBeLessThanOrEqual(1536);
});
