/**
 * `npm run fuzz` (fuzz/README.md): replays each target's corpus, then fuzzes it for its share of
 * the time, and prints per target the corpus replayed, the cases run, cases per second and the
 * failures. A failure's (shrunk) input is printed and written to `fuzz/corpus/<target>/`.
 * Exit status: 0 no failure, 1 a failure (also one replayed from the corpus), 2 bad usage.
 */
import { parseArgs } from 'node:util';
import { saveToCorpus } from './lib/corpus.ts';
import { type Failure, FuzzEngine, formatFailure, type TargetReport } from './lib/engine.ts';
import { TARGETS } from './targets/index.ts';

const USAGE = `Usage: npm run fuzz -- [--seconds N] [--target NAME[,NAME…]]… [--seed S] [--case-limit MS]
                     [--list] [--seed-corpus] [--no-save]

  --seconds N      total fuzzing time, split evenly over the targets (default 60)
  --cases N        instead of time: N generated cases per target (what the test does)
  --target NAME    only these targets (repeat or separate with commas)
  --seed S         base seed (default: random; printed, so a run can be repeated)
  --case-limit MS  per-case time limit (default 500 ms; a slower case is a failure)
  --hang MS        a case running this long is stopped as a hang (default 10000)
  --no-save        do not write failures to the corpus
  --corpus DIR     corpus folder (default fuzz/corpus)
  --seed-corpus    write every target's seed inputs to fuzz/corpus/ and exit
  --list           print the targets and exit`;

function usage(message?: string): never {
  if (message !== undefined) process.stderr.write(`${message}\n\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

let values: ReturnType<typeof parse>['values'];
function parse() {
  return parseArgs({
    options: {
      seconds: { type: 'string' },
      cases: { type: 'string' },
      target: { type: 'string', multiple: true },
      seed: { type: 'string' },
      'case-limit': { type: 'string' },
      hang: { type: 'string' },
      'no-save': { type: 'boolean' },
      corpus: { type: 'string' },
      'seed-corpus': { type: 'boolean' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
try {
  values = parse().values;
} catch (error) {
  usage((error as Error).message);
}
if (values.help) usage();

const number = (name: string, text: string | undefined, min: number): number | undefined => {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) usage(`--${name} must be a number ≥ ${min}`);
  return n;
};

if (values.list) {
  for (const t of TARGETS) process.stdout.write(`${t.name.padEnd(16)} ${t.about}\n`);
  process.exit(0);
}

const wanted = (values.target ?? []).flatMap((t) => t.split(',')).filter((t) => t !== '');
const unknown = wanted.filter((w) => !TARGETS.some((t) => t.name === w));
if (unknown.length > 0) usage(`unknown target(s): ${unknown.join(', ')} (see --list)`);
const targets = wanted.length === 0 ? TARGETS : TARGETS.filter((t) => wanted.includes(t.name));

if (values['seed-corpus']) {
  for (const t of targets) {
    for (const s of t.seeds()) saveToCorpus(t.name, s.note, s.input, values.corpus);
    process.stdout.write(`${t.name}: ${t.seeds().length} seed inputs\n`);
  }
  process.exit(0);
}

const seconds = number('seconds', values.seconds, 1) ?? 60;
const cases = number('cases', values.cases, 1);
const seed = number('seed', values.seed, Number.MIN_SAFE_INTEGER) ?? Math.floor(Math.random() * 2 ** 31);
const caseLimitMs = number('case-limit', values['case-limit'], 1);
const hangMs = number('hang', values.hang, 100);
const perTarget = seconds / targets.length;

process.stderr.write(
  `fuzz: ${targets.length} target(s), ${cases === undefined ? `${perTarget.toFixed(1)} s each` : `${cases} cases each`}, seed ${seed}\n`,
);

const engine = new FuzzEngine();
const reports: TargetReport[] = [];
const failures: Failure[] = [];
const started = performance.now();
for (const t of targets) {
  const report = await engine.runTarget(t.name, {
    seed,
    ...(cases === undefined ? { seconds: perTarget } : { cases }),
    ...(caseLimitMs === undefined ? {} : { caseLimitMs }),
    ...(hangMs === undefined ? {} : { hangMs }),
    save: values['no-save'] !== true,
    ...(values.corpus === undefined ? {} : { corpusRoot: values.corpus }),
  });
  reports.push(report);
  failures.push(...report.failures);
  const rate = report.fuzzMs > 0 ? (report.cases * 1000) / report.fuzzMs : 0;
  process.stdout.write(
    `${t.name.padEnd(16)} corpus ${String(report.corpusCases).padStart(4)}   cases ${String(report.cases).padStart(8)}   ${rate.toFixed(0).padStart(7)}/s   failures ${report.failures.length}\n`,
  );
  for (const f of report.failures) process.stdout.write(`${formatFailure(f)}\n`);
}
await engine.close();

const total = reports.reduce((n, r) => n + r.cases, 0);
const fuzzMs = reports.reduce((n, r) => n + r.fuzzMs, 0);
process.stdout.write(
  `\nfuzz: ${total} cases in ${(fuzzMs / 1000).toFixed(1)} s fuzzing (${((total * 1000) / Math.max(fuzzMs, 1)).toFixed(0)}/s), ` +
    `${((performance.now() - started) / 1000).toFixed(1)} s in all, ${reports.reduce((n, r) => n + r.corpusCases, 0)} corpus cases, ` +
    `${failures.length} failure(s), seed ${seed}\n`,
);
process.exit(failures.length > 0 ? 1 : 0);
