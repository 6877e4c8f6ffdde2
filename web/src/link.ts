/**
 * What a meeting link tells the page (docs/protocol.md §Web client): the meeting id, from the path
 * `/join/<id>` (or the fragment where the bundle is hosted elsewhere), and, in the fragment only,
 * the organization whose certificates this visitor trusts: `#org=<name>&key=<base64url anchor key>`
 * (with `id=<meeting id>` too where the path has none). The fragment never reaches a server, so the
 * relay that serves the page cannot change it; whoever sends the invitation vouches for the anchor.
 */
import { decodeBase64Url } from '../../src/core/encoding.ts';
import { CERT_LIMITS, type TrustAnchor } from '../../src/e2ee/certificate.ts';

const MEETING_ID = /^[0-9][0-9-]{0,31}$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface MeetingLink {
  meetingId: string;
  /** The organization the link vouches for; null without one (or with a malformed one). */
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
