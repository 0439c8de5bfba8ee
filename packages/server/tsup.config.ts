import { defineConfig } from 'tsup';
import pkg from './package.json' with { type: 'json' };

// Every subpath export is its own entry so unused transports are tree-shaken away.
const entry = Object.values(pkg.exports)
  .flatMap((e) => (typeof e === 'object' && '@tidewire/source' in e ? [e['@tidewire/source'].replace(/^\.\//, '')] : []));

export default defineConfig({
  entry,
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  treeshake: true,
});
