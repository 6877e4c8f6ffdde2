#!/usr/bin/env node
// `npm test`: the whole suite in two phases — everything but the browser tests, then the browser
// tests (real Chromium against the real demo) one file at a time, so a loaded 2-core machine does
// not starve them — and one plain closing line "N passed, N failed, N skipped" for any CI log
// reader, which also names any file run twice after its process died (see withRetry). Exits
// non-zero when any phase failed. With arguments, runs just those (one phase, no second run).
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
  if (!existsSync(report))
    return {
      code: r.status || 1,
      passed: 0,
      failed: 1,
      skipped: 0,
      total: 0,
      crashed: [],
      crashedPending: 0,
    };
  const j = JSON.parse(readFileSync(report, 'utf8'));
  // A file whose process died did not finish: vitest leaves its tests pending (nothing in this
  // suite is skipped) and no test failed.
  const crashed = (j.testResults ?? []).filter(
    (f) =>
      ((f.assertionResults ?? []).some((a) => a.status === 'pending') || f.status !== 'passed') &&
      (f.assertionResults ?? []).every((a) => a.status !== 'failed'),
  );
  return {
    code: r.status || (crashed.length > 0 ? 1 : 0),
    passed: j.numPassedTests,
    failed: j.numFailedTests,
    skipped: (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0),
    total: j.numTotalTests,
    crashed: crashed.map((f) => f.name),
    crashedPending: crashed.reduce(
      (n, f) => n + (f.assertionResults ?? []).filter((a) => a.status === 'pending').length,
      0,
    ),
  };
}

/**
 * The test process hosts the test participants' and the test relay's WebRTC in-process, and the
 * native library can crash it (docs/decisions/0013-media-worker.md: the appliance runs it in a
 * supervised worker for that reason). A file whose process died is run once more, alone, and said
 * so on the closing line; a second death, or a failure, fails the run.
 */
function withRetry(name, args) {
  const first = phase(name, args);
  if (first.crashed.length === 0) return { ...first, reran: [] };
  for (const f of first.crashed)
    process.stdout.write(`\n[test] ${f} did not finish (its process died): running it again\n`);
  const again = phase(`${name}-again`, [
    ...first.crashed,
    ...(name === 'browser' ? ['--no-file-parallelism'] : []),
  ]);
  for (const f of again.crashed) process.stdout.write(`\n[test] ${f} did not finish again: a failure\n`);
  // The first run's tests of those files were left pending: count the second run's instead (its
  // passes; it has no pending tests unless it died too, which fails the run).
  return {
    code: first.failed > 0 || again.code !== 0 ? 1 : 0,
    passed: first.passed + again.passed,
    failed: first.failed + again.failed + again.crashed.length,
    skipped:
      Math.max(0, first.skipped - first.crashedPending) + Math.max(0, again.skipped - again.crashedPending),
    total: first.total,
    reran: first.crashed,
  };
}

const args = process.argv.slice(2);
const results =
  args.length > 0
    ? [phase('selected', args)]
    : [
        withRetry('main', ['--exclude', 'test/e2e/**']),
        withRetry('browser', ['test/e2e', '--no-file-parallelism']),
      ];
const sum = (k) => results.reduce((s, r) => s + r[k], 0);
let code = results.find((r) => r.code !== 0)?.code ?? 0;
if (sum('total') === 0) code = code || 1;
const reran = results.flatMap((r) => r.reran ?? []);
process.stdout.write(
  `\ntests: ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped${
    reran.length > 0 ? ` (${reran.length} file(s) ran twice after a crash: ${reran.join(', ')})` : ''
  }\n`,
);
process.exit(code);
