/**
 * The demo environment: everything a room needs around it on one machine — an embedded meeting
 * relay, emulated room hardware on ptys (demo/devices.ts), the demo organization (demo/org.ts), two
 * meetings booked for the room with simulated far-end people in them (demo/cast.ts), and the
 * director that makes them act (demo/director.ts).
 */
import { existsSync, writeFileSync } from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { NextionEmulator } from '../device/panel/emulator.ts';
import type { ViscaEmulator } from '../device/camera/emulator.ts';
import type { FakeSpeakerphone } from '../device/speakerphone/emulator.ts';
import { loadOrCreateIdentity } from '../src/config/identity.ts';
import { SystemClock } from '../src/core/clock.ts';
import type { Logger } from '../src/core/logger.ts';
import type { TrustAnchor } from '../src/e2ee/index.ts';
import type { HeadlessParticipant } from '../src/meeting/headless.ts';
import { createRelay, type Relay, type RelayHooks } from '../src/relay/index.ts';
import { NodeProcessRunner } from '../src/system/process.ts';
import { WorkerPeerConnectionFactory } from '../src/transport/worker-peer.ts';
import { DEMO_ROOM, DemoCast, type DemoMeetingInfo, type ExtraPersonKind } from './cast.ts';
import { type DemoDevice, DemoDevices } from './devices.ts';
import { Director } from './director.ts';
import { DemoOrg } from './org.ts';

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
  /** Test injection point: the relay's hooks (src/relay/hooks.ts; the blind-relay test taps it). */
  relayHooks?: RelayHooks;
  /** Test injection point: the far-end people's E2EE randomness (MeetingSessionOptions.e2eeRandom). */
  e2eeRandom?: (n: number) => Uint8Array;
}

export class DemoEnvironment {
  readonly devices = new DemoDevices();
  /** The room's device id (its identity is made on the first start: bookings name the device). */
  roomDeviceId = '';
  /** The room's credential on the demo relay (reads only its own schedule); handed to the daemon. */
  roomToken = '';
  /** What `roomctl demo` drives (src/http/admin/demo-director.ts). */
  readonly director: Director;
  readonly #o: DemoOptions;
  readonly #clock = new SystemClock();
  readonly #peers = new WorkerPeerConnectionFactory();
  readonly #runner = new NodeProcessRunner();
  #relay: Relay | undefined;
  #org: DemoOrg | undefined;
  #cast: DemoCast | undefined;

  constructor(options: DemoOptions) {
    this.#o = options;
    this.director = new Director({
      cast: () => this.#started().cast,
      devices: this.devices,
      signalUrl: () => this.signalUrl,
      restartRelay: () => this.#restartRelay(),
    });
  }

  get relay(): Relay {
    if (this.#relay === undefined) throw new Error('the demo environment is not started');
    return this.#relay;
  }

  get signalUrl(): string {
    return this.relay.address.signalUrl;
  }

  /** The demo organization's trust anchor (what the room and the far-end people trust). */
  get anchor(): TrustAnchor {
    return this.#started().org.anchor;
  }

  get meetings(): DemoMeetingInfo[] {
    return this.#cast?.meetings ?? [];
  }

  get panel(): NextionEmulator {
    return this.devices.panel;
  }

  get camera(): ViscaEmulator {
    return this.devices.camera;
  }

  get speakerphone(): FakeSpeakerphone {
    return this.devices.speakerphone;
  }

  get devicePaths(): Readonly<Record<DemoDevice, string>> {
    return this.devices.paths;
  }

  async start(): Promise<void> {
    const dir = this.#o.stateDir;
    const devDir = path.join(dir, 'dev');
    await fsp.mkdir(devDir, { recursive: true, mode: 0o700 });
    this.#relay = await this.#startRelay();
    await this.devices.start(devDir);
    this.#writeSettings(dir);
    const room = (await loadOrCreateIdentity(dir)).identity;
    this.roomDeviceId = room.deviceId;
    const org = await DemoOrg.open(dir, this.#clock, this.#o.log);
    this.#org = org;
    await org.provisionRoom(room.publicKey);
    this.roomToken = await this.#issueRoomToken();
    this.#cast = new DemoCast({
      org,
      relay: () => this.relay,
      log: this.#o.log,
      clock: this.#clock,
      peers: this.#peers,
      runner: this.#runner,
      botMedia: this.#o.botMedia ?? 'ffmpeg',
      ...(this.#o.e2eeRandom === undefined ? {} : { e2eeRandom: this.#o.e2eeRandom }),
    });
    await this.#cast.book(this.roomDeviceId);
  }

  async stop(): Promise<void> {
    await this.#cast?.stop();
    await this.devices.stop();
    await this.#relay?.stop();
    await this.#peers.close();
  }

  /** For tests: one more far-end person in a demo meeting (DemoCast.addFarEndPerson). */
  addFarEndPerson(o: {
    kind: ExtraPersonKind;
    name?: string;
    meetingId?: string;
  }): Promise<HeadlessParticipant> {
    return this.#started().cast.addFarEndPerson(o);
  }

  /** Pull the touch panel's cable and plug it back in (tests): a new line at the same path. */
  async replugPanel(): Promise<void> {
    await this.devices.unplug('panel');
    await this.devices.replug('panel');
  }

  #started(): { org: DemoOrg; cast: DemoCast } {
    if (this.#org === undefined || this.#cast === undefined)
      throw new Error('the demo environment is not started');
    return { org: this.#org, cast: this.#cast };
  }

  /** The relay on the wanted port (default 7443), or a free one when that is taken. */
  async #startRelay(port?: number): Promise<Relay> {
    const make = (port: number) =>
      createRelay({
        host: '127.0.0.1',
        port,
        stateDir: path.join(this.#o.stateDir, 'relay'),
        logger: this.#o.log.child({ component: 'relay' }),
        ...(this.#o.relayHooks === undefined ? {} : { hooks: this.#o.relayHooks }),
      });
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

  async #restartRelay(): Promise<void> {
    const port = Number(new URL(this.signalUrl).port);
    await this.relay.stop();
    this.#relay = await this.#startRelay(port);
  }

  /** First start only: the demo room's settings (an admin may change them later, as on a real box). */
  #writeSettings(dir: string): void {
    const file = path.join(dir, 'settings.json');
    if (existsSync(file)) return;
    const paths = this.devices.paths;
    const settings = {
      schemaVersion: 2,
      room: { name: DEMO_ROOM },
      kiosk: { port: this.#o.kioskPort ?? 8080 },
      admin: { host: '127.0.0.1', port: this.#o.adminPort ?? 8443 },
      devices: {
        panel: { path: paths.panel, baudRate: 115200 },
        camera: { control: 'visca', controlPath: paths.camera },
        speakerphone: { hidraw: `hidstream:${paths.speakerphone}` },
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
}
