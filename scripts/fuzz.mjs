#!/usr/bin/env node
// The long fuzz run (`pnpm fuzz`): the same fuzzers the test suite runs briefly (10k frames each
// way), with 100k frames each way by default, and the property tests with 20x their runs.
//
//   pnpm fuzz                       100k frames each way, random seed (printed per transport)
//   pnpm fuzz -- --frames 300000    more frames
//   pnpm fuzz -- --seed 12345       replay one seed (as printed by a failing run)
//   pnpm fuzz -- --only client      only server → client (`server`: client → server; `property`)
//
// Exits non-zero when any fuzzer or property found a counterexample; the vitest output names it.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '100000' },
    seed: { type: 'string' },
    only: { type: 'string' },
    runs: { type: 'string', default: '3000' },
  },
});
const suites = {
  server: ['packages/tests/test/fuzz-server.e2e.test.ts'],
  client: ['packages/tests/test/fuzz-client.e2e.test.ts'],
  property: ['packages/core/test/channel.property.test.ts', 'packages/core/test/connection.property.test.ts'],
};
if (values.only && !(values.only in suites)) {
  console.error(`--only must be one of ${Object.keys(suites).join(', ')}`);
  process.exit(2);
}
const files = values.only ? suites[values.only] : Object.values(suites).flat();
const env = {
  ...process.env,
  TIDEWIRE_FUZZ_FRAMES: values.frames,
  TIDEWIRE_PROPERTY_RUNS: values.runs,
  ...(values.seed !== undefined && { TIDEWIRE_FUZZ_SEED: values.seed, TIDEWIRE_PROPERTY_SEED: values.seed }),
};
console.log(`fuzz: ${values.frames} frames each way, ${values.runs} property runs${values.seed ? `, seed ${values.seed}` : ''}: ${files.join(' ')}`);
// One file at a time: the fuzzers measure the product, not how well two of them share 2 cores.
const result = spawnSync(
  process.execPath,
  ['node_modules/vitest/vitest.mjs', 'run', '--no-file-parallelism', '--testTimeout=7200000', ...files],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
