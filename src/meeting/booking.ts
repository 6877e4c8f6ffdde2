/**
 * The room books a meeting for itself on the meeting service (`POST /api/v1/rooms/ROOM/meetings`,
 * docs/protocol.md §Management API). The room is the meeting's host: it chooses the meeting id,
 * signs the meeting policy with its identity key (and its organization certificate, when it has
 * one) and books both at once, so the encryption it booked can be checked by every participant and
 * by itself later, whatever the relay says (docs/protocol.md "Meeting policy"). Its own policy is
 * pinned at once.
 */
import { randomInt } from 'node:crypto';
import { RoomdError } from '../core/errors.ts';
import {
  bareMeetingId,
  type IdentityCertificate,
  type MeetingPolicy,
  parseCertificate,
  signMeetingPolicy,
} from '../e2ee/index.ts';
import { toBase64Url as toB64u } from '../protocol/codec.ts';
import type { EncryptionMode } from '../protocol/vocabulary.ts';
import type { MeetingPolicyBook } from './policy-pins.ts';
import type { NetworkSettings } from '../transport/http-proxy.ts';
import { type ApiAnswer, apiRequest } from '../transport/http-request.ts';
import { apiBaseFromSignalUrl } from './schedule.ts';

export interface MeetingBooking {
  title: string;
  start: string;
  end: string;
  encryption: EncryptionMode;
  passcode?: string;
}

export interface BookingOptions {
  signalUrl: string;
  /** The room's device id (the path names the room, so a booking survives renaming it). */
  room: string;
  /** The room's meeting-service credential; never logged. */
  token: string;
  identity: { publicKey: Uint8Array; secretKey: Uint8Array };
  /** The room's organization certificate for its identity key, if it has one. */
  cert?: IdentityCertificate;
  /** Wall-clock ms since the Unix epoch (the policy's `issuedAt`). */
  now: () => number;
  /** Where the room pins its own signed policy at once. */
  policies?: MeetingPolicyBook;
  /** Meeting ids to try (tests); default: random ids like 123-4567-8901. */
  newId?: () => string;
  /** Proxy and TLS trust for the meeting service (docs/admin.md §Firewalls). */
  network?: NetworkSettings;
}

/** A meeting id people can type: three groups of digits, like 123-4567-8901. */
export function randomMeetingId(): string {
  const d = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');
  return `${randomInt(1, 10)}${d(2)}-${d(4)}-${d(4)}`;
}

/**
 * The room's certificate from its settings, read defensively: absent, malformed or for another key
 * gives undefined (the policy is then signed without one; the room's own key still verifies it).
 */
export function ownCertificate(raw: unknown, publicKey: Uint8Array): IdentityCertificate | undefined {
  if (raw === undefined || raw === null) return undefined;
  let cert: IdentityCertificate;
  try {
    cert = parseCertificate(raw);
  } catch (error) {
    if (error instanceof RoomdError && error.code === 'e2ee.malformed') return undefined;
    throw error;
  }
  return cert.key === toB64u(publicKey) ? cert : undefined;
}

const ATTEMPTS = 3;

/** Book one meeting hosted by the room, with its signed policy. */
export async function bookMeeting(
  m: MeetingBooking,
  o: BookingOptions,
): Promise<{ meetingId: string; policy: MeetingPolicy }> {
  const url = `${apiBaseFromSignalUrl(o.signalUrl)}/api/v1/rooms/${encodeURIComponent(o.room)}/meetings`;
  for (let attempt = 1; ; attempt++) {
    const id = (o.newId ?? randomMeetingId)();
    const policy = signMeetingPolicy(
      {
        meetingId: id,
        encryption: m.encryption,
        issuedAt: o.now(),
        ...(o.cert === undefined ? {} : { cert: o.cert }),
      },
      o.identity,
    );
    const res = await apiRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
      body: JSON.stringify({
        id,
        title: m.title,
        start: m.start,
        end: m.end,
        encryption: m.encryption,
        passcode: m.passcode ?? null,
        hostIdentityKey: toB64u(o.identity.publicKey),
        policy,
      }),
      timeoutMs: 5000,
      maxBytes: 64 * 1024,
      ...(o.network === undefined ? {} : { network: o.network }),
    }).catch((error: unknown) => {
      // A proxy or certificate problem keeps its own sentence (it says what to fix), as does an
      // answer over the bound.
      if (error instanceof RoomdError && (keepsItsWords(error) || error.code === 'protocol.too_large'))
        throw error;
      throw new RoomdError('meeting.relay_unreachable', { cause: error });
    });
    const body = answer(res);
    if (res.status === 409 && body.code === 'relay.meeting_exists' && attempt < ATTEMPTS) continue;
    if (!res.ok) {
      throw new RoomdError('http.bad_request', {
        message: `The meeting service refused the booking: ${body.message ?? `HTTP ${res.status}`}`,
      });
    }
    if (typeof body.id !== 'string' || bareMeetingId(body.id) !== bareMeetingId(id)) {
      throw new RoomdError('meeting.wrong_meeting', {
        message: `The meeting service booked meeting ${String(body.id).slice(0, 64)} instead of ${id}, the one the room signed.`,
      });
    }
    o.policies?.pin(policy);
    return { meetingId: body.id, policy };
  }
}

function keepsItsWords(e: RoomdError): boolean {
  return e.code.startsWith('transport.proxy_') || e.code.startsWith('transport.tls_');
}

/** The relay's JSON answer (bounded by apiRequest); only the fields this client reads. */
function answer(res: ApiAnswer): { id?: unknown; code?: unknown; message?: string } {
  let json: unknown;
  try {
    json = JSON.parse(res.text);
  } catch (error) {
    if (error instanceof SyntaxError) return {};
    throw error;
  }
  if (typeof json !== 'object' || json === null) return {};
  const o = json as Record<string, unknown>;
  const message = typeof o['message'] === 'string' ? o['message'].slice(0, 300) : undefined;
  return { id: o['id'], code: o['code'], ...(message === undefined ? {} : { message }) };
}
