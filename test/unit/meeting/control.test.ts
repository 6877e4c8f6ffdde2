import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REACTIONS } from '../../../src/http/ports.ts';
import {
  decodeControl,
  decodeReaction,
  encodeControl,
  encodeReaction,
  REACTION_KINDS,
} from '../../../src/meeting/control.ts';

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

  it('carry reactions, only known kinds, the same list the kiosk offers', () => {
    expect([...REACTION_KINDS]).toEqual([...REACTIONS]);
    expect(decodeReaction(encodeReaction('heart', 3))).toEqual({ reaction: 'heart', seq: 3 });
    expect(
      decodeReaction(new TextEncoder().encode('{"v":1,"type":"reaction","reaction":"boo","seq":1}')),
    ).toBeNull();
    expect(decodeControl(encodeReaction('heart', 3))).toBeNull();
  });
});
