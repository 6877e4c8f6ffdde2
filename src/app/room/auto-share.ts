/**
 * A laptop plugged into the HDMI capture during a meeting is shared at once, as room systems do,
 * and pulling it out stops the share (`room.autoShare`, docs/kiosk-and-admin-api.md §Content
 * sharing). Returns the function that unhooks it.
 */
import { RoomdError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { DeviceManager } from '../../devices/manager.ts';
import type { Room } from '../../meeting/room.ts';

export interface AutoShareOptions {
  /** Read at every plug: the setting applies at once. */
  enabled: () => boolean;
  log: Pick<Logger, 'info'>;
  /** Told when the room began sharing a plugged laptop (benchmarks time it). */
  onShared?: () => void;
}

export function autoShare(devices: DeviceManager, room: Room, o: AutoShareOptions): () => void {
  const offPlugged = devices.events.on('content.plugged', () => {
    if (!o.enabled() || room.meeting() === null || room.shareView()?.self === true) return;
    room
      .share(true)
      .then(() => o.onShared?.())
      .catch((err: unknown) => {
        if (!(err instanceof RoomdError)) throw err;
        o.log.info({ code: err.code }, 'a laptop was plugged in but the room could not share it');
      });
  });
  const offUnplugged = devices.events.on('content.unplugged', () => {
    if (room.shareView()?.self === true) void room.share(false);
  });
  return () => {
    offPlugged();
    offUnplugged();
  };
}
