import { describe, expect, it } from 'vitest';
import { parseControlList, parseGetControls, UvcCamera } from '../../../../src/devices/camera/uvc-camera.ts';
import { FakeProcessRunner } from '../../../../src/system/process.ts';

const LIST = `
User Controls

                     brightness 0x00980900 (int)    : min=0 max=255 step=1 default=128 value=128
Camera Controls

                  auto_exposure 0x009a0901 (menu)   : min=0 max=3 default=3 value=3 (Aperture Priority Mode)
                   pan_absolute 0x009a0908 (int)    : min=-36000 max=36000 step=3600 default=0 value=0
                  tilt_absolute 0x009a0909 (int)    : min=-36000 max=36000 step=3600 default=0 value=0
                  zoom_absolute 0x009a090d (int)    : min=100 max=500 step=1 default=100 value=100
`;

function fakeCamera() {
  const state = new Map([
    ['pan_absolute', 0],
    ['tilt_absolute', 0],
    ['zoom_absolute', 100],
  ]);
  const runner = new FakeProcessRunner().on('v4l2-ctl', (args) => {
    if (args.includes('--list-ctrls')) return { stdout: LIST };
    const set = args.indexOf('-c');
    if (set >= 0) {
      for (const kv of args[set + 1]!.split(',')) {
        const [k, v] = kv.split('=');
        state.set(k!, Number(v));
      }
      return {};
    }
    const names = args.filter((_, i) => args[i - 1] === '-C');
    return { stdout: names.map((n) => `${n}: ${state.get(n)}`).join('\n') };
  });
  return { runner, state };
}

describe('UVC camera via v4l2-ctl', () => {
  it('parses control lists and values', () => {
    const r = parseControlList(LIST);
    expect(r.get('pan_absolute')).toEqual({ min: -36000, max: 36000, step: 3600, value: 0 });
    expect(r.has('auto_exposure')).toBe(false);
    expect(parseGetControls('pan_absolute: -3600\nzoom_absolute: 120\n')).toEqual(
      new Map([
        ['pan_absolute', -3600],
        ['zoom_absolute', 120],
      ]),
    );
  });

  it('moves with snapped, clamped values and keeps presets in roomd', async () => {
    const { runner, state } = fakeCamera();
    const cam = new UvcCamera({ device: '/dev/v4l/by-id/usb-cam-video-index0', runner });
    await cam.moveTo({ pan: 5000, tilt: 99_999 });
    expect(state.get('pan_absolute')).toBe(3600);
    expect(state.get('tilt_absolute')).toBe(36000);
    expect(runner.calls.at(-1)).toEqual({
      cmd: 'v4l2-ctl',
      args: ['-d', '/dev/v4l/by-id/usb-cam-video-index0', '-c', 'pan_absolute=3600,tilt_absolute=36000'],
    });
    await cam.zoomTo(300);
    await cam.savePreset(2);
    await cam.home();
    await cam.zoom('wide');
    expect(await cam.position()).toEqual({ pan: 0, tilt: 0, zoom: 260 });
    await cam.recallPreset(2);
    expect(await cam.position()).toEqual({ pan: 3600, tilt: 36000, zoom: 300 });
    await cam.drive('down-left');
    expect(await cam.position()).toMatchObject({ pan: 0, tilt: 32400 });
    await expect(cam.recallPreset(9)).rejects.toMatchObject({ code: 'device.protocol_error' });
    await expect(cam.setPower(false)).rejects.toMatchObject({ code: 'device.unsupported' });
  });

  it('reports a vanished device as unavailable', async () => {
    const runner = new FakeProcessRunner().on('v4l2-ctl', () => ({ code: 1, stderr: 'Cannot open device' }));
    const cam = new UvcCamera({ device: '/dev/video9', runner });
    await expect(cam.getPower()).rejects.toMatchObject({ code: 'device.unavailable' });
  });
});
