import { defineConfig, type Options } from 'tsup';

interface PackageJson {
  exports: Record<string, unknown>;
}

/**
 * The build every published package shares: ESM + CJS + .d.ts, one entry per subpath
 * export (its `@tidewire/source` file), so unused entry points tree-shake away; shared
 * chunks in CJS too, so classes such as errors have one identity across entries.
 */
export function libraryConfig(pkg: PackageJson, extra: Options = {}) {
  const entry = Object.values(pkg.exports).flatMap((e) =>
    typeof e === 'object' && e !== null && '@tidewire/source' in e ? [String(e['@tidewire/source']).replace(/^\.\//, '')] : [],
  );
  return defineConfig({
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    sourcemap: true,
    target: 'es2022',
    treeshake: true,
    splitting: true,
    ...extra,
  });
}
