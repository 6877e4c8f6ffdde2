/**
 * Reading the room screen's state the way the kiosk page does (`GET /api/v1/state`,
 * docs/kiosk-and-admin-api.md), for tests that drive a real room or demo.
 */
import type { RoomState } from '../../src/http/schemas/state.ts';

export async function kioskState(kioskUrl: string): Promise<RoomState> {
  return (await (await fetch(new URL('/api/v1/state', kioskUrl))).json()) as RoomState;
}

/**
 * The state once `ok` holds (polled), or a failure naming `what` with the last meeting state — a
 * condition to wait on, never a fixed sleep.
 */
export async function kioskStateWhen(
  kioskUrl: string,
  ok: (s: RoomState) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<RoomState> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await kioskState(kioskUrl);
    if (ok(s)) return s;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s.meeting)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
