#!/usr/bin/env node
// Every ```ts / ```tsx block in README.md, CONTRIBUTING.md, docs/ and the package and example READMEs:
//  1. type-checks under `strict` against the workspace sources (each block is its own module;
//     `@tidewire/*` resolves to the packages' src, other imports to the workspace's node_modules);
//  2. parses on the oldest Node the docs claim (20): blocks are stripped of types with esbuild and
//     checked with `node --check` — so `await using` (a SyntaxError before Node 24) must be in a block
//     marked ```ts node24, whose surrounding text says so.
// A block that is deliberately partial is marked ```ts fragment and skipped; keep those few.
// Usage: node scripts/check-docs.mjs [--keep]   (--keep leaves the generated files in .artifacts/check-docs)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { transformSync } from 'esbuild';

const root = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
process.chdir(root);
const out = join(root, '.artifacts', 'check-docs');
const LANGS = new Set(['ts', 'tsx', 'typescript']);

/** The Markdown files whose code users copy. */
function markdownFiles() {
  const files = ['README.md', 'CONTRIBUTING.md'];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (path !== join('docs', 'api')) walk(path);
      } else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk('docs');
  for (const group of ['packages', 'examples']) {
    for (const dir of readdirSync(group)) {
      const readme = join(group, dir, 'README.md');
      if (existsSync(readme)) files.push(readme);
    }
  }
  return files.filter((f) => existsSync(f));
}

/** Fenced blocks that open at the start of a line: { file, line (1-based, first code line), lang, tags, code }. */
function extractBlocks(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang, rest] = open;
    const body = [];
    let j = i + 1;
    for (; j < lines.length && !lines[j].trimStart().startsWith(fence); j++) body.push(lines[j].slice(indent.length));
    if (LANGS.has(lang)) blocks.push({ file, line: i + 2, lang: lang === 'tsx' ? 'tsx' : 'ts', tags: rest.split(/\s+/).filter(Boolean), code: body.join('\n') });
    i = j;
  }
  return blocks;
}

/** `paths` for every workspace package's entries (their `@tidewire/source` files), then node_modules. */
function workspacePaths() {
  const paths = {};
  for (const dir of readdirSync('packages')) {
    const manifest = join('packages', dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    for (const [sub, entry] of Object.entries(pkg.exports ?? {})) {
      const source = typeof entry === 'object' && entry?.['@tidewire/source'];
      if (source) paths[pkg.name + sub.slice(1)] = [relative(out, join('packages', dir, source))];
    }
  }
  // Third-party imports (ws, jose, zod, react-dom…) from wherever the workspace installed them.
  const modules = ['node_modules', ...readdirSync('packages').map((d) => join('packages', d, 'node_modules'))].filter(existsSync);
  // A path mapping does not fall back to @types, so each @types folder is tried before the package itself.
  paths['*'] = modules.flatMap((m) => [`${relative(out, m)}/@types/*`, `${relative(out, m)}/*`]);
  return paths;
}

const keep = process.argv.includes('--keep');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const blocks = markdownFiles().flatMap(extractBlocks);
const checked = blocks.filter((b) => !b.tags.includes('fragment'));
const skipped = blocks.length - checked.length;
let failures = 0;
const report = (block, message) => {
  failures++;
  console.error(`✗ ${block.file}:${block.line - 1} (\`\`\`${block.lang}${block.tags.length ? ' ' + block.tags.join(' ') : ''})\n    ${message.replaceAll('\n', '\n    ')}`);
};

// 0. Syntax first: tsc reports no type errors at all while any file has a syntax error, so a
//    block that does not parse is reported here and left out of the type check.
const origin = new Map(); // generated file → block
const javascript = new Map(); // generated file → the block without types, for the Node check
checked.forEach((block, n) => {
  const name = `${String(n).padStart(3, '0')}-${block.file.replace(/[^A-Za-z0-9]+/g, '_')}-L${block.line}.${block.lang}`;
  // Appended, not prepended, so line numbers match the Markdown: every block is a module of its own.
  const code = `${block.code}\nexport {};\n`;
  try {
    javascript.set(name, transformSync(code, { loader: block.lang, format: 'esm', target: 'esnext', jsx: 'automatic' }).code);
  } catch (error) {
    report(block, `does not parse: ${error.message.replace(/^Transform failed with \d+ errors?:\n/, '')}`);
    return;
  }
  writeFileSync(join(out, name), code);
  origin.set(name, block);
});
// What a Vite app (the setup docs/react.md and docs/vue.md assume) has: `.vue` modules and `import.meta.hot`.
const viteClient = ['examples/react-chat', 'examples/vue-dashboard', '.']
  .map((dir) => join(dir, 'node_modules', 'vite', 'client.d.ts'))
  .find((file) => existsSync(file));
writeFileSync(
  join(out, 'shims.d.ts'),
  (viteClient ? `/// <reference path="${relative(out, viteClient)}" />\n` : '') +
    "declare module '*.vue' {\n  const component: import('vue').Component;\n  export default component;\n}\n",
);
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify(
    {
      extends: relative(out, 'tsconfig.base.json'),
      compilerOptions: {
        noEmit: true,
        strict: true,
        lib: ['ES2022', 'DOM', 'DOM.Iterable', 'ESNext.Disposable'],
        customConditions: ['@tidewire/source'],
        paths: workspacePaths(),
        types: ['node'],
        typeRoots: [relative(out, 'node_modules/@types')],
        isolatedModules: false,
        noUnusedLocals: false,
      },
      include: ['*.ts', '*.tsx'],
    },
    null,
    2,
  ),
);

// 1. Types, all blocks in one program.
const tsc = spawnSync(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '-p', join(out, 'tsconfig.json'), '--pretty', 'false'], { encoding: 'utf8' });
const diagnostics = new Map();
for (const line of `${tsc.stdout}${tsc.stderr}`.split('\n')) {
  const m = /^(?:.*[\\/])?([^\\/(]+)\((\d+),(\d+)\): (error TS\d+: .*)$/.exec(line);
  if (!m) {
    if (line.trim() && tsc.status !== 0 && !/^\s/.test(line)) console.error(line);
    continue;
  }
  const block = origin.get(m[1]);
  if (!block) continue;
  const at = `${block.file}:${block.line + Number(m[2]) - 1}: ${m[4]}`;
  diagnostics.set(block, [...(diagnostics.get(block) ?? []), at]);
}
for (const [block, messages] of diagnostics) report(block, messages.join('\n'));

// 2. Syntax on the Node running this (CI: Node 20), unless the block says it needs a newer one.
for (const [name, block] of origin) {
  const needs = block.tags.find((t) => /^node\d+$/.test(t));
  if (needs && Number(needs.slice(4)) > Number(process.versions.node.split('.')[0])) continue;
  const file = join(out, name.replace(/\.tsx?$/, '.mjs'));
  writeFileSync(file, javascript.get(name));
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
  if (check.status !== 0) {
    const why = check.stderr.split('\n').find((l) => /Error/.test(l)) ?? check.stderr;
    report(block, `Node ${process.versions.node} cannot run it: ${why.trim()} — mark the block \`\`\`ts node24 (or whichever version it needs) and say so in the text`);
  }
}

if (!keep) rmSync(out, { recursive: true, force: true });
console.log(`\n${checked.length} code blocks checked (${skipped} marked fragment), ${diagnostics.size} with type errors, ${failures} problems`);
if (failures) process.exit(1);
