// The room's side of meeting policies (docs/protocol.md "Meeting policy"): the minimum encryption
// for a join is the strongest of the setting, the booking, the pinned policy and a verified policy in
// meeting-info; pins never weaken, are bounded, and survive a restart and a damaged file.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger, silentLogger } from '../../../src/core/logger.ts';
import type { StoreFs } from '../../../src/core/store.ts';
import { nodeStoreFs } from '../../../src/core/store.ts';
import { issueCertificate, type MeetingPolicy, signMeetingPolicy } from '../../../src/e2ee/index.ts';
import { ownCertificate } from '../../../src/meeting/booking.ts';
import { belowMinimum, type MinimumInputs, meetingMinimum } from '../../../src/meeting/policy-gate.ts';
import {
  FilePolicyBook,
  MemoryPolicyBook,
  POLICY_PINS_FILE,
  parsePinsFile,
} from '../../../src/meeting/policy-pins.ts';
import { toBase64Url } from '../../../src/protocol/codec.ts';

const NOW = Date.UTC(2026, 2, 1, 9);
const room = (() => {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
})();
const relayKey = (() => {
  const secretKey = ed25519.utils.randomSecretKey();
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
})();
const ID = '123-4567-8901';
const policy = (encryption: 'e2ee' | 'enhanced', meetingId = ID, by = room): MeetingPolicy =>
  signMeetingPolicy({ meetingId, encryption, issuedAt: NOW }, by);

const base: MinimumInputs = {
  meetingId: ID,
  setting: 'enhanced',
  trust: { anchors: [], wallNow: NOW, trustedHosts: [toBase64Url(room.publicKey)] },
};

describe('meetingMinimum', () => {
  it('without any policy: the setting, or the booking when it asks for more', () => {
    expect(meetingMinimum(base)).toMatchObject({ ok: true, minimum: 'enhanced', source: 'setting' });
    expect(meetingMinimum({ ...base, setting: 'e2ee' })).toMatchObject({
      minimum: 'e2ee',
      source: 'setting',
    });
    expect(meetingMinimum({ ...base, booked: 'e2ee' })).toMatchObject({ minimum: 'e2ee', source: 'booking' });
  });

  it('a pinned e2ee policy makes e2ee the minimum even when the relay strips it from meeting-info', () => {
    const d = meetingMinimum({ ...base, booked: 'enhanced', pinned: policy('e2ee') });
    expect(d).toMatchObject({ ok: true, minimum: 'e2ee', source: 'policy', verified: null });
    if (!d.ok) throw new Error('unreachable');
    expect(belowMinimum(d, 'enhanced', false)).toMatch(
      /host signed it as end-to-end encrypted.*did not join/,
    );
    expect(belowMinimum(d, 'enhanced', true)).toMatch(/so the room left the meeting/);
    expect(belowMinimum(d, 'e2ee', false)).toBeNull();
  });

  it('a verified policy in meeting-info counts (and is handed back to pin)', () => {
    const p = policy('e2ee');
    const d = meetingMinimum({ ...base, offered: JSON.parse(JSON.stringify(p)) });
    expect(d).toMatchObject({ ok: true, minimum: 'e2ee', source: 'policy', verified: p });
  });

  it('a weaker verified policy never lowers a stronger pin or setting', () => {
    expect(meetingMinimum({ ...base, pinned: policy('e2ee'), offered: policy('enhanced') })).toMatchObject({
      minimum: 'e2ee',
      source: 'policy',
    });
    expect(meetingMinimum({ ...base, setting: 'e2ee', offered: policy('enhanced') })).toMatchObject({
      minimum: 'e2ee',
      source: 'setting',
    });
  });

  it('booked (the default): E2EE unless a host the room trusts signed the booking enhanced', () => {
    const booked = { ...base, setting: 'booked' as const };
    // The relay says "enhanced" with no signed policy: refused, in words that say why.
    const bare = meetingMinimum(booked);
    expect(bare).toMatchObject({ ok: true, minimum: 'e2ee', source: 'unsigned' });
    if (!bare.ok) throw new Error('unreachable');
    expect(belowMinimum(bare, 'enhanced', false)).toMatch(/no host this room trusts booked it that way/);
    expect(belowMinimum(bare, 'enhanced', true)).toMatch(/tried to turn off end-to-end encryption/);
    // Nor can the relay's schedule (unsigned) or its own signature make it less.
    expect(meetingMinimum({ ...booked, booked: 'enhanced' })).toMatchObject({ minimum: 'e2ee' });
    expect(meetingMinimum({ ...booked, offered: policy('enhanced', ID, relayKey) })).toMatchObject({
      minimum: 'e2ee',
      ignored: { reason: 'untrusted_host' },
    });
    // The room's own signed booking (pinned, or offered again) says enhanced: joined as enhanced.
    expect(meetingMinimum({ ...booked, pinned: policy('enhanced') })).toMatchObject({ minimum: 'enhanced' });
    expect(meetingMinimum({ ...booked, offered: policy('enhanced') })).toMatchObject({
      minimum: 'enhanced',
      verified: { encryption: 'enhanced' },
    });
    // A pinned e2ee policy beats an enhanced one offered later, and the relay's schedule can still
    // only add strength.
    expect(meetingMinimum({ ...booked, pinned: policy('e2ee'), offered: policy('enhanced') })).toMatchObject({
      minimum: 'e2ee',
      source: 'policy',
    });
    expect(meetingMinimum({ ...booked, booked: 'e2ee', pinned: policy('enhanced') })).toMatchObject({
      minimum: 'e2ee',
      source: 'booking',
    });
  });

  it("a policy signed by the relay's own key counts for nothing, and the refusal says so", () => {
    const forged = policy('enhanced', ID, relayKey);
    const d = meetingMinimum({ ...base, pinned: policy('e2ee'), offered: forged });
    expect(d).toMatchObject({
      ok: true,
      minimum: 'e2ee',
      verified: null,
      ignored: { reason: 'untrusted_host' },
    });
    if (!d.ok) throw new Error('unreachable');
    expect(belowMinimum(d, 'enhanced', false)).toMatch(/signed by a key this room does not trust/);
    // Alone, it neither raises nor lowers anything.
    const alone = meetingMinimum({ ...base, offered: policy('e2ee', ID, relayKey) });
    expect(alone).toMatchObject({ minimum: 'enhanced', source: 'setting' });
  });

  it("another meeting's genuine policy refuses the meeting, naming both ids", () => {
    const d = meetingMinimum({ ...base, offered: policy('e2ee', '999-0000-1111') });
    expect(d).toMatchObject({ ok: false, code: 'e2ee.policy_mismatch' });
    if (d.ok) throw new Error('unreachable');
    expect(d.message).toContain('999-0000-1111');
    expect(d.message).toContain(ID);
  });

  it('garbage in meeting-info is ignored as malformed, never thrown', () => {
    for (const offered of [null, 'x', [], { v: 1 }, { ...policy('e2ee'), sig: 'A'.repeat(86) }]) {
      const d = meetingMinimum({ ...base, offered });
      expect(d.ok).toBe(true);
      if (d.ok) expect(d.ignored).not.toBeNull();
    }
  });
});

describe('MemoryPolicyBook', () => {
  it('pins per bare meeting id, only ever stronger', () => {
    const book = new MemoryPolicyBook();
    expect(book.pin(policy('enhanced'))).toBe('new');
    expect(book.get('12345678901')?.encryption).toBe('enhanced');
    expect(book.pin(policy('e2ee', '12345678901'))).toBe('stronger');
    expect(book.get(ID)?.encryption).toBe('e2ee');
    expect(book.pin(policy('enhanced'))).toBe('kept');
    expect(book.pin(policy('e2ee'))).toBe('kept');
    expect(book.get(ID)?.encryption).toBe('e2ee');
  });

  it('is bounded: the oldest pins go first', () => {
    const book = new MemoryPolicyBook([], 3);
    for (const id of ['111-1111-1111', '222-2222-2222', '333-3333-3333', '444-4444-4444']) {
      book.pin(policy('e2ee', id));
    }
    expect(book.size).toBe(3);
    expect(book.get('111-1111-1111')).toBeUndefined();
    expect(book.get('444-4444-4444')).toBeDefined();
  });

  it('full: enhanced pins go before e2ee ones, and an enhanced newcomer never pushes out an e2ee pin', () => {
    const book = new MemoryPolicyBook([], 3);
    book.pin(policy('e2ee', '111-1111-1111'));
    book.pin(policy('enhanced', '222-2222-2222'));
    book.pin(policy('e2ee', '333-3333-3333'));
    book.pin(policy('e2ee', '444-4444-4444'));
    expect(book.get('222-2222-2222')).toBeUndefined();
    expect(book.get('111-1111-1111')?.encryption).toBe('e2ee');
    // Only e2ee pins now: a relay listing genuine enhanced policies cannot evict them.
    expect(book.pin(policy('enhanced', '555-5555-5555'))).toBe('kept');
    expect(book.get('555-5555-5555')).toBeUndefined();
    expect(book.get('111-1111-1111')?.encryption).toBe('e2ee');
    // A new e2ee pin still takes the oldest slot.
    book.pin(policy('e2ee', '666-6666-6666'));
    expect(book.get('111-1111-1111')).toBeUndefined();
    expect(book.size).toBe(3);
  });
});

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'roomd-policies-'));
  dirs.push(d);
  return d;
}

describe('FilePolicyBook', () => {
  it('keeps pins across a restart, atomically, mode 0600', async () => {
    const dir = await tempDir();
    const a = await FilePolicyBook.open(dir, { log: silentLogger() });
    a.pin(policy('e2ee'));
    await a.settled();
    const b = await FilePolicyBook.open(dir, { log: silentLogger() });
    expect(b.get(ID)).toEqual(policy('e2ee'));
    expect(b.problem).toBeUndefined();
    expect((await stat(path.join(dir, POLICY_PINS_FILE))).mode & 0o777).toBe(0o600);
  });

  it('a damaged file falls back to the last good copy and says so', async () => {
    const dir = await tempDir();
    const a = await FilePolicyBook.open(dir, { log: silentLogger() });
    a.pin(policy('e2ee'));
    await a.settled();
    await writeFile(path.join(dir, POLICY_PINS_FILE), '{"version":1,"policies":[{"v":1}]}');
    const b = await FilePolicyBook.open(dir, { log: silentLogger() });
    expect(b.problem?.code).toBe('core.store_corrupt');
    expect(b.get(ID)?.encryption).toBe('e2ee');
  });

  it('a failing disk keeps the pins in memory and logs once', async () => {
    const dir = await tempDir();
    const { logger: log, lines } = memoryLogger('error');
    const broken: StoreFs = {
      ...nodeStoreFs,
      writeTemp: async () => {
        throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
      },
    };
    const book = await FilePolicyBook.open(dir, { log, fs: broken });
    book.pin(policy('e2ee'));
    book.pin(policy('e2ee', '222-2222-2222'));
    await book.settled();
    expect(book.get(ID)?.encryption).toBe('e2ee');
    expect(lines.map((l) => l['msg'])).toEqual(['could not write the pinned meeting policies']);
    expect(JSON.stringify(lines)).not.toContain('disk full');
  });

  it('the file decoder is total and bounded', () => {
    expect(() => parsePinsFile(null)).toThrow();
    expect(() => parsePinsFile({ version: 2, policies: [] })).toThrow();
    expect(() => parsePinsFile({ version: 1, policies: {} })).toThrow();
    expect(() => parsePinsFile({ version: 1, policies: [policy('e2ee'), policy('e2ee')] }, 1)).toThrow(
      /more than 1/,
    );
    expect(() => parsePinsFile({ version: 1, policies: [{ ...policy('e2ee'), extra: 1 }] })).toThrow(
      /policy 0/,
    );
    expect(parsePinsFile({ version: 1, policies: [policy('e2ee')] }).policies).toHaveLength(1);
  });

  it('the pins file holds only the signed policies', async () => {
    const dir = await tempDir();
    const a = await FilePolicyBook.open(dir, { log: silentLogger() });
    a.pin(policy('e2ee'));
    await a.settled();
    const text = await readFile(path.join(dir, POLICY_PINS_FILE), 'utf8');
    expect(JSON.parse(text)).toEqual({ version: 1, policies: [policy('e2ee')] });
    expect(text).not.toContain(toBase64Url(room.secretKey));
  });
});

describe('ownCertificate (the room certificate from the settings, read defensively)', () => {
  it('absent, malformed or for another key: none', () => {
    expect(ownCertificate(undefined, room.publicKey)).toBeUndefined();
    expect(ownCertificate(null, room.publicKey)).toBeUndefined();
    expect(ownCertificate({ v: 1 }, room.publicKey)).toBeUndefined();
    const cert = issueCertificate(
      { org: 'Acme', name: 'Board', kind: 'room', key: room.publicKey, notBefore: 0, notAfter: NOW * 2 },
      relayKey.secretKey,
    );
    expect(ownCertificate(JSON.parse(JSON.stringify(cert)), room.publicKey)).toEqual(cert);
    expect(ownCertificate(cert, relayKey.publicKey)).toBeUndefined();
  });
});
