/**
 * The blind relay (docs/threat-model.md §What the relay cannot do, first row): record every byte
 * the honest relay received and sent (its `tap` hook: signaling text and media chunks, both
 * directions) in an E2EE meeting of 3 participants exchanging synthetic frames for a few seconds,
 * then scan the recording. What is checked, exactly:
 *
 * Where we look. Every recorded buffer as raw bytes, and, for signaling (JSON text), additionally
 * every base64 / base64url token (22+ chars) and every hex token (64+ chars) decoded to bytes, so a
 * value shipped in any of those renderings is found as bytes. Key renderings (hex, base64,
 * base64url, padded or not) are also searched for directly in the signaling text.
 *
 * Frame plaintext. Every plaintext the receivers decrypted (the session's `frame` events: exactly
 * what senders sealed) is cut into all its 32-byte windows; no window may occur anywhere. The
 * synthetic magic "RDSY" followed by any sequence number a sender used may not occur either.
 *
 * Keys. The clients' E2EE sessions draw their secrets through `e2eeRandom` (MeetingSessionOptions,
 * a test injection point): every 32-byte draw (each meeting key MK_e made by a leader, each
 * ephemeral X25519 secret) and both halves of every 64-byte draw (ML-KEM seeds) are recorded.
 * From every 32-byte draw we derive, as the E2EE core does, the media base key of every
 * (sender, stream) and the SFrame AES key of every KID seen on the wire. None of these may occur.
 * The capture is proven real, not vacuous: every single-chunk audio frame the relay forwarded
 * opens (AES-GCM keystream, tag not needed) under a media key derived from one captured meeting
 * key into a plaintext carrying the synthetic magic — so the keys searched for are the keys used.
 * Each scanner is also run once on data that does contain its needles, to show it can find them.
 *
 * Chat. During the recording the participants chat to everyone and privately (docs/protocol.md
 * "# Chat"), each message carrying a marker; once every message is shown to whom it was for, the
 * markers (raw, and in every view above) may occur nowhere in the recording.
 *
 * The scanners are test/helpers/blind-scan.ts; test/e2e/web-blind-relay.test.ts runs them on a
 * meeting with a browser participant.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { HeadlessParticipant } from '../../../src/meeting/headless.ts';
import {
  findMagic,
  hasMagic,
  keystreamOpen,
  mediaBaseKey,
  NeedleIndex,
  recorder,
  renderings,
  SYNTHETIC_MAGIC,
  sframeKeys,
  selfCheck,
  type TapRecord,
  views,
  wireFrames,
} from '../../helpers/blind-scan.ts';
import { allSecure, FAST_E2EE, type Harness, startHarness, waitFor } from '../../helpers/meeting-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('blind relay', () => {
  it('everything the relay handled carries no frame plaintext and no meeting or media key', async () => {
    const recording: TapRecord[] = [];
    let recordingOn = true;
    h = await startHarness({ hooks: { tap: recorder(recording, () => recordingOn) } });
    const id = await h.meeting();
    const draws: Uint8Array[] = [];
    const e2eeRandom = (n: number): Uint8Array => {
      const b = new Uint8Array(randomBytes(n));
      if (n === 32 || n === 64) draws.push(b.slice());
      return b;
    };
    const plaintexts: Uint8Array[] = [];
    const people: HeadlessParticipant[] = [
      h.participant(id, 'Host', { identity: h.host, client: 'room', e2eeRandom, e2eeParams: FAST_E2EE }),
      h.participant(id, 'A', { e2eeRandom, e2eeParams: FAST_E2EE }),
      h.participant(id, 'B', { client: 'mobile', e2eeRandom, e2eeParams: FAST_E2EE }),
    ];
    for (const p of people) p.media.onFrame((f) => plaintexts.push(f.data.slice()));
    for (const p of people) await p.join();
    await waitFor(() => allSecure(people), 'three secure', 30_000);
    const ids = people.map((p) => p.session.participantId!);
    const instanceId = h.relay.core.liveFor(id)!.instanceId;
    await waitFor(
      () => people.every((p, i) => ids.every((o, j) => i === j || p.okFrom(o) > 120)),
      'a few seconds of frames between everyone',
      30_000,
    );
    // Chat to everyone and privately, each with a marker, shown to whom it was for while recording.
    const markers = ['CHATMARK-GROUP-5d1e', 'CHATMARK-PRIVATE-A-TO-B-8b07', 'CHATMARK-PRIVATE-B-TO-A-c4a9'];
    const [, pa, pb] = people as [HeadlessParticipant, HeadlessParticipant, HeadlessParticipant];
    const chat = (p: HeadlessParticipant, text: string, to: string) => {
      const r = p.media.chat.send(text, to, h!.clock.monotonic(), h!.clock.now());
      expect(r.ok, `${p.name} chat`).toBe(true);
      return r.ok ? r.id : '';
    };
    const shown = (p: HeadlessParticipant, text: string) =>
      p.media.chat.messages.some((m) => m.text === text);
    const chatIds = [
      chat(pa, markers[0]!, 'all'),
      chat(pa, markers[1]!, pb.session.participantId!),
      chat(pb, markers[2]!, pa.session.participantId!),
    ];
    await waitFor(
      () =>
        people.every((p) => p === pa || shown(p, markers[0]!)) &&
        shown(pb, markers[1]!) &&
        shown(pa, markers[2]!) &&
        [pa, pb].every((p) => p.media.chat.messages.every((m) => !m.mine || m.delivered)),
      'chat shown and acknowledged',
      20_000,
    );
    expect(chatIds.every((i) => i !== '')).toBe(true);
    expect(shown(people[0]!, markers[1]!) || shown(people[0]!, markers[2]!)).toBe(false);
    recordingOn = false;

    // What was recorded: both directions of both channels.
    for (const dir of ['in', 'out'] as const)
      for (const channel of ['signaling', 'media'] as const)
        expect(
          recording.some((r) => r.dir === dir && r.channel === channel),
          `${dir} ${channel}`,
        ).toBe(true);
    const signalingText = recording
      .filter((r) => r.channel === 'signaling')
      .map((r) => Buffer.from(r.data).toString('utf8'))
      .join('\n');
    expect(signalingText).not.toContain('"meeting-key"');

    // ---- frame plaintext ----
    expect(plaintexts.length).toBeGreaterThan(300);
    const windows = new NeedleIndex();
    const seqs = new Set<number>();
    for (const p of plaintexts) {
      windows.addWindows(p);
      const at = Buffer.from(p).indexOf(Buffer.from(SYNTHETIC_MAGIC));
      if (at >= 0 && at + 8 <= p.length) seqs.add(Buffer.from(p).readUInt32BE(at + 4));
    }
    expect(seqs.size).toBeGreaterThan(30);
    // The scanners find what is there.
    expect(windows.find(plaintexts[plaintexts.length - 1]!).length).toBeGreaterThan(0);
    expect(findMagic(plaintexts[0]!, seqs).length).toBeGreaterThan(0);
    let scanned = 0;
    for (const r of recording) {
      for (const v of views(r)) {
        scanned += v.length;
        expect(windows.find(v), `plaintext window in ${r.dir} ${r.channel}`).toEqual([]);
        expect(findMagic(v, seqs), `frame magic in ${r.dir} ${r.channel}`).toEqual([]);
      }
    }
    expect(scanned).toBeGreaterThan(100_000);

    // ---- chat ----
    const needles = markers.map((m) => Buffer.from(m));
    expect(Buffer.from(`x${markers[1]}x`).indexOf(needles[1]!)).toBe(1);
    for (const r of recording) {
      for (const v of views(r)) {
        const b = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
        for (const n of needles) expect(b.indexOf(n), `chat marker in ${r.dir} ${r.channel}`).toBe(-1);
      }
    }

    // ---- keys: the captured meeting keys are the ones in use ----
    const candidates = draws.filter((d) => d.length === 32);
    const kids = new Set<bigint>();
    let audioFrames = 0;
    const usedKeys = new Set<number>();
    for (const w of wireFrames(recording, 'out')) {
      kids.add(w.kid);
      if (w.kind !== 'audio' || w.chunkCount !== 1) continue;
      audioFrames++;
      const opened = candidates.findIndex((mk) =>
        hasMagic(keystreamOpen(w.frame, mediaBaseKey(mk, id, instanceId, w.sender, 'audio'))),
      );
      expect(opened, 'a forwarded audio frame opens under a captured meeting key').toBeGreaterThanOrEqual(0);
      usedKeys.add(opened);
    }
    expect(audioFrames).toBeGreaterThan(100);
    expect(usedKeys.size).toBeGreaterThan(0);

    // ---- keys: none of them, nor anything derived from them, went through the relay ----
    const keys = new NeedleIndex();
    for (const d of draws) {
      if (d.length === 32) keys.add(d);
      else {
        keys.add(d.subarray(0, 32));
        keys.add(d.subarray(32, 64));
      }
    }
    for (const mk of candidates) {
      for (const sender of ids) {
        for (const stream of ['audio', 'video'] as const) {
          const base = mediaBaseKey(mk, id, instanceId, sender, stream);
          keys.add(base);
          for (const kid of kids) keys.add(sframeKeys(base, kid).key);
        }
      }
    }
    expect(keys.size).toBeGreaterThan(candidates.length * ids.length * 2);
    const sample = [...usedKeys].map((i) => candidates[i]!)[0]!;
    expect(keys.find(new Uint8Array([1, 2, 3, ...sample, 4]))).toEqual([3]);
    expect(selfCheck(keys, sample)).toBe(true);
    for (const r of recording) {
      for (const v of views(r)) expect(keys.find(v), `key bytes in ${r.dir} ${r.channel}`).toEqual([]);
    }
    const rendered = [...draws, ...candidates.map((mk) => mediaBaseKey(mk, id, instanceId, ids[0]!, 'audio'))]
      .filter((k) => k.length === 32)
      .flatMap(renderings);
    expect(rendered.some((s) => `x${renderings(sample)[4]}x`.includes(s))).toBe(true);
    for (const s of rendered) expect(signalingText.includes(s), `key rendering ${s}`).toBe(false);
  }, 90_000);
});
