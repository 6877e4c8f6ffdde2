/**
 * The bounded fuzz run of `npm test` (fuzz/README.md): every target replays its whole corpus and
 * then runs a fixed number of generated cases (a count, not a time: the result must not depend on
 * the machine), from a fixed seed; none may fail. First, the harness itself is checked against
 * deliberately broken decoders: each kind of failure is caught, shrunk or regenerated, and kept.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS_DIR, saveToCorpus } from '../../fuzz/lib/corpus.ts';
import { FuzzEngine, formatFailure } from '../../fuzz/lib/engine.ts';
import { applyJsonOps, type JsonOp, jsonTextSize, MAX_VALUE_TEXT } from '../../fuzz/lib/mutate.ts';
import { fromJson } from '../../fuzz/lib/serial.ts';
import { TARGETS } from '../../fuzz/targets/index.ts';

const SEED = 20_261_126;

/** Generated cases per target: one to two seconds each on an idle development machine. */
const CASES: Record<string, number> = {
  'signal-client': 12_000,
  'signal-server': 12_000,
  janus: 12_000,
  'media-chunk': 4000,
  downlink: 8000,
  control: 20_000,
  chat: 3000,
  'e2ee-message': 8000,
  identity: 4000,
  'sframe-header': 60_000,
  panel: 12_000,
  visca: 15_000,
  'hid-descriptor': 8000,
  ivf: 2500,
  annexb: 5000,
  'ogg-opus': 2000,
  'video-feed': 40_000,
  bundle: 800,
  settings: 5000,
};

let engine: FuzzEngine;
let scratch: string;

beforeAll(() => {
  engine = new FuzzEngine({ maxHeapMb: 512 });
  scratch = mkdtempSync(path.join(tmpdir(), 'roomd-fuzz-'));
});

afterAll(async () => {
  await engine.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('fuzz harness', () => {
  it('catches a crash, shrinks it to a minimal input and writes it to the corpus, which replays it', async () => {
    const root = path.join(scratch, 'crash');
    const report = await engine.runTarget('selftest-crash', { seed: SEED, cases: 2000, corpusRoot: root });
    expect(report.failures).toHaveLength(1);
    const f = report.failures[0]!;
    expect(f.kind).toBe('crash');
    expect(f.message).toContain('TypeError: bad byte');
    expect(f.stackTop).toContain('selftest.ts');
    // Shrunk: three bytes, one of them over 0xf0, the others zero.
    const files = readdirSync(path.join(root, 'selftest-crash'));
    expect(files).toHaveLength(1);
    const doc = JSON.parse(readFileSync(path.join(root, 'selftest-crash', files[0]!), 'utf8')) as {
      input: unknown;
    };
    const input = fromJson(doc.input) as Uint8Array;
    expect(input).toHaveLength(3);
    expect([...input].filter((b) => b !== 0)).toHaveLength(1);

    const again = await engine.runTarget('selftest-crash', {
      seed: SEED,
      cases: 1,
      corpusRoot: root,
      save: false,
    });
    const replayed = again.failures.filter((x) => x.source === 'corpus');
    expect(replayed).toHaveLength(1);
    expect(replayed[0]!.file).toContain(files[0]!);
    expect(again.corpusCases).toBe(1);
  });

  it('reports a broken invariant', async () => {
    const report = await engine.runTarget('selftest-invariant', { seed: SEED, cases: 2000, save: false });
    expect(report.failures.map((f) => [f.kind, f.message])).toEqual([
      ['invariant', 'InvariantError: too long'],
    ]);
    expect(report.failures[0]!.input).toMatch(/<41 bytes: (00)+>/);
  });

  it('stops a case that never ends and regenerates its input from seed and path', async () => {
    const root = path.join(scratch, 'hang');
    const report = await engine.runTarget('selftest-hang', {
      seed: SEED,
      cases: 2000,
      hangMs: 1500,
      corpusRoot: root,
    });
    expect(report.failures).toHaveLength(1);
    const f = report.failures[0]!;
    expect(f.kind).toBe('hang');
    expect(f.input).toMatch(/^"<20 bytes: /);
    expect(readdirSync(path.join(root, 'selftest-hang'))).toHaveLength(1);
    // The engine carries on with a fresh worker.
    const next = await engine.runTarget('selftest-invariant', { seed: SEED, cases: 10, save: false });
    expect(next.cases).toBeGreaterThan(0);
  });

  it('fails a case slower than the per-case limit', async () => {
    const report = await engine.runTarget('selftest-slow', {
      seed: SEED,
      cases: 500,
      caseLimitMs: 60,
      save: false,
    });
    expect(report.failures.map((f) => [f.kind, f.input])).toEqual([['slow', '30']]);
  });

  it('reports a worker lost while generating an input with the seed and path of that input', async () => {
    const report = await engine.runTarget('selftest-generator', {
      seed: SEED,
      cases: 2000,
      hangMs: 1500,
      save: false,
    });
    expect(report.failures).toHaveLength(1);
    const f = report.failures[0]!;
    expect([f.kind, f.input]).toEqual(['hang', '(not generated again)']);
    expect(f.message).toContain('while generating the input');
    // The cases run before it still count.
    expect(report.cases).toBeGreaterThanOrEqual(Number(f.path));
    // Seed and path name the input that never finished (not the case before it).
    let generated: number | undefined;
    fc.check(
      fc.property(fc.integer({ min: 0, max: 40 }), (n) => {
        generated = n;
        return false;
      }),
      { seed: f.seed!, path: f.path!, numRuns: 1, endOnFailure: true },
    );
    expect(generated).toBe(30);
  });

  it('stops a worker that runs out of heap, or grows the process past its allowance, and keeps the input', async () => {
    const small = new FuzzEngine({ maxHeapMb: 192, maxExternalMb: 128 });
    try {
      const cause = {
        'selftest-heap': 'reaching memory limit',
        'selftest-external': 'the process grew past',
      };
      for (const [name, message] of Object.entries(cause)) {
        const report = await small.runTarget(name, { seed: SEED, cases: 2000, save: false });
        expect(report.failures.map((f) => f.kind)).toEqual(['out-of-memory']);
        expect(report.failures[0]!.message).toContain(message);
        expect(report.failures[0]!.input).toMatch(/^"<20 bytes: /);
        expect(report.failures[0]!.seed).toBeDefined();
      }
      // The process goes on, and so does the engine, with a fresh worker.
      const next = await small.runTarget('selftest-invariant', { seed: SEED, cases: 10, save: false });
      expect(next.cases).toBeGreaterThan(0);
    } finally {
      await small.close();
    }
  }, 60_000);

  it('keeps a mutated JSON message within its budget however the ops combine', () => {
    // A 2 KiB string grown to 300 000 characters, the message turned into an array, the array grown
    // 2000 times: unbounded, a 600 MB text.
    const seed = { v: 1, type: 'ice', candidate: 'é'.repeat(2048) };
    const ops: JsonOp[] = [
      { op: 'grow', at: 6, times: 147 },
      { op: 'retype', at: 0 },
      { op: 'grow', at: 0, times: 2000 },
      { op: 'add', at: 0, key: 'k', value: 'x'.repeat(192 * 1024) },
    ];
    const text = applyJsonOps(seed, ops);
    expect(text.length).toBeLessThanOrEqual(MAX_VALUE_TEXT);
    const value = JSON.parse(text) as { candidate: string }[];
    expect(value).toHaveLength(2);
    expect(value[0]!.candidate.length).toBe(2048 * 147);
    // Small items still grow to thousands.
    const many = JSON.parse(applyJsonOps({ a: [1] }, [{ op: 'grow', at: 3, times: 2000 }])) as {
      a: number[];
    };
    expect(many.a).toHaveLength(2001);
    expect(jsonTextSize(value)).toBe(text.length);
  });

  it('stores inputs exactly: bytes, bigints, -0, NaN and __proto__ keys survive the corpus', () => {
    const root = path.join(scratch, 'serial');
    const input = JSON.parse('{"__proto__":{"x":1},"$bytes":2}') as Record<string, unknown>;
    Object.assign(input, { b: Uint8Array.of(0, 255), n: 2n ** 64n - 1n, z: -0, q: Number.NaN, u: undefined });
    const file = saveToCorpus('t', 'note', input, root);
    const doc = JSON.parse(readFileSync(path.join(root, 't', path.basename(file)), 'utf8')) as {
      input: unknown;
    };
    const back = fromJson(doc.input) as Record<string, unknown>;
    expect(Object.keys(back)).toEqual(['__proto__', '$bytes', 'b', 'n', 'z', 'q', 'u']);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(back['b']).toEqual(Uint8Array.of(0, 255));
    expect(back['n']).toBe(2n ** 64n - 1n);
    expect(Object.is(back['z'], -0)).toBe(true);
    expect(back['q']).toBeNaN();
  });
});

describe('fuzz targets: corpus replay and a bounded run', () => {
  it('has a case count and a seeded corpus for every target', () => {
    expect(Object.keys(CASES).sort()).toEqual(TARGETS.map((t) => t.name).sort());
    for (const t of TARGETS)
      expect(readdirSync(path.join(CORPUS_DIR, t.name)).length).toBeGreaterThanOrEqual(3);
  });

  it.each(TARGETS.map((t) => t.name))(
    '%s: the corpus and the generated cases pass',
    async (name) => {
      const cases = CASES[name] ?? 1000;
      const report = await engine.runTarget(name, { seed: SEED, cases, save: false });
      expect(report.failures.map(formatFailure).join('\n\n')).toBe('');
      expect(report.corpusCases).toBe(readdirSync(path.join(CORPUS_DIR, name)).length);
      expect(report.cases).toBe(cases);
    },
    120_000,
  );
});
