/**
 * `roomctl identity`, the issuer's side (docs/admin.md §Organization identities): org-init makes an
 * anchor key file (0600, atomic, never overwritten) and prints the anchor; issue prints a
 * certificate that verifies against that anchor; both need no room. Bad input gets the usage or
 * invalid-input exit code with a sentence, never a stack.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkIdentity, parseCertificate, parseTrustAnchor } from '../../../src/e2ee/index.ts';
import { runRoomctl } from '../../../src/http/roomctl/cli.ts';
import { RoomctlExit } from '../../../src/http/roomctl/exit.ts';

let dir: string;
const NOW = Date.UTC(2026, 2, 1, 12);
const DAY = 86_400_000;

beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomctl-id-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

async function roomctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runRoomctl([...args, '--config', path.join(dir, 'none.json')], {
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: {},
    now: () => NOW,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('roomctl identity (issuer)', () => {
  it('has help for its commands', async () => {
    for (const args of [['identity', '--help'], ['identity'], ['help', 'identity']]) {
      const r = await roomctl(...args);
      expect(r.code).toBe(RoomctlExit.ok);
      for (const c of ['org-init', 'issue', 'show', 'provision', 'pins', 'forget'])
        expect(r.out).toContain(c);
    }
    expect((await roomctl('--help')).out).toContain('identity org-init --org NAME --out FILE');
    const unknown = await roomctl(
      'identity',
      'frob',
      '--url',
      'https://127.0.0.1:1',
      '--insecure',
      '--token',
      'x',
    );
    expect(unknown.code).toBe(RoomctlExit.usage);
    expect(unknown.err).toContain('Unknown identity command "frob"');
  });

  it('org-init makes a 0600 key file, prints the anchor, and never overwrites a key', async () => {
    const file = path.join(dir, 'acme.key.json');
    const r = await roomctl('identity', 'org-init', '--org', 'Acme Corp', '--out', file);
    expect(r.code).toBe(RoomctlExit.ok);
    const anchor = parseTrustAnchor(JSON.parse(r.out));
    expect(anchor.org).toBe('Acme Corp');
    expect(r.err).toContain('Keep that file secret');
    expect(r.out).not.toContain('secretKey');
    expect((await fsp.stat(file)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await fsp.readFile(file, 'utf8')) as Record<string, string>;
    expect(
      Buffer.from(ed25519.getPublicKey(Buffer.from(saved['secretKey']!, 'base64url'))).toString('base64url'),
    ).toBe(anchor.publicKey);
    expect(saved['createdAt']).toBe(new Date(NOW).toISOString());
    expect((await fsp.readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    const again = await roomctl('identity', 'org-init', '--org', 'Acme Corp', '--out', file, '--json');
    expect(again.code).toBe(RoomctlExit.dataErr);
    expect(JSON.parse(again.out).error.message).toContain('never overwritten');
    expect(JSON.parse(await fsp.readFile(file, 'utf8'))).toEqual(saved);

    expect((await roomctl('identity', 'org-init', '--out', path.join(dir, 'x.json'))).code).toBe(
      RoomctlExit.usage,
    );
    const ctl = await roomctl(
      'identity',
      'org-init',
      '--org',
      'Bad\u0007Org',
      '--out',
      path.join(dir, 'y.json'),
    );
    expect(ctl.code).toBe(RoomctlExit.dataErr);
  });

  it('issue prints a certificate that verifies for the key against the anchor, for --days', async () => {
    const file = path.join(dir, 'acme.key.json');
    const anchor = parseTrustAnchor(
      JSON.parse((await roomctl('identity', 'org-init', '--org', 'Acme', '--out', file)).out),
    );
    const subject = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    const ivk = Buffer.from(subject).toString('base64url');
    const r = await roomctl(
      'identity',
      'issue',
      '--org-key',
      file,
      '--name',
      'Fjord',
      '--kind',
      'room',
      '--key',
      ivk,
      '--days',
      '30',
    );
    expect(r.code).toBe(RoomctlExit.ok);
    const cert = parseCertificate(JSON.parse(r.out));
    expect(cert).toMatchObject({
      org: 'Acme',
      name: 'Fjord',
      kind: 'room',
      key: ivk,
      issuer: anchor.publicKey,
    });
    expect(cert.notAfter).toBe(NOW + 30 * DAY);
    expect(cert.notBefore).toBeLessThan(NOW);
    expect(checkIdentity(subject, cert, [anchor], NOW)).toMatchObject({
      status: 'verified',
      org: 'Acme',
      name: 'Fjord',
    });
    expect(checkIdentity(subject, cert, [anchor], NOW + 31 * DAY)).toMatchObject({
      status: 'unverified',
      reason: 'expired',
    });
    // The default is a year.
    const year = await roomctl(
      'identity',
      'issue',
      '--org-key',
      file,
      '--name',
      'Ann',
      '--kind',
      'person',
      '--key',
      ivk,
      '--json',
    );
    expect(JSON.parse(year.out).notAfter).toBe(NOW + 365 * DAY);
  });

  it('issue refuses bad input with the right exit code', async () => {
    const file = path.join(dir, 'acme.key.json');
    await roomctl('identity', 'org-init', '--org', 'Acme', '--out', file);
    const ivk = Buffer.alloc(32, 7).toString('base64url');
    const base = ['identity', 'issue', '--org-key', file, '--name', 'Fjord'];
    expect((await roomctl(...base, '--kind', 'robot', '--key', ivk)).code).toBe(RoomctlExit.usage);
    expect((await roomctl(...base, '--kind', 'room', '--key', 'short')).code).toBe(RoomctlExit.dataErr);
    expect((await roomctl(...base, '--kind', 'room', '--key', ivk, '--days', '0')).code).toBe(
      RoomctlExit.usage,
    );
    expect((await roomctl(...base, '--kind', 'room', '--key', ivk, '--days', '9999')).code).toBe(
      RoomctlExit.usage,
    );
    expect((await roomctl(...base, '--kind', 'room')).code).toBe(RoomctlExit.usage);
    const long = await roomctl(
      'identity',
      'issue',
      '--org-key',
      file,
      '--name',
      'x'.repeat(200),
      '--kind',
      'room',
      '--key',
      ivk,
    );
    expect(long.code).toBe(RoomctlExit.dataErr);
    const missing = await roomctl(
      'identity',
      'issue',
      '--org-key',
      path.join(dir, 'nope.json'),
      '--name',
      'F',
      '--kind',
      'room',
      '--key',
      ivk,
    );
    expect(missing.code).toBe(RoomctlExit.usage);
    expect(missing.err).toContain('Cannot read the organization key file');
    // A tampered key file (public half replaced) is not used to sign.
    const doc = JSON.parse(await fsp.readFile(file, 'utf8')) as Record<string, string>;
    await fsp.writeFile(
      file,
      JSON.stringify({ ...doc, publicKey: Buffer.alloc(32, 1).toString('base64url') }),
    );
    const tampered = await roomctl(...base, '--kind', 'room', '--key', ivk);
    expect(tampered.code).toBe(RoomctlExit.dataErr);
    expect(tampered.err).toContain('does not match');
  });

  it('provision refuses the secret key file where the anchor belongs, before contacting any room', async () => {
    const file = path.join(dir, 'acme.key.json');
    await roomctl('identity', 'org-init', '--org', 'Acme', '--out', file);
    const r = await roomctl(
      'identity',
      'provision',
      '--anchor',
      file,
      '--url',
      'https://127.0.0.1:1',
      '--insecure',
      '--token',
      't',
    );
    expect(r.code).toBe(RoomctlExit.dataErr);
    expect(r.err).toContain("organization's secret key file");
    expect(
      (await roomctl('identity', 'provision', '--url', 'https://127.0.0.1:1', '--insecure', '--token', 't'))
        .code,
    ).toBe(RoomctlExit.usage);
  });
});
