/**
 * VISCA (src/devices/camera/visca-codec.ts): bytes off the camera's serial line, split into packets
 * by ViscaSplitter and decoded by decodeReply (roomd's side) and decodeCommand (the emulated
 * camera's side), plus the inquiry-answer parsers. None of them throws. Invariants: packets are
 * 2..16 bytes ending in the only FF; the splitter holds less than one packet; every reply re-encodes
 * to its bytes; a command for a camera address re-encodes to its bytes; encode → decode of any
 * command is the identity.
 */
import fc from 'fast-check';
import {
  decodeCommand,
  decodeReply,
  encodeCommand,
  encodeReply,
  MAX_PACKET,
  type PanTiltDirection,
  parsePanTiltReply,
  parsePowerReply,
  parseZoomReply,
  type ViscaCommand,
  ViscaSplitter,
} from '../../src/devices/camera/visca-codec.ts';
import { cutPoints, mutatedBytes, tokenBytes } from '../lib/mutate.ts';
import { concatBytes, type FuzzTarget, invariant, sameValue, split } from '../lib/target.ts';

type Input =
  | { readonly bytes: Uint8Array; readonly cuts: readonly number[] }
  | { readonly command: ViscaCommand; readonly address: number };

const DIRECTIONS: PanTiltDirection[] = [
  'up',
  'down',
  'left',
  'right',
  'up-left',
  'up-right',
  'down-left',
  'down-right',
  'stop',
];
const speed = (max: number) => fc.integer({ min: 1, max });
const i16 = fc.oneof(fc.constantFrom(-32768, -1, 0, 32767), fc.integer({ min: -32768, max: 32767 }));

const command: fc.Arbitrary<ViscaCommand> = fc.oneof(
  fc.record({ kind: fc.constant('power' as const), on: fc.boolean() }),
  fc
    .record(
      {
        kind: fc.constant('zoom' as const),
        action: fc.constantFrom('stop' as const, 'tele' as const, 'wide' as const),
        speed: fc.nat(7),
      },
      { requiredKeys: ['kind', 'action'] },
    )
    .map((c): ViscaCommand => (c.action === 'stop' ? { kind: 'zoom', action: 'stop' } : c)),
  fc.record({ kind: fc.constant('zoom-direct' as const), position: fc.nat(0xffff) }),
  fc.record({
    kind: fc.constant('pan-tilt-drive' as const),
    direction: fc.constantFrom(...DIRECTIONS),
    panSpeed: speed(0x18),
    tiltSpeed: speed(0x14),
  }),
  fc.record({
    kind: fc.constantFrom('pan-tilt-absolute' as const, 'pan-tilt-relative' as const),
    pan: i16,
    tilt: i16,
    panSpeed: speed(0x18),
    tiltSpeed: speed(0x14),
  }),
  fc.constantFrom<ViscaCommand>(
    { kind: 'pan-tilt-home' },
    { kind: 'pan-tilt-reset' },
    { kind: 'address-set' },
    { kind: 'if-clear' },
  ),
  fc.record({
    kind: fc.constant('preset' as const),
    action: fc.constantFrom('reset' as const, 'set' as const, 'recall' as const),
    preset: fc.nat(127),
  }),
  fc.record({
    kind: fc.constant('inquiry' as const),
    what: fc.constantFrom('power' as const, 'zoom-position' as const, 'pan-tilt-position' as const),
  }),
);

const REPLIES = [
  [0x90, 0x41, 0xff],
  [0x90, 0x51, 0xff],
  [0x90, 0x50, 0x02, 0xff],
  [0x90, 0x50, 0x01, 0x02, 0x03, 0x04, 0xff],
  [0x90, 0x50, 0x0f, 0x0f, 0x0f, 0x0f, 0x00, 0x00, 0x00, 0x00, 0xff],
  [0x90, 0x60, 0x02, 0xff],
  [0x90, 0x61, 0x41, 0xff],
  [0x88, 0x30, 0x02, 0xff],
  [0x88, 0x01, 0x00, 0x01, 0xff],
  [0x90, 0x38, 0xff],
];

function check(packet: Uint8Array): void {
  invariant(packet.length >= 2 && packet.length <= MAX_PACKET, `a packet of ${packet.length} bytes`);
  invariant(packet.indexOf(0xff) === packet.length - 1, 'a packet not ending in its only FF');
  const reply = decodeReply(packet);
  invariant(
    Buffer.from(encodeReply(reply)).equals(packet),
    `a ${reply.kind} reply does not re-encode to its bytes`,
  );
  if (reply.kind === 'completion') {
    const p = parsePowerReply(reply.data);
    const z = parseZoomReply(reply.data);
    const pt = parsePanTiltReply(reply.data);
    invariant(p === null || p === 'on' || p === 'standby', 'power answer out of range');
    invariant(z === null || (z >= 0 && z <= 0xffff), 'zoom answer out of range');
    invariant(
      pt === null || (pt.pan >= -32768 && pt.pan <= 32767 && pt.tilt >= -32768 && pt.tilt <= 32767),
      'pan/tilt answer out of range',
    );
  }
  const { address, command: c } = decodeCommand(packet);
  invariant(Number.isInteger(address) && address >= 0 && address <= 15, 'command address out of range');
  if (c !== null && (address === 8 || (address >= 1 && address <= 7))) {
    invariant(
      Buffer.from(encodeCommand(c, address === 8 ? 1 : address)).equals(packet),
      `a ${c.kind} command does not re-encode to its bytes`,
    );
  }
}

export const visca: FuzzTarget<Input> = {
  name: 'visca',
  about: 'src/devices/camera/visca-codec.ts ViscaSplitter, decodeReply, decodeCommand (all total)',
  arbitrary: () => {
    const commands = fc.sample(fc.tuple(command, fc.integer({ min: 1, max: 7 })), { numRuns: 30, seed: 5 });
    const seeds = [
      ...commands.map(([c, a]) => encodeCommand(c, a)),
      ...REPLIES.map((r) => Uint8Array.from(r)),
    ];
    const stream = fc
      .array(fc.nat(seeds.length - 1), { minLength: 1, maxLength: 8 })
      .map((is) => concatBytes(is.map((i) => seeds[i]!)));
    return fc.oneof(
      { weight: 2, arbitrary: fc.record({ command, address: fc.integer({ min: 1, max: 7 }) }) },
      {
        weight: 3,
        arbitrary: fc.record({ bytes: mutatedBytes(seeds, { maxLength: 256 }), cuts: cutPoints }),
      },
      { weight: 2, arbitrary: fc.record({ bytes: stream, cuts: cutPoints }) },
      {
        weight: 2,
        arbitrary: fc.record({
          bytes: tokenBytes([...REPLIES, [0xff], [0x81], [0x88]], 40),
          cuts: cutPoints,
        }),
      },
    );
  },
  run(input) {
    if ('command' in input) {
      const bytes = encodeCommand(input.command, input.address);
      const d = decodeCommand(bytes);
      const broadcast = input.command.kind === 'address-set' || input.command.kind === 'if-clear';
      invariant(d.address === (broadcast ? 8 : input.address), 'a command decodes to another address');
      invariant(sameValue(d.command, input.command), `a ${input.command.kind} command does not round-trip`);
      check(bytes);
      return;
    }
    const splitter = new ViscaSplitter();
    let out = 0;
    for (const chunk of split(input.bytes, input.cuts)) {
      for (const p of splitter.push(chunk)) {
        out += p.length;
        check(p);
      }
      invariant(splitter.buffered < MAX_PACKET, `${splitter.buffered} bytes buffered`);
    }
    invariant(
      out + splitter.garbageBytes + splitter.buffered === input.bytes.length,
      'bytes neither parsed nor counted',
    );
  },
  fromBytes: (bytes) => ({ bytes, cuts: [] }),
  seeds: () => [
    {
      note: 'ack, completion and error replies',
      input: { bytes: Uint8Array.from([...REPLIES[0]!, ...REPLIES[3]!, ...REPLIES[5]!]), cuts: [2, 5] },
    },
    { note: '40 bytes without FF', input: { bytes: new Uint8Array(40).fill(0x12), cuts: [] } },
    {
      note: 'header bytes inside a packet',
      input: { bytes: Uint8Array.of(0x90, 0x50, 0x81, 0x90, 0x41, 0xff), cuts: [] },
    },
    {
      note: 'pan/tilt absolute round trip',
      input: {
        command: { kind: 'pan-tilt-absolute', pan: -32768, tilt: 32767, panSpeed: 24, tiltSpeed: 20 },
        address: 7,
      },
    },
    {
      note: 'command for address 0',
      input: { bytes: Uint8Array.of(0x80, 0x01, 0x04, 0x00, 0x02, 0xff), cuts: [] },
    },
  ],
};
