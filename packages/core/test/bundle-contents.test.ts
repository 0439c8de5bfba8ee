import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * What an app that imports only `createClient` ships (built the way scripts/size.mjs measures it).
 * These are the tree-shaking guarantees the size budgets rely on; a module-level call or a shared
 * table can silently pull a whole unused part into every bundle without any behaviour changing.
 */
const root = resolve(__dirname, '../../..');

const workspaceSources = {
  name: 'workspace-sources',
  setup(b: import('esbuild').PluginBuild) {
    b.onResolve({ filter: /^@tidewire\// }, (args) => {
      const [, pkg, sub = ''] = /^@tidewire\/([^/]+)(\/.*)?$/.exec(args.path)!;
      const dir = resolve(root, 'packages', pkg!);
      const exports = JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8')).exports as Record<string, Record<string, string>>;
      return { path: resolve(dir, exports['.' + sub]!['@tidewire/source']!) };
    });
  },
};

async function bundle(code: string): Promise<string> {
  const result = await build({
    stdin: { contents: code, resolveDir: root, loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['@tidewire/source'],
    plugins: [workspaceSources],
    write: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
  });
  return result.outputFiles[0]!.text;
}

describe('the default bundle (createClient + WebSocket)', () => {
  it('validates server frames only: the client-frame table is tree-shaken', async () => {
    const core = await bundle(`export { createClient } from '@tidewire/core';`);
    // The server-frame table is there (the client decodes what the server sends)…
    // (booleans, not toMatch: a failure must not print the whole bundle)
    expect(/connected:\{v:/.test(core)).toBe(true);
    // …the client-frame table is not (only the server validates client frames).
    expect(/connect:\{v:/.test(core)).toBe(false);
    expect(/presence_unsubscribe:\{/.test(core)).toBe(false);
    // Control: a bundle that does use the client-frame validator does contain it.
    const withClientDecoder = await bundle(`export { decodeClientFrame } from '@tidewire/core/protocol';`);
    expect(/connect:\{v:/.test(withClientDecoder)).toBe(true);
  });

  it('holds one copy of eventemitter3 and none of the fallback transports', async () => {
    const core = await bundle(`export { createClient } from '@tidewire/core';`);
    expect(core.split('.eventNames=function').length - 1).toBe(1);
    expect(core.includes('text/event-stream')).toBe(false);
    expect(core.includes('longpoll')).toBe(false);
  });
});

describe('the published build', () => {
  it('shortens every internal member name (a name ending in `_`): none survives, as a declared field or otherwise', async () => {
    const { clientMinify, internalProps } = (await import(resolve(root, 'scripts/size-config.mjs'))) as {
      clientMinify: { mangleProps: RegExp };
      internalProps: RegExp;
    };
    const entries = ['', '/websocket', '/sse', '/longpoll', '/eventsource', '/shared', '/rpc', '/binary', '/msgpack'];
    const result = await build({
      stdin: { contents: entries.map((sub, i) => `export * as e${i} from '@tidewire/core${sub}';`).join('\n'), resolveDir: root, loader: 'ts' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      conditions: ['@tidewire/source'],
      plugins: [workspaceSources],
      write: false,
      external: ['ws', 'eventsource', '@msgpack/msgpack'],
      logLevel: 'error',
      ...clientMinify,
    });
    const code = result.outputFiles[0]!.text;
    // A member reached or declared by that name: `.send_`, `send_;`, `send_ =`, `{ send_:` (not `token_expired` in a string).
    const survivors = new Set([...code.matchAll(/(?:\.|^\s*|[{,]\s*)([a-z][A-Za-z0-9]*[A-Za-z0-9]_)\b(?=\s*[;=:(,}]|\s*$)/gm)].map((m) => m[1]!));
    expect([...survivors].filter((name) => internalProps.test(name))).toEqual([]);
  });
});
