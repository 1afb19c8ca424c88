#!/usr/bin/env node
// `npm test`: the whole vitest suite twice, with the C shim and with VFIOKIT_NO_SHIM=1 (the JS
// fallbacks), then one closing line "N passed, N failed, N skipped" summed over both runs.
// Extra arguments go to vitest (e.g. `npm test -- test/mmio`).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const extra = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'vfiokit-test-'));
const modes = [
  { name: 'with shim', env: {} },
  { name: 'without shim (VFIOKIT_NO_SHIM=1)', env: { VFIOKIT_NO_SHIM: '1' } },
];
const total = { passed: 0, failed: 0, skipped: 0 };
let failedRun = false;
for (const [i, mode] of modes.entries()) {
  const out = join(dir, `run${i}.json`);
  process.stdout.write(`\n== vitest ${mode.name}\n`);
  const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${out}`, ...extra], {
    stdio: 'inherit',
    env: { ...process.env, ...mode.env },
  });
  let report;
  try {
    report = JSON.parse(readFileSync(out, 'utf8'));
  } catch {
    process.stdout.write(`vitest ${mode.name} exited ${r.status} without a report\n`);
    failedRun = true;
    total.failed++;
    continue;
  }
  const passed = report.numPassedTests ?? 0;
  const failed = (report.numFailedTests ?? 0) + (report.testResults ?? []).filter((f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0).length;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  process.stdout.write(`vitest ${mode.name}: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  total.passed += passed;
  total.failed += failed;
  total.skipped += skipped;
  if (r.status !== 0) failedRun = true;
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped\n`);
process.exit(failedRun || total.failed ? 1 : 0);
