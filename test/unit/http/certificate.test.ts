/**
 * The admin device certificate (docs/kiosk-and-admin-api.md §Claiming and signing in): made with openssl,
 * key stored 0600, reused across restarts (stable fingerprint), remade when it is about to expire or does
 * not match its key.
 */
import { X509Certificate } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ensureDeviceCertificate } from '../../../src/http/admin/certificate.ts';

let dir: string;
beforeEach(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-cert-'));
});
afterEach(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('device certificate', () => {
  test('is created once, with the key private, and reused', async () => {
    const a = await ensureDeviceCertificate({
      stateDir: dir,
      commonName: 'roomd-rd-1',
      altNames: ['192.168.1.40', 'room.local'],
    });
    expect(a.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect((await fsp.stat(path.join(dir, 'admin-tls.key'))).mode & 0o777).toBe(0o600);
    const x509 = new X509Certificate(await fsp.readFile(path.join(dir, 'admin-tls.crt')));
    expect(x509.subjectAltName).toContain('IP Address:192.168.1.40');
    expect(x509.subjectAltName).toContain('DNS:room.local');
    const b = await ensureDeviceCertificate({ stateDir: dir, commonName: 'roomd-rd-1' });
    expect(b.fingerprint).toBe(a.fingerprint);
  });

  test('is remade when it expires within 30 days', async () => {
    const a = await ensureDeviceCertificate({ stateDir: dir, commonName: 'roomd-rd-1' });
    const later = Date.parse(a.validTo) - 10 * 86_400_000;
    const b = await ensureDeviceCertificate({ stateDir: dir, commonName: 'roomd-rd-1', now: later });
    expect(b.fingerprint).not.toBe(a.fingerprint);
  });

  test('is remade when the key file does not match', async () => {
    const a = await ensureDeviceCertificate({ stateDir: dir, commonName: 'roomd-rd-1' });
    await fsp.writeFile(path.join(dir, 'admin-tls.key'), 'garbage');
    const b = await ensureDeviceCertificate({ stateDir: dir, commonName: 'roomd-rd-1' });
    expect(b.fingerprint).not.toBe(a.fingerprint);
  });
});
