/**
 * The browser's device identity (docs/decisions/0022-one-core-in-node-and-browser.md §Keys in the
 * browser): an Ed25519 key made in this browser on first use and kept in IndexedDB, encrypted at
 * rest under a non-extractable WebCrypto AES-GCM key that IndexedDB stores as a CryptoKey (page
 * script can use it, never read it). The E2EE core signs synchronously with the 32-byte seed
 * (bindings, heartbeats), so during a meeting the seed is bytes in this page's memory; a
 * non-extractable WebCrypto Ed25519 key would need an asynchronous signer in the core.
 *
 * Where IndexedDB is not available (a private window that refuses it), the identity lives for this
 * page only and the page says so.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { encodeBase64Url } from '../../src/core/encoding.ts';

export interface WebIdentity {
  deviceId: string;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
  /** Whether the key is kept (encrypted) in this browser across visits. */
  persistent: boolean;
}

const DB_NAME = 'roomd-web';
/** The one object store: the sealed key (`device`) and the certificate (certificate.ts). */
export const STORE = 'identity';
const RECORD = 'device';

interface StoredIdentity {
  version: 1;
  deviceId: string;
  publicKey: Uint8Array;
  /** AES-GCM(wrapKey, iv, seed) */
  iv: Uint8Array;
  sealedSeed: ArrayBuffer;
  /** Non-extractable AES-256-GCM key. */
  wrapKey: CryptoKey;
}

export function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

/** Resolves when `tx` commits; rejects when it aborts (quota, a closing database). */
export function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () =>
      reject(tx.error ?? new DOMException('The transaction aborted.', 'AbortError'));
  });
}

export function openDb(): Promise<IDBDatabase> {
  const r = indexedDB.open(DB_NAME, 1);
  r.onupgradeneeded = () => r.result.createObjectStore(STORE);
  return request(r);
}

function isStored(v: unknown): v is StoredIdentity {
  const s = v as Partial<StoredIdentity> | undefined;
  return (
    s?.version === 1 &&
    typeof s.deviceId === 'string' &&
    s.publicKey instanceof Uint8Array &&
    s.publicKey.length === 32 &&
    s.iv instanceof Uint8Array &&
    s.sealedSeed instanceof ArrayBuffer &&
    s.wrapKey instanceof CryptoKey
  );
}

function fresh(): { deviceId: string; publicKey: Uint8Array; secretKey: Uint8Array } {
  const secretKey = ed25519.utils.randomSecretKey();
  const publicKey = ed25519.getPublicKey(secretKey);
  return {
    deviceId: `web-${encodeBase64Url(crypto.getRandomValues(new Uint8Array(9)))}`,
    publicKey,
    secretKey,
  };
}

async function unseal(s: StoredIdentity): Promise<WebIdentity | null> {
  const seed = new Uint8Array(
    await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: s.iv as Uint8Array<ArrayBuffer> },
      s.wrapKey,
      s.sealedSeed,
    ),
  );
  // A record whose key does not match its seed is not ours to use: make a new identity.
  const derived = ed25519.getPublicKey(seed);
  if (derived.length !== 32 || !derived.every((b, i) => b === s.publicKey[i])) return null;
  return { deviceId: s.deviceId, publicKey: s.publicKey, secretKey: seed, persistent: true };
}

async function seal(id: {
  deviceId: string;
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}): Promise<StoredIdentity> {
  const wrapKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealedSeed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv },
    wrapKey,
    id.secretKey as Uint8Array<ArrayBuffer>,
  );
  return { version: 1, deviceId: id.deviceId, publicKey: id.publicKey, iv, sealedSeed, wrapKey };
}

/** This browser's identity: the stored one, or a new one (stored when IndexedDB allows). */
export async function loadIdentity(): Promise<WebIdentity> {
  let db: IDBDatabase;
  try {
    db = await openDb();
  } catch (error) {
    // Expected where storage is refused (some private windows): a per-page identity instead.
    if (error instanceof DOMException) return { ...fresh(), persistent: false };
    throw error;
  }
  try {
    const stored: unknown = await request(db.transaction(STORE).objectStore(STORE).get(RECORD));
    if (isStored(stored)) {
      const id = await unseal(stored);
      if (id !== null) return id;
    }
    const id = fresh();
    const record = await seal(id);
    await request(db.transaction(STORE, 'readwrite').objectStore(STORE).put(record, RECORD));
    return { ...id, persistent: true };
  } finally {
    db.close();
  }
}
