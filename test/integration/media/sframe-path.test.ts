/**
 * Real ffmpeg VP8 → MediaSendPath with a real SFrame send key → chunks → MediaReceivePath with the
 * matching receive key → decodable IVF; a receiver with the wrong key counts decrypt failures and
 * delivers nothing (the path a bot uses to decrypt and decode the room's video).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../src/core/clock.ts';
import { SFrameReceiveKey, SFrameSendKey } from '../../../src/e2ee/sframe/keys.ts';
import { createVideoCapture } from '../../../src/media/capture.ts';
import { writeIvfFrame, writeIvfHeader } from '../../../src/media/ivf.ts';
import { type DecodedFrame, MediaReceivePath, MediaSendPath } from '../../../src/media/pipeline.ts';
import { decodeCount, deps, tempDir, until } from './harness.ts';

const tmp = tempDir();
afterAll(() => tmp.remove());

describe('VP8 through SFrame', () => {
  it('decrypts and decodes with the right key, and rejects every frame with a wrong one', async () => {
    const base = randomBytes(32);
    const sendKey = new SFrameSendKey(4, 7n, base);
    const good = new SFrameReceiveKey(4, 7n, base);
    const wrong = new SFrameReceiveKey(4, 7n, randomBytes(32));
    const clock = new SystemClock();
    const got: DecodedFrame[] = [];
    const receivers = [good, wrong].map(
      (key, i) =>
        new MediaReceivePath({
          clock,
          open: (_sender, cipher, metadata) => key.open(cipher, metadata),
          onFrame: (f) => {
            if (i === 0) got.push(f);
          },
          requestKeyframe: () => {},
        }),
    );
    const tx = new MediaSendPath({
      kind: 'video',
      streamId: 0,
      seal: (p, m) => sendKey.seal(p, m),
      send: (chunk) => {
        for (const rx of receivers) rx.push(chunk.slice());
        return true;
      },
    });
    const cap = createVideoCapture(
      { type: 'test', fontFile: null },
      { codec: 'vp8', width: 160, height: 90, framerate: 15, bitrateKbps: 150 },
      deps(),
    );
    const detach = tx.attach(cap);
    cap.start();
    await until(() => tx.stats.framesSent >= 20, 15_000, '20 frames');
    detach();
    await cap.stop();
    for (const rx of receivers) rx.close();

    const sent = tx.stats.framesSent;
    expect(got.map((f) => f.frameNumber)).toEqual(Array.from({ length: sent }, (_, i) => i));
    expect(got.every((f) => f.codec === 'vp8' && f.latencyMs >= 0 && f.latencyMs < 1000)).toBe(true);
    const wrongStats = receivers[1]!.stats({ sender: 0, kind: 'video', streamId: 0 }).snapshot();
    expect(wrongStats.decryptFailures).toBeGreaterThanOrEqual(1);
    expect(wrongStats.framesReceived - wrongStats.decryptFailures).toBe(0);
    const header = writeIvfHeader({ codec: 'vp8', width: 160, height: 90, timebaseDen: 15, timebaseNum: 1 });
    const path = tmp.write('sframe.ivf', [header, ...got.map((f, i) => writeIvfFrame(f.data, i))]);
    const { frames, errors } = await decodeCount(path);
    expect(errors).toBe('');
    expect(frames).toBe(sent);
  });
});
