/**
 * The default opener: `tcp://host:port` → TCP, anything else → a serial device path.
 * Drivers take a `ByteStreamOpener` so tests pass the in-memory hub's opener instead.
 */
import { SerialPortByteStream } from './serialport.ts';
import type { ByteStream, ByteStreamOpener, OpenOptions } from './stream.ts';
import { TcpByteStream } from './tcp.ts';

export const openByteStream: ByteStreamOpener = async (
  path: string,
  options: OpenOptions = {},
): Promise<ByteStream> => {
  if (path.startsWith('tcp://')) return TcpByteStream.open(path);
  return SerialPortByteStream.open(path, options.baudRate ?? 9600);
};
