/**
 * The admin console's Devices page in Chromium, against the real demo daemon and its emulated
 * hardware (docs/kiosk-and-admin-api.md §Admin console): every device the API reports, in the
 * colour of its status, with the VISCA camera's model; and the tests — the emulated camera moves
 * to a preset and home, the emulated touch panel is redrawn, the speaker plays a tone (through the
 * ALSA `null` device once one is set; before that the page says there is no speaker).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { DeviceInfo } from '../../src/http/schemas/state.ts';
import { type ConsoleUnderTest, startConsoleUnderTest } from './admin-fixture.ts';

let t: ConsoleUnderTest;

beforeAll(async () => {
  t = await startConsoleUnderTest();
}, 180_000);

afterAll(async () => {
  await t?.close();
}, 60_000);

async function apiDevices(): Promise<DeviceInfo[]> {
  return ((await t.client.call('GET', '/api/v1/devices')).json as { devices: DeviceInfo[] }).devices;
}

describe('Devices page', () => {
  test('every device the room reports, its status colour, state, last change and the camera model', async () => {
    const page = t.page;
    await t.open('devices');
    // Wait until the camera has answered (its state is ready), so the model is settled.
    await expect
      .poll(async () => (await apiDevices()).find((d) => d.id === 'camera')?.state, { timeout: 30_000 })
      .toBe('ready');
    const devices = await apiDevices();
    await expect.poll(() => page.getByTestId('device-card').count()).toBe(devices.length);
    for (const d of devices) {
      const card = page.getByTestId(`device-${d.id}`);
      await expect.poll(() => card.getAttribute('data-status'), { timeout: 10_000 }).toBe(d.status);
      expect(await card.textContent()).toContain(d.name);
      expect(d.since).toBeDefined();
    }
    const camera = devices.find((d) => d.id === 'camera')!;
    // The demo's camera plays a Sony EVI-D70 (demo/devices.ts) and says so to the version inquiry.
    expect(camera.model).toMatchObject({
      family: 'sony-evi',
      name: 'EVI-D70',
      vendorId: '0020',
      modelId: '040e',
      source: 'detected',
    });
    const model = await page.getByTestId('camera-model').textContent();
    expect(model).toContain('EVI-D70');
    expect(model).toContain('VISCA sony-evi');
    expect(model).toContain('model 040e');
  }, 60_000);

  test('the camera moves to a preset and home', async () => {
    const page = t.page;
    const cam = t.demo.env.camera;
    // An EVI-D70: the room's preset 2 is its memory 1.
    cam.presets.set(1, { pan: 600, tilt: 120, zoom: 0 });
    await page.getByTestId('camera-preset-number').fill('2');
    await page.getByTestId('camera-preset').click();
    await expect
      .poll(() => page.getByTestId('camera-result').textContent(), { timeout: 15_000 })
      .toBe('The camera moved to preset 2.');
    expect(await page.getByTestId('camera-result').getAttribute('data-ok')).toBe('true');
    await expect.poll(() => cam.state.pan, { timeout: 10_000 }).toBe(600);
    expect(cam.state.tilt).toBe(120);
    await page.getByTestId('camera-home').click();
    await expect
      .poll(() => page.getByTestId('camera-result').textContent(), { timeout: 15_000 })
      .toBe('The camera moved to its home position.');
    await expect.poll(() => cam.state.pan, { timeout: 10_000 }).toBe(0);
  }, 60_000);

  test('the touch panel draws its page again', async () => {
    const page = t.page;
    await page.getByTestId('panel-redraw').click();
    await expect
      .poll(() => page.getByTestId('panel-redraw-result').textContent(), { timeout: 15_000 })
      .toMatch(/^The touch panel drew its page again: \d+ instructions in \d+ ms\.$/);
    const instructions = Number(
      /(\d+) instructions/.exec((await page.getByTestId('panel-redraw-result').textContent()) ?? '')?.[1],
    );
    expect(instructions).toBeGreaterThan(0);
  }, 30_000);

  test('the speaker test says when there is no speaker, and plays once there is one', async () => {
    const page = t.page;
    await page.getByTestId('speaker-beep').click();
    await expect
      .poll(() => page.getByTestId('speaker-beep-result').textContent(), { timeout: 15_000 })
      .toContain('No speaker is set up');
    expect(await page.getByTestId('speaker-beep-result').getAttribute('data-ok')).toBe('false');
    // ALSA's `null` device: a real playback through ffmpeg, with nothing to hear on a test machine.
    await t.client.call('PATCH', '/api/v1/settings', {
      devices: { speakerphone: { playbackDevice: 'null' } },
    });
    await page.getByTestId('speaker-beep').click();
    await expect
      .poll(() => page.getByTestId('speaker-beep-result').getAttribute('data-ok'), { timeout: 15_000 })
      .toBe('true');
    expect(await page.getByTestId('speaker-beep-result').textContent()).toMatch(
      /^Played a 0\.6 s tone \(880 Hz\) on null at volume \d+%\.$/,
    );
    await t.shot('devices');
  }, 60_000);
});
