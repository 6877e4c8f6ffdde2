/**
 * Rough delivery and latency of the two media planes side by side (docs/decisions/0018-media-planes.md
 * §Measured here): the same meeting of headless participants (20 fps video, 25 fps audio each) on the
 * relay's own fan-out and on Janus, measured over a few seconds once everyone is secure. Printed for
 * the decision record; asserted only loosely (this box is shared).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HeadlessParticipant } from '../../../src/meeting/headless.ts';
import { type JanusFixture, startJanus } from '../../helpers/janus.ts';
import { allSecure, type Harness, sleep, startHarness, waitFor } from '../../helpers/meeting-harness.ts';

let janus: JanusFixture;
let h: Harness | undefined;
beforeAll(async () => {
  janus = await startJanus();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(async () => {
  await janus?.stop();
});

const WINDOW_MS = 5000;

interface Measured {
  delivered: number;
  p50: number;
  p95: number;
}

async function measure(plane: 'embedded' | 'janus', n: number): Promise<Measured> {
  h = await startHarness(
    plane === 'janus' ? { relay: { mediaPlane: { kind: 'janus', url: janus.url } } } : {},
  );
  const id = await h.meeting();
  const people: HeadlessParticipant[] = [h.participant(id, 'Host', { identity: h.host, client: 'room' })];
  for (let i = 1; i < n; i++) people.push(h.participant(id, `P${i}`));
  await Promise.all(people.map((p) => p.join()));
  await waitFor(() => allSecure(people), `${n} secure`, 30_000);
  await sleep(1000); // past the first key frames
  const latencies: number[] = [];
  const window = { from: Number.POSITIVE_INFINITY, to: Number.POSITIVE_INFINITY };
  // Frames captured in the window, wherever they arrive (audio and video only: control frames are not counted as sent).
  const offs = people.map((p) =>
    p.media.onFrame((f) => {
      const captured = Date.now() - f.latencyMs;
      if ((f.kind === 'audio' || f.kind === 'video') && captured >= window.from && captured < window.to)
        latencies.push(f.latencyMs);
    }),
  );
  const sentBefore = people.map((p) => p.sent.video + p.sent.audio);
  window.from = Date.now();
  await sleep(WINDOW_MS);
  const sent = people.map((p, i) => p.sent.video + p.sent.audio - sentBefore[i]!);
  window.to = Date.now();
  await sleep(500); // what was sent in the window arrives
  for (const off of offs) off();
  // Every frame sent goes to n - 1 receivers.
  const expected = sent.reduce((a, b) => a + b, 0) * (n - 1);
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { delivered: latencies.length / expected, p50: at(0.5), p95: at(0.95) };
}

describe('delivery and latency, embedded fan-out vs Janus', () => {
  for (const n of [3, 6]) {
    it(`${n} participants: Janus delivers what the fan-out delivers, in comparable time`, async () => {
      const embedded = await measure('embedded', n);
      await h?.close();
      h = undefined;
      const viaJanus = await measure('janus', n);
      const f = (m: Measured) =>
        `delivered ${m.delivered.toFixed(3)}, latency p50 ${m.p50} ms, p95 ${m.p95} ms`;
      console.log(`[media planes] N=${n}: embedded ${f(embedded)} | janus ${f(viaJanus)}`);
      expect(viaJanus.delivered).toBeGreaterThan(0.9);
      expect(viaJanus.p95).toBeLessThan(1000);
    }, 90_000);
  }
});
