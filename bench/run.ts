/**
 * Benchmark runner (docs/benchmarks.md §Running them): `npm run bench` runs every benchmark in bench/
 * one after the other, each as its own `node --import tsx bench/<name>.ts` process with a time
 * limit, and prints their figures as JSON lines on stdout. `--only NAME` runs some of them.
 *
 * A benchmark passes when it exits 0 and printed at least one figure; every line it prints on
 * stdout must be a JSON object with `name` (string), `value` (finite number) and `unit` (string)
 * — `params`, `baseline` and `ratio` are optional. Its stderr is passed through, prefixed with its
 * name. Files in subfolders and files whose name starts with `_` are helpers, not benchmarks.
 * Exit status: 0 all passed, 1 a benchmark failed, 2 bad usage. docs/benchmarks.md lists them.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readdirSync, type WriteStream } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const USAGE = `Usage: node --import tsx bench/run.ts [--only NAME[,NAME…]]… [--list] [--timeout SECONDS]
                                     [--out FILE] [--dir DIR]

  --only NAME     run only these benchmarks (file names without .ts; repeat or separate with commas)
  --list          print the benchmark names and exit
  --timeout SEC   time limit per benchmark (default 120; 240 for kiosk-latency and relay-fanout,
                  360 for browser-media, 480 for network-adapt)
  --out FILE      also write the figures (JSON lines) to FILE
  --dir DIR       where the benchmarks are (default: this runner's folder)`;

interface Figure {
  name: string;
  value: number;
  unit: string;
  [key: string]: unknown;
}

interface Outcome {
  bench: string;
  ok: boolean;
  figures: number;
  seconds: number;
  problem?: string;
}

/** The figure a stdout line holds, or why it is not one. */
export function parseFigure(line: string): Figure | string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return `not JSON: ${line.slice(0, 120)}`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const o = value as Record<string, unknown>;
  if (typeof o['name'] !== 'string' || o['name'] === '') return 'missing "name"';
  if (typeof o['value'] !== 'number' || !Number.isFinite(o['value']))
    return `"value" of ${o['name']} is not a number`;
  if (typeof o['unit'] !== 'string' || o['unit'] === '') return `missing "unit" in ${o['name']}`;
  return o as Figure;
}

export function listBenchmarks(dir: string, self = 'run.ts'): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => e.name)
    .filter((n) => n !== self && !n.startsWith('_'))
    .map((n) => n.slice(0, -3))
    .sort();
}

/** Benchmarks that need more than the default limit unless --timeout is given. */
const LONG = new Map([
  ['kiosk-latency', 2],
  ['relay-fanout', 2],
  ['network-adapt', 4],
  ['browser-media', 3],
]);

function runOne(dir: string, bench: string, timeoutMs: number, out: WriteStream | null): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(dir, `${bench}.ts`)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a timeout also ends whatever it started (ffmpeg, wrtc helpers).
      detached: true,
    });
    let figures = 0;
    let problem: string | undefined;
    let timedOut = false;
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 5000).unref();
    }, timeoutMs);
    const onSignal = () => killGroup('SIGTERM');
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);

    createInterface({ input: child.stdout }).on('line', (raw) => {
      const line = raw.trim();
      if (line === '') return;
      const figure = parseFigure(line);
      if (typeof figure === 'string') {
        problem ??= `printed a line that is not a figure (${figure})`;
        process.stderr.write(`[${bench}] ${line}\n`);
        return;
      }
      figures += 1;
      const text = JSON.stringify(figure);
      process.stdout.write(`${text}\n`);
      out?.write(`${text}\n`);
    });
    createInterface({ input: child.stderr }).on('line', (line) =>
      process.stderr.write(`[${bench}] ${line}\n`),
    );

    child.on('error', (err) => {
      problem ??= `could not start: ${err.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      const seconds = (performance.now() - started) / 1000;
      if (timedOut) problem = `did not finish within ${timeoutMs / 1000} s`;
      else if (code !== 0)
        problem ??= signal === null ? `exited with status ${code}` : `was killed by ${signal}`;
      else if (figures === 0) problem ??= 'printed no figure';
      resolve({
        bench,
        ok: problem === undefined,
        figures,
        seconds,
        ...(problem === undefined ? {} : { problem }),
      });
    });
  });
}

async function main(argv: string[]): Promise<number> {
  let values: {
    only?: string[];
    list?: boolean;
    timeout?: string;
    out?: string;
    dir?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        only: { type: 'string', multiple: true },
        list: { type: 'boolean' },
        timeout: { type: 'string' },
        out: { type: 'string' },
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const dir = path.resolve(values.dir ?? import.meta.dirname);
  const all = listBenchmarks(dir, values.dir === undefined ? path.basename(import.meta.filename) : 'run.ts');
  if (values.list === true) {
    process.stdout.write(all.map((b) => `${b}\n`).join(''));
    return 0;
  }
  const timeoutSec = Number(values.timeout ?? '120');
  if (!Number.isFinite(timeoutSec) || timeoutSec <= 0) {
    process.stderr.write(`bench: --timeout must be a positive number of seconds, not '${values.timeout}'\n`);
    return 2;
  }
  const wanted = (values.only ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim().replace(/\.ts$/, ''))
    .filter(Boolean);
  const unknown = wanted.filter((w) => !all.includes(w));
  if (unknown.length > 0) {
    process.stderr.write(
      `bench: no benchmark named ${unknown.join(', ')}; there are: ${all.join(', ') || '(none)'}\n`,
    );
    return 2;
  }
  const chosen = wanted.length > 0 ? all.filter((b) => wanted.includes(b)) : all;
  if (chosen.length === 0) {
    process.stderr.write(`bench: no benchmarks in ${dir}\n`);
    return 1;
  }

  const out = values.out === undefined ? null : createWriteStream(values.out);
  const outcomes: Outcome[] = [];
  for (const bench of chosen) {
    process.stderr.write(`bench: ${bench} …\n`);
    // The two longest take 85–90 s on a quiet box: a loaded one gets them twice the default.
    const limit = values.timeout === undefined ? (LONG.get(bench) ?? 1) * timeoutSec : timeoutSec;
    outcomes.push(await runOne(dir, bench, limit * 1000, out));
  }
  if (out !== null) await new Promise<void>((resolve) => out.end(resolve));

  const width = Math.max(...chosen.map((b) => b.length));
  process.stderr.write('\nbench summary:\n');
  for (const o of outcomes) {
    const what = o.ok ? `ok      ${o.figures} figure(s)` : `FAILED  ${o.problem}`;
    process.stderr.write(`  ${o.bench.padEnd(width)}  ${o.seconds.toFixed(1).padStart(6)} s  ${what}\n`);
  }
  const failed = outcomes.filter((o) => !o.ok).length;
  const total = outcomes.reduce((sum, o) => sum + o.seconds, 0);
  process.stderr.write(
    `bench: ${outcomes.length - failed} ok, ${failed} failed, ${total.toFixed(0)} s in all\n`,
  );
  return failed === 0 ? 0 : 1;
}

if (import.meta.filename === process.argv[1] || process.argv[1]?.endsWith('/bench/run.ts')) {
  process.exitCode = await main(process.argv.slice(2));
}
