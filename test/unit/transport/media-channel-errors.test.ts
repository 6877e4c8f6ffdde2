/**
 * MediaChannel catches only the failure it expects from a send: the channel closed under it
 * ('transport.closed', what every DataChannel throws then) is a counted drop; anything else is a bug
 * and reaches the caller.
 */
import { describe, expect, it } from 'vitest';
import { RoomdError } from '../../../src/core/errors.ts';
import { MediaChannel } from '../../../src/transport/media-channel.ts';
import type { DataChannel } from '../../../src/transport/peer.ts';

function channel(send: (data: Uint8Array) => void): DataChannel {
  return {
    label: 'media',
    readyState: 'open',
    bufferedAmount: 0,
    send,
    onOpen: () => {},
    onMessage: () => {},
    onClose: () => {},
    close: () => {},
  };
}

describe('MediaChannel.trySend failures', () => {
  it('a channel that closed between the check and the send is a counted drop', () => {
    const m = new MediaChannel(
      channel(() => {
        throw new RoomdError('transport.closed');
      }),
    );
    expect(m.trySend(new Uint8Array(10))).toBe(false);
    expect(m.stats).toMatchObject({ sent: 0, dropped: 1, bytesDropped: 10 });
  });

  it('any other error is not swallowed', () => {
    const bug = new TypeError('not a function');
    const m = new MediaChannel(
      channel(() => {
        throw bug;
      }),
    );
    expect(() => m.trySend(new Uint8Array(10))).toThrow(bug);
    expect(m.stats.dropped).toBe(0);
  });
});
