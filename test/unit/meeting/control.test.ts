import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/core/clock.ts';
import {
  ControlChannel,
  decodeControl,
  decodeReaction,
  encodeControl,
  encodeReaction,
} from '../../../src/meeting/control.ts';
import { REACTIONS } from '../../../src/protocol/vocabulary.ts';

describe('control frames', () => {
  it('round-trip mute and camera state', () => {
    for (const muted of [true, false])
      for (const cameraOn of [true, false]) {
        expect(decodeControl(encodeControl({ muted, cameraOn }, 7))).toEqual({ muted, cameraOn, seq: 7 });
      }
  });

  it('refuse anything else without throwing', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    for (const bad of [
      '',
      'null',
      '[]',
      '{"v":2,"type":"state","muted":true,"cameraOn":true,"seq":1}',
      '{"v":1,"type":"state","muted":"yes","cameraOn":true,"seq":1}',
      '{"v":1,"type":"state","muted":true,"cameraOn":true,"seq":-1}',
      `{"v":1,"type":"state","muted":true,"cameraOn":true,"seq":1,"pad":"${'x'.repeat(2000)}"}`,
    ]) {
      expect(decodeControl(enc(bad))).toBeNull();
    }
    expect(decodeControl(Uint8Array.of(0xff, 0xfe))).toBeNull();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const r = decodeControl(b);
        return r === null || (typeof r.muted === 'boolean' && typeof r.cameraOn === 'boolean');
      }),
      { numRuns: 5000 },
    );
  });

  it('carry reactions, only known kinds', () => {
    for (const [i, reaction] of REACTIONS.entries())
      expect(decodeReaction(encodeReaction(reaction, i))).toEqual({ reaction, seq: i });
    expect(decodeReaction(encodeReaction('heart', 3))).toEqual({ reaction: 'heart', seq: 3 });
    expect(
      decodeReaction(new TextEncoder().encode('{"v":1,"type":"reaction","reaction":"boo","seq":1}')),
    ).toBeNull();
    expect(decodeControl(encodeReaction('heart', 3))).toBeNull();
  });
});

describe('ControlChannel', () => {
  const setup = () => {
    const clock = new FakeClock();
    const sent: Uint8Array[] = [];
    let changes = 0;
    const ch = new ControlChannel((p) => {
      sent.push(p);
      return true;
    }, clock);
    ch.onChange(() => changes++);
    return { clock, sent, ch, changes: () => changes };
  };

  it('sends state and reactions with rising sequence numbers', () => {
    const { ch, sent } = setup();
    expect(ch.send({ muted: true, cameraOn: false })).toBe(true);
    expect(ch.react('clap')).toBe(true);
    expect(decodeControl(sent[0]!)).toEqual({ muted: true, cameraOn: false, seq: 0 });
    expect(decodeReaction(sent[1]!)).toEqual({ reaction: 'clap', seq: 1 });
  });

  it('applies a newer state once, ignores a replayed or older one, counts garbage', () => {
    const { ch, changes, clock } = setup();
    ch.receive('7', encodeControl({ muted: true, cameraOn: true }, 5));
    ch.receive('7', encodeControl({ muted: false, cameraOn: true }, 5)); // replayed seq
    ch.receive('7', encodeControl({ muted: false, cameraOn: true }, 4)); // older
    expect(ch.remote.get('7')).toEqual({ muted: true, cameraOn: true });
    expect(changes()).toBe(1);
    ch.receive('7', encodeReaction('heart', 6));
    clock.advance(5);
    ch.receive('7', encodeReaction('heart', 6));
    expect(ch.reactions).toEqual([{ participantId: '7', reaction: 'heart', at: clock.now() - 5 }]);
    ch.receive('7', Uint8Array.of(1, 2, 3));
    expect(ch.malformed).toBe(1);
    ch.forget('7');
    expect(ch.remote.has('7')).toBe(false);
  });

  it('keeps at most 20 reactions, newest last', () => {
    const { ch } = setup();
    for (let i = 0; i < 25; i++) ch.receive('3', encodeReaction('clap', i));
    expect(ch.reactions).toHaveLength(20);
  });
});
