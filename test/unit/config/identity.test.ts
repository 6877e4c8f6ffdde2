import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceIdFor, loadOrCreateIdentity, signWithIdentity } from '../../../src/config/identity.ts';
import { memoryLogger } from '../../../src/core/logger.ts';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-id-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('device identity', () => {
  it('is created once with mode 0600 and reloaded unchanged', async () => {
    const a = await loadOrCreateIdentity(dir);
    expect(a.created).toBe(true);
    expect(a.identity.deviceId).toMatch(/^rd-[a-z2-9]{10}$/);
    expect(a.identity.deviceId).toBe(deviceIdFor(a.identity.publicKey));
    expect(a.identity.fingerprint).toMatch(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
    const st = await fsp.stat(path.join(dir, 'identity.json'));
    expect(st.mode & 0o777).toBe(0o600);
    const b = await loadOrCreateIdentity(dir);
    expect(b.created).toBe(false);
    expect(Buffer.from(b.identity.publicKey)).toEqual(Buffer.from(a.identity.publicKey));
    const sig = signWithIdentity(b.identity, new TextEncoder().encode('hello'));
    expect(ed25519.verify(sig, new TextEncoder().encode('hello'), a.identity.publicKey)).toBe(true);
  });

  it('restores mode 0600 if the file was opened up', async () => {
    await loadOrCreateIdentity(dir);
    await fsp.chmod(path.join(dir, 'identity.json'), 0o644);
    const { logger, lines } = memoryLogger();
    await loadOrCreateIdentity(dir, logger);
    expect((await fsp.stat(path.join(dir, 'identity.json'))).mode & 0o777).toBe(0o600);
    expect(lines.some((l) => String(l['msg']).includes('mode set to 0600'))).toBe(true);
  });

  it('uses the last good copy of a damaged file and says so loudly', async () => {
    const a = await loadOrCreateIdentity(dir);
    await fsp.writeFile(path.join(dir, 'identity.json'), '{"version":1,"deviceId":"rd-x"');
    const { logger, lines } = memoryLogger();
    const b = await loadOrCreateIdentity(dir, logger);
    expect(b.identity.deviceId).toBe(a.identity.deviceId);
    expect(b.problem?.code).toBe('config.identity_corrupt');
    expect(lines.some((l) => l['level'] === 50)).toBe(true);
    expect(JSON.stringify(lines)).not.toContain(Buffer.from(a.identity.secretKey).toString('base64'));
  });

  it('refuses to make a new identity when the file is damaged and has no good copy', async () => {
    await loadOrCreateIdentity(dir);
    const good = JSON.parse(await fsp.readFile(path.join(dir, 'identity.json'), 'utf8'));
    good.secretKey = Buffer.alloc(32, 7).toString('base64'); // no longer matches the public key
    await fsp.writeFile(path.join(dir, 'identity.json'), JSON.stringify(good));
    await fsp.rm(path.join(dir, 'identity.json.last-good'));
    await expect(loadOrCreateIdentity(dir)).rejects.toMatchObject({ code: 'config.identity_corrupt' });
    // And the damaged file is left for a person to look at.
    expect(JSON.parse(await fsp.readFile(path.join(dir, 'identity.json'), 'utf8')).secretKey).toBe(
      good.secretKey,
    );
  });
});
