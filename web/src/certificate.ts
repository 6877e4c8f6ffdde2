/**
 * This browser's identity certificate (docs/admin.md §Organization identities): an organization's
 * signature over this browser's identity key and a name, which rooms and people who trust that
 * organization verify. The browser shows its key; the organization's issuer runs
 * `roomctl identity issue … --key <that key>`; the person pastes the certificate here. It is checked
 * for shape, for naming this browser's key, for its validity period and for its signature by the
 * issuer key it names (whether that issuer is an organization anyone trusts is for each receiver to
 * decide, and for this page to say), then kept beside the key in IndexedDB: a certificate is
 * public, so it is stored as it is.
 */
import { encodeBase64Url } from '../../src/core/encoding.ts';
import { checkCertificate, type IdentityCertificate, parseCertificate } from '../../src/e2ee/certificate.ts';
import { RoomdError } from '../../src/core/errors.ts';
import { committed, openDb, request, STORE } from './identity.ts';

/** Certificates are a few hundred bytes; anything much longer is not one. */
const MAX_CERTIFICATE_CHARS = 4096;

export type CertificateInput = { ok: true; cert: IdentityCertificate } | { ok: false; message: string };

/** A pasted certificate, checked for this browser's key `publicKey` and for being valid at `wallNow`. */
export function certificateFor(text: string, publicKey: Uint8Array, wallNow: number): CertificateInput {
  if (text.length > MAX_CERTIFICATE_CHARS)
    return { ok: false, message: 'That is too long to be a certificate.' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) return { ok: false, message: 'That is not a certificate (not JSON).' };
    throw error;
  }
  let cert: IdentityCertificate;
  try {
    cert = parseCertificate(value);
  } catch (error) {
    if (error instanceof RoomdError && error.code === 'e2ee.malformed')
      return { ok: false, message: `That is not a certificate: ${error.message}` };
    throw error;
  }
  if (cert.key !== encodeBase64Url(publicKey))
    return { ok: false, message: "That certificate is for another key, not this browser's." };
  if (wallNow >= cert.notAfter) return { ok: false, message: 'That certificate has expired.' };
  if (wallNow < cert.notBefore) return { ok: false, message: 'That certificate is not valid yet.' };
  // Signed by the issuer key it names: a mistyped or made-up certificate is refused here, not only
  // by everyone it is shown to.
  const check = checkCertificate(publicKey, cert, [{ org: cert.org, publicKey: cert.issuer }]);
  if (!check.ok) return { ok: false, message: 'That certificate is not signed by the key it names.' };
  return { ok: true, cert };
}

const RECORD = 'certificate';

async function withStore<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await request(f(db.transaction(STORE, mode).objectStore(STORE)));
  } finally {
    db.close();
  }
}

/** The certificate kept for `publicKey`, or null (none, another key's, storage refused). */
export async function loadCertificate(
  publicKey: Uint8Array,
  wallNow: number,
): Promise<IdentityCertificate | null> {
  let stored: unknown;
  try {
    stored = await withStore('readonly', (s) => s.get(RECORD));
  } catch (error) {
    // Storage refused (some private windows): no certificate kept.
    if (error instanceof DOMException) return null;
    throw error;
  }
  if (typeof stored !== 'string') return null;
  const r = certificateFor(stored, publicKey, wallNow);
  return r.ok ? r.cert : null;
}

/** Keep `cert` (null forgets it); false when this browser refuses storage. */
export async function saveCertificate(cert: IdentityCertificate | null): Promise<boolean> {
  try {
    const db = await openDb();
    try {
      const tx = db.transaction(STORE, 'readwrite');
      if (cert === null) tx.objectStore(STORE).delete(RECORD);
      else tx.objectStore(STORE).put(JSON.stringify(cert), RECORD);
      // Kept only once the transaction commits (it may still abort, e.g. over quota).
      await committed(tx);
    } finally {
      db.close();
    }
    return true;
  } catch (error) {
    if (error instanceof DOMException) return false;
    throw error;
  }
}
