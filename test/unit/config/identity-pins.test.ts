/**
 * The room's identity-key pins on disk (docs/admin.md §Key pins): they survive a restart, never
 * overwrite, forget is durable, the count is bounded, writes are atomic, and a damaged file is
 * reported (last good copy, or none) instead of crashing the room.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileIdentityPins, PINS_FILE, parsePinsFile } from '../../../src/config/identity-pins.ts';
import { RoomdError } from '../../../src/core/errors.ts';
import { nodeStoreFs, type StoreFs } from '../../../src/core/store.ts';
import { MemoryIdentityPins, type IdentityPinStore } from '../../../src/e2ee/index.ts';

let dir: string;
let t: number;
const now = () => t;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-pins-'));
  t = Date.UTC(2026, 2, 1);
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

const key = (n: number) => Buffer.alloc(32, n).toString('base64url');
const file = () => path.join(dir, PINS_FILE);
const onDisk = async () => JSON.parse(await fsp.readFile(file(), 'utf8')) as { pins: { name: string }[] };

describe('identity pins on disk', () => {
  it('keeps pins across a restart, never overwrites one, and stamps first sight with the injected clock', async () => {
    const a = await FileIdentityPins.open(dir, { now });
    // The E2EE layer's interface, structurally (config may not import e2ee).
    const store: IdentityPinStore = a;
    store.pin('Acme', 'Alice', key(1));
    t += 1000;
    store.pin('Acme', 'Bob', key(2));
    store.pin('Acme', 'Alice', key(3));
    expect(store.get('Acme', 'Alice')).toBe(key(1));
    await a.flush();
    expect((await fsp.stat(file())).mode & 0o777).toBe(0o600);
    const b = await FileIdentityPins.open(dir, { now });
    expect(b.problem).toBeNull();
    expect(b.list()).toEqual([
      { org: 'Acme', name: 'Alice', key: key(1), firstSeen: Date.UTC(2026, 2, 1) },
      { org: 'Acme', name: 'Bob', key: key(2), firstSeen: Date.UTC(2026, 2, 1) + 1000 },
    ]);
    // An organization and a name are one pair: ("A", "cme Alice") is not ("Acme", "Alice").
    expect(b.get('A', 'cme Alice')).toBeUndefined();
  });

  it('forget is on disk when it resolves, so a new key for the name is pinned, and says when there was none', async () => {
    const a = await FileIdentityPins.open(dir, { now });
    a.pin('Acme', 'Alice', key(1));
    expect(await a.forget('Acme', 'Alice')).toBe(true);
    expect((await onDisk()).pins).toEqual([]);
    expect(await a.forget('Acme', 'Alice')).toBe(false);
    a.pin('Acme', 'Alice', key(9));
    await a.flush();
    expect((await FileIdentityPins.open(dir, { now })).get('Acme', 'Alice')).toBe(key(9));
  });

  it('is bounded: when full the longest-held pin goes, in memory and on disk', async () => {
    const a = await FileIdentityPins.open(dir, { now, maxPins: 3 });
    for (let i = 0; i < 5; i++) {
      t += 1;
      a.pin('Acme', `P${i}`, key(i));
    }
    expect(a.size).toBe(3);
    expect(a.evicted).toBe(2);
    expect(a.get('Acme', 'P0')).toBeUndefined();
    expect(a.get('Acme', 'P4')).toBe(key(4));
    await a.flush();
    expect((await onDisk()).pins.map((p) => p.name)).toEqual(['P2', 'P3', 'P4']);
    // A file with more pins than allowed is not one this room wrote: reported, not loaded.
    const written = (await onDisk()).pins;
    expect(() => parsePinsFile({ version: 1, pins: written }, 2)).toThrow(/more than 2/);
  });

  it('coalesces a burst of pins into few writes, each a whole file', async () => {
    let writes = 0;
    const fs: StoreFs = {
      ...nodeStoreFs,
      rename: async (from, to) => {
        if (to === file()) writes++;
        await nodeStoreFs.rename(from, to);
      },
    };
    const a = await FileIdentityPins.open(dir, { now, fs });
    for (let i = 0; i < 50; i++) a.pin('Acme', `P${i}`, key(i % 200));
    await a.flush();
    expect(writes).toBeLessThanOrEqual(2);
    expect((await onDisk()).pins).toHaveLength(50);
  });

  it('a write that fails leaves the old file whole, is counted, and the next change writes everything', async () => {
    let failRename = false;
    const fs: StoreFs = {
      ...nodeStoreFs,
      rename: async (from, to) => {
        if (failRename) throw Object.assign(new Error('EIO'), { code: 'EIO' });
        await nodeStoreFs.rename(from, to);
      },
    };
    const a = await FileIdentityPins.open(dir, { now, fs });
    a.pin('Acme', 'Alice', key(1));
    await a.flush();
    const before = await fsp.readFile(file(), 'utf8');
    failRename = true;
    a.pin('Acme', 'Bob', key(2));
    await a.flush();
    expect(a.writeFailures).toBe(1);
    expect(await fsp.readFile(file(), 'utf8')).toBe(before);
    // No temporary file is left behind.
    expect((await fsp.readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // A forget that cannot be written says so.
    await expect(a.forget('Acme', 'Alice')).rejects.toMatchObject({ code: 'core.store_io' });
    failRename = false;
    a.pin('Acme', 'Carol', key(3));
    await a.flush();
    expect((await onDisk()).pins.map((p) => p.name).sort()).toEqual(['Bob', 'Carol']);
  });

  it('a damaged file is reported and its last good copy used; with no good copy the room starts empty', async () => {
    const a = await FileIdentityPins.open(dir, { now });
    a.pin('Acme', 'Alice', key(1));
    await a.flush();
    await fsp.writeFile(file(), '{"version":1,"pins":[{"org":"Acme"');
    const b = await FileIdentityPins.open(dir, { now });
    expect(b.problem).toBeInstanceOf(RoomdError);
    expect(b.problem?.code).toBe('core.store_corrupt');
    expect(b.problem?.message).toContain('last good copy');
    expect(b.get('Acme', 'Alice')).toBe(key(1));

    await fsp.writeFile(`${file()}.last-good`, '\u0000\u0001 not json');
    const c = await FileIdentityPins.open(dir, { now });
    expect(c.problem?.message).toContain('no good copy');
    expect(c.size).toBe(0);
    // It works on: the next pin rewrites both copies.
    c.pin('Acme', 'Bob', key(2));
    await c.flush();
    const d = await FileIdentityPins.open(dir, { now });
    expect(d.problem).toBeNull();
    expect(d.get('Acme', 'Bob')).toBe(key(2));
  });

  it('the decoder refuses every malformed document with a reason, and an oversized file unread', async () => {
    const pin = { org: 'Acme', name: 'Alice', key: key(1), firstSeen: 1 };
    const bad: [unknown, RegExp][] = [
      [null, /not an object/],
      [[], /not an object/],
      [{ version: 2, pins: [] }, /version/],
      [{ version: 1 }, /no list/],
      [{ version: 1, pins: [7] }, /pin 0 is not an object/],
      [{ version: 1, pins: [{ ...pin, key: 'short' }] }, /pin 0 has no valid key/],
      [{ version: 1, pins: [{ ...pin, org: '' }] }, /pin 0 has no valid org/],
      [{ version: 1, pins: [{ ...pin, name: 'a\u0007' }] }, /pin 0 has no valid org and name/],
      [{ version: 1, pins: [{ ...pin, name: 'x'.repeat(129) }] }, /pin 0/],
      [{ version: 1, pins: [{ ...pin, firstSeen: -1 }] }, /pin 0 has no valid time/],
      [{ version: 1, pins: [{ ...pin, firstSeen: 1.5 }] }, /pin 0 has no valid time/],
      [{ version: 1, pins: [pin, { ...pin, key: key(2) }] }, /pin 1 repeats a name/],
    ];
    for (const [doc, why] of bad) expect(() => parsePinsFile(doc), JSON.stringify(doc)).toThrow(why);
    expect(parsePinsFile({ version: 1, pins: [pin] }).pins).toEqual([pin]);

    await fsp.writeFile(file(), JSON.stringify({ version: 1, pins: [pin], pad: 'x'.repeat(5000) }));
    const big = await FileIdentityPins.open(dir, { now, maxFileBytes: 4096 });
    expect(big.problem?.message).toContain('no good copy');
    expect(String((big.problem?.cause as Error | undefined)?.message)).toContain('larger than 4096 bytes');
  });

  it('behaves like the in-memory store the E2EE layer uses in tests', async () => {
    const disk = await FileIdentityPins.open(dir, { now });
    const mem = new MemoryIdentityPins();
    for (const s of [disk, mem] as const) {
      s.pin('Acme', 'Alice', key(1));
      s.pin('Acme', 'Alice', key(2));
      s.pin('Other', 'Alice', key(3));
    }
    for (const [org, name] of [
      ['Acme', 'Alice'],
      ['Other', 'Alice'],
      ['Acme', 'Nobody'],
    ] as const)
      expect(disk.get(org, name)).toBe(mem.get(org, name));
    await disk.flush();
  });
});
