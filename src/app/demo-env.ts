/**
 * The demo environment: everything a room needs around it on one machine — an embedded meeting
 * relay, emulated room hardware on ptys (touch panel, VISCA camera, speakerphone), two meetings
 * booked for the room (one end-to-end encrypted, one enhanced) and simulated far-end people in
 * each, sending real encoded video and audio (ffmpeg test sources) or synthetic frames in tests.
 *
 * It also plays a demo organization, "Demo Org" (docs/admin.md §Organization identities): its
 * anchor key is made once in the state directory, the room is provisioned with that anchor and a
 * certificate for its own identity key, and the far-end people hold Demo Org certificates for keys
 * kept in the state directory too (so the room's key pins hold from one demo start to the next).
 *
 * It is also the demo's director (docs/kiosk-and-admin-api.md §roomctl demo, `DemoDirector`): the
 * host leaves and comes back, people join and leave, a phone or an old app is refused, the relay
 * restarts — on command, so a person can watch what the room screen says each time.
 */
import { existsSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ViscaEmulator } from '../../device/camera/emulator.ts';
import { NextionEmulator } from '../../device/panel/emulator.ts';
import { createPtyPair, type PtyPair } from '../../device/pty.ts';
import { FakeSpeakerphone } from '../../device/speakerphone/emulator.ts';
import { serveSpeakerphone } from '../../device/speakerphone/serve.ts';
import { ed25519 } from '@noble/curves/ed25519.js';
import { loadOrCreateIdentity } from '../config/identity.ts';
import { createOrgKey, type OrgKey, orgAnchor, readOrgKey } from '../config/org-key.ts';
import { SettingsStore } from '../config/settings.ts';
import { SystemClock } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { JsonFileStore } from '../core/store.ts';
import type { IdentityCertificate, TrustAnchor } from '../e2ee/index.ts';
import type { DemoDirector, DemoRefusedReply, DemoStatusReply } from '../http/admin/demo-director.ts';
import { createAudioCapture, createVideoCapture, type MediaCapture } from '../media/capture.ts';
import { HeadlessParticipant } from '../meeting/headless.ts';
import { toBase64Url } from '../protocol/codec.ts';
import type { ClientType, EncryptionMode } from '../protocol/limits.ts';
import { createRelay, type Relay } from '../relay/index.ts';
import { NodeProcessRunner } from '../system/process.ts';
import type { ByteStream } from '../transport/serial/stream.ts';
import { SerialPortByteStream } from '../transport/serial/serialport.ts';
import { WorkerPeerConnectionFactory } from '../transport/worker-peer.ts';
import { certify, ephemeralIdentity, orgTrust } from './bot.ts';

export const DEMO_ROOM = 'Huddle Room 3';
export const DEMO_ORG = 'Demo Org';
/** The room's demo certificate is valid this long and renewed at a start when less than a month is left. */
const ROOM_CERT_DAYS = 3650;
const RENEW_BEFORE_MS = 30 * 86_400_000;

type Identity = ReturnType<typeof ephemeralIdentity>;

/** `<state dir>/demo-people.json`: the far-end people's identity keys (Ed25519 seeds, base64url). */
interface PeopleFile {
  version: 1;
  people: Record<string, string>;
}

function parsePeople(raw: unknown): PeopleFile {
  const r = raw as Partial<PeopleFile> | null;
  if (typeof r !== 'object' || r === null || r.version !== 1) throw new Error('unknown version');
  const people = r.people;
  if (typeof people !== 'object' || people === null || Array.isArray(people)) throw new Error('no people');
  const entries = Object.entries(people);
  if (entries.length > 64) throw new Error('too many people');
  for (const [, v] of entries)
    if (typeof v !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(v)) throw new Error('a key is not 32 bytes');
  return { version: 1, people: Object.fromEntries(entries) as Record<string, string> };
}

function identityFrom(seed: Uint8Array, prefix: string): Identity {
  return {
    deviceId: `${prefix}-${Buffer.from(ed25519.getPublicKey(seed).subarray(0, 5)).toString('hex')}`,
    publicKey: ed25519.getPublicKey(seed),
    secretKey: seed,
  };
}

/** What a test asks `addFarEndPerson` for. */
export type ExtraPersonKind = 'certified' | 'uncertified' | 'rekeyed';

export interface DemoOptions {
  stateDir: string;
  log: Logger;
  /** Relay port; 0 picks a free one. */
  relayPort?: number;
  /** 'ffmpeg' sends real VP8/Opus from test sources; 'synthetic' is cheap for tests. */
  botMedia?: 'ffmpeg' | 'synthetic';
  /** Kiosk and admin ports written into the demo's settings on first start. */
  kioskPort?: number;
  adminPort?: number;
}

interface DemoPerson {
  name: string;
  client: ClientType;
  host: boolean;
}

interface DemoMeeting {
  title: string;
  encryption: EncryptionMode;
  passcode: string | null;
  startInMin: number;
  people: DemoPerson[];
}

const MEETINGS: DemoMeeting[] = [
  {
    title: 'Design review',
    encryption: 'e2ee',
    passcode: '246810',
    startInMin: -5,
    people: [
      { name: 'Alice Moreau', client: 'desktop', host: true },
      { name: 'Bongani Dlamini', client: 'mobile', host: false },
    ],
  },
  {
    title: 'Supplier call',
    encryption: 'enhanced',
    passcode: null,
    startInMin: 55,
    people: [
      { name: 'Chen Wei', client: 'desktop', host: true },
      { name: 'Dial-in +41 44 000 00 00', client: 'phone', host: false },
    ],
  },
];

export interface DemoMeetingInfo {
  id: string;
  title: string;
  encryption: EncryptionMode;
  passcode: string | null;
  bots: HeadlessParticipant[];
}

/** Who a demo bot plays: for the director's status and its host commands. */
interface BotRole {
  client: ClientType;
  host: boolean;
  /** Put in by the director (addFarEndPerson), not one of the booked people. */
  extra: boolean;
}

const REFUSED_CLIENTS: Record<
  'phone' | 'web' | 'old-app',
  { client: ClientType; protocol?: number; name: string }
> = {
  phone: { client: 'phone', name: 'Dial-in +41 44 000 00 01' },
  web: { client: 'web', name: 'Browser guest' },
  'old-app': { client: 'desktop', protocol: 0, name: 'Old desktop app' },
};

/** The demo's emulated devices a director can unplug. */
export type DemoDevice = 'panel' | 'camera' | 'speakerphone';
const DEVICE_NAME: Record<DemoDevice, string> = {
  panel: 'touch panel',
  camera: 'camera',
  speakerphone: 'speakerphone',
};

export class DemoEnvironment implements DemoDirector {
  relay!: Relay;
  readonly meetings: DemoMeetingInfo[] = [];
  roomDeviceId = '';
  /** The room's credential on the demo relay (reads only its own schedule); handed to the daemon. */
  roomToken = '';
  panel = new NextionEmulator();
  camera = new ViscaEmulator();
  speakerphone!: FakeSpeakerphone;
  devicePaths!: { panel: string; camera: string; speakerphone: string };
  readonly #o: DemoOptions;
  readonly #ptys: PtyPair[] = [];
  #stopSpeakerphone: (() => void) | undefined;
  readonly #streams: ByteStream[] = [];
  readonly #captures: MediaCapture[] = [];
  readonly #stops: (() => void)[] = [];
  readonly #clock = new SystemClock();
  readonly #peers = new WorkerPeerConnectionFactory();
  readonly #runner = new NodeProcessRunner();
  #org!: OrgKey;
  #people: PeopleFile = { version: 1, people: {} };
  #extra = 0;
  readonly #roles = new WeakMap<HeadlessParticipant, BotRole>();

  constructor(options: DemoOptions) {
    this.#o = options;
  }

  get signalUrl(): string {
    return this.relay.address.signalUrl;
  }

  /** The demo organization's trust anchor (what the room and the far-end people trust). */
  get anchor(): TrustAnchor {
    return orgAnchor(this.#org);
  }

  async start(): Promise<void> {
    const dir = this.#o.stateDir;
    const devDir = path.join(dir, 'dev');
    await fsp.mkdir(devDir, { recursive: true, mode: 0o700 });
    this.relay = await this.#startRelay(path.join(dir, 'relay'));
    await this.#startDevices(devDir);
    this.#writeSettings(dir);
    // The room's own identity (made now if this is the first start): bookings name the device.
    const room = (await loadOrCreateIdentity(dir)).identity;
    this.roomDeviceId = room.deviceId;
    this.#org = await this.#orgKey(dir);
    await this.#provisionRoom(dir, room.publicKey);
    await this.#loadPeople();
    this.roomToken = await this.#issueRoomToken();
    await this.#bookMeetings();
  }

  async stop(): Promise<void> {
    await Promise.all(this.meetings.flatMap((m) => m.bots.map((b) => b.leave().catch(() => {}))));
    await Promise.all(this.#captures.map((c) => c.stop().catch(() => {})));
    for (const s of this.#stops.splice(0)) s();
    await Promise.all(this.#streams.map((s) => s.close().catch(() => {})));
    await Promise.all(this.#ptys.map((p) => p.close().catch(() => {})));
    await this.relay?.stop();
    await this.#peers.close();
  }

  async #startRelay(stateDir: string, port?: number): Promise<Relay> {
    const make = (port: number) =>
      createRelay({ host: '127.0.0.1', port, stateDir, logger: this.#o.log.child({ component: 'relay' }) });
    if (port !== undefined) {
      const relay = make(port);
      await relay.start();
      return relay;
    }
    const wanted = this.#o.relayPort ?? 7443;
    try {
      const relay = make(wanted);
      await relay.start();
      return relay;
    } catch (error) {
      if (wanted === 0 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      const relay = make(0);
      await relay.start();
      return relay;
    }
  }

  /** Pull the touch panel's cable and plug it back in (tests): a new line at the same path. */
  async replugPanel(): Promise<void> {
    await this.unplug({ device: 'panel' });
    await this.replug({ device: 'panel' });
  }

  /** Pull a device's cable: its line disappears from the path the room opens. */
  async unplug(o: { device: DemoDevice }): Promise<string> {
    const i = this.#ptys.findIndex((p) => p.hostPath === this.devicePaths[o.device]);
    if (i < 0) return `The ${DEVICE_NAME[o.device]} is already unplugged.`;
    const [pty] = this.#ptys.splice(i, 1);
    const [stream] = this.#streams.splice(i, 1);
    if (o.device === 'speakerphone') this.#stopSpeakerphone?.();
    await stream?.close().catch(() => {});
    await pty?.close();
    return `The ${DEVICE_NAME[o.device]} is unplugged; the room screen and the admin console say so.`;
  }

  /** Plug a device back in: a freshly powered one on a new line at the same path. */
  async replug(o: { device: DemoDevice }): Promise<string> {
    const hostPath = this.devicePaths[o.device];
    if (this.#ptys.some((p) => p.hostPath === hostPath)) return `The ${DEVICE_NAME[o.device]} is plugged in.`;
    const fresh = await createPtyPair(hostPath, path.join(path.dirname(hostPath), `${o.device}-device`));
    const s = await SerialPortByteStream.open(fresh.devicePath, 115200);
    this.#ptys.push(fresh);
    this.#streams.push(s);
    if (o.device === 'panel') {
      this.panel = new NextionEmulator();
      this.panel.attach(s);
    } else if (o.device === 'camera') {
      this.camera = new ViscaEmulator();
      this.camera.attach(s);
    } else {
      this.speakerphone = new FakeSpeakerphone('toggle', fresh.devicePath);
      this.#stopSpeakerphone = serveSpeakerphone(s, this.speakerphone);
    }
    return `The ${DEVICE_NAME[o.device]} is plugged in again; the room finds it on its own.`;
  }

  async #startDevices(devDir: string): Promise<void> {
    const pair = async (name: string) => {
      const pty = await createPtyPair(path.join(devDir, name), path.join(devDir, `${name}-device`));
      this.#ptys.push(pty);
      const stream = await SerialPortByteStream.open(pty.devicePath, 115200);
      this.#streams.push(stream);
      return { pty, stream };
    };
    const panel = await pair('panel');
    this.panel.attach(panel.stream);
    const camera = await pair('camera');
    this.camera.attach(camera.stream);
    const phone = await pair('speakerphone');
    this.speakerphone = new FakeSpeakerphone('toggle', phone.pty.devicePath);
    this.#stopSpeakerphone = serveSpeakerphone(phone.stream, this.speakerphone);
    this.#stops.push(() => this.#stopSpeakerphone?.());
    this.devicePaths = {
      panel: panel.pty.hostPath,
      camera: camera.pty.hostPath,
      speakerphone: phone.pty.hostPath,
    };
  }

  /** First start only: the demo room's settings (an admin may change them later, as on a real box). */
  #writeSettings(dir: string): void {
    const file = path.join(dir, 'settings.json');
    if (existsSync(file)) return;
    const settings = {
      schemaVersion: 2,
      room: { name: DEMO_ROOM },
      kiosk: { port: this.#o.kioskPort ?? 8080 },
      admin: { host: '127.0.0.1', port: this.#o.adminPort ?? 8443 },
      devices: {
        panel: { path: this.devicePaths.panel, baudRate: 115200 },
        camera: { control: 'visca', controlPath: this.devicePaths.camera },
        speakerphone: { hidraw: `hidstream:${this.devicePaths.speakerphone}` },
      },
      media: { width: 640, height: 360, framerate: 15, videoBitrateKbps: 600 },
    };
    writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  }

  /** A fresh room token each start (the previous ones are revoked), as an admin would issue one. */
  async #issueRoomToken(): Promise<string> {
    const registry = this.relay.registry;
    if (registry.rooms().some((r) => r.id === this.roomDeviceId))
      await registry.revokeRoomTokens(this.roomDeviceId);
    return (await registry.createRoomToken(this.roomDeviceId, { names: [DEMO_ROOM] })).token;
  }

  async #bookMeetings(): Promise<void> {
    const registry = this.relay.registry;
    for (const old of registry.list()) {
      if (old.room === DEMO_ROOM || old.room === this.roomDeviceId) await registry.delete(old.id);
    }
    const clock = this.#clock;
    for (const spec of MEETINGS) {
      const identities = spec.people.map((p) => this.#personIdentity(p.name));
      const hostIndex = spec.people.findIndex((p) => p.host);
      const now = clock.now();
      const record = await registry.create({
        title: spec.title,
        hostIdentityKey: toBase64Url(identities[hostIndex]!.publicKey),
        encryption: spec.encryption,
        passcode: spec.passcode,
        room: this.roomDeviceId,
        start: new Date(now + spec.startInMin * 60_000).toISOString(),
        end: new Date(now + (spec.startInMin + 60) * 60_000).toISOString(),
        ...(spec.encryption === 'enhanced' ? { joinBeforeHost: true } : {}),
      });
      const info: DemoMeetingInfo = {
        id: record.id,
        title: spec.title,
        encryption: spec.encryption,
        passcode: spec.passcode,
        bots: [],
      };
      for (const [i, person] of spec.people.entries()) {
        // A phone has no identity key to certify; everyone else holds a Demo Org certificate.
        const cert =
          person.client === 'phone'
            ? undefined
            : certify(this.#org, identities[i]!, person.name, 'person', now);
        const bot = this.#participant(info, person, i, identities[i]!, cert);
        this.#roles.set(bot, { client: person.client, host: person.host, extra: false });
        info.bots.push(bot);
      }
      // The host first: in an E2EE meeting nobody gets in before the host.
      for (const b of info.bots) await b.join();
      this.meetings.push(info);
    }
    await this.#savePeople();
  }

  /**
   * For tests: put one more far-end person into a demo meeting (default: the E2EE one) — 'uncertified'
   * holds no certificate; 'rekeyed' holds a Demo Org certificate for `name` (default: the meeting's
   * certified non-host person) but a NEW identity key, so a room that pinned that name shows "key
   * changed"; 'certified' is a new Demo Org person. Resolves once joined; stop() makes it leave.
   */
  async addFarEndPerson(o: {
    kind: ExtraPersonKind;
    name?: string;
    meetingId?: string;
  }): Promise<HeadlessParticipant> {
    const m =
      o.meetingId === undefined
        ? this.meetings.find((x) => x.encryption === 'e2ee')
        : this.meetings.find((x) => x.id === o.meetingId);
    const spec = MEETINGS.find((x) => x.title === m?.title);
    if (m === undefined || spec === undefined)
      throw new RoomdError('core.not_found', { message: 'There is no such demo meeting.' });
    const n = ++this.#extra;
    const pinned = spec.people.find((p) => !p.host && p.client !== 'phone') ?? spec.people[0]!;
    const name =
      o.name ??
      (o.kind === 'rekeyed' ? pinned.name : o.kind === 'certified' ? `Demo Guest ${n}` : `Visitor ${n}`);
    const identity = ephemeralIdentity('demo-extra');
    const cert =
      o.kind === 'uncertified' ? undefined : certify(this.#org, identity, name, 'person', this.#clock.now());
    const bot = this.#participant(
      m,
      { name, client: 'desktop', host: false },
      spec.people.length + n,
      identity,
      cert,
    );
    this.#roles.set(bot, { client: 'desktop', host: false, extra: true });
    m.bots.push(bot);
    await bot.join();
    return bot;
  }

  // ---- the director (DemoDirector) ----------------------------------------------------------

  status(): DemoStatusReply {
    return {
      relay: this.signalUrl,
      meetings: this.meetings.map((m) => ({
        id: m.id,
        title: m.title,
        encryption: m.encryption,
        people: m.bots.map((b) => {
          const role = this.#roles.get(b);
          return {
            name: b.name,
            client: role?.client ?? 'desktop',
            host: role?.host ?? false,
            present: isPresent(b),
          };
        }),
      })),
    };
  }

  async hostLeaves(o: { meetingId?: string } = {}): Promise<string> {
    const m = this.#meeting(o.meetingId);
    const host = m.bots.find((b) => this.#roles.get(b)?.host === true && isPresent(b));
    if (host === undefined)
      throw new RoomdError('http.conflict', { message: `The host of "${m.title}" is not in the meeting.` });
    await host.leave();
    return `${host.name} (the host) left "${m.title}".`;
  }

  async hostRejoins(o: { meetingId?: string } = {}): Promise<string> {
    const m = this.#meeting(o.meetingId);
    const spec = MEETINGS.find((x) => x.title === m.title);
    const i = m.bots.findIndex((b) => this.#roles.get(b)?.host === true);
    const person = spec?.people.find((p) => p.host);
    if (spec === undefined || person === undefined || i < 0)
      throw new RoomdError('core.not_found', { message: `"${m.title}" has no host.` });
    if (isPresent(m.bots[i]!))
      throw new RoomdError('http.conflict', {
        message: `${person.name} (the host) is in the meeting already.`,
      });
    const identity = this.#personIdentity(person.name);
    const cert = certify(this.#org, identity, person.name, 'person', this.#clock.now());
    const bot = this.#participant(m, person, spec.people.indexOf(person), identity, cert);
    this.#roles.set(bot, { client: person.client, host: true, extra: false });
    m.bots[i] = bot;
    await bot.join();
    return `${person.name} (the host) joined "${m.title}" again.`;
  }

  async personJoins(o: { meetingId?: string; kind: ExtraPersonKind; name?: string }): Promise<string> {
    const m = this.#meeting(o.meetingId);
    const bot = await this.addFarEndPerson({
      kind: o.kind,
      meetingId: m.id,
      ...(o.name === undefined ? {} : { name: o.name }),
    });
    const what =
      o.kind === 'certified'
        ? 'certified by Demo Org'
        : o.kind === 'uncertified'
          ? 'with no certificate'
          : 'certified by Demo Org, on a new identity key';
    return `${bot.name} joined "${m.title}" (${what}).`;
  }

  async personLeaves(o: { meetingId?: string; name?: string } = {}): Promise<string> {
    const m = this.#meeting(o.meetingId);
    const present = m.bots.filter(isPresent);
    const bot =
      o.name === undefined
        ? present.filter((b) => this.#roles.get(b)?.extra === true).at(-1)
        : present.find((b) => b.name === o.name);
    if (bot === undefined)
      throw new RoomdError('core.not_found', {
        message:
          o.name === undefined
            ? `Nobody the director added is in "${m.title}".`
            : `Nobody called "${o.name}" is in "${m.title}".`,
      });
    if (this.#roles.get(bot)?.host === true) return this.hostLeaves({ meetingId: m.id });
    await bot.leave();
    return `${bot.name} left "${m.title}".`;
  }

  /**
   * A client the E2EE rules keep out tries to join (with the right passcode): the meeting service
   * must refuse it, and nobody in the meeting hears of it.
   */
  async refusedJoin(o: {
    meetingId?: string;
    client: 'phone' | 'web' | 'old-app';
  }): Promise<DemoRefusedReply> {
    const m = this.#meeting(o.meetingId);
    const who = REFUSED_CLIENTS[o.client];
    const bot = new HeadlessParticipant({
      meetingId: m.id,
      ...(m.passcode === null ? {} : { passcode: m.passcode }),
      relayUrl: this.signalUrl,
      displayName: who.name,
      clientType: who.client,
      ...(who.protocol === undefined ? {} : { protocolVersion: who.protocol }),
      identity: ephemeralIdentity('demo-refused'),
      peers: this.#peers,
      clock: this.#clock,
      log: this.#o.log.child({ component: 'demo-bots' }),
      videoFps: 0,
      audioFps: 0,
    });
    try {
      await bot.join();
    } catch (error) {
      if (!(error instanceof RoomdError)) throw error;
      const reason = error.context['reason'];
      return {
        refused: true,
        code: error.code,
        ...(typeof reason === 'string' ? { reason } : {}),
        message: error.message,
      };
    }
    await bot.leave();
    return {
      refused: false,
      code: 'admitted',
      message: `The meeting service let ${who.name} into "${m.title}".`,
    };
  }

  /** Stop the relay and start it again on the same address; everyone in a meeting reconnects. */
  async restartRelay(): Promise<string> {
    const port = Number(new URL(this.signalUrl).port);
    await this.relay.stop();
    this.relay = await this.#startRelay(path.join(this.#o.stateDir, 'relay'), port);
    return `The meeting relay restarted at ${this.signalUrl}; everyone reconnects.`;
  }

  #meeting(meetingId: string | undefined): DemoMeetingInfo {
    const m =
      meetingId === undefined
        ? this.meetings.find((x) => x.encryption === 'e2ee')
        : this.meetings.find((x) => x.id.replace(/\D/g, '') === meetingId.replace(/\D/g, ''));
    if (m === undefined)
      throw new RoomdError('core.not_found', { message: 'There is no such demo meeting.' });
    return m;
  }

  #participant(
    m: Pick<DemoMeetingInfo, 'id' | 'passcode'>,
    person: DemoPerson,
    i: number,
    identity: Identity,
    certificate: IdentityCertificate | undefined,
  ): HeadlessParticipant {
    const log = this.#o.log.child({ component: 'demo-bots' });
    const captures =
      this.#o.botMedia === 'ffmpeg'
        ? this.#botCaptures(person, i, { runner: this.#runner, clock: this.#clock, logger: log })
        : undefined;
    return new HeadlessParticipant({
      meetingId: m.id,
      ...(m.passcode === null ? {} : { passcode: m.passcode }),
      relayUrl: this.relay.address.signalUrl,
      displayName: person.name,
      clientType: person.client,
      identity,
      trust: orgTrust(this.#org, certificate, this.#clock),
      peers: this.#peers,
      clock: this.#clock,
      log,
      videoFps: 10,
      audioFps: 25,
      ...(captures === undefined ? {} : { captures }),
    });
  }

  /** The demo organization's anchor key, made on the first start. */
  async #orgKey(dir: string): Promise<OrgKey> {
    const file = path.join(dir, 'demo-org-key.json');
    return existsSync(file) ? readOrgKey(file) : createOrgKey(file, DEMO_ORG, this.#clock.now());
  }

  /**
   * Provision the room for Demo Org: its anchor, and a certificate for the room's own key. Kept
   * as it is when it holds a fresh Demo Org certificate or one from another organization an admin
   * installed; (re)issued when there is none, or the Demo Org one is for another key or runs out.
   */
  async #provisionRoom(dir: string, roomKey: Uint8Array): Promise<void> {
    const store = new SettingsStore(dir);
    const loaded = await store.load({});
    // Settings the room cannot use: the daemon shows why (safe mode); nothing to provision.
    if (loaded.safeMode !== null) return;
    const s = loaded.stored;
    const anchor = this.anchor;
    const now = this.#clock.now();
    const c = s.identity.certificate;
    const ours = c !== null && c.issuer === anchor.publicKey;
    const fresh = ours && c.key === toBase64Url(roomKey) && c.notAfter - now > RENEW_BEFORE_MS;
    if (fresh || (c !== null && !ours)) return;
    const anchors = s.identity.trustAnchors.filter(
      (a) => !(a.org === anchor.org && a.publicKey === anchor.publicKey),
    );
    await store.save({
      ...s,
      identity: {
        trustAnchors: [...anchors, anchor],
        certificate: certify(this.#org, { publicKey: roomKey }, s.room.name, 'room', now, ROOM_CERT_DAYS),
      },
    });
  }

  #peopleStore(): JsonFileStore<PeopleFile> {
    return new JsonFileStore(path.join(this.#o.stateDir, 'demo-people.json'), parsePeople, { mode: 0o600 });
  }

  async #loadPeople(): Promise<void> {
    const read = await this.#peopleStore().read();
    if (read.problem !== undefined)
      this.#o.log.warn(
        { err: read.problem },
        'demo people keys damaged; new keys make the room show "key changed" for them (roomctl identity forget)',
      );
    this.#people = read.value ?? { version: 1, people: {} };
  }

  /** A far-end person's identity: the same key at every demo start. */
  #personIdentity(name: string): Identity {
    const known = this.#people.people[name];
    if (known !== undefined) return identityFrom(new Uint8Array(Buffer.from(known, 'base64url')), 'demo');
    const seed = ed25519.utils.randomSecretKey();
    this.#people.people[name] = Buffer.from(seed).toString('base64url');
    return identityFrom(seed, 'demo');
  }

  async #savePeople(): Promise<void> {
    await this.#peopleStore().write(this.#people);
  }

  #botCaptures(
    person: DemoPerson,
    i: number,
    deps: Parameters<typeof createVideoCapture>[2],
  ): MediaCapture[] | undefined {
    if (person.client === 'phone') {
      const audio = createAudioCapture(
        { type: 'test', frequencyHz: 330 + 110 * i },
        { bitrateKbps: 24 },
        deps,
      );
      this.#captures.push(audio);
      return [audio];
    }
    const font = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
    const video = createVideoCapture(
      { type: 'test', fontFile: existsSync(font) ? font : null, label: person.name },
      { codec: 'vp8', width: 320, height: 180, framerate: 12, bitrateKbps: 250 },
      deps,
    );
    const audio = createAudioCapture({ type: 'test', frequencyHz: 440 + 110 * i }, { bitrateKbps: 24 }, deps);
    this.#captures.push(video, audio);
    return [video, audio];
  }
}

/** In the meeting now (joining counts: it is on its way in). */
function isPresent(b: HeadlessParticipant): boolean {
  const st = b.session.snapshot.status;
  return st !== 'left' && st !== 'failed' && st !== 'idle';
}
