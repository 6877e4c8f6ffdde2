/**
 * The room's content sharing (src/meeting/room-share.ts, docs/kiosk-and-admin-api.md §Content
 * sharing) over a real share arbitration (ShareChannel with an in-memory port), a fake media link
 * and fake ffmpeg children: starting claims the share and runs the content encoder on our screen
 * stream, a busy or missing source is refused by code, the host taking over stops the encoder and
 * says so, and only the sharer's content reaches the room screen's feed, on stream 2.
 */
import { describe, expect, it, vi } from 'vitest';
import { contentConfigFrom } from '../../../src/app/room/config.ts';
import { defaultSettings } from '../../../src/config/settings.ts';
import { FakeClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { FrameSource } from '../../../src/meeting/media-link.ts';
import type { FeedFrame } from '../../../src/media/kiosk-feed.ts';
import { type DataMessage, encodeDataMessage, parseDataMessage } from '../../../src/meeting/data-message.ts';
import type { ReceivedMedia } from '../../../src/meeting/media-link.ts';
import {
  type ContentConfig,
  HOST_TOOK_OVER,
  RoomShare,
  SELF_CONTENT_ID,
  type ShareLink,
} from '../../../src/meeting/room-share.ts';
import { ShareChannel, type ShareMember } from '../../../src/meeting/share.ts';
import type { StreamKind } from '../../../src/protocol/vocabulary.ts';
import { FakeProcessRunner } from '../../../src/system/process.ts';

const CONTENT: ContentConfig = {
  source: { type: 'test', label: 'Slides' },
  encode: {
    codec: 'vp8',
    width: 1280,
    height: 720,
    framerate: 5,
    bitrateKbps: 800,
    keyframeIntervalMs: 5000,
  },
};

const NAMES: Record<string, string> = { 'p-room': 'Fjord', 'p-alice': 'Alice Smith', 'p-host': 'Hanna Host' };

function ivfHeader(): Uint8Array {
  const b = new Uint8Array(32);
  b.set([0x44, 0x4b, 0x49, 0x46, 0, 0, 32, 0, 0x56, 0x50, 0x38, 0x30, 64, 0, 36, 0, 30, 0, 0, 0, 1, 0, 0, 0]);
  return b;
}
function ivfFrame(key: boolean, pts: number): Uint8Array {
  const b = new Uint8Array(12 + 10);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 10, true);
  dv.setUint32(4, pts, true);
  b[12] = key ? 0x10 : 0x11;
  return b;
}

function setup(content: ContentConfig | null = CONTENT) {
  const clock = new FakeClock(1_700_000_000_000);
  const sent: DataMessage[] = [];
  const members: ShareMember[] = [
    { id: 'p-room', self: true, host: false },
    { id: 'p-alice', self: false, host: false },
    { id: 'p-host', self: false, host: true },
  ];
  const channel = new ShareChannel({
    send: (b) => {
      sent.push(parseDataMessage(b)!);
      return true;
    },
    members: () => members,
  });
  const listeners = new Set<(f: ReceivedMedia) => void>();
  const attached = new Map<StreamKind, FrameSource>();
  const link: ShareLink = {
    share: channel,
    attach: (capture, kind = capture.kind) => void attached.set(kind, capture),
    detach: (kind) => void attached.delete(kind),
    onFrame: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  const published: (Omit<FeedFrame, 'self'> & { self?: boolean })[] = [];
  const runner = new FakeProcessRunner();
  let changes = 0;
  const share = new RoomShare({
    link,
    content,
    feed: { publish: (f) => void published.push(f) },
    clock,
    runner,
    log: silentLogger(),
    onChange: () => changes++,
  });
  let seq = 0;
  return {
    clock,
    channel,
    sent,
    attached,
    published,
    runner,
    share,
    changes: () => changes,
    view: () => share.view((id) => NAMES[id]),
    /** `from` claims the share (or gives it up) on the data stream. */
    claim(from: string, sharing: boolean, since = clock.now()) {
      const msg = parseDataMessage(encodeDataMessage({ type: 'share', seq: seq++, sharing, since }))!;
      channel.receive(from, msg, clock.monotonic());
    },
    /** A decrypted frame from `from` on its stream of `kind`. */
    deliver(from: string, kind: StreamKind, keyframe = true) {
      const f: ReceivedMedia = {
        participantId: from,
        kind,
        epoch: 1,
        frameNumber: 0,
        keyframe,
        codec: 'vp8',
        captureTs: clock.now(),
        latencyMs: 0,
        data: Uint8Array.of(1, 2, 3),
      };
      for (const l of listeners) l(f);
    },
  };
}

describe('RoomShare', () => {
  it('a content source that fails for good ends the share for everyone and says why', async () => {
    const t = setup({ ...CONTENT, source: { type: 'v4l2', device: '/dev/roomd-test-no-such-dongle' } });
    t.share.start();
    expect(t.channel.sharing).toBe(true);
    await vi.waitFor(() => expect(t.channel.sharing).toBe(false));
    expect(t.sent.at(-1)).toMatchObject({ type: 'share', sharing: false });
    expect(t.attached.has('screen')).toBe(false);
    expect(t.view()).toMatchObject({
      active: false,
      notice: 'The content source stopped, so the room stopped sharing.',
    });
  });

  it('closing while sharing tells the others the share ended', async () => {
    const t = setup();
    t.share.start();
    await t.share.close();
    expect(t.sent.at(-1)).toMatchObject({ type: 'share', sharing: false });
  });

  it('start claims the share, runs the content encoder on the screen stream and shows it as the room’s own', async () => {
    const t = setup();
    t.share.start();
    expect(t.channel.sharing).toBe(true);
    expect(t.sent.at(-1)).toMatchObject({ type: 'share', sharing: true });
    expect(t.attached.get('screen')).toBe(t.share.capture);
    expect(t.view()).toEqual({
      active: true,
      self: true,
      by: 'Fjord',
      canShare: true,
      host: false,
      notice: null,
    });
    expect(t.changes()).toBeGreaterThan(0);
    await vi.waitFor(() => expect(t.runner.children).toHaveLength(1));
    const child = t.runner.children[0]!;
    child.stdout.write(ivfHeader());
    child.stdout.write(ivfFrame(true, 0));
    await vi.waitFor(() => expect(t.published).toHaveLength(1));
    expect(t.published[0]).toMatchObject({
      participantId: SELF_CONTENT_ID,
      streamId: 2,
      self: true,
      keyframe: true,
      codec: 'vp8',
    });
  });

  it('stop detaches, stops the encoder and gives the share up', async () => {
    const t = setup();
    t.share.start();
    await vi.waitFor(() => expect(t.runner.children).toHaveLength(1));
    await t.share.stop();
    expect(t.attached.has('screen')).toBe(false);
    expect(t.share.capture).toBeNull();
    expect(t.runner.children[0]!.running).toBe(false);
    expect(t.channel.sharing).toBe(false);
    expect(t.sent.at(-1)).toMatchObject({ type: 'share', sharing: false });
    expect(t.view()).toEqual({
      active: false,
      self: false,
      by: null,
      canShare: true,
      host: false,
      notice: null,
    });
  });

  it('while someone else shares, start is refused as busy and nothing runs', () => {
    const t = setup();
    t.claim('p-alice', true);
    expect(t.view()).toMatchObject({ active: true, self: false, by: 'Alice Smith' });
    expect(() => t.share.start()).toThrow(expect.objectContaining({ code: 'meeting.share_busy' }));
    expect(t.runner.calls).toEqual([]);
    expect(t.attached.size).toBe(0);
    expect(t.channel.sharing).toBe(false);
  });

  it('without a content source, start is refused as unavailable', () => {
    const t = setup(null);
    expect(t.share.canShare).toBe(false);
    expect(() => t.share.start()).toThrow(expect.objectContaining({ code: 'meeting.share_unavailable' }));
    expect(t.sent).toEqual([]);
    expect(t.view()).toEqual({
      active: false,
      self: false,
      by: null,
      canShare: false,
      host: false,
      notice: null,
    });
  });

  it('the host taking over stops the encoder and the room screen says so, until the host’s share ends', async () => {
    const t = setup();
    t.share.start();
    await vi.waitFor(() => expect(t.runner.children).toHaveLength(1));
    t.clock.advance(1000);
    t.claim('p-host', true);
    expect(t.channel.sharing).toBe(false);
    expect(t.attached.has('screen')).toBe(false);
    expect(t.share.capture).toBeNull();
    await vi.waitFor(() => expect(t.runner.children[0]!.running).toBe(false));
    expect(t.view()).toEqual({
      active: true,
      self: false,
      by: 'Hanna Host',
      canShare: true,
      host: false,
      notice: HOST_TOOK_OVER,
    });
    t.claim('p-host', false);
    expect(t.view()).toEqual({
      active: false,
      self: false,
      by: null,
      canShare: true,
      host: false,
      notice: null,
    });
  });

  it("only the sharer's content reaches the screen, on stream 2", () => {
    const t = setup();
    t.deliver('p-alice', 'screen');
    expect(t.published).toEqual([]); // nobody shares yet
    t.claim('p-alice', true);
    t.deliver('p-alice', 'screen');
    t.deliver('p-host', 'screen'); // not the sharer
    t.deliver('p-alice', 'video'); // cameras are the room's business, not the share's
    expect(t.published).toEqual([
      {
        participantId: 'p-alice',
        streamId: 2,
        codec: 'vp8',
        keyframe: true,
        captureTs: expect.any(Number),
        data: Uint8Array.of(1, 2, 3),
      },
    ]);
    t.claim('p-alice', false);
    t.deliver('p-alice', 'screen', false);
    expect(t.published).toHaveLength(1);
  });

  it('after close, nothing reaches the screen and start is refused', async () => {
    const t = setup();
    t.claim('p-alice', true);
    await t.share.close();
    t.deliver('p-alice', 'screen');
    expect(t.published).toEqual([]);
    expect(() => t.share.start()).toThrow(expect.objectContaining({ code: 'meeting.not_in_meeting' }));
  });
});

describe('contentConfigFrom', () => {
  it('an HDMI capture device when set, the "Slides" test picture in the demo, else nothing', () => {
    const s = defaultSettings();
    expect(contentConfigFrom(s, null)).toBeNull();
    expect(contentConfigFrom(s, '/f.ttf', true)?.source).toEqual({
      type: 'slides',
      fontFile: '/f.ttf',
      label: 'Slides',
    });
    const dongle = {
      ...s,
      devices: { ...s.devices, content: { video: '/dev/v4l/by-id/usb-MACROSILICON-video-index0' } },
    };
    const c = contentConfigFrom(dongle, null, true);
    expect(c?.source).toEqual({ type: 'v4l2', device: '/dev/v4l/by-id/usb-MACROSILICON-video-index0' });
    // Text, not motion: 5 fps, VP8, ~800 kbit/s, a keyframe at least every 5 s, the camera's priority.
    expect(c?.encode).toEqual({
      codec: 'vp8',
      width: 1280,
      height: 720,
      framerate: 5,
      bitrateKbps: 800,
      keyframeIntervalMs: 5000,
      niceness: 10,
    });
  });
});
