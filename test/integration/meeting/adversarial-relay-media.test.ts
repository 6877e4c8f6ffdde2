/**
 * The relay is the adversary (docs/threat-model.md), end to end over the real relay and real wrtc:
 * media it forges with a leaver's old meeting key, and chunks it floods for frames that never
 * complete (docs/protocol.md §Media chunks, "KID layout"). What every honest receiver shows is
 * checked: frames refused and counted, reassembly memory bounded, the shield still 'e2ee'. Waits are
 * on conditions, never fixed sleeps. Helpers: relay-room.ts, adversary.ts, adversary-room.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EPOCH_RING } from '../../../src/e2ee/kid.ts';
import type { BindingMessage } from '../../../src/e2ee/index.ts';
import { DEFAULT_MAX_PENDING_BYTES } from '../../../src/protocol/reassembly.ts';
import { encodeMediaChunk } from '../../../src/protocol/media-header.ts';
import { STREAM_ID } from '../../../src/protocol/vocabulary.ts';
import { allSecure, waitFor } from '../../helpers/meeting-harness.ts';
import { e2eePayload } from './adversary.ts';
import { LONG } from './adversary-room.ts';
import {
  closeRelayRoom,
  findMeetingKey,
  type FrameScope,
  forgeAudioChunk,
  kidOf,
  recordingRandom,
  relayRoom,
} from './relay-room.ts';

afterEach(closeRelayRoom);

/** Frames a receiver gives up when more are pending (docs/protocol.md §Media chunks). */
const PENDING_FRAMES = 64;

describe('the relay is the adversary over real wrtc: forged and flooded media', () => {
  it('frames sealed under the epoch a leaver knew, injected as remaining members after the leave rekey: refused by every receiver', async () => {
    const leaderRandom = recordingRandom();
    const ids = { a: '', quiet: '' };
    let scope: FrameScope | undefined;
    // The newest chunk each sender's stream sent to each receiver: `${from}/${kind}/${to}`.
    const latest = new Map<string, Uint8Array>();
    const queued = new Map<string, Uint8Array[]>();
    const r = await relayRoom(
      {
        outgoing(body) {
          const m = e2eePayload(body);
          if (scope === undefined && m?.t === 'e2ee.binding') {
            const b = (m as unknown as BindingMessage).binding;
            scope = { meetingId: b.meetingId, instanceId: b.instanceId };
          }
          return body;
        },
        media(chunk, ctx) {
          latest.set(`${ctx.from}/${chunk[1]}/${ctx.to}`, chunk.slice());
          // Injected after a chunk of A: the relay may send whatever it likes in anyone's name.
          const q = queued.get(ctx.to);
          if (ctx.from !== ids.a || q === undefined || q.length === 0) return chunk;
          return [chunk, ...q.splice(0)];
        },
      },
      ['Host', 'A', 'Quiet', 'B', 'Leaver'],
      (name) =>
        name === 'Host'
          ? { e2eeRandom: leaderRandom.random }
          : // Quiet sends video only: its audio stream has no counter a forgery could collide with.
            name === 'Quiet'
            ? { audioFps: 0 }
            : {},
    );
    ids.a = r.pid('A');
    ids.quiet = r.pid('Quiet');
    const hostId = r.pid('Host');
    const receivers = ['Host', 'B'];
    const old = r.p('A').session.sendEpoch;
    expect(r.p('Leaver').session.sendEpoch).toBe(old);
    // What every receiver opened: marked forgeries (frame numbers far above any real one) and how
    // many real frames of A and Quiet came under a newer epoch.
    const MARK = 0x7f00_0000;
    const forgedOpened = new Map(receivers.map((n) => [n, [] as { from: string; epoch: number }[]]));
    const newer = new Map(receivers.map((n) => [n, { a: 0, quiet: 0 }]));
    for (const n of receivers)
      r.p(n).media.onFrame((f) => {
        if (f.participantId !== ids.a && f.participantId !== ids.quiet) return;
        if (f.frameNumber >= MARK) forgedOpened.get(n)?.push({ from: f.participantId, epoch: f.epoch });
        else if (f.epoch > old) newer.get(n)![f.participantId === ids.a ? 'a' : 'quiet']++;
      });
    // The meeting key of the epoch the leaver holds (the leader drew it), proven by opening one of
    // A's real frames with it; that frame's content is the forger's plaintext.
    const inOld = (c: Uint8Array | undefined) =>
      c !== undefined && kidOf(c).epochRing === old % EPOCH_RING ? c : undefined;
    const audioOfA = (await waitFor(
      () => (scope === undefined ? undefined : inOld(latest.get(`${ids.a}/${STREAM_ID.audio}/${hostId}`))),
      'a frame of A in the current epoch',
    )) as Uint8Array;
    const videoOfQuiet = (await waitFor(
      () => inOld(latest.get(`${ids.quiet}/${STREAM_ID.video}/${hostId}`)),
      'a frame of Quiet in the current epoch',
    )) as Uint8Array;
    const found = findMeetingKey(leaderRandom.draws, audioOfA, scope!);
    if (found === null)
      throw new Error('the meeting key of the current epoch is not among the leader’s draws');
    const slots = { a: kidOf(audioOfA).slot, quiet: kidOf(videoOfQuiet).slot };
    let counter = 1n << 40n;
    let frameNumber = MARK;
    const forge = (who: 'a' | 'quiet', n: number) =>
      Array.from({ length: n }, () =>
        forgeAudioChunk(
          { sender: ids[who], slot: slots[who], epoch: old, frameNumber: frameNumber++, counter: counter++ },
          found.plain,
          found.mk,
          scope!,
        ),
      );
    // Control: before the leave, a forgery in Quiet's name under the current key is a valid frame
    // and every receiver opens it (so a refusal later is the leave rekey's doing).
    for (const n of receivers) queued.set(r.pid(n), forge('quiet', 3));
    await waitFor(
      () => receivers.every((n) => forgedOpened.get(n)?.length === 3),
      'the receivers opening forgeries made with the current key',
      LONG,
    );
    // The leave rekey; then wait until each receiver holds the new epoch and opened frames of both
    // A and Quiet under it.
    await r.p('Leaver').leave();
    const rest = ['Host', 'A', 'Quiet', 'B'].map((n) => r.p(n));
    await waitFor(
      () => allSecure(rest) && rest.every((p) => p.session.sendEpoch > old),
      'the leave rekey installed everywhere',
      LONG,
    );
    const settled = new Map(receivers.map((n) => [n, { ...newer.get(n)! }]));
    await waitFor(
      () =>
        receivers.every((n) => {
          const now = newer.get(n)!;
          const then = settled.get(n)!;
          return now.a >= then.a + 5 && now.quiet >= then.quiet + 3;
        }),
      'A’s and Quiet’s frames under the new key opening at every receiver',
      LONG,
    );
    // The relay injects frames under the old key in A's and in Quiet's name.
    const FORGED = 10;
    const failures = new Map(receivers.map((n) => [n, r.p(n).media.decryptFailures.audio]));
    for (const n of receivers)
      queued.set(r.pid(n), [...forge('a', FORGED / 2), ...forge('quiet', FORGED / 2)]);
    const refused = (n: string) => r.p(n).media.decryptFailures.audio - (failures.get(n) ?? 0);
    const openedAfter = (n: string) => (forgedOpened.get(n)?.length ?? 0) - 3;
    await waitFor(
      () => receivers.every((n) => refused(n) + openedAfter(n) >= FORGED),
      'the forgeries reaching every receiver',
      LONG,
    );
    for (const n of receivers) {
      expect(forgedOpened.get(n)?.slice(3), `${n} opened a forgery under the retired key`).toEqual([]);
      expect(refused(n), n).toBeGreaterThanOrEqual(FORGED);
    }
    // Refused as late frames of a retired key, not as tampering: everyone is still secure.
    expect(allSecure(rest)).toBe(true);
  }, 60_000);

  it('a flood of chunks for frames that never complete: every receiver’s reassembly stays bounded and counts drops; the meeting stays e2ee', async () => {
    const ids = { a: '' };
    const flood = { on: false, seq: 0 };
    const FLOOD_PAYLOAD = 8 * 1024;
    const r = await relayRoom(
      {
        media(chunk, ctx) {
          if (!flood.on || ctx.from !== ids.a) return chunk;
          const extra: Uint8Array[] = [];
          const base = {
            kind: 'video' as const,
            streamId: STREAM_ID.video,
            keyframe: false,
            sender: Number(ids.a),
          };
          // Five frames announcing 200 chunks (within the caps) of which one ever comes…
          for (let i = 0; i < 5; i++)
            extra.push(
              encodeMediaChunk(
                { ...base, frameNumber: 0x4000_0000 + flood.seq++, chunkIndex: 0, chunkCount: 200 },
                randomBytes(FLOOD_PAYLOAD),
              ),
            );
          // …and one announcing more chunks than any frame may have.
          extra.push(
            encodeMediaChunk(
              { ...base, frameNumber: 0x4000_0000 + flood.seq++, chunkIndex: 1, chunkCount: 0xffff },
              randomBytes(FLOOD_PAYLOAD),
            ),
          );
          return [chunk, ...extra];
        },
      },
      ['Host', 'A', 'B'],
    );
    const names = ['Host', 'A', 'B'];
    ids.a = r.pid('A');
    const receivers = ['Host', 'B'];
    const most = new Map(receivers.map((n) => [n, 0]));
    for (const n of receivers) {
      const recv = r.p(n).media.receiver;
      const push = recv.push.bind(recv);
      recv.push = (message: Uint8Array) => {
        push(message);
        most.set(n, Math.max(most.get(n) ?? 0, recv.pendingBytes));
      };
    }
    const before = new Map(
      receivers.map((n) => {
        const recv = r.p(n).media.receiver;
        return [
          n,
          {
            incomplete: recv.incompleteFrames,
            refused: recv.refusedChunks,
            malformed: recv.malformedChunks,
            ok: r.p(n).okFrom(ids.a),
          },
        ];
      }),
    );
    const delta = (n: string, k: 'incomplete' | 'refused') => {
      const recv = r.p(n).media.receiver;
      const now = k === 'incomplete' ? recv.incompleteFrames : recv.refusedChunks;
      return now - (before.get(n)?.[k] ?? 0);
    };
    for (const n of names) r.watch.open(n);
    flood.on = true;
    await waitFor(
      () => receivers.every((n) => delta(n, 'incomplete') >= 500 && delta(n, 'refused') >= 100),
      'each receiver giving up 500 flooded frames and refusing 100 over-cap chunks',
      LONG,
    );
    flood.on = false;
    r.watch.closeAll();
    for (const n of receivers) {
      const recv = r.p(n).media.receiver;
      // At most 64 frames pending, each holding the one flooded chunk that ever came.
      expect(most.get(n), n).toBeLessThanOrEqual(PENDING_FRAMES * FLOOD_PAYLOAD);
      expect(most.get(n), n).toBeLessThanOrEqual(DEFAULT_MAX_PENDING_BYTES);
      expect(recv.malformedChunks, n).toBe(before.get(n)?.malformed);
      expect(recv.guardTrips, n).toBe(0);
      // A's real media kept opening through the flood.
      expect(r.p(n).okFrom(ids.a), n).toBeGreaterThan((before.get(n)?.ok ?? 0) + 10);
    }
    for (const n of names) {
      const notE2ee = r.watch.window(n).filter((s) => s.shield !== 'e2ee');
      expect(r.watch.window(n).length, n).toBeGreaterThan(0);
      expect(notE2ee, `${n} left e2ee during the flood`).toEqual([]);
    }
    // Once the flood stops, what it left pending is given up (1 s) and the memory is back.
    await waitFor(
      () => receivers.every((n) => r.p(n).media.receiver.pendingBytes === 0),
      'the flooded frames given up',
      LONG,
    );
    expect(allSecure(names.map((n) => r.p(n)))).toBe(true);
  }, 60_000);
});
