/**
 * The admin console's device tests over the real devices (docs/kiosk-and-admin-api.md §Admin
 * console): a short tone on the speaker (ffmpeg to the ALSA playback device of the settings, at the
 * room's volume) and a full redraw of the touch panel, each answered with what happened in plain
 * words. Moving the camera to a preset is a kiosk command already (RoomCommands.ptz).
 */
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/logger.ts';
import type { DeviceEvents, DeviceStatus } from '../../devices/status.ts';
import type { DeviceTests } from '../../http/admin/console.ts';
import type { ProcessRunner } from '../../system/process.ts';

export const TONE = { hz: 880, seconds: 0.6 } as const;
/** How long a panel redraw may take before the test gives up (a full page is well under 2 s). */
export const REDRAW_TIMEOUT_MS = 5000;

/** ffmpeg arguments for the test tone on an ALSA playback device at `volume` (0–100). */
export function toneArgs(device: string, volume: number): string[] {
  const gain = Math.min(100, Math.max(0, volume)) / 100;
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${TONE.hz}:sample_rate=48000:duration=${TONE.seconds}`,
    '-af',
    `volume=${gain.toFixed(2)}`,
    '-f',
    'alsa',
    device,
  ];
}

/**
 * Why ffmpeg could not play, from its error output: the ALSA output's own line ("cannot open audio
 * device hw:1 (Device or resource busy)") when there is one, else the last line; bounded, since
 * it is shown to an admin.
 */
export function playbackProblem(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const alsa = lines.find((l) => l.startsWith('[alsa'));
  const line = (alsa ?? lines[lines.length - 1] ?? '').replace(/^\[alsa @ [^\]]*\]\s*/, '');
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

export interface DeviceTestDeps {
  clock: Clock;
  runner: ProcessRunner;
  log: Logger;
  /** ALSA playback device and volume as the settings have them now. */
  speaker: () => { device: string | null; volume: number };
  devices: () => readonly DeviceStatus[];
  /** The touch panel, when one is configured. */
  panel: () => { redraw(reason: 'requested'): void } | null;
  events: { on<K extends keyof DeviceEvents>(e: K, l: (p: DeviceEvents[K]) => void): () => void };
}

export function createDeviceTests(d: DeviceTestDeps): DeviceTests {
  return {
    async beep() {
      const { device, volume } = d.speaker();
      if (device === null)
        return {
          ok: false,
          detail:
            'No speaker is set up (devices.speakerphone.playbackDevice is empty), so the room plays sound to a silent null sink. Set the ALSA playback device in Settings.',
        };
      const r = await d.runner.run('ffmpeg', toneArgs(device, volume), { timeoutMs: 5000 });
      d.log.info({ device, code: r.code, timedOut: r.timedOut }, 'speaker test tone');
      if (r.code === 0)
        return {
          ok: true,
          detail: `Played a ${TONE.seconds} s tone (${TONE.hz} Hz) on ${device} at volume ${volume}%.`,
        };
      const why = r.timedOut
        ? 'it did not finish within 5 s'
        : playbackProblem(r.stderr) || `exit code ${r.code}`;
      return { ok: false, detail: `The speaker ${device} did not play the test tone: ${why}.` };
    },

    redrawPanel() {
      const panel = d.panel();
      const status = d.devices().find((x) => x.id === 'panel');
      if (panel === null || status === undefined)
        return Promise.resolve({
          ok: false,
          detail: 'No touch panel is set up (devices.panel.path is empty).',
        });
      if (status.state !== 'ready')
        return Promise.resolve({
          ok: false,
          detail: `The touch panel is not connected (it is ${status.state}); nothing to redraw.`,
        });
      return new Promise((resolve) => {
        const off = d.events.on('panel.redraw', (r) => {
          if (r.reason !== 'requested') return;
          off();
          d.clock.clear(timer);
          resolve({
            ok: true,
            detail: `The touch panel drew its page again: ${r.instructions} instructions in ${Math.round(r.ms)} ms.`,
          });
        });
        const timer = d.clock.setTimeout(() => {
          off();
          resolve({
            ok: false,
            detail: `The touch panel did not finish redrawing within ${REDRAW_TIMEOUT_MS / 1000} s (asleep, or not answering).`,
          });
        }, REDRAW_TIMEOUT_MS);
        panel.redraw('requested');
      });
    },
  };
}
