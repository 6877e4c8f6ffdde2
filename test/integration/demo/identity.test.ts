/**
 * Organization identities in the running demo (docs/admin.md §Organization identities, §Key pins):
 * the room is provisioned for "Demo Org" with a certificate for its own key; in the E2EE meeting the
 * room's kiosk state shows certified far-end people as verified with the organization and certified
 * name, an uncertified one as unverified, and a certified name with a new key as "key changed" until
 * an admin forgets the pin (roomctl identity forget), after which the new key is accepted. The admin
 * API and signed provisioning bundles refuse a certificate that is not for the room's key. Real
 * daemon, relay, wrtc and HTTPS admin API; the room's own camera and microphone are left out.
 */
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoRun, startDemo } from '../../../demo/run.ts';
import { DEMO_ROOM } from '../../../demo/cast.ts';
import { DEMO_ORG } from '../../../demo/org.ts';
import { readOrgKey } from '../../../src/config/org-key.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { issueCertificate } from '../../../src/e2ee/index.ts';
import { signBundle } from '../../../src/http/admin/bundle.ts';
import { runRoomctl } from '../../../src/http/roomctl/cli.ts';
import { toBase64Url } from '../../../src/protocol/codec.ts';
import { RoomctlExit } from '../../../src/http/roomctl/exit.ts';
import type { RoomState } from '../../../src/http/schemas/state.ts';
import { waitFor } from '../../helpers/meeting-harness.ts';
import { freePort } from '../../helpers/ports.ts';
import { kioskStateWhen } from '../../support/kiosk-state.ts';

let demo: DemoRun;
let dir: string;
let token: string;

type Person = NonNullable<RoomState['meeting']>['participants'][number];

const stateWhen = (ok: (s: RoomState) => boolean, what: string, timeoutMs?: number) =>
  kioskStateWhen(demo.kioskUrl, ok, what, timeoutMs);

const people = (s: RoomState, name: string): Person[] =>
  s.meeting?.participants.filter((p) => p.name === name) ?? [];

/** The participant lines the emulated touch panel shows on its meeting page (tPart0–3, tPartMore). */
const panelLines = (): string[] =>
  [0, 1, 2, 3]
    .map((i) => demo.env.panel.text(`tPart${i}`) ?? '')
    .concat(demo.env.panel.text('tPartMore') ?? '');

async function roomctl(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runRoomctl(
    [
      ...args,
      '--url',
      demo.app.http.urls().admin,
      '--fingerprint',
      demo.app.http.certificate.fingerprint,
      '--token',
      token,
      '--config',
      path.join(dir, 'roomctl.json'),
    ],
    { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {} },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function adminCall(method: 'GET' | 'PATCH' | 'POST', url: string, payload?: unknown) {
  return demo.app.http.admin.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

let options: Parameters<typeof startDemo>[0];

beforeAll(async () => {
  dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'roomd-demo-identity-'));
  options = {
    stateDir: dir,
    log: silentLogger(),
    env: {},
    relayPort: 0,
    kioskPort: await freePort(),
    adminPort: await freePort(),
    botMedia: 'synthetic',
    roomMedia: null,
  };
  demo = await startDemo(options);
  token = (await demo.app.http.auth.createToken('identity', 'admin', 'admin')).token;
}, 120_000);

async function join(): Promise<void> {
  const e2ee = demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
  await stateWhen((s) => s.schedule.length > 0, 'the schedule');
  const res = await fetch(new URL('/api/v1/join', demo.kioskUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ meetingId: e2ee.id }),
  });
  expect(res.status).toBe(200);
}

afterAll(async () => {
  await demo?.stop();
  await fsp.rm(dir, { recursive: true, force: true });
}, 60_000);

describe('organization identities in the demo', () => {
  it('the room is provisioned for Demo Org with a certificate for its own identity key', async () => {
    const r = await roomctl('identity', 'show', '--json');
    expect(r.code).toBe(RoomctlExit.ok);
    const shown = JSON.parse(r.out);
    expect(shown.certificateStatus).toMatchObject({
      status: 'verified',
      org: DEMO_ORG,
      name: DEMO_ROOM,
      kind: 'room',
    });
    expect(shown.certificate.key).toBe(shown.identityKey);
    expect(shown.trustAnchors).toEqual([expect.objectContaining(demo.env.anchor)]);
    expect(shown.unverifiedParticipants).toBe('warn');
    expect(shown.problems).toEqual([]);
    expect((await fsp.stat(path.join(dir, 'demo-org-key.json'))).mode & 0o777).toBe(0o600);
    const human = await roomctl('identity', 'show');
    expect(human.out).toContain(`Certificate    verified: "${DEMO_ROOM}" (room) of ${DEMO_ORG}`);
    // The identity routes need the admin scope.
    const { token: op } = await demo.app.http.auth.createToken('operator', 'operator', 'admin');
    const refused = await demo.app.http.admin.inject({
      method: 'GET',
      url: '/api/v1/identity/pins',
      headers: { authorization: `Bearer ${op}` },
    });
    expect(refused.statusCode).toBe(403);
  });

  it('certified people are verified with org and certified name; an uncertified one is not', async () => {
    const e2ee = demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
    await join();
    const s = await stateWhen(
      (x) =>
        x.meeting?.shield === 'e2ee' &&
        ['Alice Moreau', 'Bongani Dlamini'].every((n) => people(x, n)[0]?.identity.status === 'verified'),
      'the certified people verified',
    );
    expect(people(s, 'Alice Moreau')[0]).toMatchObject({
      verified: true,
      keyed: true,
      identity: { status: 'verified', org: DEMO_ORG, certifiedName: 'Alice Moreau', kind: 'person' },
    });
    // The far-end people see the room as Demo Org's room.
    for (const bot of e2ee.bots)
      await waitFor(
        () =>
          bot.session.snapshot.participants.some(
            (p) =>
              p.identity.status === 'verified' &&
              p.identity.org === DEMO_ORG &&
              p.identity.certifiedName === DEMO_ROOM,
          ),
        `${bot.name} sees the room verified`,
        15_000,
      );

    const visitor = await demo.env.addFarEndPerson({ kind: 'uncertified' });
    const v = await stateWhen((x) => people(x, visitor.name)[0]?.keyed === true, 'the visitor in the roster');
    expect(people(v, visitor.name)[0]).toMatchObject({
      verified: false,
      identity: {
        status: 'unverified',
        reason: 'no certificate',
        fingerprint: expect.stringMatching(/^[0-9a-f]{4}( [0-9a-f]{4}){3}$/),
      },
    });
    expect(v.meeting?.identityPolicy).toBe('warn');
    // The touch panel says the same: the unverified first, then the verified, each led by its mark.
    await waitFor(
      () => {
        const lines = panelLines();
        return lines[0] === `not verified: ${visitor.name}` && lines[1]?.startsWith('verified: ');
      },
      `the panel lists ${visitor.name} as not verified, before the verified people`,
      15_000,
    );
    await visitor.leave();
  }, 90_000);

  it('a certified name with a new key shows "key changed"; after forget, the new key is accepted', async () => {
    const e2ee = demo.env.meetings.find((m) => m.encryption === 'e2ee')!;
    const name = 'Bongani Dlamini';
    const listed = JSON.parse((await roomctl('identity', 'pins', '--json')).out) as {
      pins: { org: string; name: string; fingerprint: string; key: string; firstSeen: string }[];
    };
    const before = listed.pins.find((p) => p.org === DEMO_ORG && p.name === name);
    expect(before).toBeDefined();
    expect(listed.pins.map((p) => p.name)).toEqual(expect.arrayContaining(['Alice Moreau', name]));

    const rekeyed = await demo.env.addFarEndPerson({ kind: 'rekeyed' });
    expect(rekeyed.name).toBe(name);
    const s = await stateWhen(
      (x) => people(x, name).some((p) => p.identity.status === 'key-changed'),
      'key changed',
    );
    const changed = people(s, name).find((p) => p.identity.status === 'key-changed')!;
    await waitFor(
      () => panelLines()[0] === `KEY CHANGED: ${name}`,
      'the panel lists the changed key first',
      15_000,
    );
    expect(changed).toMatchObject({ verified: false, identity: { org: DEMO_ORG, certifiedName: name } });
    expect((changed.identity as { fingerprint: string }).fingerprint).not.toBe(before!.fingerprint);

    // Bongani's old device is gone for good; the admin accepts the new key.
    await e2ee.bots.find((b) => b.name === name && b !== rekeyed)!.leave();
    await rekeyed.leave();
    await stateWhen((x) => people(x, name).length === 0, `${name} gone`);
    const forgot = await roomctl('identity', 'forget', '--org', DEMO_ORG, '--name', name);
    expect(forgot.code).toBe(RoomctlExit.ok);
    expect(forgot.out).toContain('Forgot');
    expect((await roomctl('identity', 'forget', '--org', DEMO_ORG, '--name', name)).code).toBe(
      RoomctlExit.failure,
    );

    const again = await demo.env.addFarEndPerson({ kind: 'rekeyed' });
    const ok = await stateWhen(
      (x) => people(x, name)[0]?.identity.status === 'verified',
      'the new key verified',
    );
    expect(people(ok, name)[0]?.identity).toMatchObject({ org: DEMO_ORG, certifiedName: name });
    const after = JSON.parse((await roomctl('identity', 'pins', '--json')).out) as typeof listed;
    const pinned = after.pins.find((p) => p.name === name)!;
    expect(pinned.fingerprint).not.toBe(before!.fingerprint);
    expect(pinned.fingerprint).toBe((people(ok, name)[0]!.identity as { fingerprint: string }).fingerprint);
    // And it is on disk for the next start.
    const onDisk = async () =>
      (
        JSON.parse(await fsp.readFile(path.join(dir, 'identity-pins.json'), 'utf8')) as {
          pins: { name: string; key: string }[];
        }
      ).pins;
    const until = Date.now() + 10_000;
    while (
      !(await onDisk()).some((p) => p.name === name && p.key === after.pins.find((x) => x.name === name)!.key)
    ) {
      if (Date.now() > until) throw new Error('the new pin never reached the disk');
      await new Promise((r) => setTimeout(r, 100));
    }
    await again.leave();
  }, 90_000);

  it('the enhanced meeting a Demo Org host booked and signed is joined; one the relay alone calls enhanced is refused', async () => {
    const post = (url: string, body: unknown) =>
      fetch(new URL(url, demo.kioskUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // Out of the E2EE meeting the earlier tests joined, if any.
    await post('/api/v1/leave', {});
    await stateWhen((x) => x.meeting === null || x.meeting.status === 'ended', 'out of the meeting');
    const enhanced = demo.env.meetings.find((m) => m.encryption === 'enhanced')!;
    expect((await post('/api/v1/join', { meetingId: enhanced.id })).status).toBe(200);
    const joined = await stateWhen((x) => x.meeting?.shield === 'enhanced', 'the enhanced shield');
    expect(joined.meeting?.securityCode).toBeNull();
    expect((await post('/api/v1/leave', {})).status).toBe(200);
    await stateWhen((x) => x.meeting === null || x.meeting.status === 'ended', 'out of the meeting');
    // The same kind of meeting without a host's signature: under the default `booked` minimum the
    // relay's word is not enough.
    const bare = await demo.env.relay.registry.create({
      title: 'Unsigned',
      hostIdentityKey: toBase64Url(ed25519.getPublicKey(ed25519.utils.randomSecretKey())),
      encryption: 'enhanced',
      joinBeforeHost: true,
    });
    expect((await post('/api/v1/join', { meetingId: bare.id.replaceAll('-', '') })).status).toBe(200);
    const refused = await waitFor(
      () => {
        const m = demo.app.room?.meeting();
        return m?.id === bare.id.replaceAll('-', '') && m.error !== null ? m : null;
      },
      'the refusal',
      30_000,
    );
    expect(refused?.error?.code).toBe('e2ee.downgrade');
    expect(refused?.error?.message).toMatch(/no host this room trusts booked it that way/);
    expect(refused?.shield).toBe('none');
  }, 90_000);

  it('the admin API and signed bundles refuse a certificate for another key, and install a right one', async () => {
    const demoOrg = await readOrgKey(path.join(dir, 'demo-org-key.json'));
    const shown = JSON.parse((await roomctl('identity', 'show', '--json')).out) as { identityKey: string };
    const now = Date.now();
    const certFor = (key: Uint8Array, org = demoOrg) =>
      issueCertificate(
        {
          org: org.org,
          name: DEMO_ROOM,
          kind: 'room',
          key,
          notBefore: now - 60_000,
          notAfter: now + 86_400_000,
        },
        org.secretKey,
      );
    const otherKey = ed25519.getPublicKey(ed25519.utils.randomSecretKey());
    const roomKey = new Uint8Array(Buffer.from(shown.identityKey, 'base64url'));

    const patched = await adminCall('PATCH', '/api/v1/settings', {
      identity: { certificate: certFor(otherKey) },
    });
    expect(patched.statusCode).toBe(400);
    expect(patched.json().error.code).toBe('config.invalid');
    expect(patched.json().error.fields).toEqual([
      { path: 'identity.certificate', message: expect.stringContaining("not this room's") },
    ]);

    // A new organization through roomctl: org-init, issue for the room's key, provision.
    const acmeFile = path.join(dir, 'acme.key.json');
    const anchorFile = path.join(dir, 'acme.anchor.json');
    const certFile = path.join(dir, 'room.cert.json');
    const init = await roomctl('identity', 'org-init', '--org', 'Acme Corp', '--out', acmeFile);
    await fsp.writeFile(anchorFile, init.out);
    const issued = await roomctl(
      'identity',
      'issue',
      '--org-key',
      acmeFile,
      '--name',
      'Fjord',
      '--kind',
      'room',
      '--key',
      shown.identityKey,
    );
    await fsp.writeFile(certFile, issued.out);
    // The certificate alone is refused (its organization is not trusted yet), naming why.
    const alone = await roomctl('identity', 'provision', '--cert', certFile);
    expect(alone.code).toBe(RoomctlExit.dataErr);
    expect(alone.err).toContain('not one of identity.trustAnchors');
    const prov = await roomctl('identity', 'provision', '--anchor', anchorFile, '--cert', certFile, '--json');
    expect(prov.code).toBe(RoomctlExit.ok);
    const installed = JSON.parse(prov.out);
    expect(installed.certificateStatus).toMatchObject({
      status: 'verified',
      org: 'Acme Corp',
      name: 'Fjord',
    });
    expect(installed.trustAnchors.map((a: { org: string }) => a.org)).toEqual([DEMO_ORG, 'Acme Corp']);

    // Provisioning bundles go through the same check.
    const bundleKey = ed25519.utils.randomSecretKey();
    const bundle = (serial: number, settings: unknown) =>
      adminCall(
        'POST',
        '/api/v1/provision',
        signBundle({ serial, issuedAt: new Date(now).toISOString(), settings }, bundleKey),
      );
    const wrong = await bundle(1, { identity: { certificate: certFor(otherKey) } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.fields[0].path).toBe('identity.certificate');
    const right = await bundle(2, {
      identity: { trustAnchors: [demo.env.anchor], certificate: certFor(roomKey) },
      encryption: { unverifiedParticipants: 'refuse' },
    });
    expect(right.statusCode).toBe(200);
    const back = JSON.parse((await roomctl('identity', 'show', '--json')).out);
    expect(back.certificateStatus).toMatchObject({ status: 'verified', org: DEMO_ORG });
    expect(back.trustAnchors.map((a: { org: string }) => a.org)).toEqual([DEMO_ORG]);
    expect(back.unverifiedParticipants).toBe('refuse');
  }, 60_000);
  it('a second demo start keeps the organization and the people keys: pinned people stay verified', async () => {
    const before = JSON.parse((await roomctl('identity', 'show', '--json')).out);
    const anchor = demo.env.anchor;
    await demo.stop();
    demo = await startDemo(options);
    token = (await demo.app.http.auth.createToken('identity', 'admin', 'admin')).token;
    expect(demo.env.anchor).toEqual(anchor);
    const after = JSON.parse((await roomctl('identity', 'show', '--json')).out);
    expect(after.identityKey).toBe(before.identityKey);
    // The certificate the last test installed runs out within a day: the demo renewed it.
    expect(after.certificateStatus).toMatchObject({ status: 'verified', org: DEMO_ORG });
    expect(after.certificate.notAfter).toBeGreaterThan(Date.now() + 3000 * 86_400_000);
    await join();
    // Alice has the key she had at the first start, which the room pinned then.
    const s = await stateWhen(
      (x) => people(x, 'Alice Moreau')[0]?.identity.status === 'verified',
      'Alice verified',
    );
    expect(people(s, 'Alice Moreau')[0]?.identity).toMatchObject({
      org: DEMO_ORG,
      certifiedName: 'Alice Moreau',
    });
  }, 120_000);
});
