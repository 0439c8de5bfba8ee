#!/usr/bin/env node
// Package hygiene for every published package (after `pnpm build`):
//  - publint and @arethetypeswrong/cli report no problems;
//  - every export imports in Node ESM and CJS;
//  - client packages bundle for the browser without any Node built-in.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const packages = readdirSync('packages')
  .map((dir) => ({ dir: resolve('packages', dir), pkg: JSON.parse(readFileSync(join('packages', dir, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => !pkg.private);
const browserPackages = new Set(['@tidewire/core', '@tidewire/react', '@tidewire/vue']);
let failures = 0;
const fail = (msg) => {
  failures++;
  console.error(`✗ ${msg}`);
};
const bin = (name) => resolve('node_modules/.bin', name);

for (const { dir, pkg } of packages) {
  console.log(`\n${pkg.name}`);
  if (!existsSync(join(dir, 'dist'))) {
    fail(`${pkg.name}: no dist/ — run pnpm build first`);
    continue;
  }
  const publint = spawnSync(bin('publint'), ['--strict', dir], { encoding: 'utf8' });
  if (publint.status !== 0 || /warning|error|suggestion/i.test(publint.stdout)) fail(`publint ${pkg.name}:\n${publint.stdout}${publint.stderr}`);
  else console.log('  ✓ publint');

  const attw = spawnSync(bin('attw'), ['--pack', dir, '--profile', 'node16', '--format', 'ascii'], { encoding: 'utf8' });
  if (attw.status !== 0) fail(`attw ${pkg.name}:\n${attw.stdout}${attw.stderr}`);
  else console.log('  ✓ are the types wrong');

  const require = createRequire(join(dir, 'package.json'));
  for (const [sub, entry] of Object.entries(pkg.exports)) {
    if (typeof entry !== 'object') continue;
    const esm = resolve(dir, entry.import.default);
    const cjs = resolve(dir, entry.require.default);
    try {
      const a = await import(pathToFileURL(esm).href);
      const b = require(cjs);
      if (Object.keys(a).length === 0 || Object.keys(b).length === 0) throw new Error('no exports');
      console.log(`  ✓ ${sub} imports as ESM and CJS`);
    } catch (error) {
      fail(`${pkg.name} ${sub}: ${error.message}`);
    }
    if (browserPackages.has(pkg.name)) {
      try {
        await build({
          entryPoints: [esm],
          bundle: true,
          write: false,
          platform: 'browser',
          format: 'esm',
          external: ['react', 'react-dom', 'vue', '@tidewire/core', '@tidewire/core/*'],
          logLevel: 'silent',
        });
        console.log(`  ✓ ${sub} bundles for the browser without Node built-ins`);
      } catch (error) {
        fail(`${pkg.name} ${sub} does not bundle for the browser: ${error.message}`);
      }
    }
  }
}
if (failures) {
  console.error(`\n${failures} package check(s) failed`);
  process.exit(1);
}
console.log('\nall package checks passed');
