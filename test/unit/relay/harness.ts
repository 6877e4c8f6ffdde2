// In-memory harness for relay unit tests: RelayCore + Connection driven through fake links and a
// fake peer network (no sockets, no wrtc).
import { ed25519 } from '@noble/curves/ed25519.js';
import { FakeClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import {
  type ClientMessage,
  decodeServerMessage,
  encodeClientMessage,
  fromBase64Url,
  hostProofMessage,
  type ServerMessage,
  type ServerMessageOf,
  toBase64Url,
  type WithoutV,
} from '../../../src/protocol/index.ts';
import { RelayCore, type RelayCoreOptions } from '../../../src/relay/core.ts';
import type { RelayHooks } from '../../../src/relay/hooks.ts';
import { type MeetingRecord, MeetingRegistry, type NewMeeting } from '../../../src/relay/registry.ts';
import { Connection } from '../../../src/relay/session.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';

export const hostSecret = ed25519.utils.randomSecretKey();
export const hostKey = toBase64Url(ed25519.getPublicKey(hostSecret));

export class TestClient {
  readonly inbox: ServerMessage[] = [];
  closedWith: { code: number; reason: string } | undefined;
  readonly conn: Connection;

  constructor(core: RelayCore, address: string) {
    this.conn = new Connection(core, {
      remoteAddress: address,
      send: (text) => {
        const r = decodeServerMessage(text);
        if (!r.ok) throw new Error(`relay sent an invalid message: ${r.error.message}`);
        this.inbox.push(r.message);
      },
      close: (code, reason) => {
        this.closedWith = { code, reason };
      },
    });
  }

  send(body: WithoutV<ClientMessage>): void {
    this.conn.receive(encodeClientMessage(body));
  }

  raw(text: string): void {
    this.conn.receive(text);
  }

  all<K extends ServerMessage['type']>(type: K): ServerMessageOf<K>[] {
    return this.inbox.filter((m) => m.type === type) as ServerMessageOf<K>[];
  }

  last<K extends ServerMessage['type']>(type: K): ServerMessageOf<K> | undefined {
    return this.all(type).at(-1);
  }

  get participantId(): string | undefined {
    const a = this.last('admission');
    return a?.status === 'admitted' ? a.participantId : undefined;
  }

  join(meetingId: string, over: Partial<Extract<WithoutV<ClientMessage>, { type: 'join' }>> = {}): void {
    this.send({
      type: 'join',
      meetingId,
      passcode: 'pass',
      displayName: 'Someone',
      client: 'room',
      protocol: 1,
      deviceId: `dev-${Math.random().toString(36).slice(2)}`,
      ...over,
    });
  }

  joinAsHost(
    meetingId: string,
    over: Partial<Extract<WithoutV<ClientMessage>, { type: 'join' }>> = {},
  ): void {
    const hello = this.last('hello')!;
    const proof = ed25519.sign(hostProofMessage(fromBase64Url(hello.nonce), meetingId), hostSecret);
    this.join(meetingId, {
      identityKey: hostKey,
      hostProof: toBase64Url(proof),
      displayName: 'Host',
      ...over,
    });
  }
}

export async function makeCore(options: { hooks?: RelayHooks; core?: Partial<RelayCoreOptions> } = {}) {
  const clock = new FakeClock();
  const net = new FakePeerNetwork();
  const registry = new MeetingRegistry({ logger: silentLogger(), now: () => clock.now() });
  const core = new RelayCore({
    registry,
    peers: net,
    clock,
    logger: silentLogger(),
    ...(options.hooks ? { hooks: options.hooks } : {}),
    // Tests that move the clock far ahead keep their unjoined connections; hostile-*.test.ts sets it.
    limits: { joinTimeoutMs: Number.POSITIVE_INFINITY },
    ...options.core,
  });
  let n = 0;
  return {
    core,
    clock,
    net,
    registry,
    client: (address = `10.0.0.${++n}`) => new TestClient(core, address),
    meeting: (over: Partial<NewMeeting> = {}): Promise<MeetingRecord> =>
      registry.create({ hostIdentityKey: hostKey, passcode: 'pass', title: 'Weekly', ...over }),
  };
}
