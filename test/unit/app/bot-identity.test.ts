/**
 * Certified bots (docs/admin.md §Organization identities, "In the demo"): `certify` and `orgTrust`
 * give a headless participant a certificate its organization's anchor verifies, and `roomd bot
 * --org-key` refuses a key file it cannot use before joining anything.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bot, certify, ephemeralIdentity, orgTrust } from '../../../src/app/bot.ts';
import { createOrgKey } from '../../../src/config/org-key.ts';
import { ExitCode } from '../../../src/core/exit-codes.ts';
import { checkIdentity } from '../../../src/e2ee/index.ts';

describe('certified bots', () => {
  it('certify + orgTrust: the certificate verifies against the trust it comes with', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-bot-id-'));
    try {
      const now = Date.UTC(2026, 2, 1);
      const org = await createOrgKey(path.join(dir, 'org.json'), 'Demo Org', now);
      const id = ephemeralIdentity();
      const cert = certify(org, id, 'Bot 1', 'bot', now, 2);
      const trust = orgTrust(org, cert, { now: () => now });
      expect(trust.certificate).toBe(cert);
      expect(trust.wallClock?.()).toBe(now);
      expect(checkIdentity(id.publicKey, cert, trust.anchors ?? [], now)).toMatchObject({
        status: 'verified',
        org: 'Demo Org',
        name: 'Bot 1',
        kind: 'bot',
      });
      expect(checkIdentity(id.publicKey, cert, trust.anchors ?? [], now + 3 * 86_400_000)).toMatchObject({
        status: 'unverified',
        reason: 'expired',
      });
      expect(orgTrust(org, undefined, { now: () => now }).certificate).toBeUndefined();
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });

  it('roomd bot --org-key refuses a missing or unusable key file and a name it cannot certify', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-bot-id-'));
    try {
      const err: string[] = [];
      const io = { out: () => {}, err: (l: string) => err.push(l), env: {} };
      const missing = path.join(dir, 'nope.json');
      expect(await bot.run(['--meeting', 'm', '--org-key', missing], io)).toBe(ExitCode.usage);
      expect(err.join('\n')).toContain('Cannot read the organization key file');
      const bad = path.join(dir, 'bad.json');
      await fsp.writeFile(bad, '{"format":"roomd-org-key-v1"}');
      expect(await bot.run(['--meeting', 'm', '--org-key', bad], io)).toBe(ExitCode.usage);
      expect(err.join('\n')).toContain('is not an organization key file');
      const good = path.join(dir, 'org.json');
      await createOrgKey(good, 'Demo Org', Date.now());
      expect(await bot.run(['--meeting', 'm', '--org-key', good, '--name', 'x'.repeat(121)], io)).toBe(
        ExitCode.usage,
      );
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});
