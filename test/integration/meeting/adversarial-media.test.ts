import { afterEach, describe, expect, it } from 'vitest';
import { allSecure, sleep, waitFor } from '../../helpers/meeting-harness.ts';
import {
  closeRoom,
  expectNeverE2ee,
  LONG,
  openOnDecryptFailure,
  type Room,
  secureRoom,
} from './adversary-room.ts';

afterEach(closeRoom);

/**
 * The attack stops after half a second more of it: meanwhile the victim never showed e2ee and
 * opened nothing wrong; then it is back to e2ee with everyone, with fresh frames from `from`.
 */
async function endAttack(r: Room, attack: { on: boolean }, from: string, everyone: string[]): Promise<void> {
  await sleep(500);
  attack.on = false;
  r.watch.closeAll();
  expectNeverE2ee(r, ['Victim']);
  const victim = r.p('Victim');
  expect(victim.badTotal()).toBe(0);
  const ok = victim.okFrom(from);
  await waitFor(
    () => allSecure(everyone.map((n) => r.p(n))) && victim.okFrom(from) > ok + 5,
    'frames and e2ee back',
    LONG,
  );
}

describe('the relay is the adversary: media frames', () => {
  it('tampered frames are refused and raise the integrity alarm; never e2ee; recovers', async () => {
    const attack = { on: false };
    let ids = { from: '', to: '' };
    const r = await secureRoom(
      {
        media(chunk, ctx) {
          if (!attack.on || ctx.from !== ids.from || ctx.to !== ids.to) return chunk;
          const bad = chunk.slice();
          const i = bad.length - 1;
          bad[i] = (bad[i] ?? 0) ^ 0x01;
          return bad;
        },
      },
      ['Host', 'Victim'],
    );
    const victim = r.p('Victim');
    ids = { from: r.pid('Host'), to: r.pid('Victim') };
    openOnDecryptFailure(r, 'Victim', () => attack.on);
    attack.on = true;
    await waitFor(() => victim.media.decryptFailures.audio > 3, 'decrypt failures', LONG);
    await waitFor(() => victim.session.snapshot.shield === 'partial', 'integrity alarm', LONG);
    expect(victim.session.snapshot.alarms.join(' ')).toMatch(/altered or replayed/);
    await endAttack(r, attack, ids.from, ['Host', 'Victim']);
  });

  it('replayed frames (with fresh cleartext frame numbers) are refused; never e2ee; recovers', async () => {
    const attack = { on: false };
    let ids = { from: '', to: '' };
    const recent: Uint8Array[] = [];
    let replays = 0;
    const r = await secureRoom(
      {
        media(chunk, ctx) {
          // Audio (stream kind 0) frames are one chunk each.
          if (ctx.from !== ids.from || ctx.to !== ids.to || chunk[1] !== 0) return chunk;
          recent.push(chunk.slice());
          if (recent.length > 6) recent.shift();
          if (!attack.on || recent.length < 6) return chunk;
          const old = recent[0]!.slice();
          old.set(chunk.subarray(8, 12), 8); // the current frame number, so loss tracking lets it in
          replays++;
          return [old, chunk];
        },
      },
      ['Host', 'Victim'],
    );
    const victim = r.p('Victim');
    ids = { from: r.pid('Host'), to: r.pid('Victim') };
    openOnDecryptFailure(r, 'Victim', () => attack.on);
    attack.on = true;
    await waitFor(() => victim.media.decryptFailures.audio > 3, 'replays refused', LONG);
    await waitFor(() => victim.session.snapshot.shield === 'partial', 'integrity alarm', LONG);
    await endAttack(r, attack, ids.from, ['Host', 'Victim']);
    expect(replays).toBeGreaterThan(3);
  });

  it('frames relabelled with another sender are refused and raise the integrity alarm; never e2ee; recovers', async () => {
    const attack = { on: false };
    let ids = { from: '', to: '', as: 0 };
    const r = await secureRoom(
      {
        media(chunk, ctx) {
          if (!attack.on || ctx.from !== ids.from || ctx.to !== ids.to) return chunk;
          const relabelled = chunk.slice();
          new DataView(relabelled.buffer).setUint32(4, ids.as); // the cleartext sender field
          return relabelled;
        },
      },
      ['Host', 'A', 'Victim'],
    );
    const victim = r.p('Victim');
    ids = { from: r.pid('Host'), to: r.pid('Victim'), as: Number(r.pid('A')) };
    openOnDecryptFailure(r, 'Victim', () => attack.on);
    attack.on = true;
    await waitFor(() => victim.media.decryptFailures.audio > 3, 'relabelled frames refused', LONG);
    await waitFor(() => victim.session.snapshot.shield === 'partial', 'integrity alarm', LONG);
    await endAttack(r, attack, ids.from, ['Host', 'A', 'Victim']);
  });

  it('a relay that rewrites the audio level in the cleartext header: frames refused, alarm, never e2ee; recovers', async () => {
    // Making someone look silent (or loud) to the screens would move the big-meeting layers; the
    // level is authenticated with the frame (docs/protocol.md §Big meetings), so it cannot be changed.
    const attack = { on: false };
    let ids = { from: '', to: '' };
    let rewritten = 0;
    const r = await secureRoom(
      {
        media(chunk, ctx) {
          if (!attack.on || ctx.from !== ids.from || ctx.to !== ids.to || chunk[1] !== 0) return chunk;
          const quiet = chunk.slice();
          quiet[3] = (quiet[3]! & 1) | (127 << 1); // audio, flags: keyframe bit kept, level 127
          if (quiet[3] === chunk[3]) quiet[3] = (quiet[3]! & 1) | (0 << 1);
          rewritten++;
          return quiet;
        },
      },
      ['Host', 'Victim'],
    );
    const victim = r.p('Victim');
    ids = { from: r.pid('Host'), to: r.pid('Victim') };
    openOnDecryptFailure(r, 'Victim', () => attack.on);
    attack.on = true;
    await waitFor(
      () => victim.media.decryptFailures.audio > 3,
      'frames with a rewritten level refused',
      LONG,
    );
    await waitFor(() => victim.session.snapshot.shield === 'partial', 'integrity alarm', LONG);
    expect(rewritten).toBeGreaterThan(3);
    await endAttack(r, attack, ids.from, ['Host', 'Victim']);
  });
});
