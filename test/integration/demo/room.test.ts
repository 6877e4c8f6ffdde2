/**
 * The real daemon in demo mode with its emulated hardware: a touch on the
 * emulated panel's Join joins the booked E2EE meeting, and the panel then shows the shield and the
 * same 8 code groups as the kiosk state; the speakerphone's mute button mutes the room and its LED
 * follows; a camera preset on the panel moves the emulated VISCA camera. The room's own camera and
 * microphone are left out (no ffmpeg) to keep this cheap; far-end people send synthetic frames.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoRun, startDemo } from '../../../demo/run.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { RoomState } from '../../../src/http/schemas/state.ts';
import { waitFor } from '../../helpers/meeting-harness.ts';
import { freePort } from '../../helpers/ports.ts';
import { kioskState, kioskStateWhen } from '../../support/kiosk-state.ts';

let demo: DemoRun;
let dir: string;

const state = (): Promise<RoomState> => kioskState(demo.kioskUrl);

const stateWhen = (ok: (s: RoomState) => boolean, what: string, timeoutMs?: number) =>
  kioskStateWhen(demo.kioskUrl, ok, what, timeoutMs);

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-demo-room-'));
  demo = await startDemo({
    stateDir: dir,
    log: silentLogger(),
    env: {},
    relayPort: 0,
    kioskPort: await freePort(),
    adminPort: await freePort(),
    botMedia: 'synthetic',
    roomMedia: null,
  });
}, 120_000);

afterAll(async () => {
  await demo?.stop();
  await fsp.rm(dir, { recursive: true, force: true });
}, 60_000);

describe('the demo room with emulated hardware', () => {
  it('a fresh demo is healthy: no laptop is no fault, and the camera names its model', async () => {
    const s = await stateWhen(
      (x) => x.devices.length > 0 && x.devices.every((d) => d.status === 'ok'),
      'every device ok',
      30_000,
    );
    // The laptop is on the shelf (docs/hardware.md §Content sharing): neutral, not "missing".
    expect(s.devices.find((d) => d.id === 'content')).toMatchObject({ status: 'ok', state: 'absent' });
    // The demo's camera plays a Sony EVI-D70 (demo/devices.ts).
    expect(s.devices.find((d) => d.id === 'camera')?.model).toMatchObject({
      family: 'sony-evi',
      name: 'EVI-D70',
    });
  }, 40_000);

  it('Join on the touch panel joins the booked E2EE meeting; the panel shows the shield and the kiosk code', async () => {
    const panel = demo.env.panel;
    const e2ee = demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
    await waitFor(
      () => panel.text('bJoin')?.includes(e2ee.title),
      'the panel offers the booked meeting',
      30_000,
    );
    // The panel may be mid-redraw (it announces itself on start-up): touch again until it takes.
    await waitFor(
      () => {
        try {
          panel.touch('bJoin');
          return true;
        } catch {
          return false;
        }
      },
      'a touch on Join',
      15_000,
    );
    const s = await stateWhen((x) => x.meeting?.shield === 'e2ee', 'the kiosk shows e2ee');
    expect(s.meeting?.id.replace(/-/g, '')).toBe(e2ee.id.replace(/-/g, ''));
    const code = s.meeting!.securityCode!;
    expect(code).toMatch(/^\d{5}( \d{5}){7}$/);
    const shown = () => [0, 1, 2, 3, 4, 5, 6, 7].map((i) => panel.text(`tCode${i}`)).join(' ');
    await waitFor(
      () => panel.pageSpec.name === 'meeting' && shown() === code,
      'the panel shows the code',
      15_000,
    );
    expect(panel.text('tShield')).toBe('End-to-end encrypted');
    // The far-end people see the room in the verified roster, with the same code.
    for (const bot of e2ee.bots) {
      await waitFor(
        () => bot.session.snapshot.participants.some((p) => p.name === s.room.name && p.verified),
        'room verified',
        15_000,
      );
      expect(bot.session.snapshot.securityCode).toBe(code);
    }
  }, 90_000);

  it("the speakerphone's mute button mutes the room, the LED follows, and the panel button unmutes it", async () => {
    const phone = demo.env.speakerphone;
    expect((await state()).meeting?.muted).toBe(false);
    phone.pressMute();
    await stateWhen((x) => x.meeting?.muted === true, 'the room muted');
    await waitFor(() => phone.leds.muted, 'mute LED on', 10_000);
    demo.env.panel.touch('bMute');
    await waitFor(() => !phone.leds.muted, 'mute LED off after the panel unmuted', 10_000);
    await stateWhen((x) => x.meeting?.muted === false, 'the room unmuted');
  }, 60_000);

  it('the panel is unplugged and plugged back in: fully redrawn, and the meeting never noticed', async () => {
    const code = (await state()).meeting?.securityCode;
    const statuses: string[] = [];
    const off = demo.app.room!.events.on('change', () =>
      statuses.push(demo.app.room!.meeting()?.status ?? 'none'),
    );
    await demo.env.replugPanel();
    const panel = demo.env.panel;
    const shown = () => [0, 1, 2, 3, 4, 5, 6, 7].map((i) => panel.text(`tCode${i}`)).join(' ');
    await waitFor(
      () => panel.pageSpec.name === 'meeting' && shown() === code,
      'the new panel shows the meeting',
      15_000,
    );
    off();
    expect(statuses.every((s) => s === 'secure')).toBe(true);
    expect((await state()).meeting?.shield).toBe('e2ee');
  }, 30_000);

  it('/metrics (admin API, token) exposes the series and they move while the meeting runs', async () => {
    const { token } = await demo.app.http.auth.createToken('scraper');
    const scrape = async () => {
      const res = await demo.app.http.admin.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.statusCode).toBe(200);
      return res.body;
    };
    const value = (text: string, series: string) =>
      Number(new RegExp(`^${series}\\s+([0-9.e+]+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    const first = await scrape();
    for (const name of [
      'roomd_meeting_state',
      'roomd_shield_state',
      'roomd_e2ee_epoch',
      'roomd_media_frames_received_total',
      'roomd_device_state',
    ]) {
      expect(first).toContain(name);
    }
    const received = (t: string) => value(t, 'roomd_media_frames_received_total\\{kind="audio"\\}');
    await new Promise((r) => setTimeout(r, 1500));
    const second = await scrape();
    expect(received(second)).toBeGreaterThan(received(first));
  }, 30_000);

  it("the admin API never reads back the room's meeting-service credential", async () => {
    const secret = demo.env.roomToken;
    expect(secret.length).toBeGreaterThan(16);
    const { token } = await demo.app.http.auth.createToken('settings', 'admin', 'admin');
    const auth = { authorization: `Bearer ${token}` };
    const read = await demo.app.http.admin.inject({ method: 'GET', url: '/api/v1/settings', headers: auth });
    expect(read.statusCode).toBe(200);
    expect(read.body).not.toContain(secret);
    expect(JSON.parse(read.body).meetingService).not.toHaveProperty('token');
    // A change elsewhere neither shows it nor loses it: the room still reads its schedule.
    const patched = await demo.app.http.admin.inject({
      method: 'PATCH',
      url: '/api/v1/settings',
      headers: auth,
      payload: { media: { volume: 55 } },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.body).not.toContain(secret);
    await demo.app.room!.refreshSchedule();
    expect(demo.app.room!.scheduleError).toBeNull();
    expect(demo.app.room!.schedule.length).toBeGreaterThan(0);
  }, 30_000);

  it('a camera preset on the panel moves the emulated VISCA camera', async () => {
    const cam = demo.env.camera;
    // The demo's camera is an EVI-D70: the room's preset 2 is its memory 1.
    cam.presets.set(1, { pan: 800, tilt: 200, zoom: 0x1000 });
    const before = { ...cam.state };
    demo.env.panel.touch('bPre2');
    await waitFor(() => cam.state.pan === 800 && cam.state.tilt === 200, 'camera at preset 2', 15_000);
    expect(cam.state).not.toEqual(before);
  }, 30_000);
});
