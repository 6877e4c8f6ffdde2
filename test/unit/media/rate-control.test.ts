/**
 * Rate adaptation (src/media/stream/rate-control.ts): against a simulated bottleneck — a FIFO drained
 * at the link's rate, the relay reporting every 200 ms what came out of it — the controller brings the
 * video under the link, keeps the queue short, and climbs back when the link widens. Reports that
 * lie (frames never sent, absurd ages) move nothing they should not.
 */
import { describe, expect, it } from 'vitest';
import { RateController } from '../../../src/media/stream/rate-control.ts';

const AUDIO = 0;
const VIDEO = 1;

/** A sender at the controller's target, a link of `kbps`, the relay's reports; 1 ms steps. */
class Sim {
  readonly rc: RateController;
  now = 0;
  linkKbps: number;
  /** Frames in the bottleneck, oldest first: bytes left, stream, frame number, sent at. */
  readonly #queue: { left: number; stream: number; n: number; sentAt: number }[] = [];
  readonly #arrived = new Map<number, { n: number; at: number }>();
  #frame = [0, 0];
  #lastReport = 0;
  /** One-way delay of each arrived video frame, ms. */
  readonly videoDelays: { at: number; ms: number }[] = [];
  readonly audioDelays: { at: number; ms: number }[] = [];
  videoHeld = 0;
  targets: { at: number; kbps: number }[] = [];
  /** Applied target (the encoder restarts this long after a change). */
  #encoderKbps: number;
  #pendingKbps: { at: number; kbps: number } | null = null;

  constructor(linkKbps: number, maxKbps = 2500) {
    this.rc = new RateController({ maxKbps });
    this.linkKbps = linkKbps;
    this.#encoderKbps = maxKbps;
  }

  run(ms: number): void {
    for (let i = 0; i < ms; i++) this.#step();
  }

  #step(): void {
    const now = ++this.now;
    if (this.#pendingKbps !== null && now >= this.#pendingKbps.at) {
      this.#encoderKbps = this.#pendingKbps.kbps;
      this.#pendingKbps = null;
    }
    if (now % 20 === 0) this.#send(AUDIO, 100);
    if (now % 33 === 0) {
      const bytes = Math.round((this.#encoderKbps * 33) / 8);
      if (this.rc.roomForVideo(now)) this.#send(VIDEO, bytes);
      else this.videoHeld++;
    }
    // Drain the bottleneck: linkKbps bits per ms.
    let budget = this.linkKbps / 8;
    while (budget > 0 && this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const take = Math.min(budget, head.left);
      head.left -= take;
      budget -= take;
      if (head.left > 0) break;
      this.#queue.shift();
      this.#arrived.set(head.stream, { n: head.n, at: now });
      (head.stream === VIDEO ? this.videoDelays : this.audioDelays).push({ at: now, ms: now - head.sentAt });
    }
    if (now - this.#lastReport >= 200 && this.#arrived.size > 0) {
      this.#lastReport = now;
      const streams = [...this.#arrived].map(([streamId, a]) => ({
        streamId,
        frameNumber: a.n,
        ageMs: now - a.at,
      }));
      // The report takes 5 ms to come back.
      this.rc.report(streams, now + 5);
      const next = this.rc.tick(now + 5);
      if (next !== null) {
        this.targets.push({ at: now, kbps: next });
        this.#pendingKbps = { at: now + 300, kbps: next };
      }
    }
  }

  #send(stream: number, bytes: number): void {
    const n = this.#frame[stream]!++;
    this.rc.sent(stream, n, bytes, this.now);
    this.#queue.push({ left: bytes, stream, n, sentAt: this.now });
  }

  /** The target's time-weighted mean between two times (it holds between changes). */
  meanTarget(from: number, to: number): number {
    let at = from;
    let kbps = [...this.targets].reverse().find((t) => t.at <= from)?.kbps ?? 2500;
    let sum = 0;
    for (const t of this.targets.filter((x) => x.at > from && x.at < to)) {
      sum += kbps * (t.at - at);
      at = t.at;
      kbps = t.kbps;
    }
    return (sum + kbps * (to - at)) / (to - from);
  }

  p95(list: { at: number; ms: number }[], from: number): number {
    const xs = list
      .filter((d) => d.at >= from)
      .map((d) => d.ms)
      .sort((a, b) => a - b);
    return xs[Math.floor(xs.length * 0.95)] ?? Number.NaN;
  }
}

describe('rate adaptation against a bottleneck', () => {
  it('goes under a 1.5 Mbit/s link, then 600 kbit/s, then climbs back to the configured rate', () => {
    const sim = new Sim(10_000);
    sim.run(5000);
    expect(sim.rc.targetKbps).toBe(2500);
    expect(sim.targets).toEqual([]);

    sim.linkKbps = 1500;
    const at1500 = sim.now;
    sim.run(30_000);
    // Settled, the video (with audio beside it) fills the link and no more, on average.
    expect(sim.meanTarget(at1500 + 5000, sim.now)).toBeLessThan(1500 - 40);
    expect(sim.meanTarget(at1500 + 5000, sim.now)).toBeGreaterThan(0.7 * 1500);
    // Past the first 5 s, frames wait little in the queue; audio less than 400 ms at the 95th.
    expect(sim.p95(sim.videoDelays, at1500 + 5000)).toBeLessThan(600);
    expect(sim.p95(sim.audioDelays, at1500 + 5000)).toBeLessThan(400);

    sim.linkKbps = 600;
    const at600 = sim.now;
    sim.run(30_000);
    expect(sim.meanTarget(at600 + 5000, sim.now)).toBeLessThan(600 - 40);
    expect(sim.meanTarget(at600 + 5000, sim.now)).toBeGreaterThan(0.6 * 600);
    expect(sim.p95(sim.audioDelays, at600 + 5000)).toBeLessThan(400);
    expect(sim.p95(sim.videoDelays, at600 + 5000)).toBeLessThan(800);
    // Audio was never held back; video was, while the queue was long.
    expect(sim.audioDelays.length).toBeGreaterThan(0);
    expect(sim.rc.counters.decreases).toBeGreaterThan(1);

    sim.linkKbps = 10_000;
    const lifted = sim.now;
    sim.run(20_000);
    const reached = sim.targets.find((t) => t.at > lifted && t.kbps >= 2000);
    expect(reached).toBeDefined();
    expect(reached!.at - lifted).toBeLessThanOrEqual(15_000);
    expect(sim.rc.targetKbps).toBe(2500);
  });

  it('holds video back while the predicted queue is long, never audio', () => {
    const sim = new Sim(300);
    sim.run(3000);
    expect(sim.videoHeld).toBeGreaterThan(0);
  });
});

describe('reports the relay may get wrong', () => {
  it('entries for frames never sent are ignored and counted; no report, no decision', () => {
    const rc = new RateController({ maxKbps: 2000 });
    expect(rc.tick(10_000)).toBeNull();
    expect(rc.roomForVideo(10_000)).toBe(true);
    rc.sent(VIDEO, 0, 1000, 0);
    rc.report([{ streamId: VIDEO, frameNumber: 7, ageMs: 0 }], 100);
    rc.report([{ streamId: 9, frameNumber: 0, ageMs: 0 }], 100);
    expect(rc.counters.entriesIgnored).toBe(2);
    expect(rc.estimate.inFlightBytes).toBe(1000);
    expect(rc.tick(100)).toBeNull();
    expect(rc.targetKbps).toBe(2000);
  });

  it('an age longer than the frame has existed reads as no delay; acked bytes never go back', () => {
    const rc = new RateController({ maxKbps: 2000 });
    rc.sent(AUDIO, 0, 100, 0);
    rc.sent(AUDIO, 1, 100, 20);
    rc.report([{ streamId: AUDIO, frameNumber: 1, ageMs: 0 }], 40);
    expect(rc.estimate.inFlightBytes).toBe(0);
    rc.report([{ streamId: AUDIO, frameNumber: 0, ageMs: 1e6 }], 60);
    expect(rc.estimate.inFlightBytes).toBe(0);
    expect(rc.estimate.queueMs).toBe(0);
  });

  it('nothing a report says lifts the target past the configured rate or below the floor', () => {
    const rc = new RateController({ maxKbps: 800, minKbps: 150 });
    let t = 0;
    let n = 0;
    // Reports say every frame arrived at once, for a minute.
    for (; t < 60_000; t += 33) {
      rc.sent(VIDEO, n, 3000, t);
      if (t % 198 === 0) {
        rc.report([{ streamId: VIDEO, frameNumber: n, ageMs: 0 }], t);
        rc.tick(t);
      }
      n++;
    }
    expect(rc.targetKbps).toBe(800);
    // Then that each arrived ever later: the target falls, to the floor at most.
    for (let late = 0; t < 120_000; t += 33, late += 40) {
      rc.sent(VIDEO, n, 3000, t);
      if (t % 198 === 0) {
        rc.report([{ streamId: VIDEO, frameNumber: n - Math.min(n, Math.floor(late / 33)), ageMs: 0 }], t);
        rc.tick(t);
      }
      n++;
    }
    expect(rc.targetKbps).toBeGreaterThanOrEqual(150);
    expect(rc.targetKbps).toBeLessThan(800);
  });
});

describe('what is not a full link', () => {
  it('a late report with nothing on the way (our own stall) lowers nothing', () => {
    const rc = new RateController({ maxKbps: 2000 });
    let n = 0;
    let t = 0;
    // Quiet: every frame reported 5 ms after it went out.
    for (; t < 3000; t += 100) {
      rc.sent(VIDEO, n, 500, t);
      rc.report([{ streamId: VIDEO, frameNumber: n++, ageMs: 0 }], t + 5);
      rc.tick(t + 5);
    }
    // Then reports come 300 ms late, twice, though everything sent had arrived.
    for (let i = 0; i < 3; i++, t += 400) {
      rc.sent(VIDEO, n, 500, t);
      rc.report([{ streamId: VIDEO, frameNumber: n++, ageMs: 0 }], t + 300);
      expect(rc.tick(t + 300)).toBeNull();
    }
    expect(rc.estimate.queueMs).toBeGreaterThan(200);
    expect(rc.targetKbps).toBe(2000);
  });

  it('a keyframe goes out once the queue is short, however little was delivered while video waited', () => {
    const rc = new RateController({ maxKbps: 2000 });
    let a = 0;
    // Only audio for two seconds (video held back): 100 bytes every 20 ms, each reported at once.
    for (let t = 0; t < 2000; t += 20) {
      rc.sent(AUDIO, a, 100, t);
      rc.report([{ streamId: AUDIO, frameNumber: a++, ageMs: 0 }], t + 2);
    }
    expect(rc.estimate.deliveredKbps).toBeLessThan(60);
    // However large the keyframe (200 KB is 0.8 s at 2 Mbit/s), the queue before it is what counts.
    expect(rc.roomForVideo(2010)).toBe(true);
    rc.sent(VIDEO, 0, 200_000, 2010);
    // Right behind it the queue is long: the next frame waits, until the keyframe is reported in.
    expect(rc.roomForVideo(2020)).toBe(false);
    rc.report([{ streamId: VIDEO, frameNumber: 0, ageMs: 0 }], 2900);
    expect(rc.roomForVideo(2901)).toBe(true);
  });

  it("a new media path forgets the old one's delays: a longer path is not a queue", () => {
    const rc = new RateController({ maxKbps: 2000 });
    let n = 0;
    let t = 0;
    const run = (until: number, delay: number) => {
      for (; t < until; t += 33) {
        rc.sent(VIDEO, n, 8000, t);
        rc.report([{ streamId: VIDEO, frameNumber: n++, ageMs: 0 }], t + delay);
        rc.tick(t + delay);
      }
    };
    run(5000, 5);
    rc.newPath();
    // Through TURN, far away: every frame now takes 450 ms, steadily.
    run(15_000, 450);
    expect(rc.counters.decreases).toBe(0);
    expect(rc.targetKbps).toBe(2000);
  });
});
