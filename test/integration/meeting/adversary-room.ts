/**
 * The room the adversarial-relay tests run in (docs/threat-model.md: the relay is the adversary): a
 * real relay with the test's hooks, headless participants whose warnings (alarms, refused E2EE
 * input) are captured, a shield watch over all of them, and the ways a victim's attack window
 * opens.
 */
import { expect } from 'vitest';
import { memoryLogger } from '../../../src/core/logger.ts';
import type { HeadlessOptions, HeadlessParticipant } from '../../../src/meeting/headless.ts';
import type { RelayHooks } from '../../../src/relay/index.ts';
import {
  allSecure,
  FAST_E2EE,
  type Harness,
  type Plane,
  startHarness,
  waitFor,
} from '../../helpers/meeting-harness.ts';
import { ShieldWatch } from './adversary.ts';

export const PARAMS = { ...FAST_E2EE, integrityAlarmMs: 2500 };
export const LONG = 30_000;

export interface Room {
  h: Harness;
  id: string;
  people: Map<string, HeadlessParticipant>;
  logs: Map<string, ReturnType<typeof memoryLogger>>;
  watch: ShieldWatch;
  /** Per-test reaction to what a client's signaling socket receives (before it is processed). */
  onTap: (name: string, text: string) => void;
  /** Heartbeats each participant's client has received (the leader sends them, so receives none). */
  heartbeats: Map<string, number>;
  /** `extra`: session options for this participant (over PARAMS and the captured logger). */
  add(name: string, host?: boolean, extra?: Partial<HeadlessOptions>): HeadlessParticipant;
  p(name: string): HeadlessParticipant;
  pid(name: string): string;
  rejected(name: string): string[];
  alarms(name: string): string[];
}

let room: Room | undefined;

/** Stops the watch and everything the current room started (call from afterEach). */
export async function closeRoom(): Promise<void> {
  room?.watch.stop();
  await room?.h.close();
  room = undefined;
}

/**
 * A meeting with `names` (the first is the host) all secure, every shield watched; [] for none yet.
 * Its media goes through `plane` (docs/decisions/0018-media-planes.md). `extra(name)` adds session
 * options per participant.
 */
export async function secureRoom(
  hooks: RelayHooks,
  names: string[],
  plane: Plane = 'embedded',
  extra: (name: string) => Partial<HeadlessOptions> = () => ({}),
): Promise<Room> {
  const h = await startHarness({ hooks, plane });
  const id = await h.meeting();
  const people = new Map<string, HeadlessParticipant>();
  const logs = new Map<string, ReturnType<typeof memoryLogger>>();
  const heartbeats = new Map<string, number>();
  const r: Room = {
    h,
    id,
    people,
    logs,
    heartbeats,
    watch: new ShieldWatch([]),
    onTap: () => {},
    add(name, host = false, more = extra(name)) {
      const mem = memoryLogger('warn');
      logs.set(name, mem);
      heartbeats.set(name, 0);
      const p = h.participant(id, name, {
        log: mem.logger,
        e2eeParams: PARAMS,
        tap: (dir, text) => {
          if (dir !== 'in') return;
          if (text.includes('e2ee.heartbeat')) heartbeats.set(name, (heartbeats.get(name) ?? 0) + 1);
          r.onTap(name, text);
        },
        ...(host ? { identity: h.host, client: 'room' as const } : {}),
        ...more,
      });
      people.set(name, p);
      r.watch.add(p);
      return p;
    },
    p: (name) => people.get(name)!,
    pid: (name) => people.get(name)!.session.participantId!,
    rejected: (name) =>
      (logs.get(name)?.lines ?? []).filter((l) => l.msg === 'e2ee input rejected').map((l) => String(l.code)),
    alarms: (name) =>
      (logs.get(name)?.lines ?? [])
        .filter((l) => l.msg !== 'e2ee input rejected' && typeof l.code === 'string')
        .map((l) => String(l.code)),
  };
  room = r;
  for (const [i, n] of names.entries()) {
    await r.add(n, i === 0).join();
  }
  if (names.length > 0)
    await waitFor(() => allSecure([...people.values()]), `${names.join(', ')} secure`, LONG);
  return r;
}

/** Adds a participant to a running room (watched too). */
export const joiner = (r: Room, name: string): HeadlessParticipant => r.add(name);

export function expectNeverE2ee(r: Room, names: string[]): void {
  for (const n of names) {
    expect(r.watch.window(n).length, `${n} sampled during the attack`).toBeGreaterThan(0);
    expect(r.watch.e2eeIn(n), `${n} read e2ee during the attack`).toEqual([]);
  }
}

/** Opens each victim's window when its shield first leaves 'e2ee' (attacks noticed by absence). */
export function openWhenShieldDrops(r: Room, names: string[]): Promise<void> {
  return waitFor(
    () => {
      for (const n of names) if (r.p(n).session.snapshot.shield !== 'e2ee') r.watch.open(n);
      return names.every((n) => r.watch.isOpen(n));
    },
    'the victims to leave e2ee',
    LONG,
  ).then(() => {});
}

/** Opens `name`'s window right after its client processed the first decrypt failure. */
export function openOnDecryptFailure(r: Room, name: string, attacking: () => boolean): void {
  const c = r.p(name).media.receiver as unknown as { decryptFailures: Record<string, number> };
  c.decryptFailures = new Proxy(c.decryptFailures, {
    set(target, key, value) {
      target[key as string] = value as number;
      if (attacking()) r.watch.openAfterThisMessage(name);
      return true;
    },
  });
}
