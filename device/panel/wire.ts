/**
 * The Nextion panel emulator's side of the wire (`emulator.ts`; docs/hardware.md §Emulators):
 * return-data codes and frames built from Nextion Instruction Set §6–§7 (not with roomd's codec),
 * the speeds, names, attributes and system variables a panel accepts, and what bytes look like at
 * the wrong speed.
 */
/**
 * Return data (Nextion Instruction Set §7, "Format of Nextion Return Data"); every frame ends
 * with FF FF FF. Numbers are 4 bytes little-endian.
 */
export const RETURN = {
  invalidInstruction: 0x00,
  ok: 0x01,
  invalidComponent: 0x02,
  invalidPage: 0x03,
  invalidBaud: 0x11,
  invalidVariable: 0x1a,
  assignmentFailed: 0x1c,
  nameTooLong: 0x23,
  overflow: 0x24,
  touch: 0x65,
  page: 0x66,
  string: 0x70,
  number: 0x71,
  ready: 0x88,
} as const;

export type FailCode = (typeof RETURN)[
  | 'invalidInstruction'
  | 'invalidComponent'
  | 'invalidPage'
  | 'invalidBaud'
  | 'invalidVariable'
  | 'assignmentFailed'
  | 'nameTooLong'];

export function frame(...body: number[]): Uint8Array {
  return Uint8Array.from([...body, 0xff, 0xff, 0xff]);
}

export function latin1(text: string): number[] {
  return [...text].map((ch) => {
    const c = ch.charCodeAt(0);
    return c < 0xff ? c : 0x3f;
  });
}

/** `baud=` values (Nextion Instruction Set §6, `baud`); others answer `11`. */
export const BAUD_RATES: readonly number[] = [
  2400, 4800, 9600, 19200, 31250, 38400, 57600, 115200, 230400, 250000, 256000, 512000, 921600,
];

/** Names: 14 characters for a page, 14 for a component (§7, `23`: "Max length is 29 characters"). */
const MAX_NAME = 14;

export const ATTRS = new Set(['txt', 'val', 'pic', 'bco', 'pco']);
/** Numeric system variables the emulator knows; the rest answer `1A`. */
export const SYSTEM_VARS = new Set([
  'bkcmd',
  'dim',
  'dims',
  'baud',
  'bauds',
  'sys0',
  'sys1',
  'sys2',
  'thup',
  'thsp',
  'ussp',
  'sleep',
]);

/** What a byte looks like at the wrong speed: never FF, so noise never ends an instruction or frame. */
export function garble(bytes: Uint8Array): Uint8Array {
  return bytes.map((b) => (b ^ 0x5a) & 0xfe);
}

export function tooLong(name: string): boolean {
  return name.split('.').some((part) => part.length > MAX_NAME);
}
