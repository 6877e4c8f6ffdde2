import { afterEach, describe, expect, it } from 'vitest';
import { allSecure, type Harness, sleep, startHarness, waitFor } from '../../helpers/meeting-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('admission', () => {
  for (const client of ['phone', 'sip', 'web'] as const) {
    it(`a ${client} client is refused from an E2EE meeting with a reason and admitted to an enhanced one`, async () => {
      h = await startHarness();
      const e2ee = await h.meeting();
      const enhanced = await h.meeting({ encryption: 'enhanced' });
      const host = h.participant(e2ee, 'Host', { identity: h.host });
      await host.join();
      const refused = h.participant(e2ee, `Caller ${client}`, { client });
      const err = await refused.join().catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'relay.client_not_allowed' });
      expect(refused.session.snapshot.status).toBe('failed');
      expect(refused.session.snapshot.error?.message).toMatch(/end-to-end/i);
      const host2 = h.participant(enhanced, 'Host', { identity: h.host });
      await host2.join();
      const ok = h.participant(enhanced, `Caller ${client}`, { client });
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

  it('locks a client out after 10 wrong passcodes', async () => {
    h = await startHarness();
    const id = await h.meeting({ passcode: '424242' });
    const identity = (await import('../../../src/app/bot.ts')).ephemeralIdentity();
    const codes: unknown[] = [];
    for (let i = 0; i < 11; i++) {
      const p = h.participant(id, 'Guesser', { passcode: `00000${i}`, identity });
      codes.push(((await p.join().catch((e: unknown) => e)) as { code?: string }).code);
    }
    // Nine refusals say the passcode is wrong; the tenth failure locks the client out and says so.
    expect(codes.slice(0, 9)).toEqual(Array(9).fill('relay.bad_passcode'));
    expect(codes.slice(9)).toEqual(['relay.locked_out', 'relay.locked_out']);
    // Even the right passcode is refused while locked out.
    const right = h.participant(id, 'Guesser', { passcode: '424242', identity });
    await expect(right.join()).rejects.toMatchObject({ code: 'relay.locked_out' });
  });
});
