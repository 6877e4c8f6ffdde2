/**
 * decodeVideoRoom on plugin data whose `error_code` is not an integer (fuzz/corpus/janus): Janus's
 * data is untrusted JSON, and the decoder is total (src/relay/janus/messages.ts).
 */
import { describe, expect, it } from 'vitest';
import { hasCode } from '../../../src/core/errors.ts';
import { decodeVideoRoom } from '../../../src/relay/janus/messages.ts';

describe('decodeVideoRoom refusals', () => {
  it('returns a typed refusal without a code, never throws, when error_code is not an integer', () => {
    const odd: unknown[] = [
      JSON.parse('{"toString":1}'),
      JSON.parse('{"toString":null,"valueOf":null}'),
      '4'.repeat(100_000),
      1.5,
      Number.MAX_SAFE_INTEGER + 2,
      null,
    ];
    for (const error_code of odd) {
      const r = decodeVideoRoom('joined', { videoroom: 'joined', error_code });
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(hasCode(r.error, 'relay.media_plane_failed')).toBe(true);
      expect(r.error.context['janusError']).toBe(-1);
      expect(r.error.message.length).toBeLessThan(100);
    }
  });

  it('keeps an integer code, which callers act on (426: no such room)', () => {
    const r = decodeVideoRoom('destroyed', { videoroom: 'event', error_code: 426, error: 'No such room' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.context['janusError']).toBe(426);
    expect(r.error.message).toContain('426');
  });
});
