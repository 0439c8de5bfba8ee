#!/usr/bin/env node
// Package hygiene for every published package, checked on the tarballs users get (after `pnpm build`):
//  - one recursive `pnpm pack` (each package's `prepack` builds it) packs every public package and
//    skips the private ones (tests, examples, bench) instead of failing on them;
//  - each tarball holds dist, README.md, LICENSE and a package.json without `workspace:` ranges;
//  - publint and @arethetypeswrong/cli (default profile: node10, node16 CJS/ESM, bundler) report no problems;
//  - installed with npm into a fresh project, every entry loads with `require()` and `import` — on the
//    current Node and on the oldest Node `engines` admits (20.0.0) — and an error thrown by the CJS
//    copy of core is recognised by the ESM copy's isTidewireError (two copies, one brand);
//  - @tidewire/react's built files start with "use client";
//  - client packages bundle for the browser without any Node built-in.
// Set TIDEWIRE_SKIP_OLD_NODE=1 to skip the Node 20.0.0 run where npx cannot download it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const OLDEST_NODE = '20.0.0';
const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
process.chdir(root);

const all = readdirSync('packages')
  .filter((dir) => existsSync(join('packages', dir, 'package.json')))
  .map((dir) => ({ dir: resolve('packages', dir), pkg: JSON.parse(readFileSync(join('packages', dir, 'package.json'), 'utf8')) }));
const packages = all.filter(({ pkg }) => !pkg.private);
const privateNames = all.filter(({ pkg }) => pkg.private).map(({ pkg }) => pkg.name);
const browserPackages = new Set(['@tidewire/core', '@tidewire/react', '@tidewire/vue']);
const clientDirectivePackages = new Set(['@tidewire/react']);
let failures = 0;
const fail = (msg) => {
  failures++;
  console.error(`✗ ${msg}`);
};
const ok = (msg) => console.log(`  ✓ ${msg}`);
const bin = (name) => resolve('node_modules/.bin', name);
const run = (cmd, args, options = {}) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });

/** pnpm as the repo pins it: the one running this script (`pnpm check:packages`), else through npx. */
function pnpm(args, options) {
  const execPath = process.env.npm_execpath;
  if (execPath && /pnpm/.test(execPath)) return run(process.execPath, [execPath, ...args], options);
  const version = JSON.parse(readFileSync('package.json', 'utf8')).packageManager.split('@')[1];
  return run('npx', ['-y', `pnpm@${version}`, ...args], options);
}

/** Entries written for Node on purpose (they use node:fs); every other client entry must bundle for a browser. */
const NODE_ONLY_ENTRIES = new Set(['@tidewire/core/file-outbox']);

/** Every subpath export as a specifier: '@tidewire/core', '@tidewire/core/websocket', … */
const specifiersOf = (pkg) =>
  Object.entries(pkg.exports)
    .filter(([, entry]) => typeof entry === 'object')
    .map(([sub]) => pkg.name + sub.slice(1));

/** Runs inside the fresh project, on each Node: every entry through require() and import(). */
const ENTRY_CHECK = `
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const require = createRequire(import.meta.url);
const specifiers = JSON.parse(readFileSync(new URL('./entries.json', import.meta.url), 'utf8'));
let bad = 0;
for (const specifier of specifiers) {
  for (const [how, load] of [['require', async (s) => require(s)], ['import', (s) => import(s)]]) {
    try {
      const exported = await load(specifier);
      if (Object.keys(exported).filter((k) => k !== 'default' && k !== '__esModule').length === 0) throw new Error('no exports');
    } catch (error) {
      bad++;
      console.error(how + "('" + specifier + "'): " + (error && error.message));
    }
  }
}
if (specifiers.includes('@tidewire/core')) {
  // The CJS and the ESM build are two copies of core in one process: the brand must bridge them.
  const cjs = require('@tidewire/core');
  const esm = await import('@tidewire/core');
  const foreign = new cjs.TimeoutError('timeout', 'from the CJS copy');
  if (foreign instanceof esm.TidewireError) console.log('(CJS and ESM share classes here; the brand check is moot)');
  if (!esm.isTidewireError(foreign) || !cjs.isTidewireError(new esm.RequestError('forbidden', 'x'))) {
    bad++;
    console.error('isTidewireError does not recognise an error from the other copy of core');
  }
}
if (bad) process.exit(1);
console.log(specifiers.length + ' entries load with require() and import; isTidewireError spans the CJS and ESM copies');
`;

const work = mkdtempSync(join(tmpdir(), 'tidewire-packages-'));
try {
  // 1. One recursive pack, as a release does it.
  const packs = join(work, 'tarballs');
  mkdirSync(packs);
  console.log('pnpm -r pack (prepack builds each package)');
  const packed = pnpm(['-r', '--filter', './packages/**', 'pack', '--pack-destination', packs]);
  if (packed.status !== 0) fail(`recursive pnpm pack failed:\n${packed.stdout}${packed.stderr}`);
  const tarballs = new Map();
  for (const { pkg } of packages) {
    const file = join(packs, `${pkg.name.replace('@', '').replace('/', '-')}-${pkg.version}.tgz`);
    if (existsSync(file)) tarballs.set(pkg.name, file);
    else fail(`${pkg.name}: no tarball from the recursive pack (${file})`);
  }
  const strays = readdirSync(packs).filter((f) => privateNames.some((n) => f.startsWith(n.replace('@', '').replace('/', '-'))));
  if (strays.length) fail(`private packages were packed: ${strays.join(', ')}`);
  else ok(`${tarballs.size} public packages packed; private ones skipped (${privateNames.join(', ')})`);

  // 2. Per tarball: contents, publint, attw.
  for (const { pkg } of packages) {
    const tgz = tarballs.get(pkg.name);
    if (!tgz) continue;
    console.log(`\n${pkg.name}`);
    const before = failures;
    const list = run('tar', ['-tzf', tgz]).stdout.split('\n');
    for (const must of ['package/package.json', 'package/README.md', 'package/LICENSE']) if (!list.includes(must)) fail(`${pkg.name}: ${must} missing from the tarball`);
    if (!list.some((f) => f.startsWith('package/dist/'))) fail(`${pkg.name}: no dist/ in the tarball`);
    const manifest = run('tar', ['-xzOf', tgz, 'package/package.json']).stdout;
    if (/"workspace:/.test(manifest)) fail(`${pkg.name}: the packed package.json still says workspace:`);
    if (failures === before) ok('tarball holds dist, README.md, LICENSE; ranges are real versions');

    const publint = run(bin('publint'), ['--strict', tgz]);
    if (publint.status !== 0 || /warning|error|suggestion/i.test(publint.stdout)) fail(`publint ${pkg.name}:\n${publint.stdout}${publint.stderr}`);
    else ok('publint');

    // Default profile ("strict"): node10 as well as node16 (CJS and ESM) and bundler.
    const attw = run(bin('attw'), [tgz, '--format', 'ascii']);
    if (attw.status !== 0) fail(`attw ${pkg.name}:\n${attw.stdout}${attw.stderr}`);
    else ok('are the types wrong (node10, node16-cjs, node16-esm, bundler)');
  }

  // 3. A fresh npm project with every tarball installed, as a user would have it.
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'tidewire-pack-check', private: true, version: '0.0.0' }));
  console.log('\nnpm install of the tarballs into a fresh project');
  // Optional peers too (idb-keyval, @msgpack/msgpack, prom-client): the entries that use them are loaded below,
  // as an app that imports such an entry would have installed its peer.
  const optionalPeers = packages.flatMap(({ pkg }) =>
    Object.keys(pkg.peerDependenciesMeta ?? {})
      .filter((name) => pkg.peerDependenciesMeta[name].optional && pkg.peerDependencies?.[name])
      .map((name) => `${name}@${pkg.peerDependencies[name]}`),
  );
  const installed = run('npm', ['install', ...tarballs.values(), ...new Set(optionalPeers), '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { cwd: app });
  if (installed.status !== 0) throw new Error(`npm install failed:\n${installed.stdout}${installed.stderr}`);
  ok('installed');

  const specifiers = packages.filter(({ pkg }) => tarballs.has(pkg.name)).flatMap(({ pkg }) => specifiersOf(pkg));
  writeFileSync(join(app, 'entries.json'), JSON.stringify(specifiers));
  writeFileSync(join(app, 'check-entries.mjs'), ENTRY_CHECK);

  const nodes = [[`Node ${process.versions.node}`, process.execPath, []]];
  if (process.env.TIDEWIRE_SKIP_OLD_NODE !== '1') nodes.push([`Node ${OLDEST_NODE}`, 'npx', ['-y', `node@${OLDEST_NODE}`]]);
  for (const [label, cmd, pre] of nodes) {
    const result = run(cmd, [...pre, 'check-entries.mjs'], { cwd: app });
    const report = `${result.stdout}${result.stderr}`.trim();
    if (result.status !== 0) fail(`${label}: require/import of the installed packages:\n${report}`);
    else ok(`${label}: ${report.split('\n').at(-1)}`);
  }

  // 4. "use client" first in every built JavaScript file of the React binding.
  for (const name of clientDirectivePackages) {
    const dist = join(app, 'node_modules', name, 'dist');
    const files = readdirSync(dist, { recursive: true }).filter((f) => /\.(c|m)?js$/.test(f));
    const missing = files.filter((f) => !/^["']use client["'];/.test(readFileSync(join(dist, f), 'utf8')));
    if (files.length === 0 || missing.length) fail(`${name}: built files without a leading "use client": ${missing.join(', ') || '(no files)'}`);
    else ok(`${name}: "use client" leads ${files.join(', ')}`);
  }

  // 5. Browser bundles of the installed client packages: no Node built-ins.
  for (const { pkg } of packages.filter(({ pkg }) => browserPackages.has(pkg.name) && tarballs.has(pkg.name))) {
    for (const specifier of specifiersOf(pkg).filter((s) => !NODE_ONLY_ENTRIES.has(s))) {
      try {
        await build({
          stdin: { contents: `export * from '${specifier}';`, resolveDir: app },
          bundle: true,
          write: false,
          platform: 'browser',
          format: 'esm',
          external: ['react', 'react-dom', 'vue', '@tidewire/core', '@tidewire/core/*'].filter((e) => !specifier.startsWith(e.replace('/*', ''))),
          logLevel: 'silent',
        });
        ok(`${specifier} bundles for the browser without Node built-ins`);
      } catch (error) {
        fail(`${specifier} does not bundle for the browser: ${error.message}`);
      }
    }
  }
} catch (error) {
  fail(error.message);
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (failures) {
  console.error(`\n${failures} package check(s) failed`);
  process.exit(1);
}
console.log('\nall package checks passed');
