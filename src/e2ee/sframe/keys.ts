/**
 * SFrame per-KID key state, RFC 9605 §4.4: a send key only encrypts (its CTR starts where told, never
 * repeats, and refuses to go past 2^64−1 instead of wrapping); a receive key only decrypts and keeps a
 * replay window over CTR values. Both derive sframe_key/sframe_salt once and keep only prepared AEAD
 * state (KeyObjects), wiping the derived bytes.
 */
import { RoomdError } from '../../core/errors.ts';
import { defaultAead, type PreparedAead, type SFrameAead } from './aead.ts';
import { decodeHeader, headerLength, MAX_U64, type SFrameHeader, writeHeader } from './header.ts';
import { deriveKeySalt, formNonce, type SuiteParams, suiteParams } from './suites.ts';

const EMPTY = new Uint8Array(0);

export interface SendKeyOptions {
  aead?: SFrameAead;
  /** First CTR value (tests and vectors); default 0. */
  startCounter?: bigint;
}

export class SFrameSendKey {
  readonly suite: SuiteParams;
  readonly kid: bigint;
  #ctr: bigint;
  #exhausted = false;
  #aead: PreparedAead;
  #salt: Uint8Array;
  readonly #nonce: Uint8Array;

  constructor(suite: number, kid: bigint, baseKey: Uint8Array, options: SendKeyOptions = {}) {
    this.suite = suiteParams(suite);
    this.kid = kid;
    this.#ctr = options.startCounter ?? 0n;
    if (this.#ctr < 0n || this.#ctr > MAX_U64 || kid < 0n || kid > MAX_U64) {
      throw new RoomdError('e2ee.malformed', { message: 'SFrame KID and CTR must be in 0..2^64-1.' });
    }
    const { key, salt } = deriveKeySalt(this.suite, kid, baseKey);
    this.#aead = (options.aead ?? defaultAead).prepare(this.suite, key);
    key.fill(0);
    this.#salt = salt;
    this.#nonce = new Uint8Array(this.suite.nn);
  }

  /** The CTR the next frame will use. */
  get nextCounter(): bigint {
    return this.#ctr;
  }

  /** Bytes a frame of `payloadLength` will take. */
  sealedLength(payloadLength: number): number {
    return headerLength(this.kid, this.#ctr) + payloadLength + this.suite.nt;
  }

  /** Encrypt into `out` at `offset` (must have room for `sealedLength`); returns bytes written. */
  sealInto(out: Uint8Array, offset: number, payload: Uint8Array, metadata: Uint8Array = EMPTY): number {
    if (this.#exhausted)
      throw new RoomdError('e2ee.counter_exhausted', { context: { kid: this.kid.toString() } });
    const ctr = this.#ctr;
    const hlen = writeHeader(out, offset, this.kid, ctr);
    formNonce(this.#salt, ctr, this.#nonce);
    const n = this.#aead.seal(
      this.#nonce,
      out.subarray(offset, offset + hlen),
      metadata,
      payload,
      out,
      offset + hlen,
    );
    if (ctr === MAX_U64) this.#exhausted = true;
    else this.#ctr = ctr + 1n;
    return hlen + n;
  }

  /** Encrypt one frame: header ‖ ciphertext ‖ tag (RFC 9605 §4.4.3). */
  seal(payload: Uint8Array, metadata: Uint8Array = EMPTY): Uint8Array {
    if (this.#exhausted)
      throw new RoomdError('e2ee.counter_exhausted', { context: { kid: this.kid.toString() } });
    const out = new Uint8Array(this.sealedLength(payload.length));
    this.sealInto(out, 0, payload, metadata);
    return out;
  }

  destroy(): void {
    this.#aead.destroy();
    this.#salt.fill(0);
    this.#exhausted = true;
  }
}

export interface ReceiveKeyOptions {
  aead?: SFrameAead;
  /** Replay window size in frames (default 128). */
  window?: number;
}

export class SFrameReceiveKey {
  readonly suite: SuiteParams;
  readonly kid: bigint;
  #aead: PreparedAead;
  #salt: Uint8Array;
  readonly #nonce: Uint8Array;
  readonly #window: number;
  readonly #windowBig: bigint;
  readonly #seen: Uint8Array;
  #highest = -1n;

  constructor(suite: number, kid: bigint, baseKey: Uint8Array, options: ReceiveKeyOptions = {}) {
    this.suite = suiteParams(suite);
    this.kid = kid;
    const { key, salt } = deriveKeySalt(this.suite, kid, baseKey);
    this.#aead = (options.aead ?? defaultAead).prepare(this.suite, key);
    key.fill(0);
    this.#salt = salt;
    this.#nonce = new Uint8Array(this.suite.nn);
    this.#window = options.window ?? 128;
    if (!Number.isInteger(this.#window) || this.#window < 1 || this.#window > 65536)
      throw new RangeError('SFrame replay window must be 1..65536 frames');
    this.#windowBig = BigInt(this.#window);
    this.#seen = new Uint8Array(this.#window);
  }

  #replayed(ctr: bigint): boolean {
    if (ctr > this.#highest) return false;
    if (this.#highest - ctr >= this.#windowBig) return true;
    return this.#seen[Number(ctr % this.#windowBig)] === 1;
  }

  #mark(ctr: bigint): void {
    const w = this.#windowBig;
    if (ctr === this.#highest + 1n) {
      // Hot path: in-order frame.
      this.#highest = ctr;
      this.#seen[Number(ctr % w)] = 1;
      return;
    }
    if (ctr > this.#highest) {
      const gap = ctr - this.#highest;
      if (gap >= w) this.#seen.fill(0);
      else for (let c = this.#highest + 1n; c < ctr; c++) this.#seen[Number(c % w)] = 0;
      this.#highest = ctr;
    }
    this.#seen[Number(ctr % w)] = 1;
  }

  /**
   * Decrypt one frame (header already decoded may be passed). Throws e2ee.malformed, e2ee.unknown_key
   * (KID differs), e2ee.replay, e2ee.decrypt_failed. The replay window only moves on success.
   */
  open(
    frame: Uint8Array,
    metadata: Uint8Array = EMPTY,
    header: SFrameHeader = decodeHeader(frame),
  ): Uint8Array {
    if (header.kid !== this.kid)
      throw new RoomdError('e2ee.unknown_key', { context: { kid: header.kid.toString() } });
    if (this.#replayed(header.ctr))
      throw new RoomdError('e2ee.replay', { context: { ctr: header.ctr.toString() } });
    if (frame.length < header.length + this.suite.nt)
      throw new RoomdError('e2ee.malformed', { message: 'SFrame frame is shorter than its tag.' });
    formNonce(this.#salt, header.ctr, this.#nonce);
    const pt = this.#aead.open(
      this.#nonce,
      frame.subarray(0, header.length),
      metadata,
      frame.subarray(header.length),
    );
    this.#mark(header.ctr);
    return pt;
  }

  destroy(): void {
    this.#aead.destroy();
    this.#salt.fill(0);
  }
}
