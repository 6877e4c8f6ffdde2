/**
 * An organization's trust-anchor key pair file (docs/admin.md §Organization identities), made by
 * `roomctl identity org-init` and read by `roomctl identity issue` and the demo: an Ed25519 key pair
 * and the organization's name. The secret half signs identity certificates, so the file is written
 * atomically with mode 0600 and never overwritten; only its public half (the anchor) goes to rooms.
 *
 *   { "format": "roomd-org-key-v1", "org": "Acme Corp", "publicKey": b64u(32),
 *     "secretKey": b64u(32), "createdAt": ISO 8601 }
 */
import * as fsp from 'node:fs/promises';
import { ed25519 } from '@noble/curves/ed25519.js';
import { RoomdError } from '../core/errors.ts';
import { writeFileAtomic } from '../core/store.ts';
import { IDENTITY_LIMITS } from './schema.ts';

export const ORG_KEY_FORMAT = 'roomd-org-key-v1';
/** A key file is a few hundred bytes; anything much larger is not one. */
const MAX_FILE_BYTES = 4096;
const CONTROL = /[\u0000-\u001f\u007f]/;
const B64U32 = /^[A-Za-z0-9_-]{43}$/;

export interface OrgKey {
  org: string;
  /** Ed25519 public key (32 bytes). */
  publicKey: Uint8Array;
  /** Ed25519 secret key (32-byte seed). Never logged or printed. */
  secretKey: Uint8Array;
  createdAt: string;
}

/** What rooms are given to trust the organization (the `identity.trustAnchors` entry). */
export function orgAnchor(key: OrgKey): { org: string; publicKey: string } {
  return { org: key.org, publicKey: Buffer.from(key.publicKey).toString('base64url') };
}

function invalid(file: string, why: string): RoomdError {
  return new RoomdError('config.invalid', {
    message: `${file} is not an organization key file (${why}).`,
    context: { file },
  });
}

/** Whether `org` is a usable organization name (the certificate rules: 1..128 printable characters). */
export function validOrgName(org: string): boolean {
  return org.trim() !== '' && org.length <= IDENTITY_LIMITS.maxOrgLength && !CONTROL.test(org);
}

/** Decode a key file's text. Total: every problem is a `config.invalid` naming the file. */
export function parseOrgKey(text: string, file: string): OrgKey {
  if (text.length > MAX_FILE_BYTES) throw invalid(file, 'too large');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) throw invalid(file, 'not JSON');
    throw error;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(file, 'not an object');
  const r = raw as Record<string, unknown>;
  if (r['format'] !== ORG_KEY_FORMAT) throw invalid(file, `format is not ${ORG_KEY_FORMAT}`);
  const org = r['org'];
  if (typeof org !== 'string' || !validOrgName(org)) throw invalid(file, 'no valid org name');
  const pub = r['publicKey'];
  const sec = r['secretKey'];
  if (typeof pub !== 'string' || !B64U32.test(pub) || typeof sec !== 'string' || !B64U32.test(sec))
    throw invalid(file, 'keys are not 32 bytes of base64url');
  const publicKey = new Uint8Array(Buffer.from(pub, 'base64url'));
  const secretKey = new Uint8Array(Buffer.from(sec, 'base64url'));
  if (!Buffer.from(ed25519.getPublicKey(secretKey)).equals(publicKey))
    throw invalid(file, 'the public key does not match the secret key');
  const createdAt = typeof r['createdAt'] === 'string' ? r['createdAt'] : '';
  return { org, publicKey, secretKey, createdAt };
}

export async function readOrgKey(file: string): Promise<OrgKey> {
  let text: string;
  try {
    const fh = await fsp.open(file, 'r');
    try {
      const buf = Buffer.alloc(MAX_FILE_BYTES + 1);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      text = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch (error) {
    // File-system errors (ENOENT, EACCES, EISDIR…) carry an errno code; anything else is a bug.
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw error;
    throw new RoomdError('core.store_io', {
      message: `Cannot read the organization key file ${file} (${code}).`,
      context: { file },
      cause: error,
    });
  }
  return parseOrgKey(text, file);
}

/**
 * Make a new key pair for `org` in `file` (atomic, mode 0600). Refuses an existing file: a second
 * org-init must never silently replace a key rooms already trust.
 */
export async function createOrgKey(file: string, org: string, now: number): Promise<OrgKey> {
  if (!validOrgName(org))
    throw new RoomdError('config.invalid', {
      message: `The organization name must be 1 to ${IDENTITY_LIMITS.maxOrgLength} printable characters.`,
    });
  const exists = await fsp.stat(file).then(
    () => true,
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return false;
      throw new RoomdError('core.store_io', { message: `Cannot check ${file}.`, cause: error });
    },
  );
  if (exists)
    throw new RoomdError('config.invalid', {
      message: `${file} already exists; an organization key is never overwritten. Choose another file.`,
      context: { file },
    });
  const secretKey = ed25519.utils.randomSecretKey();
  const key: OrgKey = {
    org,
    publicKey: ed25519.getPublicKey(secretKey),
    secretKey,
    createdAt: new Date(now).toISOString(),
  };
  const body = {
    format: ORG_KEY_FORMAT,
    org,
    publicKey: Buffer.from(key.publicKey).toString('base64url'),
    secretKey: Buffer.from(secretKey).toString('base64url'),
    createdAt: key.createdAt,
  };
  await writeFileAtomic(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  return key;
}
