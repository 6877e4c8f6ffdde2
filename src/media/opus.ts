/**
 * Ogg/Opus: stream of Ogg pages → Opus packets with timing (RFC 7845 §3–5, RFC 6716 §3.1), and the
 * reverse (packets → Ogg pages) for playout through ffmpeg.
 *
 * OpusHead and OpusTags are consumed, not emitted. Packet presentation times come from the page granule
 * positions minus the pre-skip, walked back over the TOC-derived durations of the packets on that page.
 * Damaged pages are skipped by searching for the next capture pattern; packets torn by a lost page are
 * dropped. All buffers are bounded (one page, one packet ≤ maxPacketBytes).
 */
import { ByteQueue } from './byte-queue.ts';
import { OGG_HEADER_BYTES, type OggPage, parseOggPage, writeOggPage } from './ogg.ts';
import type { FrameParser, MediaFrame, NowSource } from './types.ts';

export const OPUS_RATE = 48_000;
const HEAD_MAGIC = 'OpusHead';
const TAGS_MAGIC = 'OpusTags';

export interface OpusHead {
  readonly channels: number;
  readonly preSkip: number;
  readonly inputSampleRate: number;
}

function startsWith(b: Uint8Array, magic: string): boolean {
  if (b.length < magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (b[i] !== magic.charCodeAt(i)) return false;
  return true;
}

export function parseOpusHead(b: Uint8Array): OpusHead | undefined {
  if (b.length < 19 || !startsWith(b, HEAD_MAGIC) || (b[8]! & 0xf0) !== 0) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { channels: b[9]!, preSkip: dv.getUint16(10, true), inputSampleRate: dv.getUint32(12, true) };
}

export function buildOpusHead(head: OpusHead): Uint8Array {
  const b = new Uint8Array(19);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 8; i++) b[i] = HEAD_MAGIC.charCodeAt(i);
  b[8] = 1;
  b[9] = head.channels;
  dv.setUint16(10, head.preSkip, true);
  dv.setUint32(12, head.inputSampleRate, true);
  return b; // output gain 0, mapping family 0
}

export function buildOpusTags(vendor = 'roomd'): Uint8Array {
  const v = new TextEncoder().encode(vendor);
  const b = new Uint8Array(8 + 4 + v.length + 4);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 8; i++) b[i] = TAGS_MAGIC.charCodeAt(i);
  dv.setUint32(8, v.length, true);
  b.set(v, 12);
  return b;
}

/** Samples at 48 kHz in one Opus packet (RFC 6716 §3.1); 0 for an empty or malformed packet. */
export function opusPacketSamples(p: Uint8Array): number {
  const toc = p[0];
  if (toc === undefined) return 0;
  const config = toc >> 3;
  let frame: number; // in 48 kHz samples
  if (config < 12) frame = [480, 960, 1920, 2880][config & 3]!;
  else if (config < 16) frame = [480, 960][config & 1]!;
  else frame = [120, 240, 480, 960][config & 3]!;
  const code = toc & 3;
  let count: number;
  if (code === 0) count = 1;
  else if (code !== 3) count = 2;
  else {
    const c = p[1];
    if (c === undefined) return 0;
    count = c & 0x3f;
  }
  const total = frame * count;
  return total > 5760 ? 0 : total; // > 120 ms is invalid
}

export interface OggOpusParserOptions {
  readonly clock: NowSource;
  readonly maxPacketBytes?: number;
}

export class OggOpusParser implements FrameParser {
  readonly kind = 'audio' as const;
  readonly #q = new ByteQueue();
  readonly #clock: NowSource;
  readonly #maxPacket: number;
  #head: OpusHead | undefined;
  #serial: number | undefined;
  #partial: Uint8Array[] = [];
  #partialLen = 0;
  /** Discarding the rest of a packet (torn or too large). */
  #discarding = false;
  #skippedBytes = 0;
  #droppedPackets = 0;
  /** Granule of the last page that completed a packet; undefined after a loss. */
  #lastGranule: number | undefined;

  constructor(options: OggOpusParserOptions) {
    this.#clock = options.clock;
    this.#maxPacket = options.maxPacketBytes ?? 64 * 1024;
  }

  get head(): OpusHead | undefined {
    return this.#head;
  }

  get buffered(): number {
    return this.#q.length + this.#partialLen;
  }

  /** Bytes skipped while searching for a valid page. */
  get skippedBytes(): number {
    return this.#skippedBytes;
  }

  /** Packets lost to damaged pages or size limits. */
  get droppedPackets(): number {
    return this.#droppedPackets;
  }

  push(chunk: Uint8Array): MediaFrame[] {
    this.#q.push(chunk);
    const out: MediaFrame[] = [];
    for (;;) {
      if (this.#q.length === 0) break;
      // Header and lacing first (a small copy); the whole page only once all of it is here, so a
      // page arriving in many small reads costs no more than one arriving at once.
      const head = this.#q.peek(Math.min(this.#q.length, OGG_HEADER_BYTES + 255));
      let r = parseOggPage(head);
      if (!r.ok && r.reason === 'need_more') {
        const size = pageSize(head);
        if (size === undefined || this.#q.length < size) break;
        r = parseOggPage(this.#q.peek(size));
      }
      if (r.ok) {
        this.#q.skip(r.size);
        this.#onPage(r.page, out);
        continue;
      }
      if (r.reason === 'need_more') break;
      this.#resync();
    }
    return out;
  }

  end(): MediaFrame[] {
    this.#q.clear();
    this.#dropPartial(false);
    return [];
  }

  /**
   * Skip at least one byte, up to the next "OggS" — or up to a prefix of it at the very end of
   * what is queued, which the next read may complete (RFC 3533 §6: resynchronise on the capture
   * pattern, however the stream is cut).
   */
  #resync(): void {
    // The first byte begins no valid page; then look window by window (never copying the whole
    // backlog, so garbage costs linear time however it is cut).
    this.#q.skip(1);
    let skipped = 1;
    for (;;) {
      const w = this.#q.peek(Math.min(this.#q.length, RESYNC_WINDOW));
      let i = 0;
      while (i < w.length && !isCapturePrefix(w, i)) i++;
      this.#q.skip(i);
      skipped += i;
      if (i < w.length || this.#q.length === 0) break;
    }
    this.#skippedBytes += skipped;
    this.#lastGranule = undefined;
    // The page we lost may have carried the end of the current packet.
    this.#dropPartial(true);
  }

  #dropPartial(count: boolean): void {
    if ((this.#partialLen > 0 || this.#discarding) && count) this.#droppedPackets += 1;
    this.#partial = [];
    this.#partialLen = 0;
    this.#discarding = false;
  }

  #onPage(page: OggPage, out: MediaFrame[]): void {
    if (page.bos || this.#serial !== page.serial) {
      // A new logical stream (encoder restart): its headers come first.
      this.#serial = page.serial;
      this.#head = undefined;
      this.#dropPartial(this.#partialLen > 0);
    }
    if (!page.continued && (this.#partialLen > 0 || this.#discarding)) this.#dropPartial(true);
    if (page.continued && this.#partialLen === 0 && !this.#discarding) this.#discarding = true;
    const done: Uint8Array[] = [];
    let off = 0;
    for (const lace of page.lacing) {
      const seg = page.body.subarray(off, off + lace);
      off += lace;
      if (!this.#discarding) {
        if (this.#partialLen + lace > this.#maxPacket) {
          this.#discarding = true;
          this.#partial = [];
          this.#partialLen = 0;
        } else {
          this.#partial.push(seg);
          this.#partialLen += lace;
        }
      }
      if (lace < 255) {
        if (this.#discarding) this.#droppedPackets += 1;
        else done.push(concat(this.#partial, this.#partialLen));
        this.#partial = [];
        this.#partialLen = 0;
        this.#discarding = false;
      }
    }
    this.#emit(done, page.granule, out);
  }

  #emit(packets: Uint8Array[], granule: number, out: MediaFrame[]): void {
    const audio: Uint8Array[] = [];
    for (const p of packets) {
      if (startsWith(p, HEAD_MAGIC)) this.#head = parseOpusHead(p);
      else if (startsWith(p, TAGS_MAGIC)) continue;
      else if (this.#head === undefined) this.#droppedPackets += 1;
      else audio.push(p);
    }
    const previous = this.#lastGranule;
    this.#lastGranule = granule >= 0 ? granule : undefined;
    if (audio.length === 0) return;
    const now = this.#clock.now();
    const preSkip = this.#head?.preSkip ?? 0;
    const samples = audio.map(opusPacketSamples);
    // Forward from the previous page's granule when it is known (the last page of a stream may be
    // trimmed, RFC 7845 §4); otherwise backward from this page's granule.
    let start: number | undefined;
    if (previous !== undefined) start = previous - preSkip;
    else if (granule >= 0) start = granule - preSkip - samples.reduce((a, b) => a + b, 0);
    audio.forEach((data, i) => {
      const n = samples[i]!;
      const base = {
        kind: 'audio',
        codec: 'opus',
        keyframe: true,
        captureTs: now,
        data,
        durationMs: (n * 1000) / OPUS_RATE,
      } as const;
      if (start === undefined) out.push(base);
      else {
        out.push({ ...base, ptsMs: (start * 1000) / OPUS_RATE });
        start += n;
      }
    });
  }
}

const CAPTURE = [0x4f, 0x67, 0x67, 0x53];
const RESYNC_WINDOW = 512;

/** Whether "OggS", or the start of it cut off by the end of `b`, begins at `at`. */
function isCapturePrefix(b: Uint8Array, at: number): boolean {
  for (let k = 0; k < CAPTURE.length && at + k < b.length; k++) if (b[at + k] !== CAPTURE[k]) return false;
  return true;
}

/** Size of the page whose header (and lacing) starts `head`; undefined until those are complete. */
function pageSize(head: Uint8Array): number | undefined {
  const nseg = head[26];
  if (nseg === undefined || head.length < OGG_HEADER_BYTES + nseg) return undefined;
  let size = OGG_HEADER_BYTES + nseg;
  for (let i = 0; i < nseg; i++) size += head[OGG_HEADER_BYTES + i]!;
  return size;
}

function concat(parts: Uint8Array[], len: number): Uint8Array {
  if (parts.length === 1) return parts[0]!.slice();
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Packs Opus packets into an Ogg/Opus stream, one page per packet (lowest latency into ffmpeg). */
export class OggOpusWriter {
  readonly #serial: number;
  #sequence = 0;
  #granule = 0;
  readonly #head: OpusHead;

  constructor(head: OpusHead = { channels: 1, preSkip: 0, inputSampleRate: OPUS_RATE }, serial = 0x726f6f6d) {
    this.#head = head;
    this.#serial = serial;
  }

  /** The two header pages; write them first. */
  headers(): Uint8Array[] {
    return [
      writeOggPage({
        serial: this.#serial,
        sequence: this.#sequence++,
        granule: 0,
        bos: true,
        packets: [buildOpusHead(this.#head)],
      }),
      writeOggPage({
        serial: this.#serial,
        sequence: this.#sequence++,
        granule: 0,
        packets: [buildOpusTags()],
      }),
    ];
  }

  /** One page carrying `packet`; a gap of `missingSamples` advances the granule as concealment hint. */
  page(packet: Uint8Array, missingSamples = 0): Uint8Array {
    this.#granule += missingSamples + opusPacketSamples(packet);
    return writeOggPage({
      serial: this.#serial,
      sequence: this.#sequence++,
      granule: this.#granule,
      packets: [packet],
    });
  }
}
