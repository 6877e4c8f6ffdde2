import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonFileStore, nodeStoreFs, type StoreFs, writeFileAtomic } from '../../../src/core/store.ts';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-store-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const parseDoc = (raw: unknown) => {
  const r = raw as { n?: unknown };
  if (typeof r?.n !== 'number') throw new Error('n must be a number');
  return r as { n: number; pad: string };
};

class Crash extends Error {}

/** A file system that "loses power" at step `at` (counting every operation), then refuses all. */
function crashingFs(at: number): StoreFs & { steps: string[] } {
  let n = 0;
  const steps: string[] = [];
  const guard =
    <A extends unknown[], R>(name: string, fn: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      n++;
      steps.push(name);
      if (n === at) {
        if (name === 'writeTemp') {
          // Power lost in the middle of writing: half the bytes reach the temp file.
          const [file, data] = a as unknown as [string, Uint8Array];
          await fsp.writeFile(file, data.subarray(0, Math.floor(data.length / 2)));
        }
        throw new Crash(name);
      }
      if (n > at) throw new Crash('after crash');
      return fn(...a);
    };
  return {
    steps,
    writeTemp: guard('writeTemp', nodeStoreFs.writeTemp),
    fsyncFile: guard('fsyncFile', nodeStoreFs.fsyncFile),
    rename: guard('rename', nodeStoreFs.rename),
    fsyncDir: guard('fsyncDir', nodeStoreFs.fsyncDir),
    readFile: nodeStoreFs.readFile,
    unlink: async () => {
      throw new Crash('no cleanup after power loss');
    },
    mkdir: guard('mkdir', nodeStoreFs.mkdir),
  };
}

describe('atomic store', () => {
  it('writes with mode 0600 and reads back', async () => {
    const store = new JsonFileStore(path.join(dir, 'doc.json'), parseDoc);
    await store.write({ n: 1, pad: '' });
    expect(await store.read()).toEqual({ value: { n: 1, pad: '' }, source: 'current' });
    expect((await fsp.stat(store.file)).mode & 0o777).toBe(0o600);
  });

  it('leaves the old or the new document after a crash at any step, never a torn file', async () => {
    const pad = 'x'.repeat(50_000);
    // Count the steps of a clean write first.
    const probe = crashingFs(Number.POSITIVE_INFINITY);
    await new JsonFileStore(path.join(dir, 'probe.json'), parseDoc, { fs: probe }).write({ n: 0, pad });
    const total = probe.steps.length;
    expect(total).toBeGreaterThanOrEqual(9);
    const outcomes = new Set<number>();
    for (let at = 1; at <= total; at++) {
      const file = path.join(dir, `doc-${at}.json`);
      await new JsonFileStore(file, parseDoc).write({ n: 1, pad });
      const crashing = new JsonFileStore(file, parseDoc, { fs: crashingFs(at) });
      await expect(crashing.write({ n: 2, pad })).rejects.toBeDefined();
      const after = await new JsonFileStore(file, parseDoc).read();
      expect(after.problem).toBeUndefined();
      expect([1, 2]).toContain(after.value?.n);
      expect(after.value?.pad).toBe(pad);
      outcomes.add(after.value!.n);
    }
    // Early crashes keep the old document, late ones the new: both outcomes must have happened.
    expect(outcomes).toEqual(new Set([1, 2]));
  });

  it('falls back to the last good copy when the current file is corrupt, and reports it', async () => {
    const store = new JsonFileStore(path.join(dir, 'doc.json'), parseDoc);
    await store.write({ n: 7, pad: '' });
    await fsp.writeFile(store.file, '{"n": 7, "pad": "');
    const r = await store.read();
    expect(r.value).toEqual({ n: 7, pad: '' });
    expect(r.source).toBe('last-good');
    expect(r.problem?.code).toBe('core.store_corrupt');
    expect(r.problem?.message).toMatch(/damaged \(not valid JSON\); using the last good copy/);
  });

  it('reports a corrupt file with no good copy instead of inventing content', async () => {
    const file = path.join(dir, 'doc.json');
    await fsp.writeFile(file, '{"n":"seven"}');
    const r = await new JsonFileStore(file, parseDoc).read();
    expect(r.value).toBeUndefined();
    expect(r.source).toBe('none');
    expect(r.problem?.message).toMatch(/n must be a number/);
  });

  it('writeFileAtomic leaves no temp files behind on failure', async () => {
    const fs = crashingFs(3);
    fs.unlink = nodeStoreFs.unlink;
    await expect(writeFileAtomic(path.join(dir, 'a.txt'), 'hello', { fs })).rejects.toMatchObject({
      code: 'core.store_io',
    });
    expect(await fsp.readdir(dir)).toEqual([]);
  });
});
