/**
 * A bounded async queue of frames: the async-iterable face of a capture. When the consumer falls
 * behind, the oldest frames are dropped (live media: newer is better) and counted.
 */
import type { MediaFrame } from './types.ts';

export class FrameQueue implements AsyncIterable<MediaFrame> {
  readonly #capacity: number;
  readonly #onClose: () => void;
  #items: MediaFrame[] = [];
  #waiter: ((r: IteratorResult<MediaFrame>) => void) | undefined;
  #closed = false;
  dropped = 0;

  constructor(capacity: number, onClose: () => void) {
    this.#capacity = Math.max(1, capacity);
    this.#onClose = onClose;
  }

  push(frame: MediaFrame): void {
    if (this.#closed) return;
    if (this.#waiter !== undefined) {
      const w = this.#waiter;
      this.#waiter = undefined;
      w({ value: frame, done: false });
      return;
    }
    this.#items.push(frame);
    if (this.#items.length > this.#capacity) {
      this.#items.shift();
      this.dropped += 1;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<MediaFrame> {
    return {
      next: () => {
        const item = this.#items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.#closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.#waiter = resolve;
        });
      },
      return: () => {
        this.close();
        this.#items = [];
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
