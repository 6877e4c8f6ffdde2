// What a meeting link tells the web client (web/src/link.ts): the meeting id from the path or the
// fragment, and the organization the fragment vouches for — only a well-formed one.
import { describe, expect, it } from 'vitest';
import { anchorFragment, parseMeetingLink } from '../../../web/src/link.ts';

const KEY = 'A'.repeat(43); // 32 zero bytes, base64url without padding
const at = (pathname: string, hash = '') => parseMeetingLink({ pathname, hash });

describe('parseMeetingLink', () => {
  it('reads the id from /join/<id>, or from the fragment where the page is hosted elsewhere', () => {
    expect(at('/join/123-456-789')).toEqual({ meetingId: '123-456-789', anchor: null });
    expect(at('/join/123-456-789/')).toEqual({ meetingId: '123-456-789', anchor: null });
    expect(at('/index.html', '#987-654')).toEqual({ meetingId: '987-654', anchor: null });
    expect(at('/index.html', `#id=55-66&org=Acme&key=${KEY}`).meetingId).toBe('55-66');
    expect(at('/join/x1')).toEqual({ meetingId: '', anchor: null });
    expect(at('/', '#id=../../etc').meetingId).toBe('');
  });

  it('takes the organization the fragment vouches for, round-tripping what the banner writes', () => {
    const anchor = { org: 'Demo Org & Sons', publicKey: KEY };
    expect(at('/join/1-2', `#${anchorFragment(anchor)}`)).toEqual({ meetingId: '1-2', anchor });
  });

  it('ignores a malformed organization: no name, a control character, a key of the wrong size', () => {
    for (const hash of [
      `#key=${KEY}`,
      '#org=Acme',
      `#org=&key=${KEY}`,
      `#org=Ac%0Ame&key=${KEY}`,
      `#org=Ac%E2%80%AEme&key=${KEY}`,
      `#org=Ac%E2%80%8Bme&key=${KEY}`,
      `#org=${'x'.repeat(129)}&key=${KEY}`,
      '#org=Acme&key=AAAA',
      `#org=Acme&key=${KEY}A`,
      `#org=Acme&key=${KEY.slice(0, 42)}+`,
    ])
      expect(at('/join/1-2', hash).anchor, hash).toBeNull();
  });
});
