/**
 * Content sharing in the room's words (docs/kiosk-and-admin-api.md §Content sharing): the room's
 * refusals outside a meeting and without a content source, and the share as the kiosk state
 * carries it (`meeting.share`).
 */
import { describe, expect, it } from 'vitest';
import { ephemeralIdentity } from '../../../src/app/bot.ts';
import { shareState } from '../../../src/app/room/snapshot.ts';
import { FakeClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { MuteState } from '../../../src/devices/mute.ts';
import { Value } from '@sinclair/typebox/value';
import { ShareState } from '../../../src/http/schemas/state.ts';
import { Room, type RoomMediaConfig } from '../../../src/meeting/room.ts';
import { HOST_TOOK_OVER } from '../../../src/meeting/room-share.ts';
import { FakeProcessRunner } from '../../../src/system/process.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';

const MEDIA: RoomMediaConfig = {
  video: { type: 'test' },
  encode: { codec: 'vp8', width: 320, height: 180, framerate: 10, bitrateKbps: 300 },
  audio: { type: 'test' },
  audioBitrateKbps: 24,
  playbackDevice: null,
  content: {
    source: { type: 'test', label: 'Slides' },
    encode: { codec: 'vp8', width: 1280, height: 720, framerate: 5, bitrateKbps: 800 },
  },
};

function room(media: RoomMediaConfig | null): Room {
  return new Room({
    roomName: () => 'Fjord',
    relayUrl: () => 'ws://127.0.0.1:9/v1/signal',
    minimumEncryption: () => 'enhanced',
    identity: ephemeralIdentity('room'),
    clock: new FakeClock(0),
    log: silentLogger(),
    peers: new FakePeerNetwork(),
    runner: new FakeProcessRunner(),
    mute: new MuteState(false),
    camera: () => null,
    schedule: { list: async () => [] },
    media,
    volume: 50,
  });
}

describe('Room.share', () => {
  it('without a content source: unavailable, whatever the meeting', async () => {
    await expect(room(null).share(true)).rejects.toMatchObject({ code: 'meeting.share_unavailable' });
    await expect(room({ ...MEDIA, content: null }).share(true)).rejects.toMatchObject({
      code: 'meeting.share_unavailable',
    });
  });

  it('outside a meeting: not in a meeting, and no share to show', async () => {
    const r = room(MEDIA);
    await expect(r.share(true)).rejects.toMatchObject({ code: 'meeting.not_in_meeting' });
    await expect(r.share(false)).rejects.toMatchObject({ code: 'meeting.not_in_meeting' });
    expect(r.shareView()).toBeNull();
  });
});

describe('shareState', () => {
  it('maps the room’s view onto the kiosk state; the notice only when there is one', () => {
    const quiet = shareState({
      active: true,
      self: false,
      by: 'Alice Smith',
      canShare: true,
      host: false,
      notice: null,
    });
    expect(quiet).toEqual({ active: true, self: false, by: 'Alice Smith', canShare: true, host: false });
    const taken = shareState({
      active: true,
      self: false,
      by: 'Hanna Host',
      canShare: true,
      host: true,
      notice: HOST_TOOK_OVER,
    });
    expect(taken).toEqual({
      active: true,
      self: false,
      by: 'Hanna Host',
      canShare: true,
      host: true,
      notice: 'The host took over sharing.',
    });
    for (const s of [quiet, taken]) expect(Value.Check(ShareState, s)).toBe(true);
    expect(Value.Check(ShareState, { active: true, self: false, by: null })).toBe(false);
  });
});
