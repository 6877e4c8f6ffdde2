/**
 * The room's schedule: meetings booked for this room on the meeting service, refreshed
 * periodically. The relay's HTTP API is the source in production; tests and the demo can give a
 * fixed list. A schedule that cannot be fetched keeps the last good one and reports why.
 *
 * The relay's answer is untrusted (docs/protocol.md "Meeting policy"): it is decoded totally and
 * bounded, and each meeting's host-signed policy is verified and pinned (`policy-pins.ts`), so the
 * encryption listed for a meeting is never weaker than the one its host signed, whatever the relay
 * says now.
 */
import type { TrustAnchor } from '../e2ee/index.ts';
import { strongerMode, verifyMeetingPolicy } from '../e2ee/index.ts';
import type { NetworkSettings } from '../transport/http-proxy.ts';
import { apiRequest } from '../transport/http-request.ts';
import type { EncryptionMode } from '../protocol/vocabulary.ts';
import type { MeetingPolicyBook } from './policy-pins.ts';

export interface BookedMeeting {
  meetingId: string;
  title: string;
  /** ISO 8601. */
  start: string;
  end: string;
  /** The stronger of what the relay lists and what the meeting's host signed (verified or pinned). */
  encryption: EncryptionMode;
  /** Known to the room because it is booked for it; never shown on screen. */
  passcode: string | null;
  /** The encryption the meeting's host signed, verified now or pinned earlier; absent: none known. */
  signedEncryption?: EncryptionMode;
  /** Why the policy the relay sent with this meeting counts for nothing, in words. */
  policyProblem?: string;
}

export interface ScheduleSource {
  list(): Promise<BookedMeeting[]>;
}

/** `ws(s)://host:port/v1/signal` → `http(s)://host:port` */
export function apiBaseFromSignalUrl(signalUrl: string): string {
  const u = new URL(signalUrl);
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
  u.pathname = '';
  return u.origin;
}

/** Bounds on the relay's schedule answer (docs/protocol.md "Meeting policy"). */
export const SCHEDULE_LIMITS = Object.freeze({ maxBytes: 1024 * 1024, maxMeetings: 500 });

interface RelayMeeting {
  id: string;
  title: string;
  start: string | null;
  end: string | null;
  encryption: EncryptionMode;
  passcode: string | null;
  policy: unknown;
}

const MEETING_ID = /^[A-Za-z0-9-]{3,64}$/;

function optionalTime(v: unknown): string | null | undefined {
  if (v === null) return null;
  if (typeof v !== 'string' || v.length > 40 || !Number.isFinite(Date.parse(v))) return undefined;
  return v;
}

/** One entry of the relay's answer, or undefined when it is not a meeting. */
function relayMeeting(v: unknown): RelayMeeting | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const { id, title, encryption, passcode } = o;
  const start = optionalTime(o['start']);
  const end = optionalTime(o['end']);
  if (typeof id !== 'string' || !MEETING_ID.test(id)) return undefined;
  if (typeof title !== 'string' || title.length > 200) return undefined;
  if (encryption !== 'e2ee' && encryption !== 'enhanced') return undefined;
  if (passcode !== null && (typeof passcode !== 'string' || passcode.length > 64)) return undefined;
  if (start === undefined || end === undefined) return undefined;
  return { id, title, start, end, encryption, passcode, policy: o['policy'] };
}

/** The relay's schedule answer, decoded totally: entries that are not meetings are dropped and counted. */
export function decodeSchedule(body: unknown): { meetings: RelayMeeting[]; dropped: number } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new Error('the meeting service answered with something that is not a schedule');
  }
  const list = (body as Record<string, unknown>)['meetings'] ?? [];
  if (!Array.isArray(list))
    throw new Error('the meeting service answered with something that is not a schedule');
  if (list.length > SCHEDULE_LIMITS.maxMeetings) {
    throw new Error(`the meeting service listed more than ${SCHEDULE_LIMITS.maxMeetings} meetings`);
  }
  const meetings: RelayMeeting[] = [];
  let dropped = 0;
  for (const v of list) {
    const m = relayMeeting(v);
    if (m === undefined) dropped++;
    else meetings.push(m);
  }
  return { meetings, dropped };
}

export interface RelayScheduleOptions {
  signalUrl: string;
  /** The room's device id: the room the token is for. */
  room: string;
  /** The room's credential on the meeting service (docs/protocol.md §Management API); never logged. */
  token: () => string | null;
  /** The room's Ed25519 identity public key (base64url), registered once so the relay knows its joins. */
  identityKey?: string;
  now?: () => number;
  /** Verified meeting policies, pinned per meeting id; without it policies are verified but not kept. */
  policies?: MeetingPolicyBook;
  /** Organizations whose certificates the room accepts for meeting hosts. Policies by the room's own key always verify. */
  anchors?: () => readonly TrustAnchor[];
  /** Proxy and TLS trust for the meeting service (docs/admin.md §Firewalls), read at every request. */
  network?: () => NetworkSettings;
}

/** What the schedule source refused from the relay (for logs and metrics). */
export interface ScheduleCounters {
  /** Schedule entries that were not meetings. */
  droppedMeetings: number;
  /** Meeting policies that counted for nothing: malformed, forged, by an untrusted key, another meeting's. */
  refusedPolicies: number;
}

/**
 * The room's bookings from the relay: `GET /api/v1/rooms/ROOM/schedule` with the room's own token,
 * which reads only this room's meetings (with the passcodes it needs to join them). The room's
 * identity key is registered first (`PUT /api/v1/rooms/ROOM/identity`), so the relay never holds its
 * own joins back behind someone else's wrong passcodes (docs/protocol.md §Wrong passcodes).
 */
export class RelayScheduleSource implements ScheduleSource {
  readonly #base: string;
  readonly #o: RelayScheduleOptions;
  readonly #now: () => number;
  #registered = false;
  readonly counters: ScheduleCounters = { droppedMeetings: 0, refusedPolicies: 0 };

  constructor(options: RelayScheduleOptions) {
    this.#base = apiBaseFromSignalUrl(options.signalUrl);
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  async list(): Promise<BookedMeeting[]> {
    const token = this.#o.token();
    if (token === null || token === '') {
      throw new Error('the room has no meeting service token (setting meetingService.token)');
    }
    const room = encodeURIComponent(this.#o.room);
    const headers = { authorization: `Bearer ${token}` };
    if (!this.#registered && this.#o.identityKey !== undefined) {
      const res = await apiRequest(`${this.#base}/api/v1/rooms/${room}/identity`, {
        method: 'PUT',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ identityKey: this.#o.identityKey }),
        timeoutMs: 5000,
        maxBytes: 64 * 1024,
        ...this.#network(),
      });
      if (!res.ok) throw new Error(`the meeting service answered ${res.status}`);
      this.#registered = true;
    }
    const res = await apiRequest(`${this.#base}/api/v1/rooms/${room}/schedule`, {
      headers,
      timeoutMs: 5000,
      maxBytes: SCHEDULE_LIMITS.maxBytes,
      ...this.#network(),
    });
    if (!res.ok) throw new Error(`the meeting service answered ${res.status}`);
    const text = res.text;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw new Error('the meeting service answered with something that is not JSON');
    }
    const decoded = decodeSchedule(json);
    this.counters.droppedMeetings += decoded.dropped;
    const now = this.#now();
    const dayStart = new Date(now);
    dayStart.setHours(0, 0, 0, 0);
    return decoded.meetings
      .map((m) => this.#booked(m, now))
      .filter((m) => Date.parse(m.end) >= dayStart.getTime())
      .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  }

  #network(): { network?: NetworkSettings } {
    return this.#o.network === undefined ? {} : { network: this.#o.network() };
  }

  /** One meeting as the room lists it: its policy verified and pinned, its encryption never below the pin. */
  #booked(m: RelayMeeting, now: number): BookedMeeting {
    let policyProblem: string | undefined;
    if (m.policy !== undefined) {
      const check = verifyMeetingPolicy(m.policy, {
        meetingId: m.id,
        anchors: this.#o.anchors?.() ?? [],
        wallNow: now,
        trustedHosts: this.#o.identityKey === undefined ? [] : [this.#o.identityKey],
      });
      if (check.ok) this.#o.policies?.pin(check.policy);
      else {
        this.counters.refusedPolicies++;
        policyProblem = check.message;
      }
      // Without a book the verified policy still counts for this listing.
      if (check.ok && this.#o.policies === undefined) return this.#entry(m, now, check.encryption, undefined);
    }
    return this.#entry(m, now, this.#o.policies?.get(m.id)?.encryption, policyProblem);
  }

  #entry(
    m: RelayMeeting,
    now: number,
    signed: EncryptionMode | undefined,
    policyProblem: string | undefined,
  ): BookedMeeting {
    return {
      meetingId: m.id,
      title: m.title,
      start: m.start ?? new Date(now).toISOString(),
      end: m.end ?? new Date(now + 3_600_000).toISOString(),
      encryption: strongerMode(m.encryption, signed),
      passcode: m.passcode,
      ...(signed === undefined ? {} : { signedEncryption: signed }),
      ...(policyProblem === undefined ? {} : { policyProblem }),
    };
  }
}
