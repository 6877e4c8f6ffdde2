/**
 * Serves a FakeSpeakerphone over a byte stream with the hidstream framing (stream-hidraw.ts), so
 * the daemon's real driver can use the emulator through a pty (`hidstream:<path>`) or TCP.
 */
import { encodeHidFrame, FRAME, HidFrameParser } from '../../src/devices/hid/stream-hidraw.ts';
import type { ByteStream } from '../../src/transport/serial/stream.ts';
import type { FakeSpeakerphone } from './emulator.ts';

export function serveSpeakerphone(stream: ByteStream, phone: FakeSpeakerphone): () => void {
  const parser = new HidFrameParser();
  const offReport = phone.on(
    'report',
    (r) => void stream.write(encodeHidFrame(FRAME.input, r)).catch(() => {}),
  );
  const offData = stream.on('data', (bytes) => {
    for (const f of parser.push(bytes)) {
      if (f.type === FRAME.request)
        void stream.write(encodeHidFrame(FRAME.descriptor, phone.descriptor)).catch(() => {});
      else if (f.type === FRAME.output) void phone.write(f.payload).catch(() => {});
    }
  });
  return () => {
    offReport();
    offData();
  };
}
