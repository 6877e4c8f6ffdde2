/**
 * The admin console's device tests over the devices (src/app/room/device-tests.ts): the test tone
 * through ffmpeg to the ALSA playback device, and its failures in words; the panel redraw, answered
 * when the panel finished drawing, or after the time limit, or at once when there is no panel.
 */
import { describe, expect, test } from 'vitest';
import {
  createDeviceTests,
  type DeviceTestDeps,
  playbackProblem,
  REDRAW_TIMEOUT_MS,
  toneArgs,
} from '../../../src/app/room/device-tests.ts';
import { FakeClock } from '../../../src/core/clock.ts';
import { EventBus } from '../../../src/core/events.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { DeviceEvents, DeviceState, DeviceStatus } from '../../../src/devices/status.ts';
import { FakeProcessRunner } from '../../../src/system/process.ts';

function panelStatus(state: DeviceState): DeviceStatus {
  return {
    id: 'panel',
    path: '/dev/ttyUSB0',
    state,
    health: 'ok',
    since: 0,
    lastError: null,
    reconnects: 0,
    counters: {},
  };
}

function setup(o: { device?: string | null; panel?: boolean; state?: DeviceState } = {}) {
  const clock = new FakeClock();
  const runner = new FakeProcessRunner();
  const events = new EventBus<DeviceEvents>();
  const redraws: string[] = [];
  const deps: DeviceTestDeps = {
    clock,
    runner,
    log: silentLogger(),
    speaker: () => ({ device: o.device === undefined ? 'hw:CARD=Speaker' : o.device, volume: 70 }),
    devices: () => [panelStatus(o.state ?? 'ready')],
    panel: () => (o.panel === false ? null : { redraw: (reason) => redraws.push(reason) }),
    events,
  };
  return { clock, runner, events, redraws, tests: createDeviceTests(deps) };
}

describe('speaker test tone', () => {
  test('ffmpeg plays a short sine on the ALSA device at the room volume', async () => {
    const { runner, tests } = setup();
    runner.on('ffmpeg', () => ({ code: 0 }));
    expect(await tests.beep()).toEqual({
      ok: true,
      detail: 'Played a 0.6 s tone (880 Hz) on hw:CARD=Speaker at volume 70%.',
    });
    expect(runner.calls).toEqual([{ cmd: 'ffmpeg', args: toneArgs('hw:CARD=Speaker', 70) }]);
    const args = toneArgs('hw:1', 70);
    expect(args.slice(-3)).toEqual(['-f', 'alsa', 'hw:1']);
    expect(args).toContain('volume=0.70');
    expect(args).toContain('sine=frequency=880:sample_rate=48000:duration=0.6');
    expect(toneArgs('hw:1', 250)).toContain('volume=1.00');
  });

  test('a speaker that cannot play says why, in ALSA’s words', async () => {
    const { runner, tests } = setup({ device: 'hw:9' });
    runner.on('ffmpeg', () => ({
      code: 1,
      stderr:
        'ALSA lib confmisc.c:165:(snd_config_get_card) Cannot get card index for 9\n[alsa @ 0x55ec8f3e4180] cannot open audio device hw:9 (No such file or directory)\nError initializing output stream 0:0 -- \n',
    }));
    expect(await tests.beep()).toEqual({
      ok: false,
      detail:
        'The speaker hw:9 did not play the test tone: cannot open audio device hw:9 (No such file or directory).',
    });
    expect(playbackProblem('one\ntwo\n')).toBe('two');
    expect(playbackProblem('x'.repeat(500))).toHaveLength(201);
    expect(playbackProblem('')).toBe('');
  });

  test('no playback device: nothing is run, and the answer says what to set', async () => {
    const { runner, tests } = setup({ device: null });
    const r = await tests.beep();
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('devices.speakerphone.playbackDevice');
    expect(runner.calls).toEqual([]);
  });
});

describe('panel redraw', () => {
  test('answers when the panel finished the redraw it was asked for', async () => {
    const { events, redraws, tests } = setup();
    const answer = tests.redrawPanel();
    expect(redraws).toEqual(['requested']);
    // A redraw for another reason (the panel woke up) is not the one asked for.
    events.emit('panel.redraw', { reason: 'panel-wake', instructions: 3, ms: 10 });
    events.emit('panel.redraw', { reason: 'requested', instructions: 57, ms: 120.4 });
    expect(await answer).toEqual({
      ok: true,
      detail: 'The touch panel drew its page again: 57 instructions in 120 ms.',
    });
  });

  test('a panel that does not finish in time is a failed test', async () => {
    const { clock, tests } = setup();
    const answer = tests.redrawPanel();
    clock.advance(REDRAW_TIMEOUT_MS);
    expect(await answer).toEqual({
      ok: false,
      detail: 'The touch panel did not finish redrawing within 5 s (asleep, or not answering).',
    });
  });

  test('no panel, or a panel that is not connected: answered at once, nothing asked of it', async () => {
    const none = setup({ panel: false });
    expect(await none.tests.redrawPanel()).toEqual({
      ok: false,
      detail: 'No touch panel is set up (devices.panel.path is empty).',
    });
    const away = setup({ state: 'reconnecting' });
    expect(await away.tests.redrawPanel()).toEqual({
      ok: false,
      detail: 'The touch panel is not connected (it is reconnecting); nothing to redraw.',
    });
    expect(away.redraws).toEqual([]);
  });
});
