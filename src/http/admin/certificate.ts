/**
 * The admin context's self-signed device certificate (docs/kiosk-and-admin-api.md
 * §Claiming and signing in): an ECDSA P-256 key and a certificate made with the `openssl` CLI
 * (node:crypto can read certificates but not issue them), kept in the state directory (key 0600).
 * Its SHA-256 fingerprint is shown on the room screen so an admin can pin it
 * (`roomctl --fingerprint`). Reused across restarts; remade when missing, unreadable or expiring
 * within 30 days.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { hasCode, RoomdError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/store.ts';

const execFileAsync = promisify(execFile);

export interface DeviceCertificate {
  key: string;
  cert: string;
  /** "AB:CD:…" SHA-256 of the DER certificate */
  fingerprint: string;
  validTo: string;
}

export interface CertificateMaker {
  make(input: {
    commonName: string;
    altNames: string[];
    days: number;
  }): Promise<{ key: string; cert: string }>;
}

/** Issue with `openssl req -x509`: no secrets on the command line, the key never leaves the state dir. */
export const opensslCertificateMaker: CertificateMaker = {
  async make({ commonName, altNames, days }) {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-cert-'));
    try {
      const keyFile = path.join(dir, 'key.pem');
      const certFile = path.join(dir, 'cert.pem');
      const san = altNames.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
      await execFileAsync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          keyFile,
          '-out',
          certFile,
          '-days',
          String(days),
          '-subj',
          `/CN=${commonName.replace(/[/\\=,+]/g, '_')}`,
          '-addext',
          `subjectAltName=${san}`,
        ],
        { timeout: 20_000 },
      );
      return { key: await fsp.readFile(keyFile, 'utf8'), cert: await fsp.readFile(certFile, 'utf8') };
    } catch (error) {
      throw new RoomdError('http.tls_unavailable', { cause: error });
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  },
};

const RENEW_BEFORE_MS = 30 * 86_400_000;

export async function ensureDeviceCertificate(options: {
  stateDir: string;
  commonName: string;
  altNames?: string[];
  now?: number;
  maker?: CertificateMaker;
}): Promise<DeviceCertificate> {
  const keyFile = path.join(options.stateDir, 'admin-tls.key');
  const certFile = path.join(options.stateDir, 'admin-tls.crt');
  const now = options.now ?? Date.now();
  const existing = await loadCertificate(keyFile, certFile);
  if (existing !== null && Date.parse(existing.validTo) - now > RENEW_BEFORE_MS) return existing;
  const altNames = ['localhost', '127.0.0.1', '::1', ...(options.altNames ?? [])];
  const made = await (options.maker ?? opensslCertificateMaker).make({
    commonName: options.commonName,
    altNames: [...new Set(altNames)],
    days: 3650,
  });
  await fsp.mkdir(options.stateDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(keyFile, made.key, { mode: 0o600 });
  await writeFileAtomic(certFile, made.cert, { mode: 0o644 });
  return describe(made.key, made.cert);
}

async function loadCertificate(keyFile: string, certFile: string): Promise<DeviceCertificate | null> {
  try {
    const [key, cert] = await Promise.all([fsp.readFile(keyFile, 'utf8'), fsp.readFile(certFile, 'utf8')]);
    return describe(key, cert);
  } catch (error) {
    // No files yet, or files OpenSSL cannot read or that do not match: make a new pair.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code?.startsWith('ERR_OSSL_') === true || hasCode(error, 'http.tls_unavailable'))
      return null;
    throw error;
  }
}

function describe(key: string, cert: string): DeviceCertificate {
  const x509 = new X509Certificate(cert);
  if (!x509.checkPrivateKey(createPrivateKey(key))) {
    throw new RoomdError('http.tls_unavailable', {
      message: 'The device certificate does not match its key.',
    });
  }
  return { key, cert, fingerprint: x509.fingerprint256, validTo: new Date(x509.validTo).toISOString() };
}
