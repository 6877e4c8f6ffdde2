// The room's schedule and bookings against a meeting service that answers badly on purpose
// (docs/protocol.md "Meeting policy"): the answer is read bounded and decoded totally; a booking
// the service files under another id than the one the room signed is refused. A plain HTTP server
// on loopback plays the relay.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterEach, describe, expect, it } from 'vitest';
import { signMeetingPolicy } from '../../../src/e2ee/index.ts';
import { bookMeeting } from '../../../src/meeting/booking.ts';
import { MemoryPolicyBook } from '../../../src/meeting/policy-pins.ts';
import { RelayScheduleSource, SCHEDULE_LIMITS } from '../../../src/meeting/schedule.ts';
import { toBase64Url } from '../../../src/protocol/codec.ts';

const secretKey = ed25519.utils.randomSecretKey();
const identity = { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
const key = toBase64Url(identity.publicKey);

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
  server = undefined;
});

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `ws://127.0.0.1:${(server!.address() as AddressInfo).port}/v1/signal`;
}

const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

const meeting = (id: string, over: Record<string, unknown> = {}) => ({
  id,
  title: 'Board',
  room: 'r',
  start: new Date(Date.now() - 60_000).toISOString(),
  end: new Date(Date.now() + 3_600_000).toISOString(),
  encryption: 'enhanced',
  passcode: null,
  ...over,
});

function source(signalUrl: string, policies = new MemoryPolicyBook()) {
  return new RelayScheduleSource({ signalUrl, room: 'r', token: () => 'rt_x', identityKey: key, policies });
}

describe('a hostile schedule answer', () => {
  it('entries that are not meetings are dropped and counted; the good ones stay', async () => {
    const url = await serve((req, res) =>
      req.method === 'PUT'
        ? json(res, 200, {})
        : json(res, 200, {
            meetings: [
              meeting('111-1111-1111'),
              null,
              'meeting',
              meeting('bad id with spaces'),
              meeting('222-2222-2222', { encryption: 'none' }),
              meeting('333-3333-3333', { title: 'x'.repeat(201) }),
              meeting('444-4444-4444', { start: 'yesterday' }),
              meeting('555-5555-5555', { passcode: 42 }),
            ],
          }),
    );
    const s = source(url);
    expect((await s.list()).map((m) => m.meetingId)).toEqual(['111-1111-1111']);
    expect(s.counters.droppedMeetings).toBe(7);
  });

  it('a policy that does not verify is reported on its meeting and never raises or lowers anything', async () => {
    const forger = ed25519.utils.randomSecretKey();
    const forged = signMeetingPolicy(
      { meetingId: '111-1111-1111', encryption: 'e2ee', issuedAt: Date.now() },
      { secretKey: forger, publicKey: ed25519.getPublicKey(forger) },
    );
    const own = signMeetingPolicy(
      { meetingId: '222-2222-2222', encryption: 'e2ee', issuedAt: Date.now() },
      identity,
    );
    const url = await serve((req, res) =>
      req.method === 'PUT'
        ? json(res, 200, {})
        : json(res, 200, {
            meetings: [
              meeting('111-1111-1111', { policy: forged }),
              meeting('222-2222-2222', { policy: own }),
              meeting('333-3333-3333', { policy: { ...own, deep: [[[[]]]] } }),
              meeting('444-4444-4444', { policy: own }),
            ],
          }),
    );
    const book = new MemoryPolicyBook();
    const s = source(url, book);
    const list = await s.list();
    expect(list.map((m) => [m.meetingId, m.encryption, m.signedEncryption ?? null])).toEqual([
      ['111-1111-1111', 'enhanced', null],
      ['222-2222-2222', 'e2ee', 'e2ee'],
      ['333-3333-3333', 'enhanced', null],
      ['444-4444-4444', 'enhanced', null],
    ]);
    expect(list[0]?.policyProblem).toMatch(/key this room does not trust/);
    expect(list[2]?.policyProblem).toMatch(/not readable/);
    expect(list[3]?.policyProblem).toMatch(/policy of meeting 222-2222-2222 for meeting 444-4444-4444/);
    expect(s.counters.refusedPolicies).toBe(3);
    expect(book.size).toBe(1);
  });

  it('an answer larger than the bound is refused without reading it all', async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let written = 0;
    const url = await serve((req, res) => {
      if (req.method === 'PUT') return json(res, 200, {});
      res.writeHead(200, { 'content-type': 'application/json' });
      const pump = () => {
        while (written < 64 * 1024 * 1024 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => {
        written = Number.POSITIVE_INFINITY;
      });
      pump();
    });
    await expect(source(url).list()).rejects.toMatchObject({
      code: 'protocol.too_large',
      message: expect.stringContaining(String(SCHEDULE_LIMITS.maxBytes)),
    });
  });

  it('not JSON, not a schedule, too many meetings: a readable error, the last good schedule stays', async () => {
    let answer = '{"meetings": [';
    const url = await serve((req, res) => {
      if (req.method === 'PUT') return json(res, 200, {});
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answer);
    });
    const s = source(url);
    await expect(s.list()).rejects.toThrow(/not JSON/);
    answer = '[1,2,3]';
    await expect(s.list()).rejects.toThrow(/not a schedule/);
    answer = JSON.stringify({ meetings: { a: 1 } });
    await expect(s.list()).rejects.toThrow(/not a schedule/);
    answer = JSON.stringify({ meetings: Array.from({ length: SCHEDULE_LIMITS.maxMeetings + 1 }, () => 0) });
    await expect(s.list()).rejects.toThrow(/more than 500/);
  });
});

describe('booking against a hostile meeting service', () => {
  const m = {
    title: 'Board',
    start: '2026-03-01T09:00:00Z',
    end: '2026-03-01T10:00:00Z',
    encryption: 'e2ee' as const,
  };

  it('the room chooses the id and signs it; an id already taken is retried with a new one', async () => {
    const seen: { id: string; policy: { meetingId: string; encryption: string } }[] = [];
    const url = await serve((_req, res, body) => {
      const b = JSON.parse(body) as { id: string; policy: { meetingId: string; encryption: string } };
      seen.push(b);
      if (seen.length === 1) return json(res, 409, { code: 'relay.meeting_exists', message: 'taken' });
      json(res, 201, { ...b, passcode: null });
    });
    const ids = ['100-0000-0001', '100-0000-0002'];
    const book = new MemoryPolicyBook();
    const r = await bookMeeting(m, {
      signalUrl: url,
      room: 'r',
      token: 'rt_x',
      identity,
      now: () => 1,
      policies: book,
      newId: () => ids.shift()!,
    });
    expect(r.meetingId).toBe('100-0000-0002');
    expect(seen.map((b) => [b.id, b.policy.meetingId, b.policy.encryption])).toEqual([
      ['100-0000-0001', '100-0000-0001', 'e2ee'],
      ['100-0000-0002', '100-0000-0002', 'e2ee'],
    ]);
    // Pinned at once: the room never depends on the relay echoing its own policy back.
    expect(book.get('100-0000-0002')).toEqual(r.policy);
  });

  it('a service that files the booking under another id: refused, and nothing is pinned', async () => {
    const url = await serve((_req, res, body) =>
      json(res, 201, { ...JSON.parse(body), id: '999-9999-9999' }),
    );
    const book = new MemoryPolicyBook();
    await expect(
      bookMeeting(m, { signalUrl: url, room: 'r', token: 'rt_x', identity, now: () => 1, policies: book }),
    ).rejects.toMatchObject({ code: 'meeting.wrong_meeting', message: /999-9999-9999 instead of/ });
    expect(book.size).toBe(0);
  });

  it("a refusal carries the service's sentence; a garbage answer a plain one", async () => {
    let reply: [number, string] = [
      403,
      JSON.stringify({ code: 'http.forbidden', message: 'Not your room.' }),
    ];
    const url = await serve((_req, res) => {
      res.writeHead(reply[0]);
      res.end(reply[1]);
    });
    const o = { signalUrl: url, room: 'r', token: 'rt_x', identity, now: () => 1 };
    await expect(bookMeeting(m, o)).rejects.toMatchObject({
      message: /refused the booking: Not your room\./,
    });
    reply = [500, '<html>'];
    await expect(bookMeeting(m, o)).rejects.toMatchObject({ message: /refused the booking: HTTP 500/ });
  });
});
