/** PCM FIFO/mixing and the AudioMixer's pacing, priming and per-participant decoders (fake processes). */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { AudioMixer } from '../../../src/media/audio-mixer.ts';
import { OggOpusParser } from '../../../src/media/opus.ts';
import { mixToS16le, PcmFifo } from '../../../src/media/pcm.ts';
import { FakeProcessRunner } from '../../../src/system/process.ts';

const flush = () => new Promise((r) => setImmediate(r));
const pcm = (value: number, samples: number): Uint8Array => {
  const b = new Uint8Array(samples * 2);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < samples; i++) dv.setInt16(i * 2, value, true);
  return b;
};

describe('PcmFifo and mixing', () => {
  it('joins samples split across reads, mixes with saturation and stays bounded', () => {
    const f = new PcmFifo(4);
    const bytes = pcm(-2, 3);
    f.push(bytes.subarray(0, 3));
    f.push(bytes.subarray(3));
    expect(f.samples).toBe(3);
    const mix = new Int32Array(4).fill(32767);
    expect(f.takeInto(mix, 4)).toBe(3);
    expect(Array.from(mix)).toEqual([32765, 32765, 32765, 32767]);
    expect(new Int16Array(mixToS16le(Int32Array.of(40000, -40000, 5)).buffer)).toEqual(
      Int16Array.of(32767, -32768, 5),
    );
    expect(f.push(pcm(1, 6))).toBe(2);
    expect(f.trimTo(1)).toBe(3);
    expect(f.samples).toBe(1);
  });
});

describe('AudioMixer', () => {
  it('decodes each participant separately and mixes them into one sink at real time', async () => {
    const runner = new FakeProcessRunner();
    const clock = new FakeClock();
    const mixer = new AudioMixer({
      settings: { device: 'hw:CARD=Speaker', volume: 80 },
      runner,
      clock,
      logger: silentLogger(),
    });
    mixer.start();
    await flush();
    const sink = runner.children[0]!;
    expect(runner.calls[0]!.args.join(' ')).toContain('-f s16le -ar 48000 -ac 1 -i pipe:0');
    expect(runner.calls[0]!.args.join(' ')).toContain('-f alsa hw:CARD=Speaker');
    const out: Uint8Array[] = [];
    sink.stdin.on('data', (b: Uint8Array) => out.push(b));

    mixer.push('alice', 0, Uint8Array.of(0xf8, 1));
    mixer.push('bob', 0, Uint8Array.of(0xf8, 2));
    await flush();
    const [alice, bob] = [runner.children[1]!, runner.children[2]!];
    const toAlice: Uint8Array[] = [];
    alice.stdin.on('data', (b: Uint8Array) => toAlice.push(b));
    clock.advance(40); // jitter delay: the packet goes to alice's decoder as an Ogg page
    await flush();
    const parser = new OggOpusParser({ clock });
    expect(toAlice.flatMap((b) => parser.push(b)).map((f) => f.data[1])).toEqual([1]);

    alice.stdout.write(pcm(1000, 4800));
    bob.stdout.write(pcm(2000, 4800));
    await flush();
    out.length = 0;
    clock.advance(20);
    await flush();
    const samples = new Int16Array(new Uint8Array(Buffer.concat(out)).buffer);
    expect(samples.length).toBe(960); // 20 ms at 48 kHz, paced by the clock
    expect(new Set(samples)).toEqual(new Set([3000]));

    bob.stdout.write(pcm(2000, 0));
    out.length = 0;
    clock.advance(100); // bob and alice run dry: silence follows, with an underrun each
    await flush();
    const after = new Int16Array(new Uint8Array(Buffer.concat(out)).buffer);
    expect(after.at(-1)).toBe(0);
    expect(mixer.stats('alice')).toMatchObject({ underruns: 1, lost: 0 });

    sink.stdout.write(pcm(16384, 800));
    await flush();
    expect(mixer.level()?.rmsDbfs).toBeCloseTo(-6.02, 1);
    expect(mixer.level('alice')).not.toBeNull();

    await mixer.removeParticipant('bob');
    expect(bob.running).toBe(false);
    await mixer.stop();
    expect(sink.running).toBe(false);
    expect(alice.running).toBe(false);
    expect(clock.pending).toBe(0);
  });
});
