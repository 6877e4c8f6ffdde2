/**
 * The organizations this browser trusts, and the keys it has seen certified names use, kept in
 * IndexedDB beside its identity (docs/admin.md §People in a browser). A meeting link may name an
 * organization (web/src/link.ts), but a link's fragment can come from whoever sent the invitation
 * or from the relay itself (a redirect may carry a fragment of its own), so a link never adds trust
 * by itself: an organization the browser does not know yet is trusted only when the person says so
 * (shown with its key's fingerprint), and a link that names a known organization with another key
 * is refused, loudly. The identity pins (a certified name on a new key: "Key changed") last across
 * meetings, as the room's do.
 */
import { decodeBase64Url } from '../../src/core/encoding.ts';
import {
  CERT_LIMITS,
  keyFingerprint,
  MemoryIdentityPins,
  parseTrustAnchor,
  type TrustAnchor,
} from '../../src/e2ee/certificate.ts';
import { RoomdError } from '../../src/core/errors.ts';
import { committed, openDb, request, STORE } from './identity.ts';

const ANCHORS = 'anchors';
const PINS = 'pins';
const MAX_PINS = 10_000;

/** What the link's organization means to this browser. */
export type LinkTrust =
  | { kind: 'none' }
  | { kind: 'known'; anchor: TrustAnchor }
  | { kind: 'new'; anchor: TrustAnchor }
  | { kind: 'conflict'; anchor: TrustAnchor; known: TrustAnchor };

export function linkTrust(proposed: TrustAnchor | null, known: readonly TrustAnchor[]): LinkTrust {
  if (proposed === null) return { kind: 'none' };
  const same = known.find((a) => a.org === proposed.org);
  if (same === undefined) return { kind: 'new', anchor: proposed };
  if (same.publicKey === proposed.publicKey) return { kind: 'known', anchor: proposed };
  return { kind: 'conflict', anchor: proposed, known: same };
}

/** The anchor key's fingerprint, as people compare it ("1a2b 3c4d 5e6f 7a8b"). */
export function anchorFingerprint(anchor: TrustAnchor): string {
  return keyFingerprint(decodeBase64Url(anchor.publicKey) ?? new Uint8Array(0));
}

/** Add `anchor` to `known` (never replacing an organization's key; at most CERT_LIMITS.maxAnchors). */
export function withAnchor(known: readonly TrustAnchor[], anchor: TrustAnchor): TrustAnchor[] {
  if (known.some((a) => a.org === anchor.org) || known.length >= CERT_LIMITS.maxAnchors) return [...known];
  return [...known, anchor];
}

async function get(record: string): Promise<unknown> {
  const db = await openDb();
  try {
    return await request(db.transaction(STORE).objectStore(STORE).get(record));
  } finally {
    db.close();
  }
}

async function put(record: string, value: unknown): Promise<void> {
  const db = await openDb();
  try {
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(value, record);
    await committed(tx);
  } finally {
    db.close();
  }
}

function anchorsOf(v: unknown): TrustAnchor[] {
  if (!Array.isArray(v)) return [];
  const out: TrustAnchor[] = [];
  for (const a of v.slice(0, CERT_LIMITS.maxAnchors)) {
    try {
      out.push(parseTrustAnchor(a));
    } catch (error) {
      // A record that is not an anchor (written by another version, damaged): left out.
      if (!(error instanceof RoomdError)) throw error;
    }
  }
  return out;
}

function pinsOf(v: unknown): [string, string, string][] {
  if (!Array.isArray(v)) return [];
  return v
    .slice(0, MAX_PINS)
    .filter(
      (p): p is [string, string, string] =>
        Array.isArray(p) && p.length === 3 && p.every((x) => typeof x === 'string' && x.length <= 256),
    );
}

/** Identity pins that outlive the page: kept in memory for the core, written through to IndexedDB. */
export class KeptIdentityPins extends MemoryIdentityPins {
  readonly #entries: [string, string, string][];

  constructor(entries: [string, string, string][]) {
    super(entries, MAX_PINS);
    this.#entries = entries.slice();
  }

  override pin(org: string, name: string, key: string): void {
    if (this.get(org, name) !== undefined) return;
    super.pin(org, name, key);
    if (this.get(org, name) !== key || this.#entries.length >= MAX_PINS) return;
    this.#entries.push([org, name, key]);
    // Written in the background: storage refused only means the pin lasts for this page.
    put(PINS, this.#entries).catch((error: unknown) => {
      if (!(error instanceof DOMException)) throw error;
    });
  }
}

export interface KeptTrust {
  anchors: TrustAnchor[];
  pins: KeptIdentityPins;
  /** False where this browser keeps nothing (storage refused): trust lasts for this page. */
  persistent: boolean;
}

export async function loadTrust(): Promise<KeptTrust> {
  try {
    const [anchors, pins] = await Promise.all([get(ANCHORS), get(PINS)]);
    return { anchors: anchorsOf(anchors), pins: new KeptIdentityPins(pinsOf(pins)), persistent: true };
  } catch (error) {
    if (!(error instanceof DOMException)) throw error;
    return { anchors: [], pins: new KeptIdentityPins([]), persistent: false };
  }
}

/** Keep the organizations this browser trusts; false when storage is refused. */
export async function saveAnchors(anchors: readonly TrustAnchor[]): Promise<boolean> {
  try {
    await put(
      ANCHORS,
      anchors.map((a) => ({ org: a.org, publicKey: a.publicKey })),
    );
    return true;
  } catch (error) {
    if (error instanceof DOMException) return false;
    throw error;
  }
}
