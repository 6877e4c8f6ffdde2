/**
 * The content device (docs/hardware.md §Content sharing (HDMI capture)): watches the HDMI capture
 * dongle's node for the device manager, keeps the `content` record's state and raises
 * `content.plugged` / `content.unplugged`, and tells from the USB bus which catalogued dongle is
 * plugged in.
 */
import type { Clock } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import type { EventBus } from '../core/events.ts';
import type { DeviceEvents, DeviceRecord } from './status.ts';
import type { InventoryItem } from './usb/bus.ts';

export interface ContentWatchDeps {
  /** The `content` device's record. */
  readonly record: DeviceRecord;
  readonly clock: Clock;
  readonly events: EventBus<DeviceEvents>;
  readonly pathExists: (path: string) => boolean;
  /** Whether the device manager runs (a look after it stopped does nothing). */
  readonly running: () => boolean;
}

export class ContentWatch {
  readonly #d: ContentWatchDeps;
  #present = false;
  /** Looks for the content dongle's node now (set while a content device is configured). */
  #check: (() => void) | null = null;
  /** Catalogued HDMI capture dongles on the USB bus now, by USB key. */
  readonly #dongles = new Map<string, string>();

  constructor(deps: ContentWatchDeps) {
    this.#d = deps;
  }

  /** Whether the content dongle's node is there now; false while none is watched. */
  get present(): boolean {
    return this.#present;
  }

  /**
   * Watch the dongle's node `device`: it is looked for like the UVC camera's, every `probeMs`
   * and at once when the USB bus reports a catalogued dongle coming or going (the node appears a
   * moment after the USB device, so the next look finds it). A dongle is optional equipment: not
   * there since start (or, for `presence: 'laptop'`, no laptop) is `absent`, no fault; a dongle
   * that was there and vanished is `disconnected`. Returns what stops the watch.
   */
  start(device: string, presence: 'dongle' | 'laptop', probeMs: number): () => void {
    const rec = this.#d.record;
    let first = true;
    /** The node was there since start. */
    let seen = false;
    /** The dongle's name as plugged, for the unplug too (by then the USB bus has forgotten it). */
    let name: string | null = null;
    const check = () => {
      if (!this.#d.running()) return;
      const present = this.#d.pathExists(device);
      const was = this.#present;
      this.#present = present;
      // Only a change is published (a look that finds the same says nothing new).
      if (!first && present === was) return;
      if (present) {
        seen = true;
        rec.set('ready');
      } else if (presence === 'laptop' || !seen) rec.set('absent');
      else
        rec.set(
          'disconnected',
          new RoomdError('device.unavailable', {
            message: 'The HDMI capture dongle is not connected.',
            context: { path: device },
          }),
        );
      // The first look only sets the state; a change after it is a plug or an unplug.
      if (!first) {
        if (present) {
          rec.count('plugged');
          rec.reconnects++;
          name = this.#dongles.values().next().value ?? null;
        } else rec.count('unplugged');
        this.#d.events.emit(present ? 'content.plugged' : 'content.unplugged', { path: device, name });
      }
      first = false;
    };
    this.#check = check;
    const t = this.#d.clock.setInterval(check, probeMs);
    check();
    return () => {
      this.#d.clock.clear(t);
      this.#check = null;
      this.#present = false;
    };
  }

  /** A device came or went on the USB bus: a catalogued HDMI capture dongle is looked at. */
  onUsb(item: InventoryItem, attached: boolean): void {
    if (item.entry?.driver !== 'hdmi-capture') return;
    if (attached) this.#dongles.set(item.key, item.entry.name);
    else this.#dongles.delete(item.key);
    if (this.#check !== null) {
      this.#check();
      return;
    }
    // No node configured: say there is a dongle the room cannot use yet.
    const rec = this.#d.record;
    const name = this.#dongles.values().next().value;
    if (name === undefined) rec.set('not-configured');
    else
      rec.set(
        'unavailable',
        new RoomdError('device.unavailable', {
          message: `${name} is plugged in; set devices.content.video to its /dev/v4l/by-id node to share from it.`,
          context: { name },
        }),
      );
  }
}
