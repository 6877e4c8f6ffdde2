/**
 * The proxy's settings (docs/admin.md §Firewalls): the address names at most a user, the password
 * is a write-only setting of its own that the admin API never shows, and the room joins the two.
 */
import { describe, expect, it } from 'vitest';
import { withoutSecrets } from '../../../src/app/room/admin.ts';
import { networkFrom } from '../../../src/app/room/config.ts';
import { defaultSettings, parseSettings } from '../../../src/config/settings.ts';
import { parseProxyUrl } from '../../../src/transport/http-proxy.ts';

const withProxy = (proxy: string | null, proxyPassword: string | null = null) =>
  parseSettings({
    ...defaultSettings(),
    meetingService: { ...defaultSettings().meetingService, proxy, proxyPassword },
  });

describe('proxy settings', () => {
  it('join the user in the address and the write-only password', () => {
    const s = withProxy('http://room@proxy.corp:3128', 'pa/ss?w#rd@1');
    const proxy = networkFrom(s).proxy!;
    const spec = parseProxyUrl(proxy);
    expect(spec.authorization).toBe(`Basic ${Buffer.from('room:pa/ss?w#rd@1').toString('base64')}`);
    expect(spec.host).toBe('proxy.corp');
    expect(spec.port).toBe(3128);
    expect(spec.display).toBe('http://***@proxy.corp:3128');
    const shown = JSON.stringify(withoutSecrets(s));
    expect(shown).toContain('http://room@proxy.corp:3128');
    expect(shown).not.toContain('pa/ss');
    expect(networkFrom(withProxy('http://proxy.corp:3128')).proxy).toBe('http://proxy.corp:3128');
    expect(networkFrom(withProxy(null, 'x')).proxy).toBeNull();
  });

  it('refuse a password in the address, a path, or control characters in the password', () => {
    for (const proxy of ['http://room:secret@proxy:3128', 'http://proxy:3128/path', 'ftp://proxy:21'])
      expect(() => withProxy(proxy), proxy).toThrow();
    expect(() => withProxy('http://room@proxy:3128', 'a\nb')).toThrow();
  });
});
