/**
 * Secret handling for the admin context (docs/kiosk-and-admin-api.md §Claiming and signing in):
 * scrypt password hashes in a self-describing string (`scrypt$N$r$p$salt$hash`, base64url), random
 * session ids, API tokens and setup codes, and constant-time comparison. Only hashes of long-lived
 * secrets are stored.
 */
import { createHash, randomBytes, randomInt, scrypt, timingSafeEqual } from 'node:crypto';

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/** ~100 ms and 32 MiB on a small x86 box: slow for guessing, fine for a sign-in. */
export const DEFAULT_SCRYPT_COST: ScryptCost = { N: 1 << 15, r: 8, p: 1 };
const KEY_LEN = 32;

function scryptAsync(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LEN, { ...cost, maxmem: 256 * cost.N * cost.r + 1024 * 1024 }, (err, key) =>
      err === null ? resolve(key) : reject(err),
    );
  });
}

export async function hashPassword(
  password: string,
  cost: ScryptCost = DEFAULT_SCRYPT_COST,
): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, cost);
  return ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hash, 'base64url');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** Constant-time string equality (length leaks, content does not). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** A setup code a person can read off the screen and type: 10 digits shown as "12345-67890". */
export function newSetupCode(): string {
  let digits = '';
  for (let i = 0; i < 10; i++) digits += String(randomInt(10));
  return `${digits.slice(0, 5)}-${digits.slice(5)}`;
}

/** Accept the code with or without separators and spaces. */
export function normaliseSetupCode(code: string): string {
  return code.replace(/[\s-]/g, '');
}

/** API tokens look like `rmd_<id>_<secret>`; the id finds the record, the secret is hashed. */
export function newApiToken(): { id: string; secret: string; token: string } {
  const id = randomBytes(6).toString('hex');
  const secret = randomToken(32);
  return { id, secret, token: `rmd_${id}_${secret}` };
}

export function parseApiToken(token: string): { id: string; secret: string } | null {
  const m = /^rmd_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(token);
  return m === null ? null : { id: m[1]!, secret: m[2]! };
}
