/**
 * RoomSnapshotStore: patches apply at once, subscribers hear one notification per burst.
 */
import { describe, expect, test } from 'vitest';
import { RoomSnapshotStore } from '../../../src/http/kiosk/snapshot-store.ts';
import type { RoomSnapshot } from '../../../src/http/schemas/state.ts';

const initial: RoomSnapshot = {
  room: { name: 'Fjord' },
  deviceId: 'rd-1',
  addresses: [],
  schedule: [],
  meeting: null,
  devices: [],
  errors: [],
  media: null,
};

describe('RoomSnapshotStore', () => {
  test('coalesces a burst of changes into one notification with the final state', async () => {
    const store = new RoomSnapshotStore(initial);
    const seen: RoomSnapshot[] = [];
    const off = store.subscribe((s) => seen.push(s));
    store.update({ room: { name: 'Atlas' } });
    store.update({ errors: [{ code: 'device.unavailable', message: 'The camera is not connected.' }] });
    expect(store.getState().room.name).toBe('Atlas');
    expect(seen).toHaveLength(0);
    await Promise.resolve();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.errors).toHaveLength(1);
    off();
    store.update({ room: { name: 'Harbour' } });
    await Promise.resolve();
    expect(seen).toHaveLength(1);
  });

  test('updateMeeting patches the meeting and ignores calls when there is none', async () => {
    const store = new RoomSnapshotStore(initial);
    store.updateMeeting({ shield: 'e2ee' });
    expect(store.getState().meeting).toBeNull();
    store.update({
      meeting: {
        id: '81234567890',
        status: 'joining',
        encryption: 'e2ee',
        shield: 'verifying',
        securityCode: null,
        securityCodeChanged: false,
        epoch: 0,
        leader: null,
        participants: [],
        disabledFeatures: [],
      },
    });
    store.updateMeeting({ status: 'in_meeting', shield: 'e2ee' });
    expect(store.getState().meeting).toMatchObject({
      status: 'in_meeting',
      shield: 'e2ee',
      id: '81234567890',
    });
  });
});
