/**
 * Receive reports (docs/protocol.md "# Receive reports"): the `rx` decoder is total — at most
 * RX_MAX_ENTRIES entries, each [sender, streamId 0..255, frameNumber u32, ageMs 0..10 000] — and
 * anything else is no report at all.
 */
import { describe, expect, it } from 'vitest';
import { parseDataMessage } from '../../../src/meeting/data-message.ts';
import { parseRx, RX_MAX_ENTRIES } from '../../../src/meeting/media-link.ts';

const msg = (s: unknown) =>
  parseDataMessage(new TextEncoder().encode(JSON.stringify({ v: 1, type: 'rx', s })))!;

describe('parseRx', () => {
  it('reads well-formed entries', () => {
    expect(
      parseRx(
        msg([
          ['7', 1, 4_294_967_295, 0],
          ['12', 0, 3, 10_000],
        ]),
      ),
    ).toEqual([
      { sender: '7', streamId: 1, frameNumber: 4_294_967_295, ageMs: 0 },
      { sender: '12', streamId: 0, frameNumber: 3, ageMs: 10_000 },
    ]);
    expect(parseRx(msg([]))).toEqual([]);
  });

  it('refuses the whole message for any bad entry, too many entries, or no list', () => {
    const bad: unknown[] = [
      undefined,
      'x',
      {},
      [['7', 1, 2]],
      [['7', 1, 2, 3, 4]],
      [['', 1, 2, 3]],
      [['x'.repeat(65), 1, 2, 3]],
      [[7, 1, 2, 3]],
      [['7', 256, 2, 3]],
      [['7', -1, 2, 3]],
      [['7', 1.5, 2, 3]],
      [['7', 1, 4_294_967_296, 3]],
      [['7', 1, 2, 10_001]],
      [['7', 1, 2, Number.NaN]],
      [['7', 1, 2, '3']],
      Array.from({ length: RX_MAX_ENTRIES + 1 }, () => ['7', 1, 2, 3]),
    ];
    for (const s of bad) expect(parseRx(msg(s)), JSON.stringify(s)).toBeNull();
  });
});
