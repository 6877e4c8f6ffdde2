/**
 * Integration harness for meetings: a real relay (wrtc on loopback) with optional misbehaviour
 * hooks, meetings created on it, headless participants joining through the real client session,
 * and polling helpers. Everything it starts is stopped by `close()`.
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

export type Identity = ReturnType<typeof ephemeralIdentity>;

export interface Harness {
  relay: Relay;
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
  options: { hooks?: RelayHooks; relay?: RelayOptions } = {},
): Promise<Harness> {
  const hooks: RelayHooks = options.hooks ?? {};
  const log = silentLogger();
  const clock = new SystemClock();
  const peers = new WorkerPeerConnectionFactory({ logger: log });
  const relayOptions: RelayOptions = { logger: log, hooks, ...options.relay };
  let relay = createRelay(relayOptions);
  await relay.start();
  const host = ephemeralIdentity('host');
  const people: HeadlessParticipant[] = [];
  return {
    get relay() {
      return relay;
    },
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
