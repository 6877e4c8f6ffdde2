/**
 * The kiosk WebSocket `/api/v1/live` over a real socket (docs/kiosk-and-admin-api.md §Room screen): state
 * on connect and on every change, video from the media layer's feed forwarded as binary, loopback only, the
 * kiosk's own Origin only, subscriptions released when the last viewer leaves.
 */
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { LiveMessage } from '../../../src/http/schemas/state.ts';
import { type HttpFixture, makeHttpFixture } from '../../support/http-fixture.ts';

let f: HttpFixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

function connect(url: string): Promise<{ ws: WebSocket; next: () => Promise<LiveMessage | Uint8Array> }> {
  const ws = new WebSocket(url);
  const queue: (LiveMessage | Uint8Array)[] = [];
  const waiters: ((m: LiveMessage | Uint8Array) => void)[] = [];
  ws.on('message', (data, isBinary) => {
    const m = isBinary ? new Uint8Array(data as Buffer) : (JSON.parse(String(data)) as LiveMessage);
    const w = waiters.shift();
    if (w !== undefined) w(m);
    else queue.push(m);
  });
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () =>
      resolve({
        ws,
        next: () => {
          const m = queue.shift();
          return m !== undefined ? Promise.resolve(m) : new Promise((r) => waiters.push(r));
        },
      }),
    );
  });
}

describe('live socket', () => {
  test('sends state on connect and after changes, and forwards video frames', async () => {
    f = await makeHttpFixture();
    await f.servers.module.start();
    const url = `${f.servers.urls().kiosk.replace('http', 'ws')}/api/v1/live`;
    const { ws, next } = await connect(url);
    const first = (await next()) as LiveMessage;
    expect(first.type).toBe('state');
    expect(first.state.meeting).toBeNull();

    await f.room.join('81234567890');
    let m = (await next()) as LiveMessage;
    while (m.state.meeting?.status !== 'in_meeting') m = (await next()) as LiveMessage;
    expect(m.state.meeting.shield).toBe('e2ee');

    expect(f.video.subscriberCount).toBe(1);
    const data = new Uint8Array([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a]);
    f.video.publish({
      participantId: 'p-alice',
      streamId: 0,
      codec: 'vp8',
      keyframe: true,
      captureTs: 1000,
      data,
    });
    const bin = (await next()) as Uint8Array;
    expect(bin[0]).toBe(1);
    expect(bin[1]).toBe(1);
    expect(Buffer.from(bin.subarray(bin.length - data.length))).toEqual(Buffer.from(data));

    ws.close();
    await new Promise((r) => ws.once('close', r));
    await expect.poll(() => f?.video.subscriberCount).toBe(0);
  });

  test('is refused to a client with a foreign Host header', async () => {
    f = await makeHttpFixture();
    await f.servers.module.start();
    const url = `${f.servers.urls().kiosk.replace('http', 'ws')}/api/v1/live`;
    expect(await upgradeStatus(url, { headers: { host: 'attacker.example' } })).toBe(403);
  });

  test('is refused to a page of another origin: null, another scheme, another port or host', async () => {
    f = await makeHttpFixture();
    await f.servers.module.start();
    const base = f.servers.urls().kiosk;
    const port = new URL(base).port;
    const url = `${base.replace('http', 'ws')}/api/v1/live`;
    for (const origin of [
      'null',
      `https://127.0.0.1:${port}`,
      `http://127.0.0.1:${Number(port) + 1}`,
      `http://localhost:${port}`,
      'http://evil.example',
    ]) {
      expect(await upgradeStatus(url, { origin }), origin).toBe(403);
    }
    expect(f.video.subscriberCount).toBe(0);
    // A Host naming this machine on another port is not the kiosk's own either.
    expect(await upgradeStatus(url, { headers: { host: `127.0.0.1:${Number(port) + 1}` } })).toBe(403);
    expect(await upgradeStatus(url, { origin: `http://127.0.0.1:${port}` })).toBe(101);
  });
});

/** The HTTP status of a WebSocket upgrade: 101 when it opened (then closed again). */
function upgradeStatus(url: string, options: WebSocket.ClientOptions): Promise<number> {
  const ws = new WebSocket(url, options);
  return new Promise<number>((resolve) => {
    ws.on('unexpected-response', (req, res) => {
      resolve(res.statusCode ?? 0);
      res.destroy();
      req.destroy();
    });
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => {});
  });
}
