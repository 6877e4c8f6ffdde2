/**
 * SFrame throughput (docs/benchmarks.md): encrypt+decrypt MB/s of the native SFrame path (suite 5,
 * AES_256_GCM_SHA512_128, sealing into a reused caller buffer, with replay window) for 160, 1200, 20000
 * and 60000-byte frames. baseline = raw node:crypto AES-256-GCM (createCipheriv/createDecipheriv, no
 * SFrame) on the same frames in the same run; ratio = value / baseline. The noble path's figure too.
 *
 * The machine is shared, so the two paths are interleaved frame by frame and each figure is taken from
 * the median per-frame time (robust to preemption spikes that hit either side).
 * Run: node --import tsx bench/sframe-throughput.ts
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { nativeAead, nobleAead } from '../src/e2ee/sframe/aead.ts';
import { SFrameReceiveKey, SFrameSendKey } from '../src/e2ee/sframe/keys.ts';

const SIZES = [160, 1200, 20000, 60000];
const BUDGET_MS = 2500;
const NOBLE_BUDGET_MS = 400;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const round2 = (x: number) => Math.round(x * 100) / 100;
const mbps = (bytes: number, ms: number) => bytes / 1e6 / (ms / 1000);

function measure(size: number): { native: number; raw: number; noble: number } {
  const frames = Array.from({ length: 8 }, () => new Uint8Array(randomBytes(size)));
  const base = randomBytes(32);
  const tx = new SFrameSendKey(5, 0x35n, base, { aead: nativeAead });
  const rx = new SFrameReceiveKey(5, 0x35n, base, { aead: nativeAead });
  const out = new Uint8Array(tx.sealedLength(size) + 16);
  const key = createSecretKey(randomBytes(32));
  const iv = Buffer.alloc(12);
  const sframe = (pt: Uint8Array) => {
    const n = tx.sealInto(out, 0, pt);
    rx.open(out.subarray(0, n));
  };
  let ivc = 0;
  const raw = (pt: Uint8Array) => {
    iv.writeUInt32BE(++ivc, 8);
    const c = createCipheriv('aes-256-gcm', key, iv);
    const ct = c.update(pt);
    c.final();
    const tag = c.getAuthTag();
    const d = createDecipheriv('aes-256-gcm', key, iv);
    d.setAuthTag(tag);
    d.update(ct);
    d.final();
  };
  for (let i = 0; i < 200; i++) {
    sframe(frames[i % 8] as Uint8Array);
    raw(frames[i % 8] as Uint8Array);
  }
  const ts: number[] = [];
  const tr: number[] = [];
  const start = performance.now();
  for (let i = 0; performance.now() - start < BUDGET_MS; i++) {
    const pt = frames[i % 8] as Uint8Array;
    // Alternate which goes first so neither always runs on a warmer cache.
    if (i % 2 === 0) {
      const a = performance.now();
      sframe(pt);
      const b = performance.now();
      raw(pt);
      const c = performance.now();
      ts.push(b - a);
      tr.push(c - b);
    } else {
      const a = performance.now();
      raw(pt);
      const b = performance.now();
      sframe(pt);
      const c = performance.now();
      tr.push(b - a);
      ts.push(c - b);
    }
  }
  const ntx = new SFrameSendKey(5, 0x35n, base, { aead: nobleAead });
  const nrx = new SFrameReceiveKey(5, 0x35n, base, { aead: nobleAead });
  const tn: number[] = [];
  const nstart = performance.now();
  for (let i = 0; performance.now() - nstart < NOBLE_BUDGET_MS || tn.length < 5; i++) {
    const a = performance.now();
    nrx.open(ntx.seal(frames[i % 8] as Uint8Array));
    tn.push(performance.now() - a);
  }
  return { native: mbps(size, median(ts)), raw: mbps(size, median(tr)), noble: mbps(size, median(tn)) };
}

for (const size of SIZES) {
  const r = measure(size);
  const params = { frameBytes: size, suite: 'AES_256_GCM_SHA512_128', op: 'encrypt+decrypt' };
  console.log(
    JSON.stringify({
      name: 'sframe-throughput',
      params: { ...params, impl: 'native' },
      value: round2(r.native),
      unit: 'MB/s',
      baseline: round2(r.raw),
      ratio: round2(r.native / r.raw),
    }),
  );
  console.log(
    JSON.stringify({
      name: 'sframe-throughput',
      params: { ...params, impl: 'noble' },
      value: round2(r.noble),
      unit: 'MB/s',
      baseline: round2(r.raw),
      ratio: round2(r.noble / r.raw),
    }),
  );
}
