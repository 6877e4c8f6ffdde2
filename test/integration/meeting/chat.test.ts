/**
 * Meeting chat over the real relay and wrtc (docs/protocol.md "# Chat"): three headless participants
 * in an E2EE meeting chat to everyone and privately; the third member of a private exchange gets the
 * frames (every member gets every `data` frame) but neither shows nor opens anything of it; a sender
 * cut off from the relay keeps its unacknowledged message and delivers it after its reconnect; and
 * `roomd bot --say/--reply` chats.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/app/main.ts';
import type { DataMessage } from '../../../src/meeting/data-message.ts';
import type { HeadlessParticipant } from '../../../src/meeting/headless.ts';
import { decodeMediaHeader } from '../../../src/protocol/media-header.ts';
import type { RelayHooks } from '../../../src/relay/index.ts';
import { allSecure, type Harness, startHarness, waitFor } from '../../helpers/meeting-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const say = (p: HeadlessParticipant, text: string, to = 'all') => {
  const r = p.media.chat.send(text, to, h!.clock.monotonic(), h!.clock.now());
  if (!r.ok) throw new Error(`${p.name} could not send: ${r.code}`);
  return r.id;
};
const texts = (p: HeadlessParticipant) => p.media.chat.messages.map((m) => m.text);
const mine = (p: HeadlessParticipant, id: string) => p.media.chat.messages.find((m) => m.id === id && m.mine);

/** Every opened `data` message `p` received: chat ones as JSON, control ones as their bytes. */
function tapData(p: HeadlessParticipant): string[] {
  const seen: string[] = [];
  const chat = p.media.chat;
  const control = p.media.control;
  const receiveChat = chat.receive.bind(chat);
  const receiveControl = control.receive.bind(control);
  chat.receive = (from: string, msg: DataMessage, now: number) => {
    seen.push(JSON.stringify(msg));
    receiveChat(from, msg, now);
  };
  control.receive = (from: string, data: Uint8Array) => {
    seen.push(Buffer.from(data).toString('utf8'));
    receiveControl(from, data);
  };
  return seen;
}

async function threeSecure(hooks: RelayHooks = {}) {
  h = await startHarness({ hooks });
  const id = await h.meeting();
  const b = h.participant(id, 'B', { identity: h.host, client: 'room' });
  const a = h.participant(id, 'A');
  const c = h.participant(id, 'C', { client: 'mobile' });
  const people = [a, b, c];
  await b.join();
  await Promise.all([a.join(), c.join()]);
  await waitFor(() => allSecure(people), 'three secure', 30_000);
  return { a, b, c, people, pid: (p: HeadlessParticipant) => p.session.participantId! };
}

describe('meeting chat', () => {
  it('group and private messages reach who they are for; the third member opens nothing private', async () => {
    const { a, b, c, pid } = await threeSecure();
    const cData = tapData(c);
    const hello = say(a, 'hello everyone');
    await waitFor(
      () => texts(b).includes('hello everyone') && texts(c).includes('hello everyone'),
      'B and C',
    );
    await waitFor(() => mine(a, hello)?.delivered, 'A: delivered to both');
    expect(b.media.chat.messages.find((m) => m.id === hello)).toMatchObject({
      from: pid(a),
      fromName: 'A',
      to: 'all',
    });

    const secret = say(a, 'PRIVATE-TO-B-7f3a', pid(b));
    await waitFor(() => texts(b).includes('PRIVATE-TO-B-7f3a'), 'B shows the private message', 20_000);
    expect(b.media.chat.messages.find((m) => m.id === secret)).toMatchObject({ from: pid(a), to: pid(b) });
    await waitFor(() => mine(a, secret)?.delivered, 'A: private delivered');
    const back = say(b, 'PRIVATE-REPLY-TO-A-91c2', pid(a));
    await waitFor(() => texts(a).includes('PRIVATE-REPLY-TO-A-91c2'), 'A shows the reply', 20_000);
    await waitFor(() => mine(b, back)?.delivered, 'B: reply delivered');

    // C got the private frames, sealed: it shows none, counts none as refused, opens no plaintext.
    expect(texts(c)).toEqual(['hello everyone']);
    expect(c.media.chat.refused).toBe(0);
    const sealedPast = cData.filter((s) => s.includes(`"id":"${secret}"`) || s.includes(`"id":"${back}"`));
    expect(sealedPast.length).toBeGreaterThanOrEqual(2);
    for (const s of sealedPast) expect(JSON.parse(s)).toHaveProperty('sealed.box');
    expect(cData.some((s) => s.includes('hello everyone'))).toBe(true);
    for (const s of cData) {
      expect(s).not.toContain('PRIVATE-TO-B');
      expect(s).not.toContain('PRIVATE-REPLY-TO-A');
    }
    expect([a, b, c].map((p) => p.media.chat.refused + p.media.chat.givenUp)).toEqual([0, 0, 0]);
  }, 90_000);

  it('a message sent while its frames were lost is delivered after the sender reconnects (a new id)', async () => {
    const lost = { from: '', chunks: 0 };
    const { a, b, c, people, pid } = await threeSecure({
      media: (chunk, ctx) => {
        if (ctx.from !== lost.from || decodeMediaHeader(chunk).kind !== 'data') return chunk;
        lost.chunks++;
        return null;
      },
    });
    const oldA = pid(a);
    lost.from = oldA;
    const id = say(a, 'sent into the void');
    await waitFor(() => lost.chunks >= 2, 'the relay dropping A’s message to B and C');
    expect(mine(a, id)?.delivered).toBe(false);
    for (const conn of h!.relay.core.connections)
      if (conn.participant?.id === oldA) conn.terminate(1011, 'test');
    await waitFor(() => a.session.counters.reconnects >= 1 && pid(a) !== oldA, 'A reconnecting', 20_000);
    await waitFor(() => allSecure(people), 'three secure again', 30_000);
    await waitFor(
      () => texts(b).includes('sent into the void') && texts(c).includes('sent into the void'),
      'B and C show it after A is back',
      20_000,
    );
    await waitFor(() => mine(a, id)?.delivered, 'acknowledged to A’s new id');
    expect(b.media.chat.messages.filter((m) => m.id === id)).toHaveLength(1);
    expect(b.media.chat.messages.find((m) => m.id === id)?.from).toBe(pid(a));
    expect(a.media.chat.givenUp).toBe(0);
  }, 120_000);

  it('roomd bot --say greets everyone and --reply answers privately and to everyone', async () => {
    h = await startHarness();
    const id = await h.meeting();
    const host = h.participant(id, 'Host', { identity: h.host });
    await host.join();
    const out: string[] = [];
    const run = main(
      [
        'bot',
        '--relay',
        h.relay.address.signalUrl,
        '--meeting',
        id,
        '--name',
        'Chatty',
        '--duration',
        '12',
        '--report',
        '0',
        '--video-fps',
        '0',
        '--say',
        'hello from the bot',
        '--reply',
        'pong',
      ],
      { out: (l) => out.push(l), err: (l) => out.push(l), env: {} },
    );
    await waitFor(() => texts(host).includes('hello from the bot'), 'the bot greeting', 30_000);
    const botId = host.media.chat.messages.find((m) => m.text === 'hello from the bot')!.from;
    say(host, 'ping privately', botId);
    await waitFor(
      () => host.media.chat.messages.some((m) => m.text === 'pong' && m.to === host.session.participantId),
      'a private answer',
      20_000,
    );
    say(host, 'ping everyone');
    await waitFor(
      () => host.media.chat.messages.some((m) => m.text === 'pong' && m.to === 'all'),
      'an answer to everyone',
      20_000,
    );
    expect(await run).toBe(0);
    const lines = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    const chats = lines.filter((l) => l['event'] === 'chat');
    expect(chats.map((l) => [l['text'], l['private'], l['fromName']])).toEqual([
      ['ping privately', true, 'Host'],
      ['ping everyone', false, 'Host'],
    ]);
    expect(lines.filter((l) => l['event'] === 'chat-sent').map((l) => l['text'])).toEqual([
      'hello from the bot',
      'pong',
      'pong',
    ]);
  }, 90_000);
});
