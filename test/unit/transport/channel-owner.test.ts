// The channel owner inside the media worker (docs/decisions/0013-media-worker.md §Sends that cannot
// race a close): in every close order, nothing touches the native channel once a close has begun
// (a touch there is what crashes wrtc), the queue before open is sent in order or dropped, and
// `closed` is reported exactly once.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RoomdError } from '../../../src/core/errors.ts';
import { ChannelOwner, OWNER_QUEUE_MESSAGES } from '../../../src/transport/channel-owner.ts';
import type { ChannelState, DataChannel } from '../../../src/transport/peer.ts';

/** A native channel stand-in that records every call made on it and fires events on demand. */
class ScriptedChannel implements DataChannel {
  readonly label = 'media';
  state: ChannelState = 'connecting';
  buffered = 0;
  /** Every touch, in order: 'send', 'readyState', 'bufferedAmount', 'close'. */
  readonly touches: string[] = [];
  readonly sent: number[] = [];
  /** Set to make the next send throw as wrtc does when the channel left `open` under us. */
  throwOnSend: Error | null = null;
  readonly #open: (() => void)[] = [];
  readonly #message: ((d: Uint8Array) => void)[] = [];
  readonly #close: (() => void)[] = [];

  get readyState(): ChannelState {
    this.touches.push('readyState');
    return this.state;
  }
  get bufferedAmount(): number {
    this.touches.push('bufferedAmount');
    return this.buffered;
  }
  send(data: Uint8Array): void {
    this.touches.push('send');
    if (this.throwOnSend !== null) throw this.throwOnSend;
    this.sent.push(data[0]!);
  }
  close(): void {
    this.touches.push('close');
  }
  onOpen(l: () => void): void {
    this.#open.push(l);
  }
  onMessage(l: (d: Uint8Array) => void): void {
    this.#message.push(l);
  }
  onClose(l: () => void): void {
    this.#close.push(l);
  }
  fireOpen(): void {
    this.state = 'open';
    for (const l of this.#open) l();
  }
  fireMessage(d: Uint8Array): void {
    for (const l of this.#message) l(d);
  }
  fireClose(): void {
    this.state = 'closed';
    for (const l of this.#close) l();
  }
}

function invalidState(): Error {
  const e = new Error("RTCDataChannel.readyState is not 'open'");
  e.name = 'InvalidStateError';
  return e;
}

function setup() {
  const ch = new ScriptedChannel();
  const log: string[] = [];
  const got: number[] = [];
  const owner = new ChannelOwner(ch, {
    open: () => log.push('open'),
    message: (d) => got.push(d[0]!),
    closed: () => log.push('closed'),
  });
  owner.start();
  ch.touches.length = 0; // start() reads the state once; count from here
  return { ch, owner, log, got };
}

const msg = (n: number, size = 10) => new Uint8Array(size).fill(n);

describe('ChannelOwner: close orders', () => {
  it('close before open: the queue is dropped, close() is the last touch, a late open is ignored', () => {
    const { ch, owner, log } = setup();
    expect(owner.send(msg(1))).toBe('queued');
    expect(owner.send(msg(2))).toBe('queued');
    expect(owner.bufferedAmount).toBe(20);
    owner.close();
    expect(ch.touches).toEqual(['close']);
    expect(log).toEqual(['closed']);
    ch.fireOpen();
    ch.fireClose();
    expect(owner.send(msg(3))).toBe('dropped');
    owner.close();
    expect(owner.bufferedAmount).toBe(0);
    expect(ch.touches).toEqual(['close']);
    expect(ch.sent).toEqual([]);
    expect(log).toEqual(['closed']);
    expect(owner.stats).toMatchObject({ sent: 0, dropped: 3, bytesDropped: 30 });
    expect(owner.taken).toBe(30);
  });

  it('local close while sending: sends stop before the close, nothing touches the channel after it', () => {
    const { ch, owner, log } = setup();
    ch.fireOpen();
    for (let i = 0; i < 5; i++) expect(owner.send(msg(i))).toBe('sent');
    owner.close();
    const afterClose = ch.touches.length;
    expect(ch.touches.at(-1)).toBe('close');
    expect(ch.touches.filter((t) => t === 'close')).toHaveLength(1);
    for (let i = 0; i < 5; i++) expect(owner.send(msg(10 + i))).toBe('dropped');
    expect(owner.bufferedAmount).toBe(0);
    ch.fireMessage(msg(99)); // a message racing the close is not delivered
    ch.fireClose(); // the native close event arrives later: already reported
    expect(ch.touches).toHaveLength(afterClose);
    expect(ch.sent).toEqual([0, 1, 2, 3, 4]);
    expect(log).toEqual(['open', 'closed']);
  });

  it('remote close first: closed is reported, later sends and a local close never touch the channel', () => {
    const { ch, owner, log, got } = setup();
    ch.fireOpen();
    owner.send(msg(1));
    ch.fireMessage(msg(7));
    ch.fireClose();
    const before = ch.touches.length;
    expect(owner.send(msg(2))).toBe('dropped');
    owner.close();
    owner.detach();
    expect(owner.bufferedAmount).toBe(0);
    expect(ch.touches).toHaveLength(before);
    expect(log).toEqual(['open', 'closed']);
    expect(got).toEqual([7]);
  });

  it('a send that finds the channel closing (the close event is still on its way) stops the owner', () => {
    const { ch, owner, log } = setup();
    ch.fireOpen();
    owner.send(msg(1));
    ch.throwOnSend = invalidState();
    expect(owner.send(msg(2))).toBe('dropped');
    expect(log).toEqual(['open', 'closed']);
    const before = ch.touches.length;
    expect(owner.send(msg(3))).toBe('dropped');
    owner.close();
    ch.fireClose();
    expect(ch.touches).toHaveLength(before);
    expect(owner.stats).toMatchObject({ sent: 1, dropped: 2 });
  });

  it('the fake channel’s transport.closed counts as not open too', () => {
    const { ch, owner, log } = setup();
    ch.fireOpen();
    ch.throwOnSend = new RoomdError('transport.closed');
    expect(owner.send(msg(1))).toBe('dropped');
    expect(log).toEqual(['open', 'closed']);
  });

  it('an unexpected error from a send is not swallowed', () => {
    const { ch, owner } = setup();
    ch.fireOpen();
    ch.throwOnSend = new TypeError('boom');
    expect(() => owner.send(msg(1))).toThrow(TypeError);
  });

  it('detach (the connection is going away) reports closed without touching the channel', () => {
    const { ch, owner, log } = setup();
    owner.send(msg(1));
    owner.detach();
    ch.fireOpen();
    owner.send(msg(2));
    expect(ch.touches).toEqual([]);
    expect(log).toEqual(['closed']);
  });
});

describe('ChannelOwner: the queue before open', () => {
  it('sends what was queued in order on open, then sends directly', () => {
    const { ch, owner } = setup();
    owner.send(msg(1));
    owner.send(msg(2));
    ch.fireOpen();
    owner.send(msg(3));
    expect(ch.sent).toEqual([1, 2, 3]);
    expect(owner.stats).toMatchObject({ sent: 3, dropped: 0 });
  });

  it('is bounded: past the bound a message is dropped and counted', () => {
    const { ch, owner } = setup();
    for (let i = 0; i < OWNER_QUEUE_MESSAGES + 5; i++) owner.send(msg(i % 256, 1));
    ch.fireOpen();
    expect(ch.sent).toHaveLength(OWNER_QUEUE_MESSAGES);
    expect(owner.stats.dropped).toBe(5);
  });

  it('a close while draining on open drops the rest', () => {
    const { ch, owner, log } = setup();
    owner.send(msg(1));
    owner.send(msg(2));
    owner.send(msg(3));
    let n = 0;
    const realSend = ch.send.bind(ch);
    ch.send = (d) => {
      if (++n === 2) throw invalidState();
      realSend(d);
    };
    ch.fireOpen();
    expect(ch.sent).toEqual([1]);
    expect(owner.stats).toMatchObject({ sent: 1, dropped: 2 });
    expect(log).toEqual(['open', 'closed']);
  });

  it('a channel already open when taken over (the far end opened it) opens at start', () => {
    const ch = new ScriptedChannel();
    ch.state = 'open';
    const log: string[] = [];
    const owner = new ChannelOwner(ch, {
      open: () => log.push('open'),
      message: () => {},
      closed: () => log.push('closed'),
    });
    owner.start();
    expect(owner.state).toBe('open');
    expect(log).toEqual(['open']);
  });
});

describe('ChannelOwner: any order of events', () => {
  type Step = 'send' | 'open' | 'remoteClose' | 'localClose' | 'detach' | 'sendThrows' | 'message';
  const steps: Step[] = ['send', 'open', 'remoteClose', 'localClose', 'detach', 'sendThrows', 'message'];

  it('never touches the channel after a close began, and reports closed at most once', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...steps), { maxLength: 30 }), (script) => {
        const { ch, owner, log } = setup();
        let closedAt: number | null = null;
        let taken = 0;
        for (const step of script) {
          switch (step) {
            case 'send':
              owner.send(msg(1));
              taken += 10;
              break;
            case 'open':
              if (ch.state === 'connecting') ch.fireOpen();
              break;
            case 'remoteClose':
              if (ch.state !== 'closed') ch.fireClose();
              break;
            case 'localClose':
              owner.close();
              break;
            case 'detach':
              owner.detach();
              break;
            case 'sendThrows':
              ch.throwOnSend = invalidState();
              break;
            case 'message':
              ch.fireMessage(msg(5));
              break;
          }
          if (closedAt === null && log.includes('closed')) {
            // The local close() itself may be the one touch at the moment of closing.
            closedAt = ch.touches.length;
          }
        }
        if (closedAt !== null) expect(ch.touches.length).toBe(closedAt);
        expect(log.filter((l) => l === 'closed').length).toBeLessThanOrEqual(1);
        expect(owner.taken).toBe(taken);
        // Every send is accounted for: sent or dropped (or still queued before open).
        if (owner.state !== 'connecting')
          expect(owner.stats.sent + owner.stats.dropped).toBe(script.filter((s) => s === 'send').length);
      }),
      { numRuns: 2000 },
    );
  });
});
