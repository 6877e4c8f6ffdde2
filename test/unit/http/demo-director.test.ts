/**
 * The demo director's admin routes and `roomctl demo` (docs/kiosk-and-admin-api.md §roomctl demo),
 * over a fake director: the admin scope, body validation, the sentences roomctl prints, a refused
 * client reported as refused and an admitted one as a failure; and a room without the director
 * (every room but `roomd demo`'s) has no such routes, which roomctl says in plain words.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type DemoDirector, demoDirectorRoutes } from '../../../src/http/admin/demo-director.ts';
import { runRoomctl } from '../../../src/http/roomctl/cli.ts';
import { RoomctlExit } from '../../../src/http/roomctl/exit.ts';
import { type AdminSession, claimAndSignIn, mintToken, withToken } from '../../support/admin-session.ts';
import { type HttpFixture, makeHttpFixture } from '../../support/http-fixture.ts';

const calls: string[] = [];
let admitPhone = false;
const director: DemoDirector = {
  status: () => ({
    relay: 'ws://127.0.0.1:7443/v1/signal',
    meetings: [
      {
        id: '590-1355-2695',
        title: 'Design review',
        encryption: 'e2ee',
        people: [{ name: 'Alice Moreau', client: 'desktop', host: true, present: true }],
      },
    ],
  }),
  hostLeaves: async (o) => {
    calls.push(`host-leaves ${o.meetingId ?? 'e2ee'}`);
    return 'Alice Moreau (the host) left "Design review".';
  },
  hostRejoins: async () => {
    calls.push('host-rejoins');
    return 'Alice Moreau (the host) joined "Design review" again.';
  },
  personJoins: async (o) => {
    calls.push(`join ${o.kind} ${o.name ?? '-'}`);
    return `${o.name ?? 'Demo Guest 1'} joined "Design review".`;
  },
  personLeaves: async (o) => {
    calls.push(`leave ${o.name ?? '-'}`);
    return 'Demo Guest 1 left "Design review".';
  },
  refusedJoin: async (o) => {
    calls.push(`refused ${o.client}`);
    return admitPhone
      ? { refused: false, code: 'admitted', message: 'The meeting service let Dial-in into "Design review".' }
      : {
          refused: true,
          code: 'relay.client_not_allowed',
          reason: 'client_not_allowed',
          message: 'Telephone dial-in cannot join end-to-end encrypted meetings.',
        };
  },
  restartRelay: async () => {
    calls.push('relay-restart');
    return 'The meeting relay restarted.';
  },
  share: async (o) => {
    calls.push(`share ${o.name ?? '-'}`);
    return `${o.name ?? 'Alice Moreau'} shares slides in "Design review".`;
  },
  unshare: async () => {
    calls.push('unshare');
    return 'Alice Moreau stopped sharing in "Design review".';
  },
  say: async (o) => {
    calls.push(`say ${o.to} ${o.name ?? '-'} ${o.text}`);
    return o.to === 'room'
      ? 'Alice Moreau wrote privately to the room in "Design review".'
      : 'Alice Moreau wrote to everyone in "Design review".';
  },
  unplug: async (o) => {
    calls.push(`unplug ${o.device}`);
    return `The ${o.device} is unplugged.`;
  },
  replug: async (o) => {
    calls.push(`replug ${o.device}`);
    return `The ${o.device} is plugged in again.`;
  },
};

let withDirector: HttpFixture;
let plain: HttpFixture;
let session: AdminSession;
let plainSession: AdminSession;
let dir: string;

async function roomctl(config: string, ...args: string[]) {
  const out: string[] = [];
  const code = await runRoomctl([...args, '--config', config], {
    stdout: (t) => out.push(t),
    stderr: (t) => out.push(t),
    env: { ROOMCTL_PASSWORD: 'correct horse battery staple' },
  });
  return { code, out: out.join('\n') };
}

beforeAll(async () => {
  withDirector = await makeHttpFixture({
    adminServer: { authenticatedPlugins: [{ scope: 'admin', plugin: demoDirectorRoutes(director) }] },
  });
  plain = await makeHttpFixture();
  await withDirector.servers.module.start();
  await plain.servers.module.start();
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomctl-demo-'));
});

afterAll(async () => {
  await withDirector.close();
  await plain.close();
  await fsp.rm(dir, { recursive: true, force: true });
});

describe('the director routes', () => {
  test('need the admin scope', async () => {
    expect((await withDirector.servers.admin.inject({ method: 'GET', url: '/api/v1/demo' })).statusCode).toBe(
      401,
    );
    session = await claimAndSignIn(withDirector);
    const metrics = await mintToken(session, 'metrics');
    expect((await withToken(withDirector, metrics, { method: 'GET', url: '/api/v1/demo' })).statusCode).toBe(
      403,
    );
    const operator = await mintToken(session, 'operator');
    expect(
      (
        await withToken(withDirector, operator, {
          method: 'POST',
          url: '/api/v1/demo/host/leave',
          payload: {},
        })
      ).statusCode,
    ).toBe(403);
    const res = await session.asToken({ method: 'GET', url: '/api/v1/demo' });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ meetings: { title: string }[] }>().meetings[0]?.title).toBe('Design review');
  });

  test('validate what they are given', async () => {
    const bad = await session.asToken({
      method: 'POST',
      url: '/api/v1/demo/people',
      payload: { kind: 'vip' },
    });
    expect(bad.statusCode).toBe(400);
    const extra = await session.asToken({
      method: 'POST',
      url: '/api/v1/demo/host/leave',
      payload: { meetingId: 'x' },
    });
    expect(extra.statusCode).toBe(400);
    const ok = await session.asToken({
      method: 'POST',
      url: '/api/v1/demo/people',
      payload: { kind: 'rekeyed', name: 'Bongani Dlamini' },
    });
    expect(ok.statusCode).toBe(200);
    expect(calls).toContain('join rekeyed Bongani Dlamini');
    for (const payload of [
      { text: '', to: 'everyone' },
      { text: 'x'.repeat(1001), to: 'everyone' },
      { text: 'hi', to: 'Bongani' },
      { text: 'hi' },
    ]) {
      const res = await session.asToken({ method: 'POST', url: '/api/v1/demo/chat', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
    }
    expect(
      (await session.asToken({ method: 'POST', url: '/api/v1/demo/share', payload: { name: '' } }))
        .statusCode,
    ).toBe(400);
    expect(calls.filter((c) => c.startsWith('say') || c.startsWith('share'))).toEqual([]);
  });

  test('do not exist on a room without the director', async () => {
    plainSession = await claimAndSignIn(plain);
    const s = plainSession;
    for (const [method, url] of [
      ['GET', '/api/v1/demo'],
      ['POST', '/api/v1/demo/host/leave'],
      ['POST', '/api/v1/demo/relay/restart'],
    ] as const)
      expect((await s.asToken({ method, url, payload: {} })).statusCode).toBe(404);
  });
});

describe('roomctl demo', () => {
  const config = () => path.join(dir, 'director.json');

  test('--help lists the commands; an unknown one is a usage error', async () => {
    const help = await roomctl(config(), 'demo', '--help');
    expect(help.code).toBe(0);
    for (const c of [
      'host-leaves',
      'host-rejoins',
      'join',
      'leave',
      'phone-join',
      'old-app-join',
      'relay-restart',
      'plug laptop',
      'share',
      'unshare',
      'say TEXT',
      'whisper TEXT',
    ])
      expect(help.out).toContain(c);
    expect((await roomctl(config(), 'demo', 'dance')).code).toBe(RoomctlExit.usage);
    expect((await roomctl(config(), 'demo', 'join', '--kind', 'vip')).code).toBe(RoomctlExit.usage);
    expect((await roomctl(config(), 'demo', 'status', 'extra')).code).toBe(RoomctlExit.usage);
    expect((await roomctl(config(), 'demo', 'unplug')).code).toBe(RoomctlExit.usage);
    expect((await roomctl(config(), 'demo', 'unplug', 'toaster')).code).toBe(RoomctlExit.usage);
    expect((await roomctl(config(), 'demo', 'say')).code).toBe(RoomctlExit.usage);
    expect((await roomctl(config(), 'demo', 'whisper', ' ')).code).toBe(RoomctlExit.usage);
    expect((await roomctl(config(), 'demo', 'unshare', 'now')).code).toBe(RoomctlExit.usage);
  });

  test('each command asks the director and prints what happened', async () => {
    // withDirector was claimed by the route tests; sign roomctl in with a new admin token.
    const token = await mintToken(session, 'admin', 'roomctl demo');
    await fsp.writeFile(
      config(),
      JSON.stringify({
        url: withDirector.servers.urls().admin,
        fingerprint: withDirector.servers.certificate.fingerprint,
        token,
      }),
    );
    calls.length = 0;
    const leaves = await roomctl(config(), 'demo', 'host-leaves');
    expect(leaves).toEqual({ code: 0, out: 'Alice Moreau (the host) left "Design review".' });
    expect((await roomctl(config(), 'demo', 'host-rejoins')).code).toBe(0);
    expect((await roomctl(config(), 'demo', 'join', '--kind', 'uncertified', '--name', 'Vera')).code).toBe(0);
    expect((await roomctl(config(), 'demo', 'leave', '--name', 'Vera')).code).toBe(0);
    expect((await roomctl(config(), 'demo', 'relay-restart')).code).toBe(0);
    expect((await roomctl(config(), 'demo', 'host-leaves', '--meeting', '459-2536-4353')).code).toBe(0);
    expect(await roomctl(config(), 'demo', 'unplug', 'camera')).toEqual({
      code: 0,
      out: 'The camera is unplugged.',
    });
    expect((await roomctl(config(), 'demo', 'replug', 'camera')).code).toBe(0);
    expect(await roomctl(config(), 'demo', 'plug', 'laptop')).toEqual({
      code: 0,
      out: 'The laptop is plugged in again.',
    });
    expect((await roomctl(config(), 'demo', 'unplug', 'laptop')).code).toBe(0);
    expect((await roomctl(config(), 'demo', 'plug')).code).toBe(RoomctlExit.usage);
    expect(await roomctl(config(), 'demo', 'share')).toEqual({
      code: 0,
      out: 'Alice Moreau shares slides in "Design review".',
    });
    expect((await roomctl(config(), 'demo', 'share', '--name', 'Bongani Dlamini')).code).toBe(0);
    expect((await roomctl(config(), 'demo', 'unshare')).code).toBe(0);
    expect(await roomctl(config(), 'demo', 'say', 'Hello from Alice')).toEqual({
      code: 0,
      out: 'Alice Moreau wrote to everyone in "Design review".',
    });
    expect((await roomctl(config(), 'demo', 'whisper', 'Just', 'for', 'the', 'room')).code).toBe(0);
    const status = await roomctl(config(), 'demo', 'status');
    expect(status.out).toContain('in   Alice Moreau (host)');
    expect(calls).toEqual([
      'host-leaves e2ee',
      'host-rejoins',
      'join uncertified Vera',
      'leave Vera',
      'relay-restart',
      'host-leaves 459-2536-4353',
      'unplug camera',
      'replug camera',
      'replug laptop',
      'unplug laptop',
      'share -',
      'share Bongani Dlamini',
      'unshare',
      'say everyone - Hello from Alice',
      'say room - Just for the room',
    ]);
  });

  test('a refused phone is what must happen (exit 0); an admitted one is a failure (exit 1)', async () => {
    const refused = await roomctl(config(), 'demo', 'phone-join');
    expect(refused.code).toBe(0);
    expect(refused.out).toContain('Refused, as it must be');
    admitPhone = true;
    const admitted = await roomctl(config(), 'demo', 'phone-join');
    admitPhone = false;
    expect(admitted.code).toBe(RoomctlExit.failure);
    expect(admitted.out).toContain('let Dial-in into');
  });

  test('against a room without the director it says so', async () => {
    const other = path.join(dir, 'plain.json');
    const token = await mintToken(plainSession, 'admin', 'roomctl demo');
    await fsp.writeFile(
      other,
      JSON.stringify({
        url: plain.servers.urls().admin,
        fingerprint: plain.servers.certificate.fingerprint,
        token,
      }),
    );
    const r = await roomctl(other, 'demo', 'host-leaves');
    expect(r.code).toBe(RoomctlExit.failure);
    expect(r.out).toContain(
      "This room has no demo director: 'roomctl demo' works only with a room started by 'roomd demo'",
    );
  });
});
