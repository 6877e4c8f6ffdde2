/**
 * Builds the HTTP servers (src/http/server.ts) over the fakes, in a temp state dir, for inject()
 * tests and the kiosk e2e test. `close()` stops servers and timers and removes the dir.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Clock, SystemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { type DeviceCertificate, ensureDeviceCertificate } from '../../src/http/admin/certificate.ts';
import type { RoomState } from '../../src/http/schemas/state.ts';
import { createHttpServers, type HttpOptions, type HttpServers } from '../../src/http/server.ts';
import { VideoFeed } from '../../src/media/video-feed.ts';
import { FakeAdminBackend, FakeRoom } from './http-fakes.ts';

let cachedCert: Promise<DeviceCertificate> | null = null;

/** One openssl-made certificate per test process. */
export function testCertificate(): Promise<DeviceCertificate> {
  cachedCert ??= (async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-cert-test-'));
    try {
      return await ensureDeviceCertificate({ stateDir: dir, commonName: 'roomd-test' });
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  })();
  return cachedCert;
}

export interface HttpFixture {
  servers: HttpServers;
  room: FakeRoom;
  backend: FakeAdminBackend;
  /** The media layer's real kiosk feed. */
  video: VideoFeed;
  keyframeRequests: { participantId: string; streamId: number }[];
  stateDir: string;
  close(): Promise<void>;
}

export async function makeHttpFixture(
  options: {
    clock?: Clock;
    room?: FakeRoom;
    stateDir?: string;
    kiosk?: HttpOptions['kiosk'];
    adminServer?: HttpOptions['adminServer'];
  } = {},
): Promise<HttpFixture> {
  const stateDir = options.stateDir ?? (await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-http-')));
  const room = options.room ?? new FakeRoom();
  const backend = new FakeAdminBackend(room);
  const keyframeRequests: { participantId: string; streamId: number }[] = [];
  const video = new VideoFeed({
    onKeyframeNeeded: (participantId, streamId) => keyframeRequests.push({ participantId, streamId }),
  });
  const servers = await createHttpServers({
    stateDir,
    deviceId: room.state.deviceId,
    clock: options.clock ?? new SystemClock(),
    log: silentLogger(),
    source: room,
    commands: room,
    admin: backend,
    video,
    certificate: await testCertificate(),
    scryptCost: { N: 1024, r: 8, p: 1 },
    kiosk: { port: 0, ...options.kiosk },
    adminServer: { port: 0, host: '127.0.0.1', ...options.adminServer },
  });
  return {
    servers,
    room,
    backend,
    video,
    keyframeRequests,
    stateDir,
    async close() {
      await servers.close();
      room.dispose();
      if (options.stateDir === undefined) await fsp.rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** A touch command to the kiosk server (`POST url`), as the room screen sends it. */
export function kioskPost(
  f: HttpFixture,
  url: string,
  payload: unknown,
  headers: Record<string, string> = {},
) {
  return f.servers.kiosk.inject({ method: 'POST', url, payload: payload as object, headers });
}

/** `GET /api/v1/state` of the kiosk server. */
export async function kioskStateOf(f: HttpFixture): Promise<RoomState> {
  return (await f.servers.kiosk.inject({ method: 'GET', url: '/api/v1/state' })).json<RoomState>();
}

/** The `error` body of a refused request. */
export function errorBody(res: { json<T>(): T }) {
  return res.json<{ error: { code: string; message: string; fields?: { path: string }[] } }>().error;
}

/** The fake room joins a test meeting; the calls it recorded so far are forgotten. */
export async function inTestMeeting(f: HttpFixture): Promise<void> {
  await f.room.join('81234567890');
  f.room.calls.length = 0;
}
