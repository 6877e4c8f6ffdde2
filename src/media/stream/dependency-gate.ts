/**
 * Which video or screen frames are worth sending (docs/protocol.md "Media chunks"): a delta frame
 * depends on every frame since the last keyframe, so once one of those was not sent, no frame until
 * the next keyframe is — its receivers could only throw it away. Pure: the sender tells the gate
 * what became of each frame and asks it before sending the next.
 */
export class DependencyGate {
  #broken = false;

  /** Whether every frame since the last keyframe that went out went out too. */
  get intact(): boolean {
    return !this.#broken;
  }

  /** May this frame be sent? A keyframe always; a delta frame only while the chain is intact. */
  admit(keyframe: boolean): boolean {
    return keyframe || !this.#broken;
  }

  /** The frame went out: a keyframe mends the chain. */
  sent(keyframe: boolean): void {
    if (keyframe) this.#broken = false;
  }

  /**
   * A frame was offered and did not go out (congestion, no key, no channel). Returns whether to ask
   * the encoder for a keyframe now: when this breaks an intact chain, or when the frame lost was a
   * keyframe (the one that would have mended it). Later delta frames are refused by `admit`.
   */
  notSent(keyframe: boolean): boolean {
    const ask = !this.#broken || keyframe;
    this.#broken = true;
    return ask;
  }
}
