import { afterEach, describe, expect, it, vi } from 'vitest';
import { NextionEmulator } from '../../../../device/panel/emulator.ts';
import { FakeClock } from '../../../../src/core/clock.ts';
import { PanelController } from '../../../../src/devices/panel/controller.ts';
import { NextionLink } from '../../../../src/devices/panel/link.ts';
import type { RoomView } from '../../../../src/devices/panel/view.ts';
import type { RoomCommands } from '../../../../src/protocol/room-commands.ts';
import { MemoryStreamHub } from '../../../../src/transport/serial/memory.ts';
import { SupervisedStream } from '../../../../src/transport/serial/supervisor.ts';

const settle = async (rounds = 30) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

/** Let `ms` pass in small steps, so replies arrive between timers as on a real line. */
async function run(clock: FakeClock, ms: number, step = 20): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle(5);
  }
}

const CODE = '12345 67890 11111 22222 33333 44444 55555 66666';

function commands(): RoomCommands & { [K in keyof RoomCommands]: ReturnType<typeof vi.fn> } {
  return {
    join: vi.fn(async () => {}),
    leave: vi.fn(async () => {}),
    setMute: vi.fn(async () => {}),
    setCamera: vi.fn(async () => {}),
    setVolume: vi.fn(async () => {}),
    ptz: vi.fn(async () => {}),
    react: vi.fn(async () => {}),
    chat: vi.fn(async () => {}),
    share: vi.fn(async () => {}),
    acknowledgeSecurityCode: vi.fn(async () => {}),
  };
}

async function setup(view: RoomView) {
  const clock = new FakeClock(Date.UTC(2026, 10, 26, 9, 0));
  const hub = new MemoryStreamHub();
  const panel = new NextionEmulator();
  hub.plug('/dev/serial/by-id/panel', (d) => panel.attach(d));
  const stream = new SupervisedStream({ path: '/dev/serial/by-id/panel', opener: hub.opener, clock });
  const link = new NextionLink({ stream, clock });
  const cmds = commands();
  const ctl = new PanelController({ link, clock, commands: cmds, view });
  const redraws: unknown[] = [];
  ctl.on('redraw', (r) => redraws.push(r));
  ctl.start();
  stream.start();
  await settle();
  return { clock, hub, panel, stream, link, ctl, cmds, redraws };
}

const base = {
  roomName: 'Room "Ada"',
  timeZone: 'UTC',
  notice: null,
  presets: [
    { preset: 1, label: 'Table' },
    { preset: 2, label: 'Board' },
  ],
  meetings: [
    {
      id: '11122233344',
      title: 'Weekly sync',
      start: Date.UTC(2026, 10, 26, 10, 0),
      end: Date.UTC(2026, 10, 26, 10, 30),
    },
    {
      id: '99988877766',
      title: 'Design review',
      start: Date.UTC(2026, 10, 26, 9, 30),
      end: Date.UTC(2026, 10, 26, 10, 0),
    },
  ],
};

let stop: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stop?.();
  stop = null;
});

describe('PanelController', () => {
  it('draws the idle page and joins the next meeting with one touch', async () => {
    const t = await setup({ ...base, phase: 'idle' });
    stop = () => t.stream.stop();
    expect(t.panel.bkcmd).toBe(3);
    expect(t.panel.render()).toContain('tRoom: Room "Ada"');
    expect(t.panel.text('tClock')).toBe('09:00');
    expect(t.panel.text('bMeet0')).toBe('09:30 Design review');
    expect(t.panel.text('bJoin')).toBe('Join Design review');
    expect(t.panel.component('bMeet2')?.vis).toBe(false);
    t.panel.touch('bJoin');
    await settle();
    expect(t.cmds.join).toHaveBeenCalledWith('99988877766');
    t.panel.touch('bMeet1');
    await settle();
    expect(t.cmds.join).toHaveBeenLastCalledWith('11122233344');
    expect(t.redraws).toHaveLength(1);
  });

  it('joins by id and passcode from the keypad', async () => {
    const t = await setup({ ...base, phase: 'idle' });
    stop = () => t.stream.stop();
    t.panel.touch('bById');
    await settle();
    expect(t.panel.pageSpec.name).toBe('keypad');
    for (const d of '1234567') t.panel.touch(`bK${d}`);
    t.panel.touch('bDel');
    await settle();
    expect(t.panel.text('tEntry')).toBe('123 456');
    t.panel.touch('bOk');
    await settle();
    expect(t.panel.text('tTitle')).toMatch(/Passcode/);
    for (const d of '4242') t.panel.touch(`bK${d}`);
    await settle();
    expect(t.panel.text('tEntry')).toBe('****');
    t.panel.touch('bOk');
    await settle();
    expect(t.cmds.join).toHaveBeenCalledWith('123456', '4242');
    expect(t.panel.pageSpec.name).toBe('idle');
  });

  it('shows shield, code groups and controls in a meeting and sends commands', async () => {
    const t = await setup({
      ...base,
      phase: 'in-meeting',
      meeting: {
        title: 'Weekly sync',
        shield: 'e2ee',
        securityCode: CODE,
        muted: false,
        cameraOn: true,
        volume: 50,
      },
    });
    stop = () => t.stream.stop();
    expect(t.panel.pageSpec.name).toBe('meeting');
    expect(t.panel.text('tShield')).toBe('End-to-end encrypted');
    expect(t.panel.component('pShield')?.pic).toBe(1);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => t.panel.text(`tCode${i}`)).join(' ')).toBe(CODE);
    expect(t.panel.component('bPre3')?.vis).toBe(false);
    t.panel.touch('bMute');
    t.panel.touch('bVolUp');
    t.panel.touch('bPre2');
    t.panel.slide('hVol', 80);
    await settle();
    expect(t.cmds.setMute).toHaveBeenCalledWith(true);
    expect(t.cmds.setVolume).toHaveBeenCalledWith(60);
    expect(t.cmds.ptz).toHaveBeenCalledWith({ op: 'preset', preset: 2 });
    expect(t.cmds.setVolume).toHaveBeenLastCalledWith(80);
    const before = t.panel.log.length;
    t.ctl.setView({
      ...base,
      phase: 'in-meeting',
      meeting: {
        title: 'Weekly sync',
        shield: 'verifying',
        securityCode: null,
        muted: true,
        cameraOn: true,
        volume: 50,
      },
    });
    await settle();
    expect(t.panel.text('bMute')).toBe('Unmute');
    expect(t.panel.component('tCode0')?.vis).toBe(false);
    // Only the differences went over the wire.
    expect(t.panel.log.length - before).toBeLessThan(24);
  });

  it('redraws fully after the panel restarts and after a replug', async () => {
    const t = await setup({
      ...base,
      phase: 'in-meeting',
      meeting: {
        title: 'Weekly sync',
        shield: 'e2ee',
        securityCode: CODE,
        muted: false,
        cameraOn: true,
        volume: 50,
      },
    });
    stop = () => t.stream.stop();
    t.panel.restart();
    expect(t.panel.page).toBe(0);
    await settle();
    expect(t.panel.pageSpec.name).toBe('meeting');
    expect(t.panel.text('tCode7')).toBe('66666');
    expect(t.redraws.at(-1)).toMatchObject({ reason: 'panel-ready' });

    const panel2 = new NextionEmulator();
    t.hub.unplug('/dev/serial/by-id/panel');
    await settle();
    t.clock.advance(0);
    await settle();
    expect(t.stream.state).toBe('failed');
    t.hub.plug('/dev/serial/by-id/panel', (d) => panel2.attach(d, false));
    t.clock.advance(1000);
    await settle();
    expect(t.stream.state).toBe('open');
    expect(panel2.pageSpec.name).toBe('meeting');
    expect(panel2.text('tShield')).toBe('End-to-end encrypted');
    expect(t.redraws.at(-1)).toMatchObject({ reason: 'reopened' });
  });

  it('shows a failed command on the notice line and ignores touches for other pages', async () => {
    const t = await setup({ ...base, phase: 'idle' });
    stop = () => t.stream.stop();
    t.cmds.join.mockRejectedValueOnce(new Error('boom'));
    t.panel.touch('bJoin');
    await settle();
    expect(t.panel.text('tNotice')).toBe('Something went wrong inside roomd.');
    await run(t.clock, 9000, 100);
    expect(t.panel.text('tNotice')).toBe('');
    t.panel.sendRaw(Uint8Array.of(0x65, 3, 12, 0, 0xff, 0xff, 0xff));
    await settle();
    expect(t.cmds.setMute).not.toHaveBeenCalled();
  });

  it('a silent panel: the instruction times out, probing fails, sends fail at once until it answers', async () => {
    const t = await setup({ ...base, phase: 'idle' });
    stop = () => t.stream.stop();
    t.panel.silent = true;
    const caught = t.link.send('dim=50').catch((e: unknown) => e);
    await run(t.clock, 400);
    expect(await caught).toMatchObject({ code: 'device.timeout' });
    expect(t.link.phase).toBe('probing');
    // A memory line has no speed to change: only `connect` at the line as it is.
    await run(t.clock, 300);
    expect(t.link.phase).toBe('offline');
    await expect(t.link.send('dim=60')).rejects.toMatchObject({
      code: 'device.unavailable',
      context: { reason: 'panel not answering' },
    });
    t.panel.silent = false;
    await run(t.clock, 2300);
    expect(t.link.phase).toBe('ready');
    expect(t.redraws.at(-1)).toMatchObject({ reason: 'panel-recovered' });
    expect(t.link.counters.recoveries).toBe(1);
    await t.link.send('dim=60');
    expect(t.panel.dim).toBe(60);
  });
});

describe('PanelController sleep and recovery', () => {
  it('an idle panel that falls silent is noticed by the heartbeat and reported, then redrawn', async () => {
    const t = await setup({ ...base, phase: 'idle' });
    stop = () => t.stream.stop();
    const errors: string[] = [];
    t.ctl.on('error', (e) => errors.push(e.error.code));
    t.panel.silent = true;
    await run(t.clock, 2000);
    expect(t.link.counters.heartbeats).toBeGreaterThan(0);
    expect(t.link.phase).toBe('offline');
    expect(errors).toEqual(['device.timeout']);
    t.panel.silent = false;
    await run(t.clock, 2500);
    expect(t.redraws.at(-1)).toMatchObject({ reason: 'panel-recovered' });
  });

  it('holds updates while the panel sleeps and redraws on wake', async () => {
    const t = await setup({ ...base, phase: 'idle' });
    stop = () => t.stream.stop();
    t.panel.sendRaw(Uint8Array.of(0x86, 0xff, 0xff, 0xff));
    await settle();
    const before = t.panel.log.length;
    t.ctl.setView({ ...base, roomName: 'Renamed', phase: 'idle' });
    await settle();
    expect(t.panel.log.length).toBe(before);
    t.panel.sendRaw(Uint8Array.of(0x87, 0xff, 0xff, 0xff));
    await settle();
    expect(t.panel.text('tRoom')).toBe('Renamed');
    expect(t.redraws.at(-1)).toMatchObject({ reason: 'panel-wake' });
  });

  it('checks an idle line at once when garbage arrives on it', async () => {
    const t = await setup({ ...base, phase: 'idle' });
    stop = () => t.stream.stop();
    const before = t.link.counters.heartbeats;
    t.panel.sendRaw(Uint8Array.of(0x12, 0x34, 0xff, 0xff, 0xff));
    await settle();
    expect(t.link.counters.heartbeats).toBe(before + 1);
    expect(t.link.phase).toBe('ready');
  });

  it('reports synced after a silent panel answers again', async () => {
    const t = await setup({ ...base, phase: 'idle' });
    stop = () => t.stream.stop();
    const synced: unknown[] = [];
    const errors: string[] = [];
    t.ctl.on('synced', () => synced.push(1));
    t.ctl.on('error', (e) => errors.push(e.error.code));
    t.panel.silent = true;
    t.ctl.setView({ ...base, roomName: 'Other', phase: 'idle' });
    await run(t.clock, 1200);
    expect(errors).toContain('device.timeout');
    t.panel.silent = false;
    await run(t.clock, 3000);
    expect(t.panel.text('tRoom')).toBe('Other');
    expect(synced).toHaveLength(1);
  });
});

describe('PanelController with a mismatched HMI project', () => {
  it('reports a refused component once and keeps drawing the rest', async () => {
    const t = await setup({ ...base, phase: 'idle' });
    stop = () => t.stream.stop();
    const errors: unknown[] = [];
    t.ctl.on('error', (e) => errors.push(e.error.context.code ?? e.error.code));
    t.panel.missing.add('tDate');
    t.panel.restart();
    await settle();
    expect(errors).toEqual([0x02]);
    expect(t.panel.text('tRoom')).toBe('Room "Ada"');
    t.ctl.setView({ ...base, roomName: 'X', phase: 'idle' });
    await run(t.clock, 3000, 100);
    expect(errors).toEqual([0x02]);
    expect(t.panel.text('tRoom')).toBe('X');
  });
});

describe('NextionLink power-on', () => {
  it('holds instructions between the start-up frame and ready, with a grace period', async () => {
    const t = await setup({ ...base, phase: 'idle' });
    stop = () => t.stream.stop();
    const resets: string[] = [];
    t.link.on('reset', (r) => resets.push(r.reason));
    t.panel.sendRaw(Uint8Array.of(0, 0, 0, 0xff, 0xff, 0xff));
    await settle();
    const before = t.panel.log.length;
    const sent = t.link.send('dim=40');
    await settle();
    expect(t.panel.log.length).toBe(before);
    t.clock.advance(300);
    await settle();
    await sent;
    expect(resets).toEqual(['panel-startup']);
    expect(t.panel.dim).toBe(40);
  });
});
