#!/usr/bin/env node
// Where the bytes of a client bundle come from: builds one entry the way
// scripts/size.mjs does and prints, per source file, its minified bytes in the
// bundle and an estimate of its gzip share (its minified share scaled by the
// bundle's compression ratio: good for ranking, not an exact figure).
//
//   node scripts/size-breakdown.mjs            # core + websocket
//   node scripts/size-breakdown.mjs all        # core + all three transports
//   node scripts/size-breakdown.mjs sse|longpoll|eventsource
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { clientMinify } from './size-config.mjs';

// Same resolution as scripts/size.mjs: @tidewire/* → the package's `@tidewire/source` export.
const workspaceSources = {
  name: 'workspace-sources',
  setup(b) {
    b.onResolve({ filter: /^@tidewire\// }, (args) => {
      const [, pkg, sub = ''] = args.path.match(/^@tidewire\/([^/]+)(\/.*)?$/);
      const dir = resolve('packages', pkg);
      const entry = JSON.parse(readFileSync(resolve(dir, 'package.json'), 'utf8')).exports['.' + sub];
      return { path: resolve(dir, entry['@tidewire/source']) };
    });
  },
};

const core = `export { createClient } from '@tidewire/core';`;
const entries = {
  websocket: core,
  sse: `${core} export { sse } from '@tidewire/core/sse';`,
  eventsource: `${core} export { eventsource } from '@tidewire/core/eventsource';`,
  longpoll: `${core} export { longpoll } from '@tidewire/core/longpoll';`,
  all: `${core} export { sse } from '@tidewire/core/sse'; export { longpoll } from '@tidewire/core/longpoll';`,
};
const which = process.argv[2] ?? 'websocket';
if (!(which in entries)) {
  console.error(`unknown entry ${which}; one of: ${Object.keys(entries).join(', ')}`);
  process.exit(2);
}

const result = await build({
  stdin: { contents: entries[which], resolveDir: process.cwd(), loader: 'ts' },
  bundle: true,
  minify: true,
  ...clientMinify, // as published: internal `name_` members shortened (scripts/size-config.mjs)
  format: 'esm',
  platform: 'browser',
  conditions: ['@tidewire/source'],
  plugins: [workspaceSources],
  write: false,
  metafile: true,
  define: { 'process.env.NODE_ENV': '"production"' },
  logLevel: 'error',
});

const output = Object.values(result.metafile.outputs)[0];
const total = result.outputFiles[0].contents;
const rows = Object.entries(output.inputs)
  .map(([file, { bytesInOutput }]) => ({ file: relative(process.cwd(), file).replace(/^node_modules\/\.pnpm\/[^/]+\/node_modules\//, ''), min: bytesInOutput }))
  .filter((r) => r.min > 0)
  .sort((a, b) => b.min - a.min);

// Each file's gzip share is estimated: gzipping the bundle without each file
// would need one build per file, so the file's minified share is scaled
// by the bundle's overall compression ratio (a ranking, not an exact figure).
const gzTotal = gzipSync(total, { level: 9 }).length;
const ratio = gzTotal / total.length;
console.log(`${which}: ${total.length} B min, ${gzTotal} B min+gzip\n`);
console.table(rows.map((r) => ({ file: r.file, 'min (B)': r.min, '≈ gz (B)': Math.round(r.min * ratio), share: `${((100 * r.min) / total.length).toFixed(1)} %` })));

