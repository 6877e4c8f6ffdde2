// Relay meeting logic over in-memory links: docs/protocol.md §Session flow (admission, waiting for
// host, leader, roster, verbatim E2EE routing, enhanced key, features, typed errors that change
// nothing).
import { describe, expect, it } from 'vitest';
import { makeCore } from './harness.ts';

describe('relay core', () => {
  it('greets each connection with a fresh nonce', async () => {
    const h = await makeCore();
    const a = h.client();
    const b = h.client();
    expect(a.last('hello')?.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.last('hello')?.nonce).not.toBe(b.last('hello')?.nonce);
  });

  it('makes a participant wait for the host, tells them, then admits them when the host joins', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const guest = h.client();
    guest.join(m.id);
    expect(guest.last('admission')).toMatchObject({ status: 'waiting', reason: 'waiting_for_host' });
    expect(guest.last('meeting-info')).toMatchObject({ encryption: 'e2ee', hostPresent: false });
    expect(guest.all('roster')).toHaveLength(0);
    const host = h.client();
    host.joinAsHost(m.id);
    expect(host.last('admission')).toMatchObject({ status: 'admitted', host: true });
    expect(guest.last('admission')).toMatchObject({ status: 'admitted', host: false });
    expect(guest.last('roster')?.participants.map((p) => p.displayName)).toEqual(['Host', 'Someone']);
    expect(guest.last('leader')).toEqual({
      v: 1,
      type: 'leader',
      participantId: host.participantId,
      reason: 'host',
    });
    expect(h.core.stats().waiting).toBe(0);
  });

  it('refuses a host claim with a proof for another connection (replayed proof)', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const a = h.client();
    const b = h.client();
    a.joinAsHost(m.id);
    const proof = a.conn.participant!.join.hostProof!;
    b.join(m.id, { identityKey: a.conn.participant!.join.identityKey!, hostProof: proof });
    expect(b.last('admission')).toMatchObject({ status: 'refused', reason: 'bad_host_proof' });
  });

  it('passes the leader on when the host leaves, and the roster shrinks', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const host = h.client();
    host.joinAsHost(m.id);
    const x = h.client();
    x.join(m.id);
    const y = h.client();
    y.join(m.id);
    host.send({ type: 'leave' });
    expect(host.closedWith?.code).toBe(1000);
    expect(y.last('leader')).toMatchObject({ participantId: x.participantId, reason: 'longest_present' });
    expect(y.last('roster')?.participants.map((p) => p.participantId)).toEqual([
      x.participantId,
      y.participantId,
    ]);
    // the meeting goes on without the host: a late joiner is admitted
    const late = h.client();
    late.join(m.id);
    expect(late.last('admission')?.status).toBe('admitted');
  });

  it('routes E2EE envelopes verbatim, with the sender set by the relay', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const host = h.client();
    host.joinAsHost(m.id);
    const a = h.client();
    a.join(m.id);
    const b = h.client();
    b.join(m.id);
    const payload = '{"kind":"binding","sig":"\\u0000weird but opaque"}';
    a.send({ type: 'e2ee', to: 'leader', payload });
    expect(host.last('e2ee')).toEqual({ v: 1, type: 'e2ee', to: 'leader', from: a.participantId, payload });
    expect(b.all('e2ee')).toHaveLength(0);
    host.send({ type: 'e2ee', to: 'all', payload: 'hb' });
    expect(a.last('e2ee')?.from).toBe(host.participantId);
    expect(b.last('e2ee')?.payload).toBe('hb');
    expect(host.all('e2ee')).toHaveLength(1);
    host.send({ type: 'e2ee', to: b.participantId!, payload: 'wrapped' });
    expect(b.last('e2ee')).toMatchObject({ to: b.participantId, payload: 'wrapped' });
    expect(a.all('e2ee').map((e) => e.payload)).toEqual(['hb']);
  });

  it('answers an envelope to a missing participant with a typed error', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const host = h.client();
    host.joinAsHost(m.id);
    host.send({ type: 'e2ee', to: '999999', payload: 'x' });
    expect(host.last('error')).toMatchObject({ code: 'relay.unknown_participant', ref: 'e2ee' });
  });

  it('replies to malformed, oversized and unknown-version messages with typed errors and changes nothing', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const c = h.client();
    c.raw('{"v":1,"type":"join","meetingId":"' + m.id + '"}');
    c.raw(JSON.stringify({ v: 9, type: 'join' }));
    c.raw('x'.repeat(300 * 1024));
    c.send({ type: 'e2ee', to: 'all', payload: 'before join' });
    expect(c.all('error').map((e) => e.code)).toEqual([
      'protocol.malformed',
      'protocol.unsupported_version',
      'protocol.too_large',
      'relay.not_admitted',
    ]);
    expect(c.conn.state).toBe('new');
    expect(h.core.stats().participants).toBe(0);
  });

  it('closes a connection that keeps sending garbage', async () => {
    const h = await makeCore();
    const c = h.client();
    for (let i = 0; i < 25; i++) c.raw('nope');
    expect(c.closedWith?.code).toBe(1008);
  });

  it('refuses a second join on the same connection', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const host = h.client();
    host.joinAsHost(m.id);
    host.join(m.id);
    expect(host.last('error')).toMatchObject({ code: 'protocol.unexpected' });
  });

  it('refuses a phone from an E2EE meeting and admits it to an enhanced one with the relay key', async () => {
    const h = await makeCore();
    const e2ee = await h.meeting();
    const enhanced = await h.meeting({ encryption: 'enhanced' });
    const host1 = h.client();
    host1.joinAsHost(e2ee.id);
    const host2 = h.client();
    host2.joinAsHost(enhanced.id);
    const phone = h.client();
    phone.join(e2ee.id, { client: 'phone', protocol: 0 });
    expect(phone.last('admission')).toMatchObject({ status: 'refused', reason: 'client_not_allowed' });
    expect(host1.all('meeting-key')).toHaveLength(0);
    const phone2 = h.client();
    phone2.join(enhanced.id, { client: 'phone', protocol: 0 });
    expect(phone2.last('admission')?.status).toBe('admitted');
    expect(phone2.last('meeting-info')).toMatchObject({ encryption: 'enhanced', disabledFeatures: [] });
    const key = phone2.last('meeting-key')!;
    expect(key.key).toBe(host2.last('meeting-key')!.key);
    // a leave rotates the relay key for the others
    phone2.send({ type: 'leave' });
    const next = host2.last('meeting-key')!;
    expect(next.keyId).toBe(key.keyId + 1);
    expect(next.key).not.toBe(key.key);
  });

  it('reports disabled features in E2EE meetings and refuses them', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const host = h.client();
    host.joinAsHost(m.id);
    expect(host.last('meeting-info')?.disabledFeatures.map((f) => f.feature)).toEqual([
      'recording',
      'live_streaming',
      'transcription',
      'breakout_rooms',
      'polling',
    ]);
    host.send({ type: 'feature-request', feature: 'recording' });
    expect(host.last('feature-result')).toMatchObject({
      feature: 'recording',
      granted: false,
      reason: 'disabled_in_e2ee',
    });
  });

  it('never counts a claimed device id: wrong passcodes from it leave that device free to join', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const c = h.client('192.0.2.7');
    for (let i = 0; i < 10; i++) c.join(m.id, { passcode: `wrong${i}`, deviceId: 'kiosk-1' });
    const refusals = c.all('admission').map((a) => (a.status === 'refused' ? a.reason : a.status));
    expect(refusals).toEqual(Array(10).fill('bad_passcode'));
    // docs/protocol.md §Wrong passcodes: budgets key on proven identities and addresses, never device ids.
    const real = h.client('198.51.100.1');
    real.join(m.id, { deviceId: 'kiosk-1' });
    expect(real.last('admission')?.status).toBe('waiting');
  });

  it('routes keyframe requests to the named sender', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const host = h.client();
    host.joinAsHost(m.id);
    const a = h.client();
    a.join(m.id);
    a.send({ type: 'keyframe-request', to: host.participantId!, streamId: 1 });
    expect(host.last('keyframe-request')).toEqual({
      v: 1,
      type: 'keyframe-request',
      from: a.participantId,
      streamId: 1,
    });
  });

  it('starts a new occurrence (instance id) when an empty meeting is joined again', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const first = h.client();
    first.joinAsHost(m.id);
    const instance1 = first.last('meeting-info')!.instanceId;
    first.send({ type: 'leave' });
    expect(h.core.stats().meetings).toBe(0);
    const again = h.client();
    again.joinAsHost(m.id);
    expect(again.last('meeting-info')!.instanceId).not.toBe(instance1);
  });
});

describe('relay flood control', () => {
  it('drops messages over the per-connection budget, says so once, and recovers as time passes', async () => {
    const h = await makeCore();
    const m = await h.meeting();
    const host = h.client();
    host.joinAsHost(m.id);
    const a = h.client();
    a.join(m.id);
    for (let i = 0; i < 450; i++) host.send({ type: 'e2ee', to: 'all', payload: `m${i}` });
    const got = a.all('e2ee').length;
    expect(got).toBeLessThan(450);
    expect(got).toBeGreaterThan(300);
    expect(host.all('error').filter((e) => e.code === 'relay.rate_limited')).toHaveLength(1);
    h.clock.advance(1000);
    host.send({ type: 'e2ee', to: 'all', payload: 'after' });
    expect(a.last('e2ee')?.payload).toBe('after');
  });
});
