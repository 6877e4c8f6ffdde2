import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeCommand,
  decodeReply,
  encodeCommand,
  encodeReply,
  MAX_PACKET,
  parsePanTiltReply,
  parsePowerReply,
  parseZoomReply,
  type ViscaCommand,
  type ViscaReply,
  ViscaSplitter,
} from '../../../../src/devices/camera/visca-codec.ts';

const hex = (s: string) =>
  Uint8Array.from(
    s
      .split(/\s+/)
      .filter(Boolean)
      .map((h) => Number.parseInt(h, 16)),
  );

// Byte layouts of the VISCA command lists (docs/hardware.md §Conformance).
const COMMANDS: [string, ViscaCommand][] = [
  ['81 01 04 00 02 ff', { kind: 'power', on: true }],
  ['81 01 04 00 03 ff', { kind: 'power', on: false }],
  ['81 09 04 00 ff', { kind: 'inquiry', what: 'power' }],
  ['81 01 04 07 00 ff', { kind: 'zoom', action: 'stop' }],
  ['81 01 04 07 02 ff', { kind: 'zoom', action: 'tele' }],
  ['81 01 04 07 03 ff', { kind: 'zoom', action: 'wide' }],
  ['81 01 04 07 25 ff', { kind: 'zoom', action: 'tele', speed: 5 }],
  ['81 01 04 07 37 ff', { kind: 'zoom', action: 'wide', speed: 7 }],
  ['81 01 04 47 01 02 03 04 ff', { kind: 'zoom-direct', position: 0x1234 }],
  ['81 09 04 47 ff', { kind: 'inquiry', what: 'zoom-position' }],
  [
    '81 01 06 01 18 14 03 01 ff',
    { kind: 'pan-tilt-drive', direction: 'up', panSpeed: 0x18, tiltSpeed: 0x14 },
  ],
  ['81 01 06 01 05 05 03 02 ff', { kind: 'pan-tilt-drive', direction: 'down', panSpeed: 5, tiltSpeed: 5 }],
  ['81 01 06 01 05 05 01 03 ff', { kind: 'pan-tilt-drive', direction: 'left', panSpeed: 5, tiltSpeed: 5 }],
  ['81 01 06 01 05 05 02 03 ff', { kind: 'pan-tilt-drive', direction: 'right', panSpeed: 5, tiltSpeed: 5 }],
  ['81 01 06 01 01 01 03 03 ff', { kind: 'pan-tilt-drive', direction: 'stop', panSpeed: 1, tiltSpeed: 1 }],
  [
    '81 01 06 02 18 14 0f 0f 0f 0f 00 01 02 0c ff',
    { kind: 'pan-tilt-absolute', panSpeed: 0x18, tiltSpeed: 0x14, pan: -1, tilt: 300 },
  ],
  [
    '81 01 06 03 0c 0a 00 00 06 04 0f 0f 09 0c ff',
    { kind: 'pan-tilt-relative', panSpeed: 12, tiltSpeed: 10, pan: 100, tilt: -100 },
  ],
  ['81 01 06 04 ff', { kind: 'pan-tilt-home' }],
  ['81 01 06 05 ff', { kind: 'pan-tilt-reset' }],
  ['81 09 06 12 ff', { kind: 'inquiry', what: 'pan-tilt-position' }],
  ['81 01 04 3f 00 05 ff', { kind: 'preset', action: 'reset', preset: 5 }],
  ['81 01 04 3f 01 05 ff', { kind: 'preset', action: 'set', preset: 5 }],
  ['81 01 04 3f 02 05 ff', { kind: 'preset', action: 'recall', preset: 5 }],
  ['88 30 01 ff', { kind: 'address-set' }],
  ['88 01 00 01 ff', { kind: 'if-clear' }],
];

const REPLIES: [string, ViscaReply][] = [
  ['90 41 ff', { kind: 'ack', address: 1, socket: 1 }],
  ['90 52 ff', { kind: 'completion', address: 1, socket: 2, data: [] }],
  ['90 50 02 ff', { kind: 'completion', address: 1, socket: 0, data: [2] }],
  ['90 60 02 ff', { kind: 'error', address: 1, socket: 0, code: 2, name: 'syntax error' }],
  ['90 60 03 ff', { kind: 'error', address: 1, socket: 0, code: 3, name: 'command buffer full' }],
  ['90 61 04 ff', { kind: 'error', address: 1, socket: 1, code: 4, name: 'command cancelled' }],
  ['90 62 05 ff', { kind: 'error', address: 1, socket: 2, code: 5, name: 'no socket' }],
  ['90 61 41 ff', { kind: 'error', address: 1, socket: 1, code: 0x41, name: 'command not executable' }],
  ['a0 41 ff', { kind: 'ack', address: 2, socket: 1 }],
  ['88 30 02 ff', { kind: 'address-set', next: 2 }],
  ['88 01 00 01 ff', { kind: 'if-clear' }],
  ['90 38 ff', { kind: 'network-change', address: 1 }],
];

describe('VISCA commands', () => {
  it.each(COMMANDS)('%s ⇄ command', (bytes, cmd) => {
    expect(encodeCommand(cmd)).toEqual(hex(bytes));
    expect(decodeCommand(hex(bytes)).command).toEqual(cmd);
  });

  it('addresses cameras 1–7 and rejects out-of-range values', () => {
    expect(encodeCommand({ kind: 'pan-tilt-home' }, 3)).toEqual(hex('83 01 06 04 ff'));
    expect(() => encodeCommand({ kind: 'pan-tilt-home' }, 8)).toThrow(/address/);
    expect(() => encodeCommand({ kind: 'preset', action: 'recall', preset: 200 })).toThrow(/preset/);
    expect(() =>
      encodeCommand({ kind: 'pan-tilt-drive', direction: 'up', panSpeed: 0x19, tiltSpeed: 1 }),
    ).toThrow(/pan speed/);
    expect(decodeCommand(hex('81 01 04 00 09 ff')).command).toBeNull();
  });
});

describe('VISCA replies', () => {
  it.each(REPLIES)('%s ⇄ reply', (bytes, reply) => {
    expect(decodeReply(hex(bytes))).toEqual(reply);
    expect(encodeReply(reply)).toEqual(hex(bytes));
  });

  it('parses inquiry answers', () => {
    expect(parsePowerReply([2])).toBe('on');
    expect(parsePowerReply([3])).toBe('standby');
    expect(parseZoomReply([0x4, 0, 0, 0])).toBe(0x4000);
    expect(parsePanTiltReply([0xf, 0xf, 0xf, 0xe, 0, 0, 0x1, 0])).toEqual({ pan: -2, tilt: 16 });
    expect(parsePanTiltReply([1, 2])).toBeNull();
  });

  it('splits a stream, resynchronising on header bytes and dropping over-long runs', () => {
    const s = new ViscaSplitter();
    const got = s.push(
      hex('90 41 ff 12 34 90 51 ff 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10 ff 90 60 02 ff'),
    );
    expect(got.map((p) => decodeReply(p).kind)).toEqual(['ack', 'completion', 'error']);
    expect(s.garbageBytes).toBe(2 + 18);
  });

  it('a CAM_VersionInq answer whose model or ROM bytes have bit 7 set stays one packet', () => {
    // EVI-D70 Technical Manual p. 33: `y0 50 GG GG HH HH JJ JJ KK FF`, whole bytes. A model id such
    // as 0x0599 or a ROM revision 0x8A would otherwise read as the start of a new packet.
    const s = new ViscaSplitter();
    const got = s.push(hex('90 41 ff 90 50 00 20 05 99 8a 01 02 ff 90 51 ff'));
    expect(got.map((p) => [...p].map((b) => b.toString(16).padStart(2, '0')).join(' '))).toEqual([
      '90 41 ff',
      '90 50 00 20 05 99 8a 01 02 ff',
      '90 51 ff',
    ]);
    expect(s.garbageBytes).toBe(0);
    // Elsewhere a header byte still resynchronises: an ACK cut short, then a completion. (Inside a
    // `y0 50` answer a cut cannot be told from whole-byte data: that packet is lost with the next.)
    const t = new ViscaSplitter();
    expect(t.push(hex('90 41 90 51 ff')).map((p) => decodeReply(p).kind)).toEqual(['completion']);
    expect(t.garbageBytes).toBe(2);
  });

  it('fuzz: replies, commands and the splitter take any bytes without throwing, bounded', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), (chunks) => {
        const s = new ViscaSplitter();
        for (const c of chunks) {
          for (const p of s.push(c)) {
            expect(p.length).toBeLessThanOrEqual(MAX_PACKET);
            const r = decodeReply(p);
            if (r.kind !== 'unknown') expect(decodeReply(encodeReply(r))).toEqual(r);
            const d = decodeCommand(p);
            if (d.command !== null)
              expect(
                decodeCommand(encodeCommand(d.command, d.address === 8 ? 1 : d.address)).command,
              ).toEqual(d.command);
          }
          expect(s.buffered).toBeLessThan(MAX_PACKET);
        }
      }),
      { numRuns: 30_000 },
    );
  });

  it('fuzz: every encodable position round-trips', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -32768, max: 32767 }),
        fc.integer({ min: -32768, max: 32767 }),
        fc.integer({ min: 1, max: 0x18 }),
        (pan, tilt, sp) => {
          const c: ViscaCommand = {
            kind: 'pan-tilt-absolute',
            pan,
            tilt,
            panSpeed: sp,
            tiltSpeed: Math.min(sp, 0x14),
          };
          expect(decodeCommand(encodeCommand(c)).command).toEqual(c);
        },
      ),
      { numRuns: 10_000 },
    );
  });
});
