/**
 * Content sharing end to end (docs/kiosk-and-admin-api.md §Content sharing, docs/protocol.md
 * "# Content sharing"): the room (the daemon's meeting core) shares its slide-deck content source
 * through real ffmpeg in an E2EE meeting with the host and a guest, over the real relay and wrtc.
 * The guest decrypts the room's `screen` stream and ffmpeg decodes it: the stamped frame numbers
 * rise and the slide's text is dark on a white page. The guest cannot take the share over; the
 * host can, and the room's encoder stops and its screen says why.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { MuteState } from '../../../src/devices/mute.ts';
import { slidesLayout } from '../../../src/media/ffmpeg-args.ts';
import { readFrameStamp, stampBandHeight } from '../../../src/media/frame-stamp.ts';
import { writeIvfFrame, writeIvfHeader } from '../../../src/media/ivf.ts';
import { HOST_TOOK_OVER } from '../../../src/meeting/room-share.ts';
import type { Room } from '../../../src/meeting/room.ts';
import { type Harness, startHarness, waitFor } from '../../helpers/meeting-harness.ts';
import { roomInMeeting } from './room-under-test.ts';

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
const W = 640;
const H = 360;

let h: Harness | undefined;
let room: Room | undefined;
afterEach(async () => {
  await room?.stop();
  await h?.close();
  room = undefined;
  h = undefined;
});

/** Decode VP8 frames (from a keyframe on) to raw RGB pictures with ffmpeg. */
function decode(frames: readonly Uint8Array[]): Promise<Buffer[]> {
  const ivf = Buffer.concat([
    writeIvfHeader({ codec: 'vp8', width: W, height: H, timebaseDen: 5, timebaseNum: 1 }),
    ...frames.map((f, i) => writeIvfFrame(f, i)),
  ]);
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ffmpeg',
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'ivf',
        '-i',
        'pipe:0',
        '-f',
        'rawvideo',
        '-pix_fmt',
        'rgb24',
        'pipe:1',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.on('error', reject);
    child.on('close', () => {
      const all = Buffer.concat(out);
      const size = W * H * 3;
      resolve(
        Array.from({ length: Math.floor(all.length / size) }, (_, k) =>
          all.subarray(k * size, (k + 1) * size),
        ),
      );
    });
    child.stdin.end(ivf);
  });
}

function stampOf(rgb: Buffer): number | null {
  const band = stampBandHeight(H);
  const rgba = Buffer.alloc(W * band * 4);
  for (let i = 0; i < W * band; i++) {
    rgb.copy(rgba, i * 4, i * 3, i * 3 + 3);
    rgba[i * 4 + 3] = 255;
  }
  return readFrameStamp({ data: rgba, width: W, height: band }, H);
}

/** Share of dark pixels in the slide's body text region. */
function darkInBody(rgb: Buffer): number {
  const r = slidesLayout(W, H).body;
  let dark = 0;
  for (let y = r.y; y < r.y + r.h; y++)
    for (let x = r.x; x < r.x + r.w; x++) {
      const at = (y * W + x) * 3;
      if (0.299 * rgb[at]! + 0.587 * rgb[at + 1]! + 0.114 * rgb[at + 2]! < 96) dark++;
    }
  return dark / (r.w * r.h);
}

describe('the room shares content', () => {
  it('the guest decodes the shared slides; the guest cannot take over, the host can', async () => {
    h = await startHarness();
    const id = await h.meeting();
    const host = h.participant(id, 'Hanna Host', { identity: h.host, videoFps: 0, audioFps: 0 });
    const guest = h.participant(id, 'Gus Guest', { videoFps: 0, audioFps: 0 });
    await host.join();
    await guest.join();
    const { room: r, roomId } = await roomInMeeting(h, id, [host, guest], {
      roomName: () => 'Share Room',
      mute: new MuteState(true),
      media: {
        video: { type: 'test', fontFile: null, label: 'room' },
        encode: { codec: 'vp8', width: 160, height: 90, framerate: 5, bitrateKbps: 100 },
        audio: { type: 'test' },
        audioBitrateKbps: 24,
        playbackDevice: null,
        content: {
          source: { type: 'slides', label: 'Quarterly review', fontFile: existsSync(FONT) ? FONT : null },
          encode: {
            codec: 'vp8',
            width: W,
            height: H,
            framerate: 5,
            bitrateKbps: 600,
            keyframeIntervalMs: 5000,
          },
        },
      },
    });
    room = r;

    // The guest collects the room's screen frames from its first keyframe on.
    const got: Uint8Array[] = [];
    guest.media.onFrame((f) => {
      if (f.participantId !== roomId || f.kind !== 'screen') return;
      if (got.length === 0 && !f.keyframe) return;
      got.push(f.data.slice());
    });
    await r.share(true);
    expect(r.shareView()).toMatchObject({ active: true, self: true });
    await waitFor(
      () => guest.media.share.sharer(h!.clock.monotonic())?.id === roomId,
      'the guest sees the room share',
      15_000,
    );
    await waitFor(() => got.length >= 8, 'eight content frames at the guest', 30_000);
    const pictures = await decode(got.slice(0, 8));
    expect(pictures.length).toBe(8);
    const stamps = pictures.map(stampOf);
    expect(stamps.every((s) => s !== null)).toBe(true);
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]!).toBeGreaterThan(stamps[i - 1]!);
    expect(darkInBody(pictures[4]!)).toBeGreaterThan(0.01);

    // A guest may not take the share over.
    expect(guest.media.share.start(h.clock.monotonic(), h.clock.now())).toEqual({
      ok: false,
      code: 'meeting.share_busy',
    });
    // The host may: the room's encoder stops and the room screen says why.
    expect(host.media.share.start(h.clock.monotonic(), h.clock.now())).toEqual({ ok: true });
    await waitFor(
      () => r.shareView()?.self === false && r.shareView()?.notice === HOST_TOOK_OVER,
      'the room gives way',
      15_000,
    );
    expect(r.shareView()?.by).toBe('Hanna Host');
    await waitFor(
      () => guest.media.share.sharer(h!.clock.monotonic())?.id === host.session.participantId,
      'the guest follows',
      15_000,
    );
  }, 120_000);
});
