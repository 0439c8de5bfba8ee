import { defineConfig } from 'tsup';

// One entry. `vue` (peer) and `@tidewire/core` (dependency) stay external, as tsup does by default.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  treeshake: true,
});
