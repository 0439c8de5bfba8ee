#!/usr/bin/env node
// The README's test command: every package's tests on this Node (20 in CI, `ws`
// injected), then the client and transports end-to-end files again on Node 22 with the runtime's
// own WebSocket and fetch. Every stage runs whatever happened in the one before (a red first stage
// must not hide what Node 22 says). Ends with one summary line over all stages; exits non-zero on
// any failure, and names every stage that failed or never reported.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';

const vitest = 'node_modules/vitest/vitest.mjs';
mkdirSync('.artifacts', { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };
/** Stages that failed, with why: shown before the summary line. */
const failedStages = [];

/**
 * Run one vitest stage and add its JSON report to the totals. A stage that could not start,
 * was killed, or died before writing its report counts as one failed test, so it can never
 * pass silently; a stale report from an earlier run is removed first for the same reason.
 */
function run(label, cmd, args, report, env = {}) {
  console.log(`\n▶ ${label}\n`);
  rmSync(report, { force: true });
  const result = spawnSync(cmd, [...args, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
    stdio: 'inherit',
    env: { ...process.env, ...env },
  });
  let json;
  try {
    json = JSON.parse(readFileSync(report, 'utf8'));
  } catch {
    json = undefined;
  }
  if (json === undefined) {
    totals.failed += 1;
    const why = result.error ? `could not start (${result.error.message})` : result.signal ? `killed by ${result.signal}` : `exited ${result.status} without a report`;
    failedStages.push(`${label}: did not run to the end — ${why}`);
    return;
  }
  totals.passed += json.numPassedTests;
  totals.failed += json.numFailedTests;
  totals.skipped += json.numPendingTests + json.numTodoTests;
  // A suite that fails to load (syntax error, missing import) has no failed *tests* but a non-zero exit.
  if (result.status !== 0 || json.numFailedTests > 0 || json.numFailedTestSuites > 0) {
    if (json.numFailedTests === 0) totals.failed += 1;
    failedStages.push(`${label}: ${json.numFailedTests} failed tests, ${json.numFailedTestSuites ?? 0} failed files, exit ${result.status}`);
  }
}

run(`all tests on Node ${process.versions.node}`, process.execPath, [vitest, 'run'], '.artifacts/tests-node.json');
run(
  'client end-to-end tests on Node 22 with the global WebSocket and fetch',
  'npx',
  ['-y', 'node@22', vitest, 'run', 'packages/tests/test/client.e2e.test.ts', 'packages/tests/test/transports.e2e.test.ts'],
  '.artifacts/tests-node22.json',
  { TIDEWIRE_WS: 'global' },
);

if (failedStages.length) console.log(`\nFailed stages:\n${failedStages.map((s) => `  ✗ ${s}`).join('\n')}`);
console.log(`\nTests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(failedStages.length === 0 && totals.failed === 0 ? 0 : 1);
