/**
 * Integration harness for meetings: a real relay (wrtc on loopback) with optional misbehaviour
 * hooks, meetings created on it, headless participants joining through the real client session,
 * and polling helpers. Everything it starts is stopped by `close()`.
 *
 * The relay carries media on either of its planes (docs/decisions/0018-media-planes.md): its own
 * fan-out (`embedded`, the default) or Janus VideoRoom (`janus`). A test file runs the same bodies on
 * both with `describe.each(PLANES)`; the `janus` plane uses one Janus per test file (`sharedJanus`,
 * in a network namespace, root only), which the file stops with `afterAll(stopSharedJanus)`.
 *
 * The participants' WebRTC runs in a supervised media worker, as the room's and the relay's do
 * (docs/decisions/0013-media-worker.md): the native library can crash the process that hosts it,
 * and a test process must not be that process.
 */
import { ephemeralIdentity } from '../../src/app/bot.ts';
import { SystemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { HeadlessParticipant, type HeadlessOptions } from '../../src/meeting/headless.ts';
import { toBase64Url } from '../../src/protocol/codec.ts';
import type { ClientType, EncryptionMode } from '../../src/protocol/vocabulary.ts';
import { createRelay, type Relay, type RelayHooks, type RelayOptions } from '../../src/relay/index.ts';
import { WorkerPeerConnectionFactory } from '../../src/transport/worker-peer.ts';
import { type JanusFixture, startJanus } from './janus.ts';

export type Identity = ReturnType<typeof ephemeralIdentity>;

/** The relay's media planes (docs/decisions/0018-media-planes.md). */
export type Plane = 'embedded' | 'janus';
export const PLANES: readonly Plane[] = ['embedded', 'janus'];

let janus: Promise<JanusFixture> | undefined;

/** The Janus every `janus`-plane harness of this test file shares, started on first use. */
export function sharedJanus(): Promise<JanusFixture> {
  janus ??= startJanus();
  return janus;
}

/** Stops the shared Janus if this file started one (removing its namespace); call from afterAll. */
export async function stopSharedJanus(): Promise<void> {
  const started = janus;
  janus = undefined;
  const fixture = await started?.catch(() => undefined);
  await fixture?.stop();
}

export interface Harness {
  relay: Relay;
  plane: Plane;
  host: Identity;
  clock: SystemClock;
  peers: WorkerPeerConnectionFactory;
  hooks: RelayHooks;
  meeting(opts?: {
    encryption?: EncryptionMode;
    passcode?: string;
    joinBeforeHost?: boolean;
  }): Promise<string>;
  participant(
    meetingId: string,
    name: string,
    opts?: Partial<HeadlessOptions> & { client?: ClientType; identity?: Identity },
  ): HeadlessParticipant;
  restartRelay(): Promise<void>;
  close(): Promise<void>;
}

export const FAST_E2EE = {
  heartbeatIntervalMs: 250,
  heartbeatTimeoutMs: 1500,
  joinCoalesceMs: 50,
  switchBoundMs: 800,
  rosterGraceMs: 1500,
} as const;

export async function startHarness(
  options: { hooks?: RelayHooks; relay?: RelayOptions; plane?: Plane } = {},
): Promise<Harness> {
  const hooks: RelayHooks = options.hooks ?? {};
  const plane = options.plane ?? (options.relay?.mediaPlane?.kind === 'janus' ? 'janus' : 'embedded');
  const log = silentLogger();
  const clock = new SystemClock();
  // A relay given its own plane (another Janus, several instances) keeps it.
  const mediaPlane =
    plane === 'janus' && options.relay?.mediaPlane === undefined
      ? { mediaPlane: { kind: 'janus' as const, url: (await sharedJanus()).url } }
      : {};
  const peers = new WorkerPeerConnectionFactory({ logger: log });
  const relayOptions: RelayOptions = { logger: log, hooks, ...mediaPlane, ...options.relay };
  let relay = createRelay(relayOptions);
  await relay.start();
  const host = ephemeralIdentity('host');
  const people: HeadlessParticipant[] = [];
  return {
    get relay() {
      return relay;
    },
    plane,
    host,
    clock,
    peers,
    hooks,
    async meeting(o = {}) {
      const m = await relay.registry.create({
        title: 'Integration',
        hostIdentityKey: toBase64Url(host.publicKey),
        encryption: o.encryption ?? 'e2ee',
        ...(o.passcode === undefined ? {} : { passcode: o.passcode }),
        ...(o.joinBeforeHost === undefined ? {} : { joinBeforeHost: o.joinBeforeHost }),
      });
      return m.id;
    },
    participant(meetingId, name, o = {}) {
      const { client, identity, ...rest } = o;
      const p = new HeadlessParticipant({
        meetingId,
        relayUrl: relay.address.signalUrl,
        displayName: name,
        clientType: client ?? 'desktop',
        identity: identity ?? ephemeralIdentity(),
        peers,
        clock,
        log,
        e2eeParams: FAST_E2EE,
        backoff: { initialMs: 100, maxMs: 500 },
        videoFps: 20,
        audioFps: 25,
        ...rest,
      });
      people.push(p);
      return p;
    },
    async restartRelay() {
      const port = relay.address.port;
      await relay.stop();
      relay = createRelay({ ...relayOptions, port });
      await relay.start();
    },
    async close() {
      await Promise.all(people.map((p) => p.leave().catch(() => {})));
      await relay.stop();
      await peers.close();
    },
  };
}

/** Poll `fn` until it returns a truthy value; fail with `what` and the last value after the timeout. */
export async function waitFor<T>(fn: () => T, what: string, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T = fn();
  while (!last) {
    if (Date.now() > until)
      throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = fn();
  }
  return last;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until every one of `people` decrypted `more` fresh frames from every other one. */
export async function framesFlow(
  people: HeadlessParticipant[],
  more = 3,
  what = 'frames flowing between everyone',
): Promise<void> {
  const ids = people.map((p) => p.session.participantId!);
  const before = people.map((p) => ids.map((other) => p.okFrom(other)));
  await waitFor(
    () =>
      people.every((p, i) => ids.every((other, j) => i === j || p.okFrom(other) >= before[i]![j]! + more)),
    what,
    20_000,
  );
}

/**
 * Why the meeting's media is not on `h`'s plane with `publishers` publishers, or null when it is: on
 * `janus` every publisher is Janus's and no chunk went through the relay's own fan-out; on
 * `embedded` the fan-out carried them.
 */
export function mediaPlaneProblem(h: Harness, publishers: number): string | null {
  const stats = h.relay.stats();
  if (stats.mediaPlane.kind !== h.plane) return `the relay runs the ${stats.mediaPlane.kind} plane`;
  const viaFanout = stats.media.chunksIn;
  const janusPublishers = stats.mediaPlane.janus?.publishers ?? 0;
  const ok = h.plane === 'janus' ? viaFanout === 0 && janusPublishers === publishers : viaFanout > 0;
  return ok
    ? null
    : `${viaFanout} chunks through the fan-out, ${janusPublishers} Janus publishers (expected ${publishers})`;
}

/** Fails unless the meeting's media is on `h`'s plane (`mediaPlaneProblem`). */
export function expectMediaOn(h: Harness, publishers: number): void {
  const problem = mediaPlaneProblem(h, publishers);
  if (problem !== null) throw new Error(`media not on the ${h.plane} plane: ${problem}`);
}

export function allSecure(people: HeadlessParticipant[], shield: 'e2ee' | 'enhanced' = 'e2ee'): boolean {
  const codes = new Set(people.map((p) => p.session.snapshot.securityCode));
  const epochs = new Set(people.map((p) => p.session.sendEpoch));
  return (
    people.every((p) => p.session.snapshot.status === 'secure' && p.session.snapshot.shield === shield) &&
    codes.size === 1 &&
    epochs.size === 1 &&
    people.every((p) => p.session.snapshot.participants.length === people.length)
  );
}

/** What a participant's screen shows that must not depend on the media plane. */
export interface Screen {
  status: string;
  shield: string;
  alarmed: boolean;
  /** The leader's name as this participant's roster has it. */
  leader: string | null;
  /** Security and roster codes as letters in order of first appearance (keys differ per run). */
  securityCode: string | null;
  rosterCode: string | null;
  roster: { name: string; keyed: boolean; verified: boolean; identity: string }[];
}

/** The screens of `people`, by name, with codes made comparable across meetings. */
export function screens(people: readonly HeadlessParticipant[]): Record<string, Screen> {
  const letters = new Map<string, string>();
  const letter = (code: string | null): string | null => {
    if (code === null) return null;
    if (!letters.has(code)) letters.set(code, String.fromCharCode(65 + letters.size));
    return letters.get(code)!;
  };
  const out: Record<string, Screen> = {};
  for (const p of people) {
    const s = p.session.snapshot;
    out[p.name] = {
      status: s.status,
      shield: s.shield,
      alarmed: s.alarms.length > 0,
      leader: s.participants.find((x) => x.id === s.leader)?.name ?? null,
      securityCode: letter(s.securityCode),
      rosterCode: letter(s.rosterCode),
      roster: s.participants
        .map((x) => ({ name: x.name, keyed: x.keyed, verified: x.verified, identity: x.identity.status }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
  }
  return out;
}

/**
 * Screens recorded at the same points of the same test on each plane, compared once both ran: the
 * shield and the codes people read must not depend on how the relay carries media.
 */
export class PlaneComparison {
  readonly #seen = new Map<string, Map<Plane, string>>();

  record(plane: Plane, what: string, view: unknown): void {
    const byPlane = this.#seen.get(what) ?? new Map<Plane, string>();
    byPlane.set(plane, JSON.stringify(view));
    this.#seen.set(what, byPlane);
  }

  /** Points recorded on one plane only, or read differently; empty when the planes agree. */
  differences(): string[] {
    const out: string[] = [];
    for (const [what, byPlane] of this.#seen) {
      const views = PLANES.map((p) => byPlane.get(p));
      if (views.some((v) => v === undefined))
        out.push(`${what}: recorded on ${PLANES.filter((_, i) => views[i] !== undefined).join(', ')} only`);
      else if (new Set(views).size > 1)
        out.push(`${what}: ${PLANES.map((p, i) => `${p} ${views[i]}`).join(' | ')}`);
    }
    return out;
  }

  get size(): number {
    return this.#seen.size;
  }
}
