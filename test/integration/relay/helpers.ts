// Raw test participants for relay integration tests: RelayClient (signaling + wrtc data channel)
// with a host identity key, plus helpers to wait for events without timing assertions.
import { ed25519 } from '@noble/curves/ed25519.js';
import type { EventBus } from '../../../src/core/events.ts';
import {
  type AssembledFrame,
  chunkFrame,
  fromBase64Url,
  hostProofMessage,
  Reassembler,
  type StreamKind,
  toBase64Url,
  tryDecodeMediaChunk,
} from '../../../src/protocol/index.ts';
import { type JoinBody, RelayClient, type RelayClientEvents } from '../../../src/transport/relay-client.ts';
import type { PeerConnectionFactory } from '../../../src/transport/peer.ts';

export const hostSecret = ed25519.utils.randomSecretKey();
export const hostKey = toBase64Url(ed25519.getPublicKey(hostSecret));

/** Resolves with the next matching event; rejects after a generous guard so a hang fails clearly. */
export function waitFor<E extends { [K in keyof E]: unknown }, K extends keyof E>(
  bus: EventBus<E>,
  event: K,
  filter: (p: E[K]) => boolean = () => true,
  guardMs = 15_000,
): Promise<E[K]> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`no ${String(event)} event`));
    }, guardMs);
    const off = bus.on(event, (p) => {
      if (!filter(p)) return;
      clearTimeout(t);
      off();
      resolve(p);
    });
  });
}

export interface Participant {
  client: RelayClient;
  frames: AssembledFrame[];
  envelopes: RelayClientEvents['e2ee'][];
  /** Chunk one opaque frame (numbered per kind and stream) and send it whole; false when dropped. */
  sendFrame(frame: Uint8Array, meta: { kind: StreamKind; streamId: number; keyframe: boolean }): boolean;
}

export function participant(
  url: string,
  peers: PeerConnectionFactory,
  meetingId: string,
  options: {
    host?: boolean;
    name?: string;
    client?: JoinBody['client'];
    protocol?: number;
    passcode?: string;
    reconnect?: boolean;
  } = {},
): Participant {
  const reassembler = new Reassembler();
  const frames: AssembledFrame[] = [];
  const envelopes: RelayClientEvents['e2ee'][] = [];
  const client = new RelayClient({
    url,
    peers,
    reconnect: options.reconnect ?? false,
    backoff: { initialMs: 100, maxMs: 500 },
    join: (hello) => {
      const body: JoinBody = {
        meetingId,
        passcode: options.passcode ?? 'pass',
        displayName: options.name ?? 'Participant',
        client: options.client ?? 'room',
        protocol: options.protocol ?? 1,
        deviceId: `dev-${options.name ?? 'x'}`,
      };
      if (options.host === true) {
        body.identityKey = hostKey;
        body.hostProof = toBase64Url(
          ed25519.sign(hostProofMessage(fromBase64Url(hello.nonce), meetingId), hostSecret),
        );
      }
      return body;
    },
  });
  client.events.on('chunk', (bytes) => {
    const decoded = tryDecodeMediaChunk(bytes);
    if (!decoded.ok) throw decoded.error;
    const f = reassembler.push(decoded.chunk, Date.now());
    if (f !== undefined) frames.push(f);
  });
  client.events.on('e2ee', (e) => envelopes.push(e));
  client.start();
  const numbers = new Map<string, number>();
  const sendFrame: Participant['sendFrame'] = (frame, meta) => {
    const key = `${meta.kind}/${meta.streamId}`;
    const frameNumber = numbers.get(key) ?? 0;
    numbers.set(key, frameNumber + 1);
    return client.sendChunks(chunkFrame(frame, { ...meta, frameNumber }));
  };
  return { client, frames, envelopes, sendFrame };
}

export async function until(check: () => boolean, guardMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > guardMs) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}
