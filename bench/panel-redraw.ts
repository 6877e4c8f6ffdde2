/**
 * Panel redraw timing (goal: a panel that restarts or is replugged is fully redrawn within
 * 2 s) on real socat ptys with the panel emulator, plus codec parse throughput. The silent
 * restart runs the editor-1.65 profile (docs/hardware.md §Conformance: Nextion): no start-up
 * frames, back at 9600 and bkcmd=2 while roomd runs the line at 115200.
 * Run: node --import tsx bench/panel-redraw.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NextionEmulator } from '../device/panel/emulator.ts';
import { watchPtyRate } from '../device/panel/line.ts';
import { createPtyPair } from '../device/pty.ts';
import { SystemClock } from '../src/core/clock.ts';
import { ViscaSplitter } from '../src/devices/camera/visca-codec.ts';
import { encodeFrame, NextionParser } from '../src/devices/panel/codec.ts';
import { DeviceManager } from '../src/devices/manager.ts';
import type { RoomView } from '../src/devices/panel/view.ts';
import { SerialPortByteStream } from '../src/transport/serial/serialport.ts';
import { emit, percentile } from './_lib.ts';

const dir = mkdtempSync(join(tmpdir(), 'roomd-bench-'));
const view: RoomView = {
  phase: 'in-meeting',
  roomName: 'Bench',
  meetings: [],
  notice: null,
  presets: [1, 2, 3, 4, 5, 6].map((preset) => ({ preset, label: `Preset ${preset}` })),
  meeting: {
    title: 'Benchmark',
    shield: 'e2ee',
    securityCode: '11111 22222 33333 44444 55555 66666 77777 88888',
    muted: false,
    cameraOn: true,
    volume: 40,
  },
};
const noop = async () => {};
const manager = new DeviceManager(
  { panel: { path: join(dir, 'panel') }, usb: false },
  {
    clock: new SystemClock(),
    view,
    commands: {
      join: noop,
      leave: noop,
      setMute: noop,
      setCamera: noop,
      setVolume: noop,
      ptz: noop,
      react: noop,
      chat: noop,
      share: noop,
      acknowledgeSecurityCode: noop,
    },
  },
);

async function plug(panel: NextionEmulator) {
  const pty = await createPtyPair(join(dir, 'panel'), join(dir, 'panel-device'));
  const stream = await SerialPortByteStream.open(pty.devicePath);
  panel.attach(stream, false);
  return { pty, stream };
}

function nextRedraw(): Promise<{ instructions: number }> {
  return manager.events.next('panel.redraw');
}

let side = await plug(new NextionEmulator());
const first = nextRedraw();
await manager.start();
const { instructions } = await first;

const replug: number[] = [];
const restart: number[] = [];
for (let i = 0; i < 5; i++) {
  await side.stream.close();
  await side.pty.close();
  await new Promise((r) => setTimeout(r, 300));
  const panel = new NextionEmulator();
  const t0 = performance.now();
  const done = nextRedraw();
  side = await plug(panel);
  await done;
  replug.push(performance.now() - t0);
  const t1 = performance.now();
  const again = nextRedraw();
  panel.restart();
  await again;
  restart.push(performance.now() - t1);
}
await manager.stop();
await side.stream.close();
await side.pty.close();

// Silent restarts: found by the idle heartbeat and the speed probe, then redrawn.
const silentPty = await createPtyPair(join(dir, 'panel2'), join(dir, 'panel2-device'));
const silentWatch = watchPtyRate(silentPty.hostPath);
const silentStream = await SerialPortByteStream.open(silentPty.devicePath);
const silentPanel = new NextionEmulator('editor-1.65');
silentPanel.attach(silentStream, { announce: false, hostRate: silentWatch.read });
const silentManager = new DeviceManager(
  { panel: { path: join(dir, 'panel2'), baudRate: 115200 }, usb: false },
  {
    clock: new SystemClock(),
    view,
    commands: {
      join: noop,
      leave: noop,
      setMute: noop,
      setCamera: noop,
      setVolume: noop,
      ptz: noop,
      react: noop,
      chat: noop,
      share: noop,
      acknowledgeSecurityCode: noop,
    },
  },
);
const firstSilent = silentManager.events.next('panel.redraw');
await silentManager.start();
await firstSilent;
const silent: number[] = [];
for (let i = 0; i < 8; i++) {
  // Restart at different points of the heartbeat period.
  await new Promise((r) => setTimeout(r, 100 + i * 90));
  const t0 = performance.now();
  const done = silentManager.events.next('panel.redraw');
  silentPanel.restart();
  await done;
  silent.push(performance.now() - t0);
}
await silentManager.stop();
await silentWatch.close();
await silentStream.close();
await silentPty.close();
rmSync(dir, { recursive: true, force: true });

const params = { transport: 'socat pty', instructions };
emit({
  name: 'panel.replug_redraw_p50',
  params,
  value: percentile(replug, 50),
  unit: 'ms',
  baseline: 2000,
  ratio: percentile(replug, 50) / 2000,
});
emit({
  name: 'panel.replug_redraw_max',
  params,
  value: Math.max(...replug),
  unit: 'ms',
  baseline: 2000,
  ratio: Math.max(...replug) / 2000,
});
emit({
  name: 'panel.restart_redraw_p50',
  params,
  value: percentile(restart, 50),
  unit: 'ms',
  baseline: 2000,
  ratio: percentile(restart, 50) / 2000,
});

emit({
  name: 'panel.silent_restart_recovery_p50',
  params: { ...params, profile: 'editor-1.65', lineBaud: 115200, panelBaudAfterRestart: 9600 },
  value: percentile(silent, 50),
  unit: 'ms',
  baseline: 2000,
  ratio: percentile(silent, 50) / 2000,
});
emit({
  name: 'panel.silent_restart_recovery_max',
  params: { ...params, profile: 'editor-1.65', lineBaud: 115200, panelBaudAfterRestart: 9600 },
  value: Math.max(...silent),
  unit: 'ms',
  baseline: 2000,
  ratio: Math.max(...silent) / 2000,
});

// Parse throughput: touch frames with some garbage between them.
const chunk = new Uint8Array(64 * 1024);
const frame = encodeFrame({ kind: 'touch', page: 3, component: 12, pressed: false });
for (let o = 0; o + frame.length + 1 < chunk.length; o += frame.length + 1) {
  chunk.set(frame, o);
  chunk[o + frame.length] = 0x42;
}
const parser = new NextionParser();
let t = performance.now();
for (let i = 0; i < 200; i++) parser.push(chunk);
emit({
  name: 'nextion.parse_throughput',
  params: { garbageEvery: 1 },
  value: (200 * chunk.length) / 1e6 / ((performance.now() - t) / 1000),
  unit: 'MB/s',
});
const visca = new ViscaSplitter();
const replies = new Uint8Array(64 * 1024);
for (let o = 0; o + 3 <= replies.length; o += 3) replies.set([0x90, 0x41, 0xff], o);
t = performance.now();
for (let i = 0; i < 200; i++) visca.push(replies);
emit({
  name: 'visca.split_throughput',
  params: {},
  value: (200 * replies.length) / 1e6 / ((performance.now() - t) / 1000),
  unit: 'MB/s',
});
