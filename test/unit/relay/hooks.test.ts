// Adversarial-relay test hooks: the relay is the adversary (docs/threat-model.md).
import { describe, expect, it } from 'vitest';
import type { RelayHooks } from '../../../src/relay/hooks.ts';
import { makeCore } from './harness.ts';

async function meetingWith(hooks: RelayHooks) {
  const h = await makeCore({ hooks });
  const m = await h.meeting();
  const host = h.client();
  host.joinAsHost(m.id);
  const a = h.client();
  a.join(m.id);
  return { h, m, host, a };
}

describe('relay test hooks', () => {
  it('rewrite, drop and replay outgoing envelopes', async () => {
    let seen = 0;
    const { host, a } = await meetingWith({
      outgoing: (msg) => {
        if (msg.type !== 'e2ee') return msg;
        seen++;
        if (msg.payload === 'drop') return null;
        if (msg.payload === 'replay') return [msg, msg];
        return { ...msg, payload: `${msg.payload}-tampered` };
      },
    });
    host.send({ type: 'e2ee', to: 'all', payload: 'drop' });
    host.send({ type: 'e2ee', to: 'all', payload: 'replay' });
    host.send({ type: 'e2ee', to: 'all', payload: 'x' });
    expect(a.all('e2ee').map((e) => e.payload)).toEqual(['replay', 'replay', 'x-tampered']);
    expect(seen).toBe(3);
  });

  it('swap the leader and inject a fake participant into the roster claim', async () => {
    const { a } = await meetingWith({
      leader: (_choice, roster) => ({
        participantId: roster.at(-1)!.participantId,
        reason: 'longest_present',
      }),
      roster: (roster) => [
        ...roster,
        {
          participantId: '4000000000',
          displayName: 'Eve',
          client: 'room',
          protocol: 1,
          deviceId: 'eve',
          identityKey: null,
          host: false,
          e2eeCapable: true,
          joinedAt: 0,
        },
      ],
    });
    expect(a.last('roster')?.participants.map((p) => p.displayName)).toContain('Eve');
    expect(a.last('leader')?.participantId).toBe('4000000000');
  });

  it('downgrade an E2EE meeting and send a server-made key', async () => {
    const { a } = await meetingWith({
      meetingInfo: (info) => ({ ...info, encryption: 'enhanced', disabledFeatures: [] }),
      serverKeyInE2ee: () => true,
    });
    expect(a.last('meeting-info')?.encryption).toBe('enhanced');
    expect(a.last('meeting-key')?.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('admit a client the rules refuse', async () => {
    const { h, m } = await meetingWith({
      admission: (decision, join) => (join.client === 'phone' ? { kind: 'admitted', host: false } : decision),
    });
    const phone = h.client();
    phone.join(m.id, { client: 'phone', protocol: 0 });
    expect(phone.last('admission')?.status).toBe('admitted');
    expect(phone.last('roster')?.participants.find((p) => p.client === 'phone')?.e2eeCapable).toBe(false);
  });

  it('inject messages and record every signaling byte both ways', async () => {
    const bytes: { dir: string; text: string }[] = [];
    const { h, a } = await meetingWith({
      tap: (dir, channel, data) => {
        if (channel === 'signaling') bytes.push({ dir, text: Buffer.from(data).toString('utf8') });
      },
    });
    a.send({ type: 'e2ee', to: 'leader', payload: 'secret-looking' });
    expect(bytes.some((b) => b.dir === 'in' && b.text.includes('secret-looking'))).toBe(true);
    expect(bytes.some((b) => b.dir === 'out' && b.text.includes('secret-looking'))).toBe(true);
    expect(bytes.some((b) => b.dir === 'out' && b.text.includes('"type":"hello"'))).toBe(true);
    const live = [...h.core.live.values()][0]!;
    const target = [...live.participants.values()].find((p) => !p.host)!;
    target.send({ type: 'e2ee', to: 'all', from: '777', payload: 'forged' });
    expect(a.last('e2ee')).toMatchObject({ from: '777', payload: 'forged' });
  });

  it('drop an incoming message before the relay handles it', async () => {
    const { host, a } = await meetingWith({ incoming: (msg) => (msg.type === 'e2ee' ? null : msg) });
    a.send({ type: 'e2ee', to: 'leader', payload: 'lost' });
    expect(host.all('e2ee')).toHaveLength(0);
  });
});
