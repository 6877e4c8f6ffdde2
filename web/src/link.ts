/**
 * What a meeting link tells the page (docs/protocol.md §Web client): the meeting id, from the path
 * `/join/<id>` (or the fragment where the bundle is hosted elsewhere), and, in the fragment only,
 * the organization the link asks this visitor to trust: `#org=<name>&key=<base64url anchor key>`
 * (with `id=<meeting id>` too where the path has none). The fragment is never sent to a server, but
 * a server can still put one there (a redirect may carry its own), so it is only a proposal:
 * web/src/trust-store.ts decides what it means.
 */
import { decodeBase64Url } from '../../src/core/encoding.ts';
import { CERT_LIMITS, type TrustAnchor } from '../../src/e2ee/certificate.ts';

const MEETING_ID = /^[0-9][0-9-]{0,31}$/;
/** Control characters, and the invisible ones that could make a name read as another (bidi, zero-width). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

export interface MeetingLink {
  meetingId: string;
  /** The organization the link proposes; null without one (or with a malformed one). */
  anchor: TrustAnchor | null;
}

export function parseMeetingLink(loc: { readonly pathname: string; readonly hash: string }): MeetingLink {
  const fromPath = /\/join\/([0-9][0-9-]{0,31})\/?$/.exec(loc.pathname)?.[1];
  const hash = loc.hash.startsWith('#') ? loc.hash.slice(1) : loc.hash;
  if (MEETING_ID.test(hash)) return { meetingId: fromPath ?? hash, anchor: null };
  const params = new URLSearchParams(hash);
  const id = params.get('id');
  const meetingId = fromPath ?? (id !== null && MEETING_ID.test(id) ? id : '');
  return { meetingId, anchor: anchorOf(params.get('org'), params.get('key')) };
}

function anchorOf(org: string | null, key: string | null): TrustAnchor | null {
  if (org === null || key === null) return null;
  if (org.length === 0 || org.length > CERT_LIMITS.maxOrgLength || CONTROL.test(org)) return null;
  if (decodeBase64Url(key)?.length !== 32) return null;
  return { org, publicKey: key };
}

/** The fragment that makes a link vouch for `anchor` (the demo's banner prints such links). */
export function anchorFragment(anchor: TrustAnchor): string {
  return `org=${encodeURIComponent(anchor.org)}&key=${anchor.publicKey}`;
}
