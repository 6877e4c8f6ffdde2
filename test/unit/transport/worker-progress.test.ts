// When the media worker reports send progress (docs/decisions/0013-media-worker.md §Cost): roomd's
// bufferedAmount may over-count by less than REPORT_BYTES for less than REPORT_MS, never under-count.
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';
import type { PeerConnection } from '../../../src/transport/peer.ts';
import { BUFFERED_POLL_MS, WorkerHost } from '../../../src/transport/worker-host.ts';
import { ProgressReport, REPORT_BYTES, REPORT_MS } from '../../../src/transport/worker-progress.ts';
import {
  decodeFromWorker,
  encodeToWorker,
  type FromWorker,
  FrameReader,
} from '../../../src/transport/worker-protocol.ts';

describe('ProgressReport', () => {
  it('holds a small change until it is REPORT_MS old, and reports nothing unchanged', () => {
    const p = new ProgressReport();
    expect(p.check(0, 0, 0)).toBe(false);
    expect(p.settled).toBe(true);
    expect(p.check(1200, 0, 100)).toBe(false);
    expect(p.settled).toBe(false);
    expect(p.dueIn(105)).toBe(REPORT_MS - 5);
    expect(p.check(2400, 300, 100 + REPORT_MS - 1)).toBe(false);
    expect(p.check(2400, 300, 100 + REPORT_MS)).toBe(true);
    expect(p.reported).toEqual({ taken: 2400, buffered: 300 });
    expect(p.settled).toBe(true);
    expect(p.dueIn(500)).toBe(Number.POSITIVE_INFINITY);
  });

  it('reports at once when the over-count reaches REPORT_BYTES, by bytes taken or drained', () => {
    const p = new ProgressReport();
    expect(p.check(REPORT_BYTES - 1, 0, 0)).toBe(false);
    expect(p.check(REPORT_BYTES, 0, 0)).toBe(true);
    expect(p.check(REPORT_BYTES, 0, 1)).toBe(false);
    // Taken bytes that wait in wrtc are no over-count; their drain is.
    expect(p.check(2 * REPORT_BYTES, REPORT_BYTES, 2)).toBe(false);
    expect(p.check(2 * REPORT_BYTES, REPORT_BYTES, 3)).toBe(false);
    expect(p.check(2 * REPORT_BYTES, 0, 4)).toBe(true);
  });

  it('reports at once a change that roomd would under-count', () => {
    const p = new ProgressReport();
    // wrtc says it holds more than it was given since the last report.
    expect(p.check(100, 5000, 0)).toBe(true);
    expect(p.reported).toEqual({ taken: 100, buffered: 5000 });
  });

  it('keeps roomd never below the truth and less than REPORT_BYTES above it, for under REPORT_MS (random runs)', () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let run = 0; run < 50; run++) {
      const p = new ProgressReport();
      let taken = 0;
      let buffered = 0;
      let now = 0;
      let staleSince: number | null = null;
      for (let step = 0; step < 500; step++) {
        now += Math.floor(rand() * 8);
        if (rand() < 0.6) {
          const n = Math.floor(rand() * 20_000);
          taken += n;
          buffered += Math.floor(n * rand()); // some of it still waits in wrtc
        } else {
          buffered -= Math.floor(buffered * rand()); // wrtc drains
        }
        p.check(taken, buffered, now);
        const r = p.reported;
        // roomd's figure minus the truth (sent minus taken cancels out).
        const over = taken - r.taken + (r.buffered - buffered);
        expect(over).toBeGreaterThanOrEqual(0);
        expect(over).toBeLessThan(REPORT_BYTES);
        // A change roomd has not heard of is younger than REPORT_MS.
        if (r.taken === taken && r.buffered === buffered) staleSince = null;
        else {
          staleSince ??= now;
          expect(now - staleSince).toBeLessThan(REPORT_MS);
          expect(p.dueIn(now)).toBe(REPORT_MS - (now - staleSince));
        }
      }
    }
  });
});

describe('WorkerHost send progress', () => {
  it('reports a burst of sends once, not after every read, and the rest within REPORT_MS', async () => {
    const net = new FakePeerNetwork();
    const made: PeerConnection[] = [];
    const clock = new FakeClock();
    const out: FromWorker[] = [];
    const reader = new FrameReader();
    const host = new WorkerHost({
      peers: {
        create: () => {
          const pc = net.create();
          made.push(pc);
          return pc;
        },
        get openCount() {
          return net.openCount;
        },
      },
      clock,
      pid: 1,
      write: (frame) => {
        for (const body of reader.push(frame).bodies) {
          const d = decodeFromWorker(body);
          if (d.ok) out.push(d.message);
        }
      },
      exit: () => {},
    });
    host.start();
    // Two connections joined through the fake network, one channel opened by us.
    host.receive(encodeToWorker({ type: 'create-pc', pc: 1, iceServers: [] }));
    host.receive(encodeToWorker({ type: 'create-pc', pc: 2, iceServers: [] }));
    const [a, b] = made;
    a!.onIceCandidate((c) => void b!.addIceCandidate(c));
    b!.onIceCandidate((c) => void a!.addIceCandidate(c));
    host.receive(encodeToWorker({ type: 'create-channel', pc: 1, ch: 1, label: 'media', ordered: false }));
    await a!.acceptAnswer(await b!.acceptOffer(await a!.createOffer()));
    for (let i = 0; i < 50 && !out.some((m) => m.type === 'channel-open'); i++)
      await new Promise((r) => setImmediate(r));
    expect(out.some((m) => m.type === 'channel-open' && m.ch === 1)).toBe(true);

    const progress = () => out.filter((m) => m.type === 'buffered');
    const turn = () => new Promise((r) => setImmediate(r));
    // Ten reads of 1200 bytes each, sent on at once by the fake network: 12 KB taken and drained,
    // under REPORT_BYTES — held back until REPORT_MS.
    for (let i = 0; i < 10; i++)
      host.receive(encodeToWorker({ type: 'send', ch: 1, data: new Uint8Array(1200) }));
    await turn();
    expect(progress()).toEqual([]);
    clock.advance(REPORT_MS - 1);
    expect(progress()).toEqual([]);
    clock.advance(1);
    expect(progress()).toEqual([{ type: 'buffered', ch: 1, taken: 12_000, buffered: 0 }]);
    // REPORT_BYTES taken and still held by wrtc: no over-count yet. Once it drains, the next
    // check (BUFFERED_POLL_MS later) reports at once.
    host.receive(encodeToWorker({ type: 'send', ch: 1, data: new Uint8Array(REPORT_BYTES) }));
    expect(progress()).toHaveLength(1);
    await turn();
    clock.advance(BUFFERED_POLL_MS);
    expect(progress().at(-1)).toEqual({ type: 'buffered', ch: 1, taken: 12_000 + REPORT_BYTES, buffered: 0 });
    expect(progress()).toHaveLength(2);
    // Nothing more to say: no report and no timer left running.
    clock.advance(10 * REPORT_MS);
    expect(progress()).toHaveLength(2);
    host.stop();
  });
});
