/**
 * The server under test for the kiosk e2e test (kiosk.test.ts). One function supplies it: today the
 * HTTP layer over fake room/admin backends; the lead can repoint `startKioskUnderTest` at the real
 * demo daemon as long as it returns the same shape.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FEED_CAMERA_STREAM } from '../../src/media/kiosk-feed.ts';
import { makeHttpFixture } from '../support/http-fixture.ts';
import { FakeRoom, verifiedAs } from '../support/http-fakes.ts';

export interface KioskUnderTest {
  /** http://127.0.0.1:port/ of the kiosk page */
  kioskUrl: string;
  /** https://127.0.0.1:port of the admin API, and its certificate fingerprint */
  adminUrl: string;
  certFingerprint: string;
  /** Drive the far end: a new leader takes over the meeting keys (security code changes). */
  changeLeader(): Promise<void>;
  /**
   * Drive the far end: the participant now holds a different identity key than the one its
   * organization certified before (the key-changed alarm).
   */
  changeIdentityKey?(participantId: string): Promise<void>;
  /** Drive the far end: a participant certified by the room's organization joins. */
  addVerifiedParticipant?(p: { id: string; name: string }): Promise<void>;
  /** Publish one encoded far-end video frame into the kiosk media feed. */
  publishVideo?(frame: { participantId: string; keyframe: boolean; data: Uint8Array; self?: boolean }): void;
  /**
   * Spend the admin API's global guess budget: wrong passwords from many network addresses
   * (docs/kiosk-and-admin-api.md §Lockout), so network sign-in pauses.
   */
  exhaustGuessBudget(): Promise<void>;
  close(): Promise<void>;
}

export async function startKioskUnderTest(options: { stepMs?: number } = {}): Promise<KioskUnderTest> {
  const room = new FakeRoom({ stepMs: options.stepMs ?? 400, name: 'Unnamed room' });
  const fixture = await makeHttpFixture({ room });
  await fixture.servers.module.start();
  const urls = fixture.servers.urls();
  return {
    kioskUrl: `${urls.kiosk}/`,
    adminUrl: urls.admin,
    certFingerprint: fixture.servers.certificate.fingerprint,
    async changeLeader() {
      room.changeLeader();
    },
    async changeIdentityKey(participantId) {
      room.changeIdentityKey(participantId);
    },
    async addVerifiedParticipant({ id, name }) {
      room.addParticipant({
        id,
        name,
        clientType: 'desktop',
        verified: true,
        keyed: true,
        identity: verifiedAs(name, 'person', '5e5e 7a7a 1c1c 3d3d'),
      });
    },
    publishVideo: (f) =>
      fixture.video.publish({ ...f, streamId: FEED_CAMERA_STREAM, codec: 'vp8', captureTs: Date.now() }),
    async exhaustGuessBudget() {
      // In parallel: each wrong password costs a scrypt check, and they run on the thread pool.
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          fixture.servers.admin.inject({
            method: 'POST',
            url: '/api/v1/login',
            remoteAddress: `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`,
            payload: { password: `wrong password ${i}` },
          }),
        ),
      );
    },
    close: () => fixture.close(),
  };
}

const UI_DIR = path.resolve(import.meta.dirname, '../../kiosk-ui');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Build kiosk-ui with Vite when dist is missing or older than its sources. */
export async function ensureKioskBuilt(): Promise<void> {
  const built = path.join(UI_DIR, 'dist', 'index.html');
  const sources = Math.max(
    newestMtime(path.join(UI_DIR, 'src')),
    // The page imports daemon modules too (the kiosk feed codec, src/media/kiosk-feed.ts).
    newestMtime(path.join(UI_DIR, '..', 'src')),
    fs.statSync(path.join(UI_DIR, 'index.html')).mtimeMs,
  );
  if (fs.existsSync(built) && fs.statSync(built).mtimeMs >= sources) return;
  const { build } = await import('vite');
  await build({ configFile: path.join(UI_DIR, 'vite.config.ts'), logLevel: 'warn' });
}
