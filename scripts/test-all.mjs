#!/usr/bin/env node
// The README's test command: every package's tests on this Node (20 in CI, `ws`
// injected), then the client end-to-end file again on Node 22 with the runtime's
// own WebSocket. Exits non-zero if either run fails.
import { spawnSync } from 'node:child_process';

const vitest = 'node_modules/vitest/vitest.mjs';
const run = (label, cmd, args, env = {}) => {
  console.log(`\n▶ ${label}\n`);
  const result = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) {
    console.error(`\n✗ ${label} failed (exit ${result.status})`);
    process.exit(result.status ?? 1);
  }
};

run(`all tests on Node ${process.versions.node}`, process.execPath, [vitest, 'run']);
run('client end-to-end tests on Node 22 with the global WebSocket', 'npx', ['-y', 'node@22', vitest, 'run', 'packages/tests/test/client.e2e.test.ts'], {
  TIDEWIRE_WS: 'global',
});
