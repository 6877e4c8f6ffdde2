// TURN credentials, the `ice-servers` message and the relay's TURN settings: docs/protocol.md §ICE servers.
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { RoomdError } from '../../../src/core/errors.ts';
import { ExitCode } from '../../../src/core/exit-codes.ts';
import { decodeServerMessage, encodeServerMessage } from '../../../src/protocol/index.ts';
import { runRelayCli } from '../../../src/relay/cli.ts';
import {
  checkTurnSettings,
  DEFAULT_TURN_TTL_SECONDS,
  turnCredential,
  turnIceServer,
} from '../../../src/relay/turn.ts';
import { decodeToWorker, encodeToWorker, FrameReader } from '../../../src/transport/worker-protocol.ts';
import { setImmediate as tick } from 'node:timers/promises';
import { FakePeerNetwork } from '../../../src/transport/fake-peer.ts';
import {
  MEDIA_CHANNEL_LABEL,
  mediaChannelOptions,
  type PeerConnectionFactory,
  type PeerConnectionOptions,
} from '../../../src/transport/peer.ts';
import { makeCore } from './harness.ts';

const settings = { urls: ['turn:turn.example.org:3478?transport=udp'], secret: 'north' };

describe('TURN REST API credentials (coturn use-auth-secret)', () => {
  it('the credential is base64(HMAC-SHA1(secret, username)): a vector computed with openssl', () => {
    // printf '1700000000:42' | openssl dgst -sha1 -hmac north -binary | base64
    expect(turnCredential('north', '1700000000:42')).toBe('DWX3FI7DiPIpadEYQAZsnZBAagI=');
    expect(turnCredential('north', '1700000000:43')).not.toBe('DWX3FI7DiPIpadEYQAZsnZBAagI=');
    expect(turnCredential('south', '1700000000:42')).not.toBe('DWX3FI7DiPIpadEYQAZsnZBAagI=');
  });

  it('the username is "<expiry in unix seconds>:<user>", expiring after the TTL', () => {
    const now = 1_700_000_000_500; // ms
    const s = turnIceServer({ ...settings, ttlSeconds: 600 }, '42', now);
    expect(s.username).toBe('1700000600:42');
    expect(s.credential).toBe(createHmac('sha1', 'north').update('1700000600:42').digest('base64'));
    expect(s.urls).toEqual(settings.urls);
    expect(turnIceServer(settings, 'relay', now).username).toBe(
      `${1_700_000_000 + DEFAULT_TURN_TTL_SECONDS}:relay`,
    );
  });

  it('settings are checked at start-up with a typed error', () => {
    const bad = [
      { ...settings, urls: [] },
      { ...settings, urls: Array.from({ length: 5 }, (_, i) => `turn:h${i}:3478`) },
      { ...settings, urls: ['http://turn.example.org'] },
      { ...settings, urls: ['turn:has space:3478'] },
      { ...settings, urls: [`turn:${'h'.repeat(251)}`] },
      { ...settings, secret: '' },
      { ...settings, ttlSeconds: 59 },
      { ...settings, ttlSeconds: 1.5 },
      { ...settings, ttlSeconds: 8 * 86_400 },
    ];
    for (const s of bad) {
      const error = (() => {
        try {
          checkTurnSettings(s);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error, JSON.stringify(s)).toBeInstanceOf(RoomdError);
      expect((error as RoomdError).code).toBe('config.invalid');
    }
    expect(() =>
      checkTurnSettings({ urls: ['turn:a:3478?transport=udp', 'turns:a:443?transport=tcp'], secret: 'x' }),
    ).not.toThrow();
  });
});

describe('the ice-servers message', () => {
  const ok = {
    type: 'ice-servers' as const,
    iceServers: [turnIceServer(settings, '4294967295', Date.now())],
  };
  const decode = (iceServers: unknown) =>
    decodeServerMessage(JSON.stringify({ v: 1, type: 'ice-servers', iceServers }));

  it('round-trips', () => {
    const r = decodeServerMessage(encodeServerMessage(ok));
    expect(r).toEqual({ ok: true, message: { v: 1, ...ok } });
  });

  it('is bounded: servers, URLs per server, URL schemes and string lengths', () => {
    const server = ok.iceServers[0]!;
    const bad: unknown[] = [
      Array.from({ length: 5 }, () => server),
      [{ ...server, urls: Array.from({ length: 5 }, () => 'turn:a') }],
      [{ ...server, urls: [] }],
      [{ ...server, urls: 'turn:a' }],
      [{ ...server, urls: ['https://a'] }],
      [{ ...server, urls: ['turn:a b'] }],
      [{ ...server, urls: [`turn:${'a'.repeat(251)}`] }],
      [{ ...server, username: 'u'.repeat(257) }],
      [{ ...server, credential: '' }],
      [{ ...server, credentialType: 'password' }],
      'turn:a',
    ];
    for (const iceServers of bad) {
      const r = decode(iceServers);
      expect(r.ok, JSON.stringify(iceServers).slice(0, 80)).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('protocol.malformed');
    }
    expect(decode([{ urls: ['stun:a:3478'] }]).ok).toBe(true);
  });

  it('a relay with TURN sends each participant its own credentials just before admitting it', async () => {
    const { core, client, meeting, clock } = await makeCore({
      core: { turn: { ...settings, ttlSeconds: 3600 } },
    });
    const m = await meeting();
    const a = client();
    const b = client();
    a.joinAsHost(m.id);
    b.join(m.id);
    for (const c of [a, b]) {
      const i = c.inbox.findIndex((x) => x.type === 'ice-servers');
      expect(c.inbox[i + 1]).toMatchObject({ type: 'admission', status: 'admitted' });
      const [server] = c.last('ice-servers')!.iceServers;
      const username = `${Math.floor(clock.now() / 1000) + 3600}:${c.participantId}`;
      expect(server).toEqual({
        urls: settings.urls,
        username,
        credential: turnCredential('north', username),
      });
    }
    expect(core.iceServersFor('relay')[0]?.username).toMatch(/^\d+:relay$/);
  });

  it("the relay's end of each media connection uses the same servers with the relay's own credentials", async () => {
    const net = new FakePeerNetwork();
    const seen: PeerConnectionOptions[] = [];
    const peers: PeerConnectionFactory = {
      create: (options = {}) => {
        seen.push(options);
        return net.create();
      },
      openCount: 0,
    };
    const { client, meeting, clock } = await makeCore({ core: { peers, turn: settings } });
    const m = await meeting();
    const c = client();
    c.joinAsHost(m.id);
    const pc = net.create();
    pc.createDataChannel(MEDIA_CHANNEL_LABEL, mediaChannelOptions());
    c.send({ type: 'sdp', sdpType: 'offer', sdp: (await pc.createOffer()).sdp });
    for (let i = 0; i < 5 && c.last('sdp') === undefined; i++) await tick();
    expect(c.last('sdp')?.sdpType).toBe('answer');
    expect(seen).toHaveLength(1);
    const [server] = seen[0]!.iceServers!;
    expect(server?.urls).toEqual(settings.urls);
    expect(server?.username).toBe(`${Math.floor(clock.now() / 1000) + DEFAULT_TURN_TTL_SECONDS}:relay`);
    expect(server?.credential).toBe(turnCredential('north', server!.username!));
    expect(seen[0]!.iceTransportPolicy).toBeUndefined();
    pc.close();
  });

  it('a relay without TURN sends none', async () => {
    const { client, meeting } = await makeCore();
    const m = await meeting();
    const a = client();
    a.joinAsHost(m.id);
    expect(a.last('admission')?.status).toBe('admitted');
    expect(a.all('ice-servers')).toEqual([]);
  });
});

describe('the media worker pipe carries the ICE transport policy', () => {
  const body = (frame: Uint8Array) => {
    const { bodies } = new FrameReader().push(frame);
    return bodies[0]!;
  };
  it('relay and all pass; anything else is refused', () => {
    for (const iceTransportPolicy of ['relay', 'all'] as const) {
      const m = { type: 'create-pc' as const, pc: 1, iceServers: [], iceTransportPolicy };
      expect(decodeToWorker(body(encodeToWorker(m)))).toEqual({ ok: true, message: m });
    }
    const m = { type: 'create-pc' as const, pc: 1, iceServers: [] };
    const frame = encodeToWorker({ ...m, iceTransportPolicy: 'relay' });
    const bogus = body(frame);
    const text = Buffer.from(bogus.subarray(2)).toString('utf8').replace('"relay"', '"every"');
    const forged = new Uint8Array([...bogus.subarray(0, 2), ...Buffer.from(text)]);
    expect(decodeToWorker(forged).ok).toBe(false);
  });
});

describe('roomd relay serve --turn-*', () => {
  it('refuses incomplete or invalid TURN settings before starting, without printing the secret', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'roomd-turn-'));
    const secretFile = path.join(dir, 'turn-secret');
    await writeFile(secretFile, 'very-secret-value\n', { mode: 0o600 });
    const err: string[] = [];
    const io = { stdout: () => {}, stderr: (l: string) => err.push(l), env: {} };
    try {
      const cases: [string[], RegExp][] = [
        [['--turn-url', 'turn:a:3478'], /go together/],
        [['--turn-secret-file', secretFile], /go together/],
        [['--turn-ttl', '600'], /--turn-ttl needs them/],
        [
          ['--turn-url', 'http://a', '--turn-secret-file', secretFile],
          /not a stun:, stuns:, turn: or turns: URL/,
        ],
        [['--turn-url', 'turn:a', '--turn-secret-file', secretFile, '--turn-ttl', '5'], /lifetime/],
      ];
      for (const [args, message] of cases) {
        expect(await runRelayCli(['serve', '--port', '0', ...args], io), args.join(' ')).toBe(ExitCode.usage);
        expect(err.at(-1)).toMatch(message);
      }
      expect(err.join('\n')).not.toContain('very-secret-value');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
