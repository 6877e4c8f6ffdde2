/**
 * The room's chat end to end (docs/kiosk-and-admin-api.md §Chat): the room (the daemon's meeting
 * core) in an E2EE meeting with two far-end people over the real relay and wrtc. The room's canned
 * reply reaches both; a person's private message reaches the room and only the room; the room's
 * private answer reaches that person only; the room shows what it may show, and its messages turn
 * delivered once acknowledged. With chat off, the room neither shows nor acknowledges.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Room } from '../../../src/meeting/room.ts';
import { type Harness, sleep, startHarness, waitFor } from '../../helpers/meeting-harness.ts';
import { roomInMeeting } from './room-under-test.ts';

let h: Harness | undefined;
let room: Room | undefined;
afterEach(async () => {
  await room?.stop();
  await h?.close();
  room = undefined;
  h = undefined;
});

async function setup(chat: { on: boolean }) {
  h = await startHarness();
  const id = await h.meeting();
  const alice = h.participant(id, 'Alice', { identity: h.host, videoFps: 0, audioFps: 0 });
  const bob = h.participant(id, 'Bob', { videoFps: 0, audioFps: 0 });
  await alice.join();
  await bob.join();
  const { room: r, roomId } = await roomInMeeting(h, id, [alice, bob], {
    roomName: () => 'Chat Room',
    media: null,
    chatEnabled: () => chat.on,
  });
  room = r;
  return { r, alice, bob, roomId };
}

const texts = (p: { media: { chat: { messages: readonly { text: string }[] } } }) =>
  p.media.chat.messages.map((m) => m.text);

describe("the room's chat", () => {
  it('a canned reply to everyone, a private message in and a private answer out', async () => {
    const { r, alice, bob, roomId } = await setup({ on: true });
    await r.chat('We can hear you');
    await waitFor(
      () => texts(alice).includes('We can hear you') && texts(bob).includes('We can hear you'),
      'both see the reply',
      15_000,
    );
    await waitFor(
      () => r.chatMessages(50).some((m) => m.text === 'We can hear you' && m.mine && m.delivered),
      'the reply delivered',
      15_000,
    );

    const sent = alice.media.chat.send('Room, can you share?', roomId, h!.clock.monotonic(), h!.clock.now());
    expect(sent.ok).toBe(true);
    await waitFor(
      () => r.chatMessages(50).some((m) => m.text === 'Room, can you share?' && m.to === roomId),
      'the room shows the private message',
      15_000,
    );
    await r.chat('We\u2019ll be right there', alice.session.participantId!);
    await waitFor(() => texts(alice).includes('We\u2019ll be right there'), 'Alice sees the answer', 15_000);
    await sleep(1000);
    // Bob received both private messages as frames, and shows neither.
    expect(texts(bob)).not.toContain('Room, can you share?');
    expect(texts(bob)).not.toContain('We\u2019ll be right there');
  }, 90_000);

  it('with chat off the room shows nothing and acknowledges nothing', async () => {
    const chat = { on: false };
    const { r, alice, roomId } = await setup(chat);
    await expect(r.chat('hello')).rejects.toMatchObject({ code: 'meeting.chat_off' });
    alice.media.chat.send('anyone there?', 'all', h!.clock.monotonic(), h!.clock.now());
    await sleep(2500);
    expect(r.chatMessages(50)).toEqual([]);
    const mine = () => alice.media.chat.messages.find((m) => m.text === 'anyone there?');
    expect(mine()?.delivered).toBe(false);
    // Chat on again: the resend arrives, is shown and acknowledged.
    chat.on = true;
    await waitFor(() => r.chatMessages(50).some((m) => m.text === 'anyone there?'), 'shown after on', 15_000);
    await waitFor(() => mine()?.delivered === true, 'delivered after on', 15_000);
    expect(r.chatMessages(50).every((m) => m.from !== roomId || m.mine)).toBe(true);
  }, 90_000);
});
