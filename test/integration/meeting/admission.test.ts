import { afterEach, describe, expect, it } from 'vitest';
import { allSecure, type Harness, sleep, startHarness, waitFor } from '../../helpers/meeting-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('admission', () => {
  // A web client without the E2EE protocol (protocol 0); the one in web/ runs it and is admitted.
  for (const client of ['phone', 'sip', 'web'] as const) {
    it(`a ${client} client is refused from an E2EE meeting with a reason and admitted to an enhanced one`, async () => {
      h = await startHarness();
      const e2ee = await h.meeting();
      const enhanced = await h.meeting({ encryption: 'enhanced' });
      const host = h.participant(e2ee, 'Host', { identity: h.host });
      await host.join();
      const refused = h.participant(e2ee, `Caller ${client}`, { client, protocolVersion: 0 });
      const err = await refused.join().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'relay.client_not_allowed' });
      expect(refused.session.snapshot.status).toBe('failed');
      expect(refused.session.snapshot.error?.message).toMatch(/end-to-end/i);
      const host2 = h.participant(enhanced, 'Host', { identity: h.host });
      await host2.join();
      const ok = h.participant(enhanced, `Caller ${client}`, { client, protocolVersion: 0 });
      await ok.join();
      await waitFor(() => ok.session.snapshot.shield === 'enhanced', 'admitted to enhanced');
    });
  }

  it('an old-protocol client is refused from an E2EE meeting', async () => {
    h = await startHarness();
    const id = await h.meeting();
    await h.participant(id, 'Host', { identity: h.host }).join();
    const old = h.participant(id, 'Old app', { protocolVersion: 0 });
    await expect(old.join()).rejects.toMatchObject({ code: 'relay.client_not_allowed' });
  });

  it('others wait for the host, see that they wait, and get in when the host comes', async () => {
    h = await startHarness();
    const id = await h.meeting();
    const early = h.participant(id, 'Early');
    await early.join();
    expect(early.session.snapshot.status).toBe('waiting-for-host');
    await sleep(300);
    expect(early.session.snapshot.status).toBe('waiting-for-host');
    const host = h.participant(id, 'Host', { identity: h.host });
    await host.join();
    await waitFor(() => allSecure([early, host]), 'both secure once the host joined');
  });

  it("a client's own wrong passcodes make only that client wait; the right one gets in after the wait", async () => {
    h = await startHarness();
    const id = await h.meeting({ passcode: '424242' });
    const identity = (await import('../../../src/app/bot.ts')).ephemeralIdentity();
    const codes: unknown[] = [];
    const attempt = async (passcode: string, who = identity) => {
      const p = h!.participant(id, 'Guesser', { passcode, identity: who });
      const r = await p.join().catch((e: unknown) => e);
      return r instanceof Error ? (r as { code?: string }).code : p.session.snapshot.status;
    };
    for (let i = 0; i < 6; i++) codes.push(await attempt(`00000${i}`));
    // docs/protocol.md §Wrong passcodes: 5 free failures per proven identity, then a wait (2 s, doubling).
    expect(codes).toEqual([...Array(5).fill('relay.bad_passcode'), 'relay.locked_out']);
    // Even the right passcode is held back while it waits...
    expect(await attempt('424242')).toBe('relay.locked_out');
    // ...but another device is not: nobody can aim a lockout at someone else.
    const other = (await import('../../../src/app/bot.ts')).ephemeralIdentity();
    expect(await attempt('424242', other)).toBe('waiting-for-host');
    // Once the wait is over, the right passcode gets in.
    let last: unknown;
    const until = Date.now() + 10_000;
    for (;;) {
      last = await attempt('424242');
      if (last !== 'relay.locked_out' || Date.now() > until) break;
      await sleep(250);
    }
    expect(last).toBe('waiting-for-host');
  });
});
