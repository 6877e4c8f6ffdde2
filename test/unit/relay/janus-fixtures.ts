/**
 * What the Janus plane's unit tests share: a meeting occurrence, a participant of it as the relay's
 * session would hand it to a media plane (with the host it reports through), and a flush of the
 * promise chains a fake Janus answers on.
 */
import type { OutgoingBody } from '../../../src/relay/hooks.ts';
import { LiveMeeting, newStats, type Participant } from '../../../src/relay/live-meeting.ts';
import type { MediaHost } from '../../../src/relay/media-plane.ts';
import type { MeetingRecord } from '../../../src/relay/registry.ts';

export function meeting(id: string): LiveMeeting {
  return new LiveMeeting({ id } as MeetingRecord);
}

/** A participant of `m` and its host; what the plane sends it lands in `sent`. */
export function join(m: LiveMeeting, id: string): { p: Participant; host: MediaHost; sent: OutgoingBody[] } {
  const sent: OutgoingBody[] = [];
  const p = {
    id,
    seq: m.nextSeq(),
    meeting: m,
    pc: undefined,
    media: undefined,
    dropping: new Map(),
    behind: false,
    stats: newStats(),
    send: (b: OutgoingBody) => sent.push(b),
  } as unknown as Participant;
  m.participants.set(id, p);
  const host: MediaHost = {
    core: { mediaConnectionsLost: 0 } as unknown as MediaHost['core'],
    state: 'admitted',
    send: (b) => sent.push(b),
    guardTrip: (_where, error) => {
      throw error;
    },
  };
  return { p, host, sent };
}

export const tick = (): Promise<void> => new Promise<void>((r) => setImmediate(r));

/** Let the fake Janus's answers (queued microtasks and immediates) run through. */
export async function flush(turns = 30): Promise<void> {
  for (let i = 0; i < turns; i++) await tick();
}
