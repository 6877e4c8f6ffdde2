/**
 * The device identity: an Ed25519 key pair made on first start (@noble/curves), kept in
 * `<state dir>/identity.json` with mode 0600. Its public key is the E2EE identity key, IVK
 * (docs/protocol.md "Primitives").
 *
 * Never regenerated while a file exists: a damaged file is a loud `config.identity_corrupt`
 * error (falling back to the last-good copy when that one is intact, and saying so), because a
 * silently new identity would change the room's security codes and break every trust decision
 * made about it.
 */
import { createHash } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { RoomdError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { JsonFileStore } from '../core/store.ts';

export interface DeviceIdentity {
  /** Stable id derived from the public key, e.g. `rd-7k3q9x2m4p`. */
  readonly deviceId: string;
  /** Ed25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  /** Ed25519 secret key (32 bytes). Never logged. */
  readonly secretKey: Uint8Array;
  /** Short fingerprint for display: 4 groups of 4 hex digits of SHA-256(publicKey). */
  readonly fingerprint: string;
  readonly createdAt: string;
}

interface IdentityFile {
  version: 1;
  deviceId: string;
  publicKey: string;
  secretKey: string;
  createdAt: string;
}

const B32 = 'abcdefghijkmnpqrstuvwxyz23456789';

/** Derived, not stored: a device id nobody can choose. */
export function deviceIdFor(publicKey: Uint8Array): string {
  const h = createHash('sha256').update('roomd device id v1').update(publicKey).digest();
  let out = '';
  for (let i = 0; i < 10; i++) out += B32[h[i]! % 32];
  return `rd-${out}`;
}

export function fingerprintFor(publicKey: Uint8Array): string {
  const hex = createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
  return hex.match(/.{4}/g)!.join(' ');
}

function parseIdentityFile(raw: unknown): IdentityFile {
  const r = raw as Partial<IdentityFile> | null;
  if (typeof r !== 'object' || r === null || r.version !== 1)
    throw new Error('unknown identity file version');
  for (const k of ['deviceId', 'publicKey', 'secretKey', 'createdAt'] as const) {
    if (typeof r[k] !== 'string') throw new Error(`missing ${k}`);
  }
  const pub = Buffer.from(r.publicKey!, 'base64');
  const sec = Buffer.from(r.secretKey!, 'base64');
  if (pub.length !== 32 || sec.length !== 32) throw new Error('key has the wrong length');
  if (!Buffer.from(ed25519.getPublicKey(sec)).equals(pub))
    throw new Error('public key does not match secret key');
  if (deviceIdFor(pub) !== r.deviceId) throw new Error('device id does not match public key');
  return r as IdentityFile;
}

function toIdentity(f: IdentityFile): DeviceIdentity {
  const publicKey = new Uint8Array(Buffer.from(f.publicKey, 'base64'));
  return {
    deviceId: f.deviceId,
    publicKey,
    secretKey: new Uint8Array(Buffer.from(f.secretKey, 'base64')),
    fingerprint: fingerprintFor(publicKey),
    createdAt: f.createdAt,
  };
}

export interface LoadedIdentity {
  identity: DeviceIdentity;
  created: boolean;
  /** Set when the current file was damaged and the last-good copy was used. */
  problem?: RoomdError;
}

/** Load the identity, making one only when no identity file exists at all. */
export async function loadOrCreateIdentity(stateDir: string, log?: Logger): Promise<LoadedIdentity> {
  const file = path.join(stateDir, 'identity.json');
  const store = new JsonFileStore<IdentityFile>(file, parseIdentityFile, { mode: 0o600 });
  const read = await store.read();
  if (read.value !== undefined) {
    await enforceMode(file, log);
    if (read.problem !== undefined) {
      const problem = new RoomdError('config.identity_corrupt', {
        message: 'The device identity file is damaged; roomd is using its last good copy. Check the disk.',
        context: { file },
        cause: read.problem,
      });
      log?.error({ err: problem, file }, 'device identity file damaged; using last good copy');
      await store.write(read.value);
      return { identity: toIdentity(read.value), created: false, problem };
    }
    return { identity: toIdentity(read.value), created: false };
  }
  if (read.problem !== undefined) {
    throw new RoomdError('config.identity_corrupt', {
      message: `The device identity in ${file} is damaged and has no good copy. roomd will not make a new identity on its own: restore the file from a backup, or delete it to give this room a new identity (its security codes will change).`,
      context: { file },
      cause: read.problem,
    });
  }
  const secretKey = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(secretKey);
  const f: IdentityFile = {
    version: 1,
    deviceId: deviceIdFor(publicKey),
    publicKey: Buffer.from(publicKey).toString('base64'),
    secretKey: Buffer.from(secretKey).toString('base64'),
    createdAt: new Date().toISOString(),
  };
  await store.write(f);
  secretKey.fill(0);
  log?.info({ deviceId: f.deviceId, fingerprint: fingerprintFor(publicKey) }, 'created device identity');
  return { identity: toIdentity(f), created: true };
}

async function enforceMode(file: string, log?: Logger): Promise<void> {
  const st = await fsp.stat(file).catch(() => null);
  if (st !== null && (st.mode & 0o077) !== 0) {
    await fsp.chmod(file, 0o600);
    log?.warn({ file }, 'device identity file was readable by others; mode set to 0600');
  }
}

export function signWithIdentity(identity: DeviceIdentity, message: Uint8Array): Uint8Array {
  return ed25519.sign(message, identity.secretKey);
}
