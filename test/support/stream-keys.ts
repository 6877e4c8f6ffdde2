/**
 * Frame keys for tests of the stream path without an E2EE session: `plainKeys` seals to the
 * payload itself (for tests of chunking, reassembly and order), `toyKeys` is a toy AEAD whose open
 * checks a key byte and the metadata (for tests of what the metadata binds and of decrypt failures).
 */
import { RoomdError } from '../../src/core/errors.ts';
import type { StreamKeys } from '../../src/media/stream/frame.ts';
import type { StreamKind } from '../../src/protocol/vocabulary.ts';

export function plainKeys(): StreamKeys {
  return {
    sendEpoch: 1,
    seal: (_kind: StreamKind, payload: Uint8Array) => payload.slice(),
    openAs: (sender: string, stream: StreamKind, frame: Uint8Array) => ({
      senderId: sender,
      slot: 0,
      stream,
      epoch: 1,
      ctr: 0n,
      payload: frame,
    }),
  };
}

const sum = (bytes: Uint8Array, start: number): number => bytes.reduce((a, b) => a + b, start) & 0xff;

/** XOR with `key.byte`, then the metadata and a checksum appended; open checks all three. */
export function toyKeys(key: { byte: number; openByte?: number }): StreamKeys {
  return {
    sendEpoch: 1,
    seal: (_kind: StreamKind, p: Uint8Array, m: Uint8Array = new Uint8Array(0)) => {
      const out = new Uint8Array(p.length + m.length + 1);
      out.set(p.map((b) => b ^ key.byte));
      out.set(m, p.length);
      out[out.length - 1] = sum(p, key.byte) ^ sum(m, 0);
      return out;
    },
    openAs: (sender: string, stream: StreamKind, c: Uint8Array, m: Uint8Array) => {
      const k = key.openByte ?? key.byte;
      const n = c.length - m.length - 1;
      const fail = () => new RoomdError('e2ee.decrypt_failed');
      if (n < 0) throw fail();
      const p = c.subarray(0, n).map((b) => b ^ k);
      for (let i = 0; i < m.length; i++) if (c[n + i] !== m[i]) throw fail();
      if (c[c.length - 1] !== (sum(p, k) ^ sum(m, 0))) throw fail();
      return { senderId: sender, slot: 0, stream, epoch: 1, ctr: 0n, payload: p };
    },
  };
}

/** A ChunkOut that keeps what is sent, stamped with `sender` as the relay would. */
export function chunkSink(sender: number, setSender: (c: Uint8Array, s: number) => void) {
  const wire: Uint8Array[] = [];
  return {
    wire,
    mediaOpen: true,
    sendChunks(chunks: readonly Uint8Array[]): boolean {
      for (const c of chunks) {
        setSender(c, sender);
        wire.push(c);
      }
      return true;
    },
  };
}
