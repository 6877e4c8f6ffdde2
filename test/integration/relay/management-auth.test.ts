// The relay's management API needs a credential (docs/protocol.md §Management API, decision 0010):
// without the admin token every /api route is 401; a room token reads only its own room's schedule;
// lists never carry passcodes. Real HTTP on loopback; no media, so the relay's peers are fakes.
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayScheduleSource } from '../../../src/meeting/schedule.ts';
import { toBase64Url } from '../../../src/protocol/codec.ts';
import { createRelay, type Relay } from '../../../src/relay/server.ts';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';
import { hostKey } from './helpers.ts';

const ROOM = 'roomd-7f3a9c01';
const OTHER_ROOM = 'roomd-0b0b0b0b';
let relay: Relay;
let api: string;
let e2eeId: string;
let roomToken: string;
let otherToken: string;

async function call(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? null : JSON.parse(text) };
}

beforeAll(async () => {
  relay = createRelay({ peers: new FakePeerNetwork() });
  await relay.start();
  api = relay.address.httpUrl;
  const admin = relay.adminToken;
  const created = await call('POST', '/api/v1/meetings', admin, {
    hostIdentityKey: hostKey,
    title: 'Board meeting',
    passcode: '271828',
    room: ROOM,
    encryption: 'e2ee',
  });
  expect(created.status).toBe(201);
  e2eeId = (created.json as { id: string }).id;
  await call('POST', '/api/v1/meetings', admin, {
    hostIdentityKey: hostKey,
    title: 'Elsewhere',
    passcode: '314159',
    room: OTHER_ROOM,
  });
  await call('POST', '/api/v1/meetings', admin, {
    hostIdentityKey: hostKey,
    title: 'Booked by name',
    passcode: '161803',
    room: 'Huddle Room 3',
  });
  const t = await call('POST', `/api/v1/rooms/${ROOM}/tokens`, admin, { names: ['Huddle Room 3'] });
  expect(t.status).toBe(201);
  roomToken = (t.json as { token: string }).token;
  otherToken = ((await call('POST', `/api/v1/rooms/${OTHER_ROOM}/tokens`, admin)).json as { token: string })
    .token;
});

afterAll(async () => {
  await relay.stop();
});

const ROUTES: [string, string][] = [
  ['GET', '/api/v1/meetings'],
  ['POST', '/api/v1/meetings'],
  ['GET', '/api/v1/meetings/111-2222-3333'],
  ['DELETE', '/api/v1/meetings/111-2222-3333'],
  ['GET', '/api/v1/accounts/default'],
  ['PATCH', '/api/v1/accounts/default'],
  ['GET', '/api/v1/stats'],
  ['GET', '/api/v1/rooms'],
  ['POST', `/api/v1/rooms/${ROOM}/tokens`],
  ['DELETE', `/api/v1/rooms/${ROOM}/tokens`],
  ['PUT', `/api/v1/rooms/${ROOM}/identity`],
  ['GET', `/api/v1/rooms/${ROOM}/schedule`],
];

describe('relay management API credentials', () => {
  it('answers every management route 401 without a token or with a wrong one', async () => {
    for (const [method, path] of ROUTES) {
      const body = method === 'GET' || method === 'DELETE' ? undefined : {};
      for (const token of [undefined, 'not-the-token-0123456789', `${relay.adminToken}x`]) {
        const r = await call(method, path, token, body);
        expect({ method, path, status: r.status }).toEqual({ method, path, status: 401 });
        expect(r.json).toMatchObject({ code: 'http.unauthorized' });
      }
    }
  });

  it('the attack sequence fails without the admin token, and with a room token', async () => {
    const room = roomToken;
    for (const token of [undefined, room]) {
      const denied = token === undefined ? 401 : 403;
      // Read every passcode and host key.
      expect((await call('GET', '/api/v1/meetings', token)).status).toBe(denied);
      expect((await call('GET', `/api/v1/meetings/${e2eeId}`, token)).status).toBe(denied);
      // Put a fake "IT NOTICE" meeting on the room screen.
      const fake = { hostIdentityKey: hostKey, title: 'IT NOTICE: call +1 555 0100', room: ROOM };
      expect((await call('POST', '/api/v1/meetings', token, fake)).status).toBe(denied);
      // Delete the meeting the room is in.
      expect((await call('DELETE', `/api/v1/meetings/${e2eeId}`, token)).status).toBe(denied);
      // Turn E2EE off for the account.
      expect((await call('PATCH', '/api/v1/accounts/default', token, { allowE2ee: false })).status).toBe(
        denied,
      );
      // Re-create the E2EE-booked id as enhanced.
      const again = { id: e2eeId, hostIdentityKey: hostKey, room: ROOM, encryption: 'enhanced' };
      expect((await call('POST', '/api/v1/meetings', token, again)).status).toBe(denied);
      // Mint itself more credentials, or read someone else's room.
      expect((await call('POST', `/api/v1/rooms/${OTHER_ROOM}/tokens`, token, {})).status).toBe(denied);
      expect((await call('GET', `/api/v1/rooms/${OTHER_ROOM}/schedule`, token)).status).toBe(denied);
    }
    // Nothing changed.
    expect(relay.registry.get(e2eeId)).toMatchObject({ encryption: 'e2ee', room: ROOM, passcode: '271828' });
    expect(relay.registry.account('default').allowE2ee).toBe(true);
    expect(relay.registry.list().map((m) => m.title)).not.toContain('IT NOTICE: call +1 555 0100');
  });

  it('a room token reads its own schedule (with passcodes) and nothing else', async () => {
    const own = await call('GET', `/api/v1/rooms/${ROOM}/schedule`, roomToken);
    expect(own.status).toBe(200);
    const meetings = (own.json as { meetings: { title: string; passcode: string | null }[] }).meetings;
    expect(meetings.map((m) => [m.title, m.passcode])).toEqual([
      ['Board meeting', '271828'],
      ['Booked by name', '161803'],
    ]);
    expect((await call('GET', `/api/v1/rooms/${ROOM}/schedule`, otherToken)).status).toBe(403);
    const others = await call('GET', `/api/v1/rooms/${OTHER_ROOM}/schedule`, otherToken);
    expect((others.json as { meetings: { title: string }[] }).meetings.map((m) => m.title)).toEqual([
      'Elsewhere',
    ]);
  });

  it('never lists passcodes or token hashes; healthz says nothing', async () => {
    const admin = relay.adminToken;
    const list = await call('GET', '/api/v1/meetings', admin);
    expect(JSON.stringify(list.json)).not.toMatch(/271828|314159|161803/);
    expect((list.json as { meetings: { hasPasscode: boolean }[] }).meetings.every((m) => m.hasPasscode)).toBe(
      true,
    );
    const show = await call('GET', `/api/v1/meetings/${e2eeId}`, admin);
    expect(show.json).toMatchObject({ id: e2eeId, hasPasscode: true });
    expect(show.json).not.toHaveProperty('passcode');
    const rooms = JSON.stringify((await call('GET', '/api/v1/rooms', admin)).json);
    expect(rooms).toContain(ROOM);
    expect(rooms).not.toContain(roomToken.split('_')[2]!);
    expect(rooms).not.toMatch(/hash/);
    expect(await call('GET', '/healthz')).toEqual({ status: 200, json: { ok: true } });
  });

  it('the room reads its schedule with its token and registers its identity key', async () => {
    const secret = ed25519.utils.randomSecretKey();
    const identityKey = toBase64Url(ed25519.getPublicKey(secret));
    const source = new RelayScheduleSource({
      signalUrl: relay.address.signalUrl,
      room: ROOM,
      token: () => roomToken,
      identityKey,
      now: () => Date.parse('2026-01-01T00:00:00Z'),
    });
    const booked = await source.list();
    expect(booked.map((b) => [b.title, b.encryption, b.passcode])).toEqual([
      ['Board meeting', 'e2ee', '271828'],
      ['Booked by name', 'e2ee', '161803'],
    ]);
    expect(relay.registry.rooms().find((r) => r.id === ROOM)?.identityKey).toBe(identityKey);
    expect(relay.registry.bookedRoomKey(relay.registry.get(e2eeId)!)).toBe(identityKey);
    const without = new RelayScheduleSource({
      signalUrl: relay.address.signalUrl,
      room: ROOM,
      token: () => null,
    });
    await expect(without.list()).rejects.toThrow(/no meeting service token/);
    const stolen = new RelayScheduleSource({
      signalUrl: relay.address.signalUrl,
      room: ROOM,
      token: () => otherToken,
    });
    await expect(stolen.list()).rejects.toThrow(/answered 403/);
  });

  it('revoking a room token shuts the room out', async () => {
    const admin = relay.adminToken;
    const t = await call('POST', `/api/v1/rooms/${OTHER_ROOM}/tokens`, admin, {});
    const token = (t.json as { token: string }).token;
    expect((await call('GET', `/api/v1/rooms/${OTHER_ROOM}/schedule`, token)).status).toBe(200);
    expect((await call('DELETE', `/api/v1/rooms/${OTHER_ROOM}/tokens`, admin)).status).toBe(204);
    expect((await call('GET', `/api/v1/rooms/${OTHER_ROOM}/schedule`, token)).status).toBe(401);
    expect((await call('GET', `/api/v1/rooms/${OTHER_ROOM}/schedule`, otherToken)).status).toBe(401);
  });
});

describe('a room books meetings for itself with its own token', () => {
  it('books for its own room only, never another room, and the booking reaches its schedule', async () => {
    // The room registered its identity key above: its bookings are hosted by it.
    const key = relay.registry.roomIdentity(ROOM)!;
    expect(key).toBeDefined();
    const booked = await call('POST', `/api/v1/rooms/${ROOM}/meetings`, roomToken, {
      hostIdentityKey: key,
      title: 'Stand-up',
      encryption: 'e2ee',
      passcode: '424242',
    });
    expect(booked.status).toBe(201);
    const id = (booked.json as { id: string; room: string }).id;
    expect((booked.json as { room: string }).room).toBe(ROOM);
    // Not for another room, not with a "room" of its choosing, and not without a token.
    expect(
      (await call('POST', `/api/v1/rooms/${OTHER_ROOM}/meetings`, roomToken, { hostIdentityKey: key }))
        .status,
    ).toBe(403);
    expect(
      (
        await call('POST', `/api/v1/rooms/${ROOM}/meetings`, roomToken, {
          hostIdentityKey: key,
          room: OTHER_ROOM,
        })
      ).status,
    ).toBe(400);
    expect(
      (await call('POST', `/api/v1/rooms/${ROOM}/meetings`, undefined, { hostIdentityKey: key })).status,
    ).toBe(401);
    const schedule = await call('GET', `/api/v1/rooms/${ROOM}/schedule`, roomToken);
    expect((schedule.json as { meetings: { id: string }[] }).meetings.map((m) => m.id)).toContain(id);
    const other = await call('GET', `/api/v1/rooms/${OTHER_ROOM}/schedule`, relay.adminToken);
    expect((other.json as { meetings: { id: string }[] }).meetings.map((m) => m.id)).not.toContain(id);
  });

  it('once a room registered its identity key, its bookings must be hosted by that key', async () => {
    const roomKey = toBase64Url(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    const t = await call('POST', '/api/v1/rooms/roomd-1d1d1d1d/tokens', relay.adminToken);
    const token = (t.json as { token: string }).token;
    expect(
      (await call('PUT', '/api/v1/rooms/roomd-1d1d1d1d/identity', token, { identityKey: roomKey })).status,
    ).toBe(200);
    const stranger = toBase64Url(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    expect(
      (await call('POST', '/api/v1/rooms/roomd-1d1d1d1d/meetings', token, { hostIdentityKey: stranger }))
        .status,
    ).toBe(403);
    expect(
      (await call('POST', '/api/v1/rooms/roomd-1d1d1d1d/meetings', token, { hostIdentityKey: roomKey }))
        .status,
    ).toBe(201);
  });
});
