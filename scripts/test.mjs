#!/usr/bin/env node
// `npm test`: the whole suite in two phases — everything but the browser tests, then the browser
// tests (real Chromium against the real demo) one file at a time, so a loaded 2-core machine does
// not starve them — and one plain closing line "N passed, N failed, N skipped" for any CI log
// reader, which also names any test file whose process died before it finished: that is a failure,
// never retried (the tests' WebRTC runs in supervised media workers, docs/decisions/0013-media-worker.md,
// so a native crash there costs a reconnect, not the test process). Exits non-zero when any phase
// failed. With arguments, runs just those (one phase).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'test-output');
mkdirSync(out, { recursive: true });
const vitest = join(root, 'node_modules/vitest/vitest.mjs');

function phase(name, args) {
  const report = join(out, `vitest-${name}.json`);
  rmSync(report, { force: true });
  const r = spawnSync(
    process.execPath,
    [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args],
    { cwd: root, stdio: 'inherit' },
  );
  // vitest killed by a signal has no status: never a pass, whatever its report says.
  const failedRun = {
    code: r.status || 1,
    passed: 0,
    failed: 1,
    skipped: 0,
    total: 0,
    crashed: [],
    crashedPending: 0,
    crashedEmpty: 0,
  };
  if (!existsSync(report)) return failedRun;
  let j;
  try {
    j = JSON.parse(readFileSync(report, 'utf8'));
  } catch (error) {
    // A report cut short (vitest died while writing it) is a failed run, not a crash of this script.
    if (error instanceof SyntaxError) return failedRun;
    throw error;
  }
  // A file whose process died did not finish: vitest leaves its tests pending (nothing in this
  // suite is skipped) and no test failed.
  const crashed = (j.testResults ?? []).filter(
    (f) =>
      ((f.assertionResults ?? []).some((a) => a.status === 'pending') || f.status !== 'passed') &&
      (f.assertionResults ?? []).every((a) => a.status !== 'failed'),
  );
  return {
    code: r.status === 0 ? (crashed.length > 0 ? 1 : 0) : (r.status ?? 1),
    passed: j.numPassedTests,
    failed: j.numFailedTests,
    skipped: (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0),
    total: j.numTotalTests,
    crashed: crashed.map((f) => f.name),
    crashedPending: crashed.reduce(
      (n, f) => n + (f.assertionResults ?? []).filter((a) => a.status === 'pending').length,
      0,
    ),
    // A file that died before its tests were collected has none pending: it counts as one failure.
    crashedEmpty: crashed.filter((f) => !(f.assertionResults ?? []).some((a) => a.status === 'pending'))
      .length,
  };
}

const args = process.argv.slice(2);
const results =
  args.length > 0
    ? [phase('selected', args)]
    : [phase('main', ['--exclude', 'test/e2e/**']), phase('browser', ['test/e2e', '--no-file-parallelism'])];
const sum = (k) => results.reduce((s, r) => s + r[k], 0);
let code = results.find((r) => r.code !== 0)?.code ?? 0;
if (sum('total') === 0) code = code || 1;
const died = results.flatMap((r) => r.crashed);
for (const f of died) process.stdout.write(`\n[test] ${f} did not finish: its process died\n`);
// A file whose process died left its tests pending, not skipped: they count as failed.
const failed = sum('failed') + sum('crashedPending') + sum('crashedEmpty');
const skipped = Math.max(0, sum('skipped') - sum('crashedPending'));
process.stdout.write(
  `\ntests: ${sum('passed')} passed, ${failed} failed, ${skipped} skipped${
    died.length > 0 ? ` (${died.length} file(s) whose process died: ${died.join(', ')})` : ''
  }\n`,
);
process.exit(code);
