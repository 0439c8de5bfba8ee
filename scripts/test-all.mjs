#!/usr/bin/env node
// The README's test command: every package's tests on this Node (20 in CI, `ws`
// injected), then the client and transports end-to-end files again on Node 22 with the runtime's
// own WebSocket and fetch. Ends with one summary line over both runs; exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

const vitest = 'node_modules/vitest/vitest.mjs';
mkdirSync('.artifacts', { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };

function run(label, cmd, args, report, env = {}) {
  console.log(`\n▶ ${label}\n`);
  const result = spawnSync(cmd, [...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  try {
    const json = JSON.parse(readFileSync(report, 'utf8'));
    totals.passed += json.numPassedTests;
    totals.failed += json.numFailedTests;
    totals.skipped += json.numPendingTests + json.numTodoTests;
  } catch {
    totals.failed += 1; // the run died before reporting
  }
  return result.status === 0;
}

const ok =
  run(`all tests on Node ${process.versions.node}`, process.execPath, [vitest, 'run'], '.artifacts/tests-node.json') &&
  run(
    'client end-to-end tests on Node 22 with the global WebSocket and fetch',
    'npx',
    ['-y', 'node@22', vitest, 'run', 'packages/tests/test/client.e2e.test.ts', 'packages/tests/test/transports.e2e.test.ts'],
    '.artifacts/tests-node22.json',
    { TIDEWIRE_WS: 'global' },
  );

console.log(`\nTests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(ok && totals.failed === 0 ? 0 : 1);
