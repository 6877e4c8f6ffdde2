/**
 * bench/run.ts (docs/benchmarks.md §Running them), run as `npm run bench` runs it, over a folder of
 * made-up benchmarks: figures pass through as JSON lines, `--only` picks, helpers are not run,
 * and a benchmark that fails, prints junk or no figure, or runs out of time fails the run.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFigure } from '../../../bench/run.ts';
import { run, scratchDir } from './helpers.ts';

let dir = '';
const runner = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--dir', dir, ...args]);
const figures = (stdout: string) =>
  stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { name: string; value: number; unit: string });

beforeAll(() => {
  dir = scratchDir('bench');
  const files: Record<string, string> = {
    'alpha.ts': `const n: number = 2;
console.log(JSON.stringify({ name: 'alpha', params: { n }, value: 1.5, unit: 'ms' }));
console.error('warming up');
console.log(JSON.stringify({ name: 'alpha', params: { n: 3 }, value: 2.5, unit: 'ms', baseline: 5, ratio: 0.5 }));`,
    'beta.ts': `console.log(JSON.stringify({ name: 'beta', value: 42, unit: 'MB/s' }));`,
    'junk.ts': `console.log('about to measure');
console.log(JSON.stringify({ name: 'junk', value: 1, unit: 'ms' }));`,
    'silent.ts': `console.error('nothing to report');`,
    'crash.ts': `console.log(JSON.stringify({ name: 'crash', value: 1, unit: 'ms' }));
process.exit(3);`,
    'forever.ts': `setInterval(() => {}, 1000);`,
    '_helper.ts': `throw new Error('helpers are not benchmarks');`,
    'run.ts': `throw new Error('the runner does not run itself');`,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('bench/run.ts', () => {
  it('lists the benchmarks, leaving out helpers and itself', () => {
    const r = runner('--list');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      'alpha',
      'beta',
      'crash',
      'forever',
      'junk',
      'silent',
    ]);
  });

  it('--only runs the named benchmarks and prints their figures as JSON lines', () => {
    const out = path.join(dir, 'figures.jsonl');
    const r = runner('--only', 'alpha,beta', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    const f = figures(r.stdout);
    expect(f.map((x) => `${x.name}=${x.value}${x.unit}`)).toEqual([
      'alpha=1.5ms',
      'alpha=2.5ms',
      'beta=42MB/s',
    ]);
    expect(f[1]).toMatchObject({ baseline: 5, ratio: 0.5 });
    expect(r.stderr).toContain('[alpha] warming up');
    expect(r.stderr).toMatch(/2 ok, 0 failed, \d+ s in all/);
    expect(figures(readFileSync(out, 'utf8'))).toEqual(f);
  });

  it('fails a benchmark that prints junk, no figure, exits non-zero or runs out of time', () => {
    const r = runner('--only', 'beta', '--only', 'junk,silent,crash,forever', '--timeout', '4');
    expect(r.status).toBe(1);
    expect(figures(r.stdout).map((x) => x.name)).toEqual(['beta', 'crash', 'junk']);
    expect(r.stderr).toMatch(
      /junk\s.*FAILED\s+printed a line that is not a figure \(not JSON: about to measure\)/,
    );
    expect(r.stderr).toMatch(/silent\s.*FAILED\s+printed no figure/);
    expect(r.stderr).toMatch(/crash\s.*FAILED\s+exited with status 3/);
    expect(r.stderr).toMatch(/forever\s.*FAILED\s+did not finish within 4 s/);
    expect(r.stderr).toMatch(/1 ok, 4 failed/);
  }, 30_000);

  it('refuses an unknown benchmark name or a bad timeout, saying what exists', () => {
    const r = runner('--only', 'gamma');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      'no benchmark named gamma; there are: alpha, beta, crash, forever, junk, silent',
    );
    const t = runner('--timeout', 'soon');
    expect(t.status).toBe(2);
    expect(t.stderr).toMatch(/--timeout must be a positive number/);
  });
});

describe('parseFigure', () => {
  it('accepts name/value/unit objects and says what is wrong with anything else', () => {
    expect(parseFigure('{"name":"x","value":1,"unit":"ms","params":{"a":1}}')).toMatchObject({
      name: 'x',
      value: 1,
    });
    expect(parseFigure('hello')).toMatch(/^not JSON/);
    expect(parseFigure('[1]')).toBe('not a JSON object');
    expect(parseFigure('{"value":1,"unit":"ms"}')).toBe('missing "name"');
    expect(parseFigure('{"name":"x","value":"fast","unit":"ms"}')).toMatch(/"value" of x is not a number/);
    expect(parseFigure('{"name":"x","value":null,"unit":"ms"}')).toMatch(/not a number/);
    expect(parseFigure('{"name":"x","value":1}')).toBe('missing "unit" in x');
  });
});
