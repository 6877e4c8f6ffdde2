/**
 * Uplink reports (docs/protocol.md §Uplink reports), embedded plane: the relay tells each sender, at
 * most every UPLINK_REPORT_MS, the newest frame of each of its streams that reached the relay and
 * how long ago. The sender matches them with what it sent and when, and learns how much of what it
 * sent is still queued on the way and how fast its uplink delivers (media/stream/rate-control.ts).
 * Only cleartext chunk headers are read. Reports ride on chunk arrivals: no media, no report.
 */
import type { MediaChunkHeader } from '../protocol/media-header.ts';
import { UPLINK_MAX_AGE_MS, UPLINK_REPORT_MS } from '../protocol/schemas.ts';
import type { OutgoingBody } from './hooks.ts';

/** One sender's newest arrivals, per stream id. */
export interface UplinkState {
  readonly streams: Map<number, { frameNumber: number; at: number }>;
  lastReportAt: number;
}

export function newUplinkState(): UplinkState {
  return { streams: new Map(), lastReportAt: Number.NEGATIVE_INFINITY };
}

/** Whether frame number `a` is newer than `b` (serial numbers: they wrap at 2^32). */
export function newerFrame(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x8000_0000;
}

/** Most stream ids a report names (a sender may number its streams 0..255; it uses four). */
const MAX_STREAMS = 8;

/**
 * A chunk of `header` arrived at `now` (monotonic ms). Returns the report to send now, or null when
 * the last one went out less than UPLINK_REPORT_MS ago.
 */
export function observeUplink(
  state: UplinkState,
  header: MediaChunkHeader,
  now: number,
): OutgoingBody | null {
  const seen = state.streams.get(header.streamId);
  if (seen === undefined) {
    if (state.streams.size < MAX_STREAMS)
      state.streams.set(header.streamId, { frameNumber: header.frameNumber, at: now });
  } else if (seen.frameNumber === header.frameNumber || newerFrame(header.frameNumber, seen.frameNumber)) {
    seen.frameNumber = header.frameNumber;
    seen.at = now;
  }
  if (now - state.lastReportAt < UPLINK_REPORT_MS) return null;
  const streams: { streamId: number; frameNumber: number; ageMs: number }[] = [];
  for (const [streamId, s] of state.streams) {
    const ageMs = Math.max(0, Math.round(now - s.at));
    if (ageMs > UPLINK_MAX_AGE_MS) continue;
    streams.push({ streamId, frameNumber: s.frameNumber, ageMs });
  }
  // Only a ninth stream id arriving while the eight tracked are all silent: nothing to say.
  if (streams.length === 0) return null;
  state.lastReportAt = now;
  return { type: 'uplink', streams };
}
