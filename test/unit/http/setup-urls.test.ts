// The setup screen names only admin addresses that answer (docs/kiosk-and-admin-api.md §Room screen):
// every LAN address when the admin server listens on all interfaces, else just the one it is bound to.
import { describe, expect, it } from 'vitest';
import { KioskStateHub } from '../../../src/http/kiosk/state-hub.ts';
import type { RoomSnapshot } from '../../../src/http/schemas/state.ts';

const snapshot: RoomSnapshot = {
  room: { name: 'Huddle Room 3' },
  deviceId: 'rd-test',
  addresses: ['192.168.1.40', 'fd00::40'],
  schedule: [],
  meeting: null,
  devices: [],
  errors: [],
  media: null,
};
const source = { getState: () => snapshot, subscribe: () => () => {} };
const auth = {
  claimed: false,
  setupCode: '12345-67890',
  lockout: () => ({ locked: false, until: null }),
  onChange: () => () => {},
};

describe('admin URLs on the setup screen', () => {
  it('listening on every interface: each LAN address', () => {
    const hub = new KioskStateHub(source, auth, { certFingerprint: 'AB', port: 8443, host: '0.0.0.0' });
    expect(hub.getState().setup?.adminUrls).toEqual([
      'https://192.168.1.40:8443/',
      'https://[fd00::40]:8443/',
    ]);
  });

  it('bound to one address (the demo: 127.0.0.1): only that one, never an address that does not answer', () => {
    const hub = new KioskStateHub(source, auth, {
      certFingerprint: 'AB',
      port: () => 18443,
      host: '127.0.0.1',
    });
    expect(hub.getState().setup?.adminUrls).toEqual(['https://127.0.0.1:18443/']);
  });
});
