/**
 * `roomd bot` as a person runs it: joins a meeting through the relay, sends real ffmpeg media (or
 * synthetic frames), and prints its state, security code and what it received as JSON lines.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/app/main.ts';
import { type Harness, startHarness, waitFor } from '../../helpers/meeting-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe('roomd bot', () => {
  for (const media of ['synthetic', 'ffmpeg'] as const) {
    it(`joins, reaches e2ee with the host's code and prints what it received (${media})`, async () => {
      h = await startHarness();
      const id = await h.meeting();
      const host = h.participant(id, 'Host', { identity: h.host });
      await host.join();
      const out: string[] = [];
      const run = main(
        [
          'bot',
          '--relay',
          h.relay.address.signalUrl,
          '--meeting',
          id,
          '--name',
          'Bot',
          '--duration',
          '6',
          '--report',
          '0',
          '--media',
          media,
        ],
        { out: (l) => out.push(l), err: (l) => out.push(l), env: {} },
      );
      await waitFor(
        () => host.session.snapshot.participants.length === 2 && host.session.snapshot.shield === 'e2ee',
        'host sees the bot',
        20_000,
      );
      const botId = host.session.snapshot.participants.find((p) => p.name === 'Bot')?.id ?? '';
      expect(await run).toBe(0);
      const lines = out.map((l) => JSON.parse(l) as Record<string, unknown>);
      const secure = lines.find((l) => l['event'] === 'state' && l['shield'] === 'e2ee');
      expect(secure?.['securityCode']).toBe(host.session.snapshot.securityCode);
      const final = lines.find((l) => l['event'] === 'final') as {
        received: Record<string, { ok: number; bad: number }>;
      };
      const fromHost = Object.entries(final.received).filter(([k]) =>
        k.startsWith(`${host.session.participantId}/`),
      );
      expect(fromHost.reduce((s, [, c]) => s + c.ok, 0)).toBeGreaterThan(5);
      expect(fromHost.reduce((s, [, c]) => s + c.bad, 0)).toBe(0);
      // The host decrypted the bot's media too.
      expect(host.okFrom(botId) + (host.received.get(`${botId}/video`)?.bad ?? 0)).toBeGreaterThan(0);
    }, 60_000);
  }
});
