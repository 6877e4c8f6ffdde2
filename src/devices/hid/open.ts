/**
 * Picks the hidraw implementation by path: `/dev/hidraw…` (or a udev symlink) → Linux hidraw;
 * `hidstream:<pty>` or `tcp://host:port` → hidraw frames over a byte stream (emulators).
 */
import { openByteStream } from '../../transport/serial/open.ts';
import type { ByteStreamOpener } from '../../transport/serial/stream.ts';
import { type HidrawDevice, openLinuxHidraw } from './hidraw.ts';
import { openStreamHidraw } from './stream-hidraw.ts';

export function hidrawOpener(
  streams: ByteStreamOpener = openByteStream,
): (path: string) => Promise<HidrawDevice> {
  return (path) =>
    path.startsWith('hidstream:') || path.startsWith('tcp://')
      ? openStreamHidraw(path, streams)
      : openLinuxHidraw(path);
}
