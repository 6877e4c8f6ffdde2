/**
 * The speakerphone for the device manager (docs/hardware.md §Speakerphone, §Device manager): opens
 * its hidraw node, retries with backoff while it cannot, reopens it when it vanishes and returns,
 * and keeps the `speakerphone` record's state and counters. Hook changes go out as
 * `speakerphone.hook`; mute is the shared `MuteState`.
 */
import type { Clock, TimerHandle } from '../core/clock.ts';
import { RoomdError, toRoomdError } from '../core/errors.ts';
import type { EventBus } from '../core/events.ts';
import { type BackoffOptions, backoffDelay } from '../transport/serial/supervisor.ts';
import type { SpeakerphoneConfig } from './config.ts';
import type { HidrawOpener } from './hid/hidraw.ts';
import { Speakerphone } from './hid/speakerphone.ts';
import type { MuteState } from './mute.ts';
import type { DeviceEvents, DeviceRecord } from './status.ts';

export interface SpeakerphoneLinkDeps {
  /** The `speakerphone` device's record. */
  readonly record: DeviceRecord;
  readonly clock: Clock;
  readonly open: HidrawOpener;
  readonly backoff: BackoffOptions;
  readonly mute: MuteState;
  readonly events: EventBus<DeviceEvents>;
  /** Whether the device manager runs (no open or retry after it stopped). */
  readonly running: () => boolean;
}

/** Start keeping the speakerphone open; returns what closes it and stops the retries. */
export function startSpeakerphone(cfg: SpeakerphoneConfig, d: SpeakerphoneLinkDeps): () => Promise<void> {
  const rec = d.record;
  let attempt = 0;
  let timer: TimerHandle | null = null;
  let current: { sp: Speakerphone; close: () => Promise<void> } | null = null;
  let everOpen = false;
  const schedule = () => {
    if (!d.running()) return;
    timer = d.clock.setTimeout(() => void tryOpen(), backoffDelay(++attempt, d.backoff));
  };
  const tryOpen = async () => {
    timer = null;
    if (!d.running()) return;
    rec.set(everOpen ? 'reconnecting' : 'connecting');
    try {
      const dev = await d.open(cfg.hidraw);
      const sp = new Speakerphone({
        device: dev,
        mute: d.mute,
        ...(cfg.muteButton ? { muteButton: cfg.muteButton } : {}),
      });
      await sp.start();
      if (!d.running()) {
        sp.stop();
        await dev.close();
        return;
      }
      sp.on('hook', (h) => d.events.emit('speakerphone.hook', h));
      sp.on('leds', () => rec.count('ledWrites'));
      dev.on('report', () => rec.count('reports'));
      dev.on('close', ({ disconnected }) => {
        sp.stop();
        current = null;
        if (!disconnected || !d.running()) return;
        rec.set('disconnected', new RoomdError('transport.disconnected', { context: { path: cfg.hidraw } }));
        attempt = 0;
        void tryOpen();
      });
      if (everOpen) rec.reconnects++;
      everOpen = true;
      attempt = 0;
      current = { sp, close: () => dev.close() };
      rec.set('ready');
    } catch (e) {
      rec.set('failed', toRoomdError(e, 'device.unavailable'));
      schedule();
    }
  };
  void tryOpen();
  return async () => {
    if (timer !== null) d.clock.clear(timer);
    const c = current;
    current = null;
    if (c !== null) {
      c.sp.stop();
      await c.close();
    }
  };
}
