/**
 * The demo environment: everything a room needs around it on one machine — an embedded meeting
 * relay, emulated room hardware on ptys (touch panel, VISCA camera, speakerphone), two meetings
 * booked for the room (one end-to-end encrypted, one enhanced) and simulated far-end people in
 * each, sending real encoded video and audio (ffmpeg test sources) or synthetic frames in tests.
 */
import { existsSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ViscaEmulator } from '../../device/camera/emulator.ts';
import { NextionEmulator } from '../../device/panel/emulator.ts';
import { createPtyPair, type PtyPair } from '../../device/pty.ts';
import { FakeSpeakerphone } from '../../device/speakerphone/emulator.ts';
import { serveSpeakerphone } from '../../device/speakerphone/serve.ts';
import { loadOrCreateIdentity } from '../config/identity.ts';
import { SystemClock } from '../core/clock.ts';
import type { Logger } from '../core/logger.ts';
import { createAudioCapture, createVideoCapture, type MediaCapture } from '../media/capture.ts';
import { HeadlessParticipant } from '../meeting/headless.ts';
import { toBase64Url } from '../protocol/codec.ts';
import type { ClientType, EncryptionMode } from '../protocol/limits.ts';
import { createRelay, type Relay } from '../relay/index.ts';
import { NodeProcessRunner } from '../system/process.ts';
import type { ByteStream } from '../transport/serial/stream.ts';
import { SerialPortByteStream } from '../transport/serial/serialport.ts';
import { WrtcPeerConnectionFactory } from '../transport/wrtc-peer.ts';
import { ephemeralIdentity } from './bot.ts';

export const DEMO_ROOM = 'Huddle Room 3';

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
  bots: HeadlessParticipant[];
}

export class DemoEnvironment {
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
  readonly #streams: ByteStream[] = [];
  readonly #captures: MediaCapture[] = [];
  readonly #stops: (() => void)[] = [];

  constructor(options: DemoOptions) {
    this.#o = options;
  }

  get signalUrl(): string {
    return this.relay.address.signalUrl;
  }

  async start(): Promise<void> {
    const dir = this.#o.stateDir;
    const devDir = path.join(dir, 'dev');
    await fsp.mkdir(devDir, { recursive: true, mode: 0o700 });
    this.relay = await this.#startRelay(path.join(dir, 'relay'));
    await this.#startDevices(devDir);
    this.#writeSettings(dir);
    // The room's own identity (made now if this is the first start): bookings name the device.
    this.roomDeviceId = (await loadOrCreateIdentity(dir)).identity.deviceId;
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
  }

  async #startRelay(stateDir: string): Promise<Relay> {
    const make = (port: number) =>
      createRelay({ host: '127.0.0.1', port, stateDir, logger: this.#o.log.child({ component: 'relay' }) });
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
    const i = this.#ptys.findIndex((p) => p.hostPath === this.devicePaths.panel);
    const [pty] = this.#ptys.splice(i, 1);
    const [stream] = this.#streams.splice(i, 1);
    await stream?.close().catch(() => {});
    await pty?.close();
    const devDir = path.dirname(this.devicePaths.panel);
    const fresh = await createPtyPair(this.devicePaths.panel, path.join(devDir, 'panel-device'));
    const s = await SerialPortByteStream.open(fresh.devicePath, 115200);
    this.#ptys.splice(i, 0, fresh);
    this.#streams.splice(i, 0, s);
    // A freshly powered panel: blank pages, announcing itself.
    this.panel = new NextionEmulator();
    this.panel.attach(s);
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
    this.#stops.push(serveSpeakerphone(phone.stream, this.speakerphone));
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
    const clock = new SystemClock();
    const peers = new WrtcPeerConnectionFactory();
    const log = this.#o.log.child({ component: 'demo-bots' });
    const runner = new NodeProcessRunner();
    for (const spec of MEETINGS) {
      const identities = spec.people.map(() => ephemeralIdentity('demo'));
      const hostIndex = spec.people.findIndex((p) => p.host);
      const now = Date.now();
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
      const bots = spec.people.map((person, i) => {
        const captures =
          this.#o.botMedia === 'ffmpeg'
            ? this.#botCaptures(person, i, { runner, clock, logger: log })
            : undefined;
        return new HeadlessParticipant({
          meetingId: record.id,
          ...(spec.passcode === null ? {} : { passcode: spec.passcode }),
          relayUrl: this.relay.address.signalUrl,
          displayName: person.name,
          clientType: person.client,
          identity: identities[i]!,
          peers,
          clock,
          log,
          videoFps: 10,
          audioFps: 25,
          ...(captures === undefined ? {} : { captures }),
        });
      });
      // The host first: in an E2EE meeting nobody gets in before the host.
      for (const b of bots) await b.join();
      this.meetings.push({ id: record.id, title: spec.title, encryption: spec.encryption, bots });
    }
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
