import { defineConfig } from 'vitest/config';

// One config for every package. The `source` export condition makes workspace
// packages resolve to their TypeScript sources, so tests never need a build.
export default defineConfig({
  resolve: { conditions: ['@tidewire/source'] },
  ssr: { resolve: { conditions: ['@tidewire/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.{ts,tsx}', 'packages/*/src/**/*.test.{ts,tsx}'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
});
