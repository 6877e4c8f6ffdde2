/**
 * SFrame overhead (docs/benchmarks.md): bytes added per frame (header + tag) with the media suite and
 * our KID layout, for a typical sender (slot 3, video, CTR 1000 ≈ 33 s of 30 fps video into an epoch;
 * epochs last at most 5 minutes so CTR stays below 2^16) and for the edges around it. Goal ≤ 20.
 * Run: node --import tsx bench/sframe-overhead.ts
 */
import { encodeKid } from '../src/e2ee/kid.ts';
import { SFrameSendKey } from '../src/e2ee/sframe/keys.ts';
import type { StreamKind } from '../src/protocol/vocabulary.ts';

const cases: {
  label: string;
  slot: number;
  epoch: number;
  stream: StreamKind;
  ctr: bigint;
  typical?: boolean;
}[] = [
  { label: 'typical', slot: 3, epoch: 5, stream: 'video', ctr: 1000n, typical: true },
  { label: 'first frames', slot: 3, epoch: 5, stream: 'audio', ctr: 5n },
  { label: 'audio after 5 min', slot: 3, epoch: 5, stream: 'audio', ctr: 15_000n },
  { label: 'slot 15', slot: 15, epoch: 5, stream: 'video', ctr: 1000n },
  { label: 'slot 200', slot: 200, epoch: 5, stream: 'video', ctr: 1000n },
  { label: 'CTR past 2^16', slot: 3, epoch: 5, stream: 'video', ctr: 70_000n },
];

const payload = new Uint8Array(1200);
for (const c of cases) {
  const kid = encodeKid(c.slot, c.epoch, c.stream);
  const key = new SFrameSendKey(5, kid, new Uint8Array(32), { startCounter: c.ctr });
  const added = key.seal(payload).length - payload.length;
  console.log(
    JSON.stringify({
      name: c.typical ? 'sframe-overhead' : 'sframe-overhead-case',
      params: {
        case: c.label,
        slot: c.slot,
        stream: c.stream,
        kid: Number(kid),
        ctr: Number(c.ctr),
        suite: 'AES_256_GCM_SHA512_128',
      },
      value: added,
      unit: 'bytes/frame',
    }),
  );
}
