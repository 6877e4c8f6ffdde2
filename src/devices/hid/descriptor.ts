/**
 * HID report descriptor parser (docs/hardware.md §Speakerphone): reads the report descriptor to
 * find the telephony inputs and LED outputs, and whether a button reports a level or a toggle.
 * Short and long items; global push/pop; usage ranges; variable and array fields. A 1- or 2-byte
 * Usage takes the Usage Page in force at the Main item that uses it (HID 1.11 §6.2.2.8, as Linux
 * hid-core.c does), so `Usage (Phone Mute)` may come before `Usage Page (Telephony)`. Bounded the
 * way the kernel is: Report Size up to 256 bits, reports up to 16 KiB (HID_MAX_BUFFER_SIZE); a
 * descriptor over 4 KiB, nesting over 32 or more than MAX_FIELDS fields are rejected with
 * `device.protocol_error`; the fields of one array item share one usage list.
 * docs/hardware.md §Conformance.
 */
import { RoomdError } from '../../core/errors.ts';

export const USAGE = {
  telephony: 0x0b,
  hookSwitch: 0x20,
  phoneMute: 0x2f,
  led: 0x08,
  ledMute: 0x09,
  ledOffHook: 0x17,
  ledRing: 0x18,
  ledMicrophone: 0x21,
} as const;

export type ReportKind = 'input' | 'output' | 'feature';

export interface HidField {
  readonly kind: ReportKind;
  readonly reportId: number;
  readonly bitOffset: number;
  readonly bitSize: number;
  /** Variable fields: one usage (page << 16 | id). Array fields: the selectable usages. */
  readonly usages: readonly number[];
  readonly variable: boolean;
  readonly constant: boolean;
  readonly relative: boolean;
  readonly noPreferred: boolean;
  readonly logicalMin: number;
  readonly logicalMax: number;
}

export interface ReportDescriptor {
  readonly fields: readonly HidField[];
  readonly usesReportIds: boolean;
  /** Byte length of each report (without the id byte), by `${kind}:${id}`. */
  readonly reportBytes: ReadonlyMap<string, number>;
}

export const MAX_DESCRIPTOR = 4096;
/** Linux hid-core.c: `report_size > 256` is an invalid descriptor; HID_MAX_BUFFER_SIZE is 16 KiB. */
export const MAX_REPORT_SIZE = 256;
const MAX_REPORT_BITS = 16384 * 8;
const MAX_USAGES = 1024;
/**
 * Most fields one descriptor may declare, over all its reports (a telephony device has a dozen; a
 * full keyboard a few hundred). Without it a 4 KiB descriptor could declare millions.
 */
export const MAX_FIELDS = 8192;

interface Globals {
  page: number;
  logMin: number;
  logMax: number;
  size: number;
  count: number;
  id: number;
}

function bad(message: string, at: number): RoomdError {
  return new RoomdError('device.protocol_error', {
    message: `The speakerphone's report descriptor is malformed: ${message}.`,
    context: { device: 'speakerphone', offset: at },
  });
}

export function usage(page: number, id: number): number {
  return ((page & 0xffff) << 16) | (id & 0xffff);
}

export function parseReportDescriptor(d: Uint8Array): ReportDescriptor {
  if (d.length > MAX_DESCRIPTOR) throw bad('too long', d.length);
  const fields: HidField[] = [];
  const bits = new Map<string, number>();
  const stack: Globals[] = [];
  let g: Globals = { page: 0, logMin: 0, logMax: 0, size: 0, count: 0, id: 0 };
  // Each usage with the size of its item: 4-byte (extended) usages carry their own page.
  let usages: number[] = [];
  let sizes: number[] = [];
  let uMin: number | null = null;
  const add = (value: number, size: number) => {
    if (usages.length >= MAX_USAGES) return;
    usages.push(size === 4 ? value >>> 0 : usage(g.page, value));
    sizes.push(size);
  };
  /**
   * At a Main item: short usages take the last Usage Page, walking back until one already has it
   * (Linux hid_concatenate_last_usage_page).
   */
  const concatenate = () => {
    for (let k = usages.length - 1; k >= 0; k--) {
      if (sizes[k] === 4) continue;
      if (usages[k]! >>> 16 === (g.page & 0xffff)) break;
      usages[k] = usage(g.page, usages[k]!);
    }
  };
  let depth = 0;
  let usesIds = false;
  let i = 0;
  while (i < d.length) {
    const prefix = d[i]!;
    if (prefix === 0xfe) {
      const len = d[i + 1] ?? 0;
      i += 3 + len;
      continue;
    }
    const n = [0, 1, 2, 4][prefix & 3]!;
    if (i + 1 + n > d.length) throw bad('item cut short', i);
    let u = 0;
    for (let k = 0; k < n; k++) u |= d[i + 1 + k]! << (8 * k);
    u >>>= 0;
    const s = n === 0 ? 0 : n === 4 ? u | 0 : (u << (32 - 8 * n)) >> (32 - 8 * n);
    const type = (prefix >> 2) & 3;
    const tag = prefix >> 4;
    const at = i;
    i += 1 + n;
    if (type === 1) {
      if (tag === 0) g.page = u & 0xffff;
      else if (tag === 1) g.logMin = s;
      else if (tag === 2) g.logMax = g.logMin < 0 ? s : u;
      else if (tag === 7) g.size = u;
      else if (tag === 8) {
        if (u === 0 || u > 255) throw bad('report id out of range', at);
        g.id = u;
        usesIds = true;
      } else if (tag === 9) g.count = u;
      else if (tag === 10) {
        if (stack.length >= 32) throw bad('push too deep', at);
        stack.push({ ...g });
      } else if (tag === 11) {
        const top = stack.pop();
        if (top === undefined) throw bad('pop without push', at);
        g = top;
      }
    } else if (type === 2) {
      if (tag === 0) add(u, n);
      else if (tag === 1) uMin = u;
      else if (tag === 2 && uMin !== null) {
        // Linux hid_parser_local: the range takes the size of the Usage Maximum item.
        for (let v = uMin; v <= u && usages.length < MAX_USAGES; v++) add(v, n);
        uMin = null;
      }
    } else if (type === 0) {
      if (tag === 10) {
        if (++depth > 32) throw bad('collections nested too deep', at);
      } else if (tag === 12) {
        depth = Math.max(0, depth - 1);
      } else if (tag === 8 || tag === 9 || tag === 11) {
        const kind: ReportKind = tag === 8 ? 'input' : tag === 9 ? 'output' : 'feature';
        if (g.size > MAX_REPORT_SIZE || g.count > MAX_REPORT_BITS) throw bad('report size out of range', at);
        concatenate();
        const key = `${kind}:${g.id}`;
        let off = bits.get(key) ?? 0;
        if (off + g.size * g.count > MAX_REPORT_BITS) throw bad('report too long', at);
        if (g.size > 0 && fields.length + g.count > MAX_FIELDS) throw bad('too many fields', at);
        const flags = {
          constant: (u & 1) !== 0,
          variable: (u & 2) !== 0,
          relative: (u & 4) !== 0,
          noPreferred: (u & 32) !== 0,
        };
        if (g.size > 0) {
          if (flags.variable) {
            for (let k = 0; k < g.count; k++) {
              const us = usages[Math.min(k, usages.length - 1)];
              fields.push({
                kind,
                reportId: g.id,
                bitOffset: off,
                bitSize: g.size,
                usages: us === undefined ? [] : [us],
                ...flags,
                logicalMin: g.logMin,
                logicalMax: g.logMax,
              });
              off += g.size;
            }
          } else {
            const selectable: readonly number[] = Object.freeze([...usages]);
            for (let k = 0; k < g.count; k++) {
              fields.push({
                kind,
                reportId: g.id,
                bitOffset: off,
                bitSize: g.size,
                usages: selectable,
                ...flags,
                logicalMin: g.logMin,
                logicalMax: g.logMax,
              });
              off += g.size;
            }
          }
        }
        bits.set(key, off);
      }
      usages = [];
      sizes = [];
      uMin = null;
    }
  }
  const reportBytes = new Map<string, number>();
  for (const [k, b] of bits) reportBytes.set(k, Math.ceil(b / 8));
  return { fields, usesReportIds: usesIds, reportBytes };
}

/** Read a field's raw value from report bytes (without the id byte); wider fields: the low 32 bits. */
export function readField(report: Uint8Array, f: HidField): number {
  let v = 0;
  for (let b = 0; b < Math.min(f.bitSize, 32); b++) {
    const bit = f.bitOffset + b;
    const byte = report[bit >> 3];
    if (byte !== undefined && (byte >> (bit & 7)) & 1) v |= 1 << b;
  }
  v >>>= 0;
  // Sign-extend (powers of two, not shifts: 1 << 31 is negative in JavaScript).
  if (f.logicalMin < 0 && f.bitSize < 32 && v >= 2 ** (f.bitSize - 1)) v -= 2 ** f.bitSize;
  return v;
}

export function writeField(report: Uint8Array, f: HidField, value: number): void {
  for (let b = 0; b < f.bitSize; b++) {
    const bit = f.bitOffset + b;
    const idx = bit >> 3;
    if (idx >= report.length) return;
    if (b < 32 && (value >> b) & 1) report[idx]! |= 1 << (bit & 7);
    else report[idx]! &= ~(1 << (bit & 7));
  }
}

/** Is `u` active in this field of the report? (variable: non-zero value; array: selected). */
export function usageActive(report: Uint8Array, f: HidField, u: number): boolean {
  const v = readField(report, f);
  if (f.variable) return f.usages[0] === u && v !== 0;
  const idx = v - f.logicalMin;
  return idx >= 0 && f.usages[idx] === u;
}

export function findFields(d: ReportDescriptor, kind: ReportKind, u: number): HidField[] {
  return d.fields.filter((f) => f.kind === kind && !f.constant && f.usages.includes(u));
}
