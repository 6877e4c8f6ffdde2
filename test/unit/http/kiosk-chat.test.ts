/**
 * `POST /api/v1/chat` and the chat in the kiosk state (docs/kiosk-and-admin-api.md §Chat) through
 * app.inject(): the body's schema, the room's refusals as status codes and sentences, the
 * same Origin rule as every touch command, and the messages in `GET /api/v1/state`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { RoomState } from '../../../src/http/schemas/state.ts';
import {
  errorBody,
  type HttpFixture,
  inTestMeeting,
  kioskPost,
  makeHttpFixture,
} from '../../support/http-fixture.ts';

let f: HttpFixture;
beforeAll(async () => {
  f = await makeHttpFixture();
});
afterAll(async () => {
  await f.close();
});
beforeEach(async () => {
  f.room.state = { ...f.room.state, meeting: null };
  f.room.chatEnabled = true;
  f.room.calls.length = 0;
});

const inMeeting = () => inTestMeeting(f);

const chat = (payload: unknown, headers: Record<string, string> = {}) =>
  kioskPost(f, '/api/v1/chat', payload, headers);

const error = errorBody;

describe('POST /api/v1/chat', () => {
  test('a message to everyone reaches the room and shows in the state as the room’s', async () => {
    await inMeeting();
    const res = await chat({ text: 'We can hear you' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect(f.room.calls).toEqual([{ name: 'chat', args: ['We can hear you'] }]);
    const s = (await f.servers.kiosk.inject({ method: 'GET', url: '/api/v1/state' })).json<RoomState>();
    expect(s.meeting?.chatEnabled).toBe(true);
    expect(s.meeting?.chat).toEqual([
      {
        id: expect.any(String),
        from: 'Fjord',
        fromId: 'p-room',
        to: 'everyone',
        text: 'We can hear you',
        at: expect.any(Number),
        mine: true,
        delivered: false,
        private: false,
      },
    ]);
  });

  test('a private reply names its recipient by participant id', async () => {
    await inMeeting();
    const res = await chat({ text: "We'll be right there", to: 'p-alice' });
    expect(res.statusCode).toBe(200);
    expect(f.room.calls).toEqual([{ name: 'chat', args: ["We'll be right there", 'p-alice'] }]);
    const s = (await f.servers.kiosk.inject({ method: 'GET', url: '/api/v1/state' })).json<RoomState>();
    expect(s.meeting?.chat?.at(-1)).toMatchObject({ to: 'Alice Smith', private: true, mine: true });
  });

  test('messages others wrote are in the state: group, and privately to the room', async () => {
    await inMeeting();
    f.room.receiveChat({
      id: 'a1',
      from: 'Alice Smith',
      fromId: 'p-alice',
      to: 'everyone',
      text: 'Good morning',
      at: 1_000,
      mine: false,
      delivered: true,
      private: false,
    });
    f.room.receiveChat({
      id: 'b1',
      from: 'Bob Jones',
      fromId: 'p-bob',
      to: 'room',
      text: 'Is the projector on?',
      at: 2_000,
      mine: false,
      delivered: true,
      private: true,
    });
    const s = (await f.servers.kiosk.inject({ method: 'GET', url: '/api/v1/state' })).json<RoomState>();
    expect(s.meeting?.chat?.map((m) => [m.id, m.from, m.to, m.private])).toEqual([
      ['a1', 'Alice Smith', 'everyone', false],
      ['b1', 'Bob Jones', 'room', true],
    ]);
  });

  const schemaRefusals: [string, unknown, string][] = [
    ['no text', {}, 'body.text'],
    ['empty text', { text: '' }, 'body.text'],
    ['more than 1000 characters', { text: 'x'.repeat(1001) }, 'body.text'],
    ['text that is not a string', { text: 42 }, 'body.text'],
    ['an empty recipient', { text: 'hi', to: '' }, 'body.to'],
    ['an unknown field', { text: 'hi', priority: 'high' }, 'body.priority'],
  ];
  test.each(schemaRefusals)('%s is refused before the room sees it', async (_what, body, field) => {
    await inMeeting();
    const res = await chat(body);
    expect(res.statusCode).toBe(400);
    expect(error(res).code).toBe('http.bad_request');
    expect(error(res).fields?.map((x) => x.path)).toContain(field);
    expect(f.room.calls).toEqual([]);
  });

  const roomRefusals: [string, unknown, number, string][] = [
    ['control characters', { text: 'ring\u0007the bell' }, 400, 'meeting.chat_invalid'],
    ['a tab', { text: 'a\tb' }, 400, 'meeting.chat_invalid'],
    // 1000 characters pass the schema; 2000 UTF-8 bytes do not pass the channel.
    ['more than 1000 bytes', { text: 'é'.repeat(1000) }, 400, 'meeting.chat_invalid'],
    ['someone not in the meeting', { text: 'hi', to: 'p-carol' }, 404, 'meeting.chat_unknown_recipient'],
  ];
  test.each(roomRefusals)('%s: the room refuses in words', async (_what, body, status, code) => {
    await inMeeting();
    const res = await chat(body);
    expect(res.statusCode).toBe(status);
    expect(error(res).code).toBe(code);
    expect(error(res).message.length).toBeGreaterThan(10);
    expect(f.room.state.meeting?.chat).toEqual([]);
  });

  test('a private message in an enhanced meeting: 409, send it to everyone instead', async () => {
    await f.room.join('89876543210');
    f.room.calls.length = 0;
    const res = await chat({ text: 'psst', to: 'p-alice' });
    expect(res.statusCode).toBe(409);
    expect(error(res).code).toBe('meeting.chat_no_private');
    expect((await chat({ text: 'to all' })).statusCode).toBe(200);
  });

  test('outside a meeting: 409 not in a meeting', async () => {
    const res = await chat({ text: 'We can hear you' });
    expect(res.statusCode).toBe(409);
    expect(error(res)).toEqual({ code: 'meeting.not_in_meeting', message: 'The room is not in a meeting.' });
  });

  test("with the room's chat setting off: 409 chat off", async () => {
    await inMeeting();
    f.room.chatEnabled = false;
    const res = await chat({ text: 'We can hear you' });
    expect(res.statusCode).toBe(409);
    expect(error(res)).toEqual({ code: 'meeting.chat_off', message: 'Chat is turned off for this room.' });
  });

  test('the meeting not secure yet: 503, try again', async () => {
    await inMeeting();
    f.room.updateMeeting({ participants: [] });
    const res = await chat({ text: 'We can hear you' });
    expect(res.statusCode).toBe(503);
    expect(error(res).code).toBe('meeting.chat_not_ready');
  });

  test('the kiosk’s own origin may chat; another origin may not', async () => {
    await inMeeting();
    const port = f.servers.kiosk.server.address();
    const host = typeof port === 'object' && port !== null ? `127.0.0.1:${port.port}` : '127.0.0.1';
    const own = await chat({ text: 'hi' }, { host, origin: `http://${host}` });
    expect(own.statusCode).toBe(200);
    const foreign = await chat({ text: 'hi' }, { host, origin: 'http://evil.example' });
    expect(foreign.statusCode).toBe(403);
    expect(error(foreign).code).toBe('http.forbidden');
    expect(f.room.calls).toHaveLength(1);
  });
});
