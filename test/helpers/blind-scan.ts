/**
 * Scanning what a relay handled for secrets it must never see (docs/threat-model.md §What the relay
 * cannot do): the blind-relay tests record every byte through the relay's `tap` hook
 * (src/relay/hooks.ts) and search the recording with what is here.
 *
 * - `NeedleIndex`: fixed-width byte needles (32-byte plaintext windows and keys, 12-byte SFrame
 *   salts), found in one linear pass over each haystack.
 * - `views`: a recorded buffer as raw bytes, plus, for signaling text, every base64 / base64url token
 *   (22+ characters) and every hex token (64+ characters) decoded, so a value shipped in any of those
 *   renderings is found as bytes; `renderings` are a key's text forms, searched for in the text.
 * - `mediaBaseKey`, `sframeKeys`, `keystreamOpen`: the E2EE core's derivation from a meeting key
 *   (docs/protocol.md "# E2EE protocol": media base key per sender and stream, SFrame key and salt
 *   per KID), and opening a forwarded frame with it — the proof that captured keys are the keys used.
 * - `selfCheck`: each scanner run on data that does hold its needles, so an empty result means
 *   something.
 */
import { createDecipheriv } from 'node:crypto';
import { expand, extract } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeFields } from '../../src/e2ee/bytes.ts';
import { CONTEXT } from '../../src/e2ee/context.ts';
import { decodeHeader } from '../../src/e2ee/sframe/header.ts';
import { CipherSuite, deriveKeySalt, formNonce, suiteParams } from '../../src/e2ee/sframe/suites.ts';
import { decodeMediaHeader, MEDIA_HEADER_BYTES } from '../../src/protocol/media-header.ts';
import type { RelayHooks } from '../../src/relay/index.ts';

/** The synthetic frames' magic ("RDSY", then a u32 sequence number): src/meeting/synthetic.ts. */
export const SYNTHETIC_MAGIC = [0x52, 0x44, 0x53, 0x59];
export const SUITE = suiteParams(CipherSuite.AES_256_GCM_SHA512_128);

/** One buffer the relay received ('in') or sent ('out'), with the participant it came from or went to. */
export interface TapRecord {
  dir: 'in' | 'out';
  channel: 'signaling' | 'media';
  data: Uint8Array;
  participantId: string | undefined;
}

/** A relay `tap` hook recording into `into` while `on()` says so. */
export function recorder(into: TapRecord[], on: () => boolean = () => true): NonNullable<RelayHooks['tap']> {
  return (dir, channel, data, participantId) => {
    if (on()) into.push({ dir, channel, data: data.slice(), participantId });
  };
}

/**
 * Fixed-width needles indexed by their first four bytes, for one linear pass over each haystack.
 * `add` copies and deduplicates (keys: few); `addWindows` keeps a reference to its buffer and
 * indexes every window of it without copies (plaintexts: many).
 */
export class NeedleIndex {
  readonly width: number;
  /** head → flat [source, offset, source, offset, …] */
  readonly #by = new Map<number, number[]>();
  readonly #sources: Uint8Array[] = [];
  readonly #seen = new Set<string>();
  size = 0;

  constructor(width = 32) {
    if (width < 4) throw new RangeError('needles are at least 4 bytes');
    this.width = width;
  }

  add(n: Uint8Array): void {
    if (n.length !== this.width) throw new RangeError(`needles are ${this.width} bytes`);
    const key = Buffer.from(n).toString('hex');
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#index(n.slice(), 0, 1);
  }

  /** Every `width`-byte window of `bytes`. */
  addWindows(bytes: Uint8Array): void {
    this.#index(bytes, 0, bytes.length - this.width + 1);
  }

  #index(src: Uint8Array, from: number, count: number): void {
    if (count <= 0) return;
    const s = this.#sources.push(src) - 1;
    const b = Buffer.from(src.buffer, src.byteOffset, src.byteLength);
    for (let i = from; i < from + count; i++) {
      const head = b.readUInt32BE(i);
      const list = this.#by.get(head);
      if (list === undefined) this.#by.set(head, [s, i]);
      else list.push(s, i);
      this.size++;
    }
  }

  /** Offsets in `hay` where a needle starts. */
  find(hay: Uint8Array): number[] {
    const w = this.width;
    const hits: number[] = [];
    const b = Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength);
    for (let i = 0; i + w <= b.length; i++) {
      const list = this.#by.get(b.readUInt32BE(i));
      if (list === undefined) continue;
      for (let k = 0; k < list.length; k += 2) {
        const src = this.#sources[list[k]!]!;
        const at = list[k + 1]!;
        if (b.compare(src, at, at + w, i, i + w) === 0) {
          hits.push(i);
          break;
        }
      }
    }
    return hits;
  }
}

/**
 * Text needles (a key's renderings, 16+ characters) indexed by their first 8 characters, for one
 * pass over a text however many needles there are.
 */
export class TextNeedles {
  readonly #by = new Map<string, string[]>();
  size = 0;

  add(needle: string): void {
    if (needle.length < 8) throw new RangeError('text needles are at least 8 characters');
    const list = this.#by.get(needle.slice(0, 8)) ?? [];
    if (list.includes(needle)) return;
    list.push(needle);
    this.#by.set(needle.slice(0, 8), list);
    this.size++;
  }

  /** Every rendering of `k`. */
  addKey(k: Uint8Array): void {
    for (const r of renderings(k)) this.add(r);
  }

  /** The needles found in `text`, with where. */
  find(text: string): { at: number; needle: string }[] {
    const hits: { at: number; needle: string }[] = [];
    for (let i = 0; i + 8 <= text.length; i++) {
      const list = this.#by.get(text.slice(i, i + 8));
      if (list === undefined) continue;
      for (const n of list) if (text.startsWith(n, i)) hits.push({ at: i, needle: n });
    }
    return hits;
  }
}

/** The byte views of one recorded buffer we search: raw, plus decoded base64(url) / hex tokens of text. */
export function views(r: Pick<TapRecord, 'channel' | 'data'>): Uint8Array[] {
  const out = [r.data];
  if (r.channel !== 'signaling') return out;
  const text = Buffer.from(r.data).toString('utf8');
  for (const tok of text.match(/[A-Za-z0-9_\-+/]{22,}={0,2}/g) ?? []) {
    out.push(new Uint8Array(Buffer.from(tok.replace(/-/g, '+').replace(/_/g, '/'), 'base64')));
  }
  for (const tok of text.match(/[0-9a-fA-F]{64,}/g) ?? []) {
    out.push(new Uint8Array(Buffer.from(tok.length % 2 === 0 ? tok : tok.slice(1), 'hex')));
  }
  return out;
}

/** Where `index` hits in any view of any record ("in media @12"); empty when nowhere. */
export function scan(recording: readonly TapRecord[], index: NeedleIndex): string[] {
  const hits: string[] = [];
  for (const r of recording)
    for (const v of views(r)) for (const at of index.find(v)) hits.push(`${r.dir} ${r.channel} @${at}`);
  return hits;
}

/** Bytes searched by `scan` (every view of every record). */
export function scannedBytes(recording: readonly TapRecord[]): number {
  let n = 0;
  for (const r of recording) for (const v of views(r)) n += v.length;
  return n;
}

/** All signaling the relay handled, as text. */
export function signalingText(recording: readonly TapRecord[]): string {
  return recording
    .filter((r) => r.channel === 'signaling')
    .map((r) => Buffer.from(r.data).toString('utf8'))
    .join('\n');
}

/** Offsets of the synthetic magic followed by one of `seqs` (u32 big-endian). */
export function findMagic(hay: Uint8Array, seqs: Set<number>): number[] {
  const hits: number[] = [];
  const m = Buffer.from(SYNTHETIC_MAGIC);
  const b = Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength);
  for (let i = b.indexOf(m); i >= 0 && i + 8 <= b.length; i = b.indexOf(m, i + 1)) {
    if (seqs.has(b.readUInt32BE(i + 4))) hits.push(i);
  }
  return hits;
}

export const hasMagic = (p: Uint8Array): boolean => Buffer.from(p).indexOf(Buffer.from(SYNTHETIC_MAGIC)) >= 0;

/** The text forms a key may be shipped in: hex (both cases), base64 (padded or not), base64url. */
export function renderings(k: Uint8Array): string[] {
  const b = Buffer.from(k);
  const b64 = b.toString('base64');
  return [
    b.toString('hex'),
    b.toString('hex').toUpperCase(),
    b64,
    b64.replace(/=+$/, ''),
    b.toString('base64url'),
  ];
}

/** The media base key of (sender, stream) under meeting key `mk`, as the E2EE core derives it. */
export function mediaBaseKey(
  mk: Uint8Array,
  meetingId: string,
  instanceId: string,
  sender: string,
  stream: string,
): Uint8Array {
  const prk = extract(sha256, mk, new Uint8Array(0));
  return expand(sha256, prk, encodeFields([CONTEXT.media, meetingId, instanceId, sender, stream]), 32);
}

/** The SFrame AES key and salt of `kid` under a media base key. */
export function sframeKeys(baseKey: Uint8Array, kid: bigint): { key: Uint8Array; salt: Uint8Array } {
  return deriveKeySalt(SUITE, kid, baseKey);
}

/** Decrypt an SFrame body with AES-256-GCM's keystream only (the tag needs the AAD we do not rebuild). */
export function keystreamOpen(frame: Uint8Array, baseKey: Uint8Array): Uint8Array {
  const header = decodeHeader(frame);
  const { key, salt } = deriveKeySalt(SUITE, header.kid, baseKey);
  const nonce = new Uint8Array(SUITE.nn);
  formNonce(salt, header.ctr, nonce);
  const d = createDecipheriv('aes-256-gcm', key, nonce);
  return new Uint8Array(d.update(frame.subarray(header.length, frame.length - SUITE.nt)));
}

/** A first chunk of a frame on the wire: its header and the SFrame frame (whole when chunkCount is 1). */
export interface WireFrame {
  record: TapRecord;
  sender: string;
  kind: string;
  chunkCount: number;
  kid: bigint;
  frame: Uint8Array;
}

/** The first chunk of every frame in the recorded media of direction `dir`. */
export function wireFrames(recording: readonly TapRecord[], dir: 'in' | 'out'): WireFrame[] {
  const out: WireFrame[] = [];
  for (const r of recording) {
    if (r.channel !== 'media' || r.dir !== dir) continue;
    const mh = decodeMediaHeader(r.data);
    if (mh.chunkIndex !== 0) continue;
    const frame = r.data.subarray(MEDIA_HEADER_BYTES);
    out.push({
      record: r,
      sender: String(mh.sender),
      kind: mh.kind,
      chunkCount: mh.chunkCount,
      kid: decodeHeader(frame).kid,
      frame,
    });
  }
  return out;
}

/**
 * Every secret derived from the meeting keys `mks` for `senders` × `streams` × `kids`: media base keys
 * and SFrame keys into `keys` (32 bytes), SFrame salts into `salts` (12 bytes).
 */
export function addDerivedKeys(
  o: {
    mks: readonly Uint8Array[];
    meetingId: string;
    instanceId: string;
    senders: readonly string[];
    streams: readonly string[];
    kids: ReadonlySet<bigint>;
  },
  keys: NeedleIndex,
  salts: NeedleIndex,
): void {
  for (const mk of o.mks)
    for (const sender of o.senders)
      for (const stream of o.streams) {
        const base = mediaBaseKey(mk, o.meetingId, o.instanceId, sender, stream);
        keys.add(base);
        for (const kid of o.kids) {
          const { key, salt } = sframeKeys(base, kid);
          keys.add(key);
          salts.add(salt);
        }
      }
}

/**
 * The scanners find what is there: each run once on data that holds its needle. `needle` is one the
 * index holds; true when the index finds it at the planted offset, raw and (for signaling) shipped
 * as base64url and hex in JSON, and when its renderings are found in text that carries them.
 */
export function selfCheck(index: NeedleIndex, needle: Uint8Array): boolean {
  const raw = index.find(new Uint8Array([1, 2, 3, ...needle, 4]));
  const json = (s: string) => ({
    channel: 'signaling' as const,
    data: new Uint8Array(Buffer.from(JSON.stringify({ type: 'e2ee', payload: `x.${s}.y` }))),
  });
  const inText = [Buffer.from(needle).toString('base64url'), Buffer.from(needle).toString('hex')].map((s) =>
    views(json(s)).some((v) => index.find(v).length > 0),
  );
  const text = `x${renderings(needle)[4]}x`;
  // Shorter needles (salts) are too short for the token views: their renderings are searched as text.
  return (
    raw.length === 1 &&
    raw[0] === 3 &&
    (index.width < 32 || inText.every(Boolean)) &&
    renderings(needle).some((s) => text.includes(s))
  );
}
