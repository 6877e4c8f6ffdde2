/**
 * One demo appliance for the hostile soak (bench/soak/hostile.ts): the real daemon with its embedded
 * relay, emulated devices and synthetic far-end people, joined to the booked E2EE meeting. Prints one
 * JSON line `{ready: …}` with the addresses the attacker may aim at, then waits for SIGTERM.
 *
 * With `--hostile-devices`, the emulated touch panel and VISCA camera also send garbage on their
 * serial lines for the whole run (a faulty or hostile device): the device side of "every surface".
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { startDemo } from '../../demo/run.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { freePort } from '../../test/helpers/ports.ts';

const hostileDevices = process.argv.includes('--hostile-devices');
const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-soak-'));
const demo = await startDemo({
  stateDir: dir,
  log: silentLogger(),
  env: {},
  relayPort: 0,
  kioskPort: await freePort(),
  adminPort: await freePort(),
  botMedia: 'synthetic',
  roomMedia: null,
});
const kiosk = demo.kioskUrl.replace(/\/$/, '');
const e2ee = demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
const enhanced = demo.env.meetings.find((m) => m.encryption === 'enhanced')!;

const join = await fetch(`${kiosk}/api/v1/join`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ meetingId: e2ee.id }),
});
if (!join.ok) throw new Error(`the room could not join: ${join.status} ${await join.text()}`);

let garbage: NodeJS.Timeout | undefined;
if (hostileDevices) {
  // Random bytes, Nextion frame terminators and VISCA-looking replies with bad lengths, 20 per second.
  let n = 0;
  garbage = setInterval(() => {
    n++;
    const len = 1 + Math.floor(Math.random() * 64);
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++) bytes[i] = Math.floor(Math.random() * 256);
    if (n % 3 === 0 && len >= 3) bytes.set([0xff, 0xff, 0xff], len - 3);
    demo.env.panel.sendRaw(bytes);
    if (n % 2 === 0) {
      const visca = new Uint8Array([0x90, 0x50 + (n % 16), ...bytes.slice(0, 8), 0xff]);
      demo.env.camera.sendRaw(visca);
    }
  }, 50);
}

const registry = demo.env.relay.registry;
process.stdout.write(
  `${JSON.stringify({
    ready: {
      pid: process.pid,
      kiosk,
      admin: demo.app.http.urls().admin,
      signalUrl: demo.env.signalUrl,
      relayHttp: demo.env.relay.address.httpUrl,
      e2eeMeeting: e2ee.id,
      enhancedMeeting: { id: enhanced.id, passcode: registry.get(enhanced.id)?.passcode ?? null },
      roomDeviceId: demo.env.roomDeviceId,
    },
  })}\n`,
);

process.once('SIGTERM', () => {
  if (garbage !== undefined) clearInterval(garbage);
  void demo
    .stop()
    .then(() => fsp.rm(dir, { recursive: true, force: true }))
    .then(() => process.exit(0));
});
