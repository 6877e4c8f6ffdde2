// What `npm start` ends with (docs/kiosk-and-admin-api.md §roomctl demo): the claim command with the
// address the admin server listens on, its fingerprint and the setup code — and, once the room is
// claimed, no setup code at all.
import { describe, expect, it } from 'vitest';
import { type BannerFacts, claimedBanner, startBanner } from '../../../demo/banner.ts';

const facts = (f: Partial<BannerFacts> = {}): BannerFacts => ({
  room: 'Huddle Room 3',
  kioskUrl: 'http://127.0.0.1:8080/',
  adminUrl: 'https://127.0.0.1:8443/',
  fingerprint: 'AB:CD:EF',
  setupCode: '12345-67890',
  meetings: [
    { id: '590-1355-2695', title: 'Design review', encryption: 'e2ee' },
    { id: '459-2536-4353', title: 'Supplier call', encryption: 'enhanced' },
  ],
  webJoin: {
    url: 'http://127.0.0.1:7070/join/590-1355-2695',
    passcode: '123456',
    orgKeyFile: '.roomd-state/demo/demo-org-key.json',
  },
  logFile: '.roomd-state/demo/roomd.log',
  ...f,
});

describe('the start banner', () => {
  it('says exactly what to type to claim the room, with the password rule, then how to drive the demo', () => {
    const text = startBanner(facts()).join('\n');
    expect(text).toContain(
      'npx roomctl claim --url https://127.0.0.1:8443 --fingerprint AB:CD:EF --code 12345-67890 --password-stdin',
    );
    expect(text).toContain('10 characters or more');
    expect(text).toContain('Room screen  http://127.0.0.1:8080/');
    expect(text).toContain('Admin page   https://127.0.0.1:8443/');
    expect(text).toContain('tap Join on "Design review"');
    expect(text).toContain('npx roomctl demo --help');
    expect(text).toContain('Logs: .roomd-state/demo/roomd.log');
    expect(text).toContain(
      'Join it from a browser too: http://127.0.0.1:7070/join/590-1355-2695  (passcode 123456)',
    );
    expect(text).toContain(
      'npx roomctl identity issue --org-key .roomd-state/demo/demo-org-key.json --kind person --name "You" --key <the key it shows>',
    );
    expect(text.split('\n').length).toBeLessThan(25);
  });

  it('names no browser link when the relay serves no web client', () => {
    expect(startBanner(facts({ webJoin: null })).join('\n')).not.toContain('/join/');
  });

  it('once claimed, it names the admin page and no setup code', () => {
    const text = startBanner(facts({ setupCode: null })).join('\n');
    expect(text).not.toContain('roomctl claim');
    expect(text).not.toContain('setup code');
    expect(text).toContain('The room is claimed');
    expect(claimedBanner('https://127.0.0.1:8443').join('\n')).toContain(
      'Admin page: https://127.0.0.1:8443/',
    );
  });
});
