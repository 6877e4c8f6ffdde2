/**
 * An unclaimed room (docs/decisions/0015-the-screen-follows-the-meeting.md): the demo room before
 * anyone claimed it joins its E2EE meeting from the touch panel or the kiosk, and from the first
 * state of the join to the end of the meeting the room screen shows the meeting — never the setup
 * screen — because a room never sends sound or picture without showing it. The setup screen names
 * only admin addresses that answer (127.0.0.1 in the demo).
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseScreen } from '../../../kiosk-ui/src/screens/choose.ts';
import { type DemoRun, startDemo } from '../../../demo/run.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { RoomState } from '../../../src/http/schemas/state.ts';
import { waitFor } from '../../helpers/meeting-harness.ts';
import { freePort } from '../../helpers/ports.ts';

let demo: DemoRun;
let dir: string;
let adminPort: number;

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-unclaimed-'));
  adminPort = await freePort();
  demo = await startDemo({
    stateDir: dir,
    log: silentLogger(),
    env: {},
    relayPort: 0,
    kioskPort: await freePort(),
    adminPort,
    botMedia: 'synthetic',
    roomMedia: null,
  });
}, 120_000);

afterAll(async () => {
  await demo?.stop();
  await fsp.rm(dir, { recursive: true, force: true });
}, 60_000);

describe('an unclaimed room', () => {
  it('the setup screen names the admin address that answers, and the fingerprint', () => {
    const s = demo.app.http.hub.getState();
    expect(s.room.provisioned).toBe(false);
    expect(chooseScreen(s)).toBe('setup');
    expect(s.setup?.adminUrls).toEqual([`https://127.0.0.1:${adminPort}/`]);
    expect(s.setup?.certFingerprint).toBe(demo.app.http.certificate.fingerprint);
  });

  it('joins from the touch panel: the meeting screen shows from the first state of the join on, claimed or not', async () => {
    const states: RoomState[] = [];
    const off = demo.app.http.hub.subscribe((s) => states.push(s));
    const e2ee = demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
    const panel = demo.env.panel;
    await waitFor(() => panel.text('bJoin')?.includes(e2ee.title), 'the panel offers the meeting', 30_000);
    await waitFor(
      () => {
        try {
          panel.touch('bJoin');
          return true;
        } catch {
          return false;
        }
      },
      'a touch on Join',
      15_000,
    );
    await waitFor(() => demo.app.room?.meeting()?.shield === 'e2ee', 'the room in the meeting', 30_000);
    // The kiosk state follows the room a moment later (it is published, not read): wait for it.
    await waitFor(
      () => chooseScreen(demo.app.http.hub.getState()) === 'meeting',
      'the meeting screen',
      30_000,
    );
    const res = await fetch(new URL('/api/v1/leave', demo.kioskUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    off();
    const during = states.filter((s) => s.meeting !== null && s.meeting.status !== 'ended');
    expect(during.length).toBeGreaterThan(2);
    expect(during.every((s) => s.room.provisioned === false)).toBe(true);
    expect(during.map(chooseScreen)).not.toContain('setup');
    expect(during.map(chooseScreen)).toContain('meeting');
    expect(during.some((s) => s.meeting?.shield === 'e2ee' && s.meeting.securityCode !== null)).toBe(true);
    // Out of the meeting, the unclaimed room shows its setup screen again.
    expect(chooseScreen(demo.app.http.hub.getState())).toBe('setup');
  }, 90_000);
});
