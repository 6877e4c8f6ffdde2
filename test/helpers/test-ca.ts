/**
 * A throwaway certificate authority for TLS tests: a CA and the server certificates it issues,
 * made with the openssl CLI in a temporary folder (EC P-256, valid two days), and the SPKI SHA-256
 * pin of a certificate as the room's meetingService.tlsPin setting takes it (docs/admin.md §TLS).
 */
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onPath } from './netns.ts';

export interface IssuedCert {
  certPath: string;
  keyPath: string;
  certPem: string;
}

export interface TestCa {
  /** The CA's own certificate (to trust it). */
  certPath: string;
  certPem: string;
  /** A server certificate for these names and addresses, signed by the CA. */
  issue(names: { dns?: readonly string[]; ip?: readonly string[] }): IssuedCert;
  /** Deletes its folder (keys included). */
  close(): void;
}

function openssl(args: readonly string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stderr?: Buffer; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() || e.message}`);
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export function makeCa(): TestCa {
  if (!onPath('openssl')) {
    throw new Error(
      'openssl is not installed: run `sudo bash scripts/setup-system.sh` (Debian package openssl).',
    );
  }
  const folder = mkdtempSync(join(tmpdir(), 'roomd-test-ca-'));
  const certPath = join(folder, 'ca.pem');
  openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=roomd test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    folder,
  );
  let issued = 0;
  return {
    certPath,
    certPem: readFileSync(certPath, 'utf8'),
    issue(names) {
      const dns = names.dns ?? [];
      const ip = names.ip ?? [];
      const sans = [...dns.map((d) => `DNS:${d}`), ...ip.map((a) => `IP:${a}`)];
      if (sans.length === 0) throw new Error('issue: at least one DNS name or IP address.');
      const base = `server${++issued}`;
      writeFileSync(
        join(folder, `${base}.ext`),
        [
          `subjectAltName=${sans.join(',')}`,
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature',
          'extendedKeyUsage=serverAuth',
          '',
        ].join('\n'),
      );
      const cn = dns[0] ?? ip[0] ?? 'server';
      openssl(
        ['req', '-new', ...EC, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`],
        folder,
      );
      openssl(
        [
          'x509',
          '-req',
          '-in',
          `${base}.csr`,
          '-CA',
          'ca.pem',
          '-CAkey',
          'ca.key',
          '-CAcreateserial',
          '-days',
          '2',
          '-extfile',
          `${base}.ext`,
          '-out',
          `${base}.pem`,
        ],
        folder,
      );
      const path = join(folder, `${base}.pem`);
      return { certPath: path, keyPath: join(folder, `${base}.key`), certPem: readFileSync(path, 'utf8') };
    },
    close() {
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** The base64 SHA-256 of a certificate's SubjectPublicKeyInfo (DER): its key pin. */
export function spkiSha256(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}
