import { afterEach, describe, expect, it } from 'vitest';
import { ViscaEmulator } from '../../../../device/camera/emulator.ts';
import { FakeClock } from '../../../../src/core/clock.ts';
import { ViscaCamera } from '../../../../src/devices/camera/visca-camera.ts';
import { encodeReply } from '../../../../src/devices/camera/visca-codec.ts';
import { ViscaSession } from '../../../../src/devices/camera/visca-session.ts';
import { MemoryStreamHub } from '../../../../src/transport/serial/memory.ts';
import { SupervisedStream } from '../../../../src/transport/serial/supervisor.ts';

const settle = async (rounds = 20) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

async function setup() {
  const clock = new FakeClock();
  const hub = new MemoryStreamHub();
  const cam = new ViscaEmulator({ clock });
  hub.plug('/dev/serial/by-id/cam', (d) => cam.attach(d));
  const stream = new SupervisedStream({ path: '/dev/serial/by-id/cam', opener: hub.opener, clock });
  const camera = new ViscaCamera({ stream, clock, ackTimeoutMs: 500, clearTimeoutMs: 500 });
  const health: string[] = [];
  camera.session.on('health', (h) => health.push(h.health));
  stream.start();
  await settle();
  /** Advance fake time in steps, letting the memory line deliver in between. */
  const run = async (ms: number, step = 5) => {
    for (let t = 0; t < ms; t += step) {
      clock.advance(step);
      await settle(3);
    }
  };
  return { clock, hub, cam, stream, camera, health, run };
}

let cleanup: (() => Promise<void>) | null = null;
afterEach(async () => {
  await cleanup?.();
  cleanup = null;
});

describe('VISCA camera over the emulator', () => {
  it('moves, stores and recalls presets, and answers inquiries', async () => {
    const t = await setup();
    cleanup = () => t.stream.stop();
    await t.run(20); // initial IF_Clear
    const move = t.camera.moveTo({ pan: 1000, tilt: 200 }, 1);
    await t.run(700);
    await move;
    expect(t.cam.state).toMatchObject({ pan: 1000, tilt: 200 });
    const save = t.camera.savePreset(3);
    await t.run(50);
    await save;
    const home = t.camera.home();
    await t.run(700);
    await home;
    expect(t.cam.state.pan).toBe(0);
    const recall = t.camera.recallPreset(3);
    await t.run(700);
    await recall;
    expect(t.cam.state).toMatchObject({ pan: 1000, tilt: 200 });
    const pos = t.camera.position();
    await t.run(30);
    expect(await pos).toEqual({ pan: 1000, tilt: 200, zoom: 0 });
    const power = t.camera.getPower();
    await t.run(20);
    expect(await power).toBe('on');
  });

  it('keeps at most two commands in flight and waits for each ACK', async () => {
    const t = await setup();
    cleanup = () => t.stream.stop();
    await t.run(20);
    const ps = [
      t.camera.moveTo({ pan: 2000, tilt: 0 }, 0.5),
      t.camera.moveTo({ pan: -2000, tilt: 0 }, 0.5),
      t.camera.zoomTo(100),
    ];
    await t.run(50);
    expect(t.camera.session.inFlight).toBe(2);
    expect(t.cam.busySockets).toBe(2);
    expect(t.cam.state.zoom).toBe(0);
    await t.run(10_000, 50);
    await Promise.all(ps);
    expect(t.cam.state.zoom).toBe(100);
  });

  it('surfaces an error reply with the VISCA reason', async () => {
    const t = await setup();
    cleanup = () => t.stream.stop();
    await t.run(20);
    t.cam.failNext(0x41);
    const p = t.camera.recallPreset(1).catch((e: unknown) => e);
    await t.run(50);
    expect(await p).toMatchObject({
      code: 'device.protocol_error',
      context: { viscaError: 0x41, reason: 'command not executable' },
    });
    t.cam.state.power = 'standby';
    const q = t.camera.home().catch((e: unknown) => e);
    await t.run(50);
    expect(await q).toMatchObject({ code: 'device.protocol_error' });
  });

  it('times out, recovers with IF_Clear, and reports an unresponsive camera', async () => {
    const t = await setup();
    cleanup = () => t.stream.stop();
    await t.run(20);
    t.health.length = 0;
    t.cam.silent = true;
    const p = t.camera.home().catch((e: unknown) => e);
    await t.run(1200);
    expect(await p).toMatchObject({ code: 'device.timeout' });
    expect(t.camera.session.health).toBe('unresponsive');
    expect(t.health).toEqual(['recovering', 'unresponsive']);
    t.cam.silent = false;
    const q = t.camera.getPower();
    await t.run(30);
    expect(await q).toBe('on');
    expect(t.camera.session.health).toBe('ok');
  });
});

describe('ViscaSession edge cases', () => {
  it('accepts a completion without an ACK and ignores other addresses', async () => {
    const clock = new FakeClock();
    const sent: Uint8Array[] = [];
    const s = new ViscaSession({ write: async (b) => void sent.push(b), clock });
    const p = s.execute({ kind: 'pan-tilt-home' });
    s.receive({ kind: 'completion', address: 2, socket: 1, data: [] });
    s.receive({ kind: 'completion', address: 1, socket: 1, data: [] });
    await expect(p).resolves.toEqual([]);
    expect(encodeReply({ kind: 'ack', address: 1, socket: 1 })).toEqual(Uint8Array.of(0x90, 0x41, 0xff));
  });

  it('fails everything pending when the line closes', async () => {
    const clock = new FakeClock();
    const s = new ViscaSession({ write: async () => {}, clock });
    const a = s.execute({ kind: 'pan-tilt-home' }).catch((e: unknown) => e);
    const b = s.execute({ kind: 'inquiry', what: 'power' }).catch((e: unknown) => e);
    s.abort('disconnected');
    expect(await a).toMatchObject({ code: 'device.unavailable' });
    expect(await b).toMatchObject({ code: 'device.unavailable' });
  });
});
