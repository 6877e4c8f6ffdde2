/**
 * `POST /api/v1/share` and the share in the kiosk state (docs/kiosk-and-admin-api.md §Content
 * sharing) through app.inject(): the body's schema, the room's refusals as status codes and
 * sentences, the same Origin rule as every touch command, and `meeting.share` in `GET /api/v1/state`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import {
  errorBody,
  type HttpFixture,
  inTestMeeting,
  kioskPost,
  kioskStateOf,
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
  f.room.canShare = true;
  f.room.calls.length = 0;
});

const inMeeting = () => inTestMeeting(f);

const share = (payload: unknown, headers: Record<string, string> = {}) =>
  kioskPost(f, '/api/v1/share', payload, headers);

const state = () => kioskStateOf(f);

const error = errorBody;

describe('POST /api/v1/share', () => {
  test('on, then off: the room shares and the state says so', async () => {
    await inMeeting();
    expect((await state()).meeting?.share).toEqual({
      active: false,
      self: false,
      by: null,
      canShare: true,
      host: false,
    });
    const res = await share({ on: true });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    expect((await state()).meeting?.share).toEqual({
      active: true,
      self: true,
      by: 'Fjord',
      canShare: true,
      host: false,
    });
    expect((await share({ on: false })).statusCode).toBe(200);
    expect(f.room.calls).toEqual([
      { name: 'share', args: [true] },
      { name: 'share', args: [false] },
    ]);
    expect((await state()).meeting?.share?.active).toBe(false);
  });

  const schemaRefusals: [string, unknown, string][] = [
    ['no `on`', {}, 'body.on'],
    ['`on` that is not a boolean', { on: 'yes' }, 'body.on'],
    ['an unknown field', { on: true, source: 'hdmi' }, 'body.source'],
  ];
  test.each(schemaRefusals)('%s is refused before the room sees it', async (_what, body, field) => {
    await inMeeting();
    const res = await share(body);
    expect(res.statusCode).toBe(400);
    expect(error(res).code).toBe('http.bad_request');
    expect(error(res).fields?.map((x) => x.path)).toContain(field);
    expect(f.room.calls).toEqual([]);
  });

  test('while someone else shares: 409 busy, in words', async () => {
    await inMeeting();
    f.room.othersShare('Alice Smith');
    const res = await share({ on: true });
    expect(res.statusCode).toBe(409);
    expect(error(res)).toEqual({
      code: 'meeting.share_busy',
      message: 'Someone else is sharing; only the meeting host can take over.',
    });
    expect((await state()).meeting?.share).toMatchObject({ active: true, self: false, by: 'Alice Smith' });
  });

  test('without a content source: 409 unavailable, and the state says the room cannot share', async () => {
    f.room.canShare = false;
    await inMeeting();
    expect((await state()).meeting?.share?.canShare).toBe(false);
    const res = await share({ on: true });
    expect(res.statusCode).toBe(409);
    expect(error(res).code).toBe('meeting.share_unavailable');
    expect(error(res).message).toMatch(/HDMI capture/);
  });

  test('outside a meeting: 409 not in a meeting', async () => {
    const res = await share({ on: true });
    expect(res.statusCode).toBe(409);
    expect(error(res)).toEqual({ code: 'meeting.not_in_meeting', message: 'The room is not in a meeting.' });
  });

  test('the kiosk’s own origin may share; another origin may not', async () => {
    await inMeeting();
    const port = f.servers.kiosk.server.address();
    const host = typeof port === 'object' && port !== null ? `127.0.0.1:${port.port}` : '127.0.0.1';
    const own = await share({ on: true }, { host, origin: `http://${host}` });
    expect(own.statusCode).toBe(200);
    const foreign = await share({ on: false }, { host, origin: 'http://evil.example' });
    expect(foreign.statusCode).toBe(403);
    expect(error(foreign).code).toBe('http.forbidden');
    expect(f.room.calls).toHaveLength(1);
  });
});
