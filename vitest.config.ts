import { defineConfig } from 'vitest/config';

// One config for every package. The `source` export condition makes workspace
// packages resolve to their TypeScript sources, so tests never need a build.
export default defineConfig({
  resolve: { conditions: ['@tidewire/source'] },
  ssr: { resolve: { conditions: ['@tidewire/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.{ts,tsx}', 'packages/*/src/**/*.test.{ts,tsx}'],
    // Generous: outcomes are awaited by polling, and a loaded 2-core CI machine is slow, not wrong.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
