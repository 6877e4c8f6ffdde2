/**
 * The room's one command port (src/protocol/room-commands.ts) as `Room` carries out the camera verb
 * (the kiosk's moves and the panel's presets reach the camera the same way) and chat
 * (docs/kiosk-and-admin-api.md §Chat): what the room sends through the meeting's chat channel, what
 * it refuses and why, and which messages its screen may show, in the state's words.
 */
import { describe, expect, it, vi } from 'vitest';
import { ephemeralIdentity } from '../../../src/app/bot.ts';
import { chatMessage } from '../../../src/app/room/snapshot.ts';
import { FakeClock } from '../../../src/core/clock.ts';
import type { RoomdError } from '../../../src/core/errors.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { Camera } from '../../../src/devices/camera/camera.ts';
import { MuteState } from '../../../src/devices/mute.ts';
import { type ChatEntry, ChatChannel, type ChatMember } from '../../../src/meeting/chat.ts';
import { parseDataMessage } from '../../../src/meeting/data-message.ts';
import { Room, sendChat, visibleChat } from '../../../src/meeting/room.ts';
import type { RoomCommands } from '../../../src/protocol/room-commands.ts';
import { FakeProcessRunner } from '../../../src/system/process.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';

function fakeCamera() {
  return {
    recallPreset: vi.fn(async (_p: number) => {}),
    home: vi.fn(async () => {}),
    drive: vi.fn(async (_d: string) => {}),
    zoom: vi.fn(async (_a: string) => {}),
  };
}

function room(camera: ReturnType<typeof fakeCamera> | null, chatEnabled?: () => boolean): Room {
  return new Room({
    ...(chatEnabled === undefined ? {} : { chatEnabled }),
    roomName: () => 'Huddle Room 3',
    relayUrl: () => 'ws://127.0.0.1:9/v1/signal',
    minimumEncryption: () => 'enhanced',
    identity: ephemeralIdentity('room'),
    clock: new FakeClock(0),
    log: silentLogger(),
    peers: new FakePeerNetwork(),
    runner: new FakeProcessRunner(),
    mute: new MuteState(false),
    camera: () => camera as unknown as Camera | null,
    schedule: { list: async () => [] },
    media: null,
    volume: 50,
  });
}

describe('Room as the command port: ptz', () => {
  it('maps presets, home, stop, zoom and the larger of pan and tilt to the camera', async () => {
    const cam = fakeCamera();
    const r = room(cam);
    await r.ptz({ op: 'preset', preset: 2 });
    await r.ptz({ op: 'home' });
    await r.ptz({ op: 'stop' });
    await r.ptz({ op: 'move', pan: -0.5, tilt: 0.2, zoom: 0 });
    await r.ptz({ op: 'move', pan: 0.1, tilt: -0.9, zoom: 0 });
    await r.ptz({ op: 'move', pan: 0.1, tilt: 0.9, zoom: 0 });
    await r.ptz({ op: 'move', pan: 0.3, tilt: 0.3, zoom: 0 });
    await r.ptz({ op: 'move', pan: 1, tilt: 0, zoom: 0.25 });
    await r.ptz({ op: 'move', pan: 0, tilt: 0, zoom: -1 });
    expect(cam.recallPreset.mock.calls).toEqual([[2]]);
    expect(cam.home).toHaveBeenCalledTimes(1);
    expect(cam.drive.mock.calls).toEqual([['stop'], ['left'], ['down'], ['up'], ['right']]);
    expect(cam.zoom.mock.calls).toEqual([['tele'], ['wide']]);
  });

  it('without a camera that can move, every camera verb is refused in words', async () => {
    const r = room(null);
    await expect(r.ptz({ op: 'preset', preset: 1 })).rejects.toMatchObject({
      code: 'device.unavailable',
      message: 'No camera that can move is connected.',
    });
    await expect(r.ptz({ op: 'move', pan: 1, tilt: 0, zoom: 0 })).rejects.toMatchObject({
      code: 'device.unavailable',
    });
  });

  it('acknowledging the security code outside a meeting does nothing and does not fail', async () => {
    await expect(room(null).acknowledgeSecurityCode()).resolves.toBeUndefined();
  });
});

/**
 * A meeting's chat channel over a recording port: the room and two keyed people, Alice and Bob, in
 * an E2EE meeting (`e2ee` false: an enhanced one, without private messages).
 */
function channel(members: ChatMember[] = MEMBERS, e2ee = true) {
  const sent: Record<string, unknown>[] = [];
  const chat = new ChatChannel({
    send: (payload) => {
      sent.push(parseDataMessage(payload) as Record<string, unknown>);
      return true;
    },
    direct: () => null,
    requestDirect: () => {},
    members: () => members,
    random: (n) => new Uint8Array(n).fill(7),
    privateMessages: () => e2ee,
  });
  return { chat, sent };
}

const MEMBERS: ChatMember[] = [
  { id: 'p-room', name: 'Huddle Room 3', keyed: true, self: true },
  { id: 'p-alice', name: 'Alice Smith', keyed: true, self: false },
  { id: 'p-bob', name: 'Bob Jones', keyed: true, self: false },
];

/** The code a refused send throws. */
function refusal(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as RoomdError).code;
  }
  return undefined;
}

describe('Room as the command port: chat', () => {
  it('outside a meeting, chat is refused as not in a meeting', async () => {
    const r: RoomCommands = room(null);
    await expect(r.chat('We can hear you')).rejects.toMatchObject({ code: 'meeting.not_in_meeting' });
    await expect(r.chat('We can hear you', 'p-alice')).rejects.toMatchObject({
      code: 'meeting.not_in_meeting',
    });
  });

  it("with the room's chat setting off, chat is refused as off, and the screen shows none", async () => {
    let on = false;
    const r = room(null, () => on);
    await expect(r.chat('We can hear you')).rejects.toMatchObject({
      code: 'meeting.chat_off',
      message: 'Chat is turned off for this room.',
    });
    expect(r.chatEnabled).toBe(false);
    expect(r.chatMessages(50)).toEqual([]);
    // The setting is read at every use: turned on, the same room is only "not in a meeting".
    on = true;
    expect(r.chatEnabled).toBe(true);
    await expect(r.chat('We can hear you')).rejects.toMatchObject({ code: 'meeting.not_in_meeting' });
  });

  it('without a setting, chat is on', () => {
    expect(room(null).chatEnabled).toBe(true);
  });

  it('sends to everyone by default, stamped with the clock, and shows it at once as the room’s', () => {
    const { chat, sent } = channel();
    const clock = new FakeClock(Date.UTC(2026, 2, 4, 9, 30));
    const id = sendChat(chat, true, clock, 'We can hear you');
    expect(sent).toEqual([
      { v: 1, type: 'chat', id, seq: 0, to: 'all', at: clock.now(), text: 'We can hear you' },
    ]);
    expect(chat.messages).toEqual([
      {
        id,
        from: 'p-room',
        fromName: 'Huddle Room 3',
        to: 'all',
        toName: null,
        text: 'We can hear you',
        at: clock.now(),
        mine: true,
        delivered: false,
      },
    ]);
    // 'all' says the same as no recipient.
    sendChat(chat, true, clock, 'Please repeat that', 'all');
    expect(sent.at(-1)).toMatchObject({ to: 'all', seq: 1, text: 'Please repeat that' });
  });

  it('sends privately to one participant by id (the pair key is made first)', () => {
    const { chat } = channel();
    sendChat(chat, true, new FakeClock(0), "We'll be right there", 'p-alice');
    expect(chat.messages.at(-1)).toMatchObject({ to: 'p-alice', toName: 'Alice Smith', mine: true });
  });

  it("refuses with the channel's code: bad text, an unknown recipient, a meeting not secure yet", () => {
    const { chat, sent } = channel();
    const clock = new FakeClock(0);
    const send = (text: string, to?: string) => refusal(() => sendChat(chat, true, clock, text, to));
    expect(send('')).toBe('meeting.chat_invalid');
    expect(send('x'.repeat(1001))).toBe('meeting.chat_invalid');
    // 1000 characters, but 2000 UTF-8 bytes.
    expect(send('é'.repeat(1000))).toBe('meeting.chat_invalid');
    expect(send('ring\u0007the bell')).toBe('meeting.chat_invalid');
    expect(send('tab\there')).toBe('meeting.chat_invalid');
    expect(send('someone', 'p-carol')).toBe('meeting.chat_unknown_recipient');
    // The room cannot write privately to itself.
    expect(send('me', 'p-room')).toBe('meeting.chat_unknown_recipient');
    expect(sent).toEqual([]);
    expect(chat.messages).toEqual([]);
    // Line breaks and 1000 bytes exactly are fine.
    expect(send('two\nlines')).toBeUndefined();
    expect(send('x'.repeat(1000))).toBeUndefined();

    const enhanced = channel(MEMBERS, false);
    expect(refusal(() => sendChat(enhanced.chat, true, clock, 'psst', 'p-alice'))).toBe(
      'meeting.chat_no_private',
    );
    expect(refusal(() => sendChat(enhanced.chat, true, clock, 'to all'))).toBeUndefined();

    const unkeyed = channel(MEMBERS.map((m) => ({ ...m, keyed: !m.self })));
    expect(refusal(() => sendChat(unkeyed.chat, true, clock, 'hello'))).toBe('meeting.chat_not_ready');
  });

  it('refuses while chat is off before it looks at the meeting or the text', () => {
    const { chat, sent } = channel();
    expect(refusal(() => sendChat(chat, false, new FakeClock(0), 'hello'))).toBe('meeting.chat_off');
    expect(refusal(() => sendChat(null, false, new FakeClock(0), ''))).toBe('meeting.chat_off');
    expect(refusal(() => sendChat(null, true, new FakeClock(0), 'hello'))).toBe('meeting.not_in_meeting');
    expect(sent).toEqual([]);
  });
});

describe('chat on the room screen', () => {
  const entry = (over: Partial<ChatEntry>): ChatEntry => ({
    id: 'm',
    from: 'p-alice',
    fromName: 'Alice Smith',
    to: 'all',
    toName: null,
    text: 'Hello',
    at: 1000,
    mine: false,
    delivered: true,
    ...over,
  });

  it('shows group messages and those to or from the room, never another pair’s', () => {
    const all = [
      entry({ id: 'group' }),
      entry({ id: 'to-room', to: 'p-room', toName: 'Huddle Room 3' }),
      entry({ id: 'alice-to-bob', to: 'p-bob', toName: 'Bob Jones' }),
      entry({ id: 'room-to-bob', from: 'p-room', to: 'p-bob', toName: 'Bob Jones', mine: true }),
    ];
    expect(visibleChat(all, 'p-room', 50).map((e) => e.id)).toEqual(['group', 'to-room', 'room-to-bob']);
    // Without knowing who the room is, nothing addressed to one person is shown but its own.
    expect(visibleChat(all, undefined, 50).map((e) => e.id)).toEqual(['group', 'room-to-bob']);
  });

  it('never shows a message that was there while chat was off', () => {
    const all = [entry({ id: 'before' }), entry({ id: 'while-off' }), entry({ id: 'after' })];
    const hidden = new Set(['before', 'while-off']);
    expect(visibleChat(all, 'p-room', 50, hidden).map((e) => e.id)).toEqual(['after']);
  });

  it('keeps the newest, oldest first', () => {
    const many = Array.from({ length: 60 }, (_, i) => entry({ id: `m${i}` }));
    const shown = visibleChat(many, 'p-room', 50);
    expect(shown).toHaveLength(50);
    expect(shown[0]?.id).toBe('m10');
    expect(shown.at(-1)?.id).toBe('m59');
  });

  it('says who wrote and whether to everyone, privately to the room, or privately from it', () => {
    expect(chatMessage(entry({ id: 'g' }))).toEqual({
      id: 'g',
      from: 'Alice Smith',
      fromId: 'p-alice',
      to: 'everyone',
      text: 'Hello',
      at: 1000,
      mine: false,
      delivered: true,
      private: false,
    });
    expect(chatMessage(entry({ to: 'p-room', toName: 'Huddle Room 3' }))).toMatchObject({
      to: 'room',
      private: true,
      fromId: 'p-alice',
    });
    expect(
      chatMessage(
        entry({
          from: 'p-room',
          fromName: 'Huddle Room 3',
          to: 'p-bob',
          toName: 'Bob Jones',
          mine: true,
          delivered: false,
        }),
      ),
    ).toMatchObject({ from: 'Huddle Room 3', to: 'Bob Jones', mine: true, delivered: false, private: true });
  });

  it('a message received through the channel reaches the screen with a change', () => {
    const { chat, sent } = channel();
    const changed = vi.fn();
    chat.onChange(changed);
    chat.receive(
      'p-alice',
      { v: 1, type: 'chat', id: 'a1', seq: 0, to: 'all', at: 5, text: 'Can you hear me?' },
      0,
    );
    expect(changed).toHaveBeenCalled();
    expect(visibleChat(chat.messages, 'p-room', 50).map(chatMessage)).toEqual([
      {
        id: 'a1',
        from: 'Alice Smith',
        fromId: 'p-alice',
        to: 'everyone',
        text: 'Can you hear me?',
        at: 5,
        mine: false,
        delivered: true,
        private: false,
      },
    ]);
    expect(sent).toEqual([{ v: 1, type: 'chat-ack', to: 'p-alice', ids: ['a1'] }]);
  });
});
