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

export class RelayScheduleSource implements ScheduleSource {
  readonly #base: string;
  readonly #rooms: () => string[];
  readonly #token: string | undefined;
  readonly #now: () => number;

  /**
   * `rooms`: the names a booking may use for this room — its device id (stable across renames,
   * what roomd books with) and its display name (what people type into a calendar).
   */
  constructor(options: { signalUrl: string; rooms: () => string[]; token?: string; now?: () => number }) {
    this.#base = apiBaseFromSignalUrl(options.signalUrl);
    this.#rooms = options.rooms;
    this.#token = options.token;
    this.#now = options.now ?? Date.now;
  }

  async list(): Promise<BookedMeeting[]> {
    const res = await fetch(`${this.#base}/api/v1/meetings`, {
      headers: this.#token === undefined ? {} : { authorization: `Bearer ${this.#token}` },
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`the meeting service answered ${res.status}`);
    const body = (await res.json()) as { meetings?: RelayMeeting[] };
    const rooms = new Set(this.#rooms());
    const dayStart = new Date(this.#now());
    dayStart.setHours(0, 0, 0, 0);
    return (body.meetings ?? [])
      .filter((m) => m.room !== null && rooms.has(m.room))
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
