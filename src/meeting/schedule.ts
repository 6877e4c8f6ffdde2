/**
 * The room's schedule: meetings booked for this room on the meeting service, refreshed
 * periodically. The relay's HTTP API is the source in production; tests and the demo can give a
 * fixed list. A schedule that cannot be fetched keeps the last good one and reports why.
 */
import type { EncryptionMode } from '../protocol/limits.ts';

export interface BookedMeeting {
  meetingId: string;
  title: string;
  /** ISO 8601. */
  start: string;
  end: string;
  encryption: EncryptionMode;
  /** Known to the room because it is booked for it; never shown on screen. */
  passcode: string | null;
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

interface RelayMeeting {
  id: string;
  title: string;
  room: string | null;
  start: string | null;
  end: string | null;
  encryption: EncryptionMode;
  passcode: string | null;
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
      const res = await fetch(`${this.#base}/api/v1/rooms/${room}/identity`, {
        method: 'PUT',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ identityKey: this.#o.identityKey }),
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`the meeting service answered ${res.status}`);
      this.#registered = true;
    }
    const res = await fetch(`${this.#base}/api/v1/rooms/${room}/schedule`, {
      headers,
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`the meeting service answered ${res.status}`);
    const body = (await res.json()) as { meetings?: RelayMeeting[] };
    const dayStart = new Date(this.#now());
    dayStart.setHours(0, 0, 0, 0);
    return (body.meetings ?? [])
      .map((m) => ({
        meetingId: m.id,
        title: m.title,
        start: m.start ?? new Date(this.#now()).toISOString(),
        end: m.end ?? new Date(this.#now() + 3_600_000).toISOString(),
        encryption: m.encryption,
        passcode: m.passcode,
      }))
      .filter((m) => Date.parse(m.end) >= dayStart.getTime())
      .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  }
}
