/**
 * `roomctl identity` (docs/admin.md §Organization identities): a small issuer for an organization's
 * identity certificates, and the room side of them.
 *
 * On the admin's machine, no room needed: `org-init` makes the organization's anchor key pair file
 * and prints the trust anchor rooms are given; `issue` signs a certificate for an identity key.
 * Against a room (admin API, admin scope): `show` (its identity key and certificate status),
 * `provision` (install an anchor and the room's certificate), `pins` and `forget` (key pins).
 */
import { createOrgKey, ORG_KEY_FORMAT, orgAnchor, readOrgKey } from '../../config/org-key.ts';
import { RoomdError } from '../../core/errors.ts';
import {
  IDENTITY_KINDS,
  type IdentityCertificate,
  type IdentityKind,
  issueCertificate,
  parseCertificate,
  parseTrustAnchor,
  type TrustAnchor,
} from '../../e2ee/index.ts';
import type { IdentityReply, PinInfo } from '../admin/identity.ts';
import type { AdminClient } from './client.ts';
import type { CommandResult } from './commands.ts';
import { RoomctlError, RoomctlExit } from './exit.ts';

export const IDENTITY_USAGE = `Usage: roomctl identity <command> [options]

An organization vouches for the identity keys of its rooms, people and bots with certificates
signed by its trust-anchor key; rooms that trust the organization show them as "Verified".

On the admin's machine (no room needed):
  org-init --org NAME --out FILE
      Make the organization's anchor key pair in FILE (mode 0600; never overwrites; keep it
      secret). Prints the trust anchor {org, publicKey} to give rooms (stdout; save it to a file).
  issue --org-key FILE --name NAME --kind room|person|bot --key IVK [--days N]
      Print a certificate (JSON) that IVK, a base64url Ed25519 identity key, belongs to NAME of
      the organization in FILE, valid from 5 minutes ago for N days (default 365, at most 3650).
      A room's key: 'roomctl identity show'.

Against a room (admin token):
  show                                 The room's identity key, fingerprint and certificate status.
  provision [--anchor FILE] [--cert FILE]
                                       Add the trust anchor (as org-init printed it) and install
                                       the room's certificate. The room refuses a certificate that
                                       is not for its own key or not from a trusted anchor.
  pins                                 Identity keys this room has pinned per (organization, name).
  forget --org ORG --name NAME         Forget one pin, to accept a person's new key.

Every command takes --json.`;

const DAY_MS = 86_400_000;
/** Certificates start a little in the past, so a room whose clock is slightly behind accepts them. */
const SKEW_MS = 5 * 60_000;
const MAX_DAYS = 3650;

function dataErr(message: string): RoomctlError {
  return new RoomctlError(RoomctlExit.dataErr, message);
}

/** A RoomdError from the key file or the certificate code, as roomctl's exit codes see it. */
function fromRoomd(error: unknown): never {
  if (error instanceof RoomdError) {
    if (error.code === 'core.store_io') throw new RoomctlError(RoomctlExit.usage, error.message);
    if (error.code === 'config.invalid' || error.code === 'e2ee.malformed') throw dataErr(error.message);
  }
  throw error;
}

export async function orgInit(
  file: string,
  org: string,
  now: number,
): Promise<CommandResult & { note: string }> {
  const key = await createOrgKey(file, org, now).catch(fromRoomd);
  const anchor = orgAnchor(key);
  return {
    json: { anchor, file },
    human: JSON.stringify(anchor),
    note: `Made the anchor key of "${org}" in ${file} (mode 0600). Keep that file secret, ideally offline. Give rooms the trust anchor above: roomctl identity provision --anchor ANCHOR_FILE.`,
  };
}

export function isKind(value: string): value is IdentityKind {
  return (IDENTITY_KINDS as readonly string[]).includes(value);
}

export async function issue(
  input: { orgKeyFile: string; name: string; kind: IdentityKind; key: string; days: number },
  now: number,
): Promise<CommandResult> {
  if (!Number.isInteger(input.days) || input.days < 1 || input.days > MAX_DAYS)
    throw new RoomctlError(RoomctlExit.usage, `--days must be a whole number from 1 to ${MAX_DAYS}.`);
  if (!/^[A-Za-z0-9_-]{43}$/.test(input.key))
    throw dataErr('--key must be an Ed25519 identity key: 32 bytes in base64url (43 characters).');
  const org = await readOrgKey(input.orgKeyFile).catch(fromRoomd);
  let cert: IdentityCertificate;
  try {
    cert = issueCertificate(
      {
        org: org.org,
        name: input.name,
        kind: input.kind,
        key: new Uint8Array(Buffer.from(input.key, 'base64url')),
        notBefore: Math.max(0, now - SKEW_MS),
        notAfter: now + input.days * DAY_MS,
      },
      org.secretKey,
    );
  } catch (error) {
    fromRoomd(error);
  }
  return { json: cert, human: JSON.stringify(cert, null, 2) };
}

function parseJsonFile(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    if (error instanceof SyntaxError) throw dataErr(`The ${what} file is not JSON.`);
    throw error;
  }
}

/** The anchor file as org-init printed it; the key pair file itself is refused (it holds the secret). */
export function anchorFromText(text: string): TrustAnchor {
  const raw = parseJsonFile(text, 'anchor');
  if (
    typeof raw === 'object' &&
    raw !== null &&
    (raw as Record<string, unknown>)['format'] === ORG_KEY_FORMAT
  )
    throw dataErr(
      "That is the organization's secret key file; give rooms only the trust anchor org-init printed ({org, publicKey}).",
    );
  try {
    return parseTrustAnchor(raw, 'anchor');
  } catch (error) {
    fromRoomd(error);
  }
}

export function certificateFromText(text: string): IdentityCertificate {
  try {
    return parseCertificate(parseJsonFile(text, 'certificate'), 'certificate');
  } catch (error) {
    fromRoomd(error);
  }
}

function renderShow(r: IdentityReply): string {
  const c = r.certificateStatus;
  const cert =
    c.status === 'none'
      ? 'none'
      : c.status === 'verified'
        ? `verified: "${c.name}" (${c.kind}) of ${c.org}, valid until ${c.notAfter}`
        : `NOT VERIFIED: ${c.reason}`;
  const anchors =
    r.trustAnchors.length === 0 ? ['none'] : r.trustAnchors.map((a) => `${a.org} (${a.fingerprint})`);
  return [
    `Device         ${r.deviceId}`,
    `Identity key   ${r.identityKey}`,
    `Fingerprint    ${r.fingerprint}`,
    `Certificate    ${cert}`,
    `Trust anchors  ${anchors.join('\n               ')}`,
    `Unverified     ${r.unverifiedParticipants}`,
    `Pinned keys    ${r.pins}`,
    ...r.problems.map((p) => `Problem: ${p}`),
  ].join('\n');
}

export async function show(client: AdminClient): Promise<CommandResult> {
  const r = (await client.call('GET', '/api/v1/identity')).json as IdentityReply;
  return { json: r, human: renderShow(r) };
}

export async function provision(
  client: AdminClient,
  input: { anchor?: TrustAnchor; certificate?: IdentityCertificate },
): Promise<CommandResult> {
  const identity: Record<string, unknown> = {};
  if (input.anchor !== undefined) {
    const a = input.anchor;
    const current = (await client.call('GET', '/api/v1/settings')).json as {
      identity?: { trustAnchors?: TrustAnchor[] };
    };
    const anchors = current.identity?.trustAnchors ?? [];
    const known = anchors.some((x) => x.org === a.org && x.publicKey === a.publicKey);
    identity['trustAnchors'] = known ? anchors : [...anchors, a];
  }
  if (input.certificate !== undefined) identity['certificate'] = input.certificate;
  await client.call('PATCH', '/api/v1/settings', { identity });
  const r = (await client.call('GET', '/api/v1/identity')).json as IdentityReply;
  return { json: r, human: `Installed.\n${renderShow(r)}` };
}

export async function pins(client: AdminClient): Promise<CommandResult> {
  const r = (await client.call('GET', '/api/v1/identity/pins')).json as {
    pins: PinInfo[];
    problem: string | null;
  };
  const lines = r.pins.map((p) => `${p.org}\t${p.name}\t${p.fingerprint}\tfirst seen ${p.firstSeen}`);
  if (r.pins.length === 0) lines.push('No identity keys pinned yet.');
  if (r.problem !== null) lines.push(`Problem: ${r.problem}`);
  return { json: r, human: lines.join('\n') };
}

export async function forget(client: AdminClient, org: string, name: string): Promise<CommandResult> {
  await client.call('POST', '/api/v1/identity/pins/forget', { org, name });
  return {
    json: { forgotten: { org, name } },
    human: `Forgot the identity key pinned for "${name}" of "${org}"; the next verified key for that name is pinned.`,
  };
}
