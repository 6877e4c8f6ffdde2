// The relay carries a meeting's host-signed policy (docs/protocol.md "Meeting policy") without
// verifying it: shape-checked and size-bounded at booking, kept with the meeting, returned as given
// in meeting-info and in lists; a booking that contradicts its own policy is refused.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/logger.ts';
import { issueCertificate, signMeetingPolicy } from '../../../src/e2ee/index.ts';
import { decodeServerMessage, encodeServerMessage } from '../../../src/protocol/codec.ts';
import { runRelayCli } from '../../../src/relay/cli.ts';
import { MeetingRegistry } from '../../../src/relay/registry.ts';
import { createRelay } from '../../../src/relay/server.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';
import { hostKey, hostSecret, makeCore } from './harness.ts';

const host = { publicKey: ed25519.getPublicKey(hostSecret), secretKey: hostSecret };
const policyFor = (meetingId: string, encryption: 'e2ee' | 'enhanced' = 'e2ee') =>
  signMeetingPolicy({ meetingId, encryption, issuedAt: 1_770_000_000_000 }, host);

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'roomd-relay-policy-'));
  dirs.push(d);
  return d;
}

describe('the registry keeps a meeting policy with the booking', () => {
  it('takes the id and encryption from the policy, and keeps it across a restart', async () => {
    const dir = await tempDir();
    const a = new MeetingRegistry({ stateDir: dir, logger: silentLogger(), now: () => 0 });
    await a.load();
    const policy = policyFor('321-4567-8901');
    const m = await a.create({ hostIdentityKey: hostKey, policy });
    expect(m).toMatchObject({ id: '321-4567-8901', encryption: 'e2ee', policy });
    const b = new MeetingRegistry({ stateDir: dir, logger: silentLogger(), now: () => 0 });
    await b.load();
    expect(b.get('32145678901')?.policy).toEqual(policy);
  });

  it('refuses a booking that contradicts its own policy', async () => {
    const r = new MeetingRegistry({ logger: silentLogger(), now: () => 0 });
    await expect(
      r.create({ hostIdentityKey: hostKey, encryption: 'enhanced', policy: policyFor('321-4567-8901') }),
    ).rejects.toMatchObject({ code: 'core.invalid_argument', message: /policy says e2ee/ });
    await expect(
      r.create({ hostIdentityKey: hostKey, id: '321-4567-0000', policy: policyFor('321-4567-8901') }),
    ).rejects.toMatchObject({ code: 'core.invalid_argument', message: /for meeting 321-4567-8901/ });
    // The same id typed without dashes is the same meeting.
    await r.create({ hostIdentityKey: hostKey, id: '32145678901', policy: policyFor('321-4567-8901') });
    expect(r.list()).toHaveLength(1);
  });

  it('shape-checks and bounds it: unknown fields, oversize names, wrong lengths are refused whole', async () => {
    const r = new MeetingRegistry({ logger: silentLogger(), now: () => 0 });
    const p = policyFor('321-4567-8901');
    const org = ed25519.utils.randomSecretKey();
    const cert = issueCertificate(
      { org: 'Acme', name: 'Board', kind: 'room', key: host.publicKey, notBefore: 0, notAfter: 2 ** 50 },
      org,
    );
    const bad: unknown[] = [
      { ...p, extra: 1 },
      { ...p, v: 2 },
      { ...p, sig: 'AAAA' },
      { ...p, host: 'x'.repeat(10_000) },
      { ...p, cert: { ...cert, org: 'A'.repeat(129) } },
      { ...p, cert: { ...cert, nested: { deep: [1, 2, 3] } } },
      'policy',
      [p],
    ];
    for (const policy of bad) {
      await expect(r.create({ hostIdentityKey: hostKey, policy })).rejects.toMatchObject({
        code: 'core.invalid_argument',
      });
    }
    expect(r.list()).toHaveLength(0);
    // A certificate of the largest allowed size fits, and the whole policy stays under 2 KiB.
    const big = signMeetingPolicy(
      {
        meetingId: '9'.repeat(64),
        encryption: 'e2ee',
        issuedAt: 2 ** 52,
        cert: issueCertificate(
          {
            org: 'O'.repeat(128),
            name: 'N'.repeat(128),
            kind: 'room',
            key: host.publicKey,
            notBefore: 0,
            notAfter: 2 ** 52,
          },
          org,
        ),
      },
      host,
    );
    expect(JSON.stringify(big).length).toBeLessThan(2048);
    await r.create({ hostIdentityKey: hostKey, policy: big });
  });
});

describe('meeting-info carries the policy as booked', () => {
  it('to the host and to a waiting participant; a meeting without one has none', async () => {
    const { meeting, client } = await makeCore();
    const policy = policyFor('555-0000-1111');
    await meeting({ policy });
    const waiting = client();
    waiting.join('555-0000-1111');
    expect(waiting.last('meeting-info')?.policy).toEqual(policy);
    const h = client();
    h.joinAsHost('55500001111');
    expect(h.last('meeting-info')).toMatchObject({ meetingId: '555-0000-1111', policy });
    const plain = await meeting({ encryption: 'enhanced', joinBeforeHost: true });
    const c = client();
    c.join(plain.id);
    expect(c.last('meeting-info')).not.toHaveProperty('policy');
  });

  it('the test hook can strip or swap it, as a hostile relay would', async () => {
    const { meeting, client } = await makeCore({
      hooks: { meetingInfo: ({ policy: _p, ...info }) => ({ ...info, encryption: 'enhanced' }) },
    });
    await meeting({ policy: policyFor('555-0000-2222') });
    const c = client();
    c.joinAsHost('555-0000-2222');
    expect(c.last('meeting-info')).toMatchObject({ encryption: 'enhanced' });
    expect(c.last('meeting-info')).not.toHaveProperty('policy');
  });

  it('a client refuses a meeting-info whose policy has the wrong shape (the relay cannot smuggle junk)', () => {
    const base = {
      v: 1,
      type: 'meeting-info',
      meetingId: '555-0000-1111',
      instanceId: 'abcdefgh12',
      title: 'x',
      encryption: 'e2ee',
      disabledFeatures: [],
      hostPresent: true,
    };
    expect(decodeServerMessage(JSON.stringify({ ...base, policy: policyFor('555-0000-1111') })).ok).toBe(
      true,
    );
    expect(
      decodeServerMessage(JSON.stringify({ ...base, policy: { ...policyFor('555-0000-1111'), x: 1 } })).ok,
    ).toBe(false);
    expect(() => encodeServerMessage({ ...base, policy: { v: 1 } } as never)).toThrow();
  });
});

describe('the management API and CLI take and return the policy', () => {
  it('roomd relay create --policy FILE; GET /api/v1/meetings lists it', async () => {
    const tok = 'tok-0123456789abcdef';
    const relay = createRelay({ peers: new FakePeerNetwork(), adminToken: tok });
    await relay.start();
    try {
      const dir = await tempDir();
      const file = path.join(dir, 'policy.json');
      const policy = policyFor('777-1234-5678');
      await writeFile(file, JSON.stringify(policy));
      const out: string[] = [];
      const err: string[] = [];
      const io = { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l), env: {} };
      const url = relay.address.httpUrl;
      const args = ['create', '--url', url, '--token', tok, `--host-key=${hostKey}`];
      expect(await runRelayCli([...args, '--policy', file], io)).toBe(0);
      expect(JSON.parse(out.at(-1)!)).toMatchObject({ id: '777-1234-5678', encryption: 'e2ee', policy });
      const listed = (await (
        await fetch(`${url}/api/v1/meetings`, { headers: { authorization: `Bearer ${tok}` } })
      ).json()) as { meetings: unknown[] };
      expect(listed.meetings[0]).toMatchObject({ policy });

      await writeFile(file, '{not json');
      expect(await runRelayCli([...args, '--policy', file], io)).toBe(64);
      expect(err.at(-1)).toMatch(/not JSON/);
      await writeFile(file, JSON.stringify({ ...policy, meetingId: '777-1234-0000', extra: true }));
      expect(await runRelayCli([...args, '--policy', file], io)).toBe(1);
      expect(err.at(-1)).toMatch(/not valid at \/policy/);
    } finally {
      await relay.stop();
    }
  });
});
