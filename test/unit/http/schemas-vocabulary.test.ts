/**
 * The HTTP schemas are built from the shared vocabulary (src/protocol/vocabulary.ts): the kiosk state
 * accepts exactly its shields and encryption modes, the react command exactly its reactions.
 */
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { ReactBody } from '../../../src/http/schemas/kiosk.ts';
import { DEVICE_STATUSES, DeviceInfo, Encryption, Shield } from '../../../src/http/schemas/state.ts';
import { ENCRYPTION_MODES, REACTIONS, SHIELDS } from '../../../src/protocol/vocabulary.ts';

describe('HTTP schemas from the vocabulary', () => {
  it('the shield schema accepts every shield state and nothing else', () => {
    for (const s of SHIELDS) expect(Value.Check(Shield, s)).toBe(true);
    for (const s of ['secure', '', 'E2EE', null]) expect(Value.Check(Shield, s)).toBe(false);
  });

  it('the encryption schema accepts the encryption modes and nothing else', () => {
    for (const m of ENCRYPTION_MODES) expect(Value.Check(Encryption, m)).toBe(true);
    expect(Value.Check(Encryption, 'none')).toBe(false);
  });

  it('a reaction body names one of the reactions', () => {
    for (const reaction of REACTIONS) expect(Value.Check(ReactBody, { reaction })).toBe(true);
    expect(Value.Check(ReactBody, { reaction: 'boo' })).toBe(false);
  });

  it('a device status is one of the statuses the metrics know', () => {
    const device = (status: string) => ({ ...Value.Create(DeviceInfo), status });
    for (const s of DEVICE_STATUSES) expect(Value.Check(DeviceInfo, device(s))).toBe(true);
    expect(Value.Check(DeviceInfo, device('warning'))).toBe(false);
  });
});
