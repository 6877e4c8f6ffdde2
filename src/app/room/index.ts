/**
 * Composition of the room daemon's modules, in start order: devices → room (meeting, media,
 * schedule) → HTTP (kiosk + admin; READY is sent after it listens). In safe mode only the HTTP
 * servers run, showing the configuration problem and letting an admin fix the settings.
 */
import { existsSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { FileIdentityPins } from '../../config/identity-pins.ts';
import type { Settings } from '../../config/settings.ts';
import { SettingsSchema, SettingsStore } from '../../config/settings.ts';
import { RoomdError } from '../../core/errors.ts';
import type { Module } from '../../core/lifecycle.ts';
import type { DevicesConfig } from '../../devices/config.ts';
import { DeviceManager } from '../../devices/manager.ts';
import { identityRoutes } from '../../http/admin/identity.ts';
import type { AuthenticatedPlugin } from '../../http/admin/plugin.ts';
import { createHttpServers, type HttpServers } from '../../http/server.ts';
import { RoomSnapshotStore } from '../../http/kiosk/snapshot-store.ts';
import { metricsRoutes, RoomMetrics } from '../../http/metrics.ts';
import { Room, type RoomMediaConfig } from '../../meeting/room.ts';
import { FilePolicyBook } from '../../meeting/policy-pins.ts';
import { RelayScheduleSource, type ScheduleSource } from '../../meeting/schedule.ts';
import { toBase64Url } from '../../protocol/codec.ts';
import type { RoomCommands } from '../../protocol/room-commands.ts';
import { NodeProcessRunner } from '../../system/process.ts';
import type { PeerConnectionFactory } from '../../transport/peer.ts';
import { WorkerPeerConnectionFactory } from '../../transport/worker-peer.ts';
import type { DaemonContext } from '../daemon.ts';
import { createAdminBackend, LogRing } from './admin.ts';
import { autoShare } from './auto-share.ts';
import {
  DEFAULT_FONT,
  devicesConfigFrom,
  mediaConfigFrom,
  networkFrom,
  withContentPresence,
} from './config.ts';
import { createDeviceTests } from './device-tests.ts';
import { assertIdentitySettings, RoomIdentity } from './identity.ts';
import { RoomMetricsSource } from './metrics.ts';
import { panelView, roomSnapshot, type SnapshotInputs } from './snapshot.ts';

export interface RoomAppOverrides {
  devices?: DevicesConfig;
  media?: RoomMediaConfig | null;
  schedule?: ScheduleSource;
  peers?: PeerConnectionFactory;
  logRing?: LogRing;
  restart?: () => void;
  /**
   * With no content source configured, share a test picture labelled "Slides" (the demo's room:
   * demo/run.ts), so content sharing can be tried without an HDMI capture dongle.
   */
  testContent?: boolean;
  /**
   * Where the content dongle's presence is watched instead of `devices.content.video` (the demo's
   * laptop: a file that exists while it is plugged in; demo/devices.ts).
   */
  contentPresence?: string;
  /** More admin routes behind the guard: only `roomd demo` gives its director (demo/run.ts). */
  adminPlugins?: AuthenticatedPlugin[];
  /**
   * How the setup screen tells the admin to run roomctl: `roomctl` where it is installed (default),
   * `npx roomctl` from a checkout (the demo).
   */
  roomctlCommand?: string;
}

export interface RoomApp {
  room: Room | null;
  devices: DeviceManager | null;
  http: HttpServers;
  store: RoomSnapshotStore;
  metrics: RoomMetricsSource | null;
  /** The media worker's supervisor (docs/decisions/0013-media-worker.md), when WebRTC runs in one. */
  mediaWorker: WorkerPeerConnectionFactory | null;
}

function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && !a.internal && a.family === 'IPv4')
    .map((a) => a!.address);
}

function httpOptions(s: Settings) {
  return {
    kiosk: { host: s.kiosk.host, port: s.kiosk.port, allowRemote: s.kiosk.allowRemote },
    adminServer: {
      enabled: s.admin.enabled,
      host: s.admin.host,
      port: s.admin.port,
      altNames: lanAddresses(),
    },
  };
}

export async function roomModules(
  ctx: DaemonContext,
  o: RoomAppOverrides = {},
): Promise<{ modules: Module[]; app: RoomApp }> {
  let settings = ctx.settings;
  const log = ctx.log;
  const ring = o.logRing ?? new LogRing();
  const restart = o.restart ?? (() => process.kill(process.pid, 'SIGTERM'));
  if (ctx.safeMode !== null || ctx.identity === null) return safeMode(ctx, ring, restart);
  const identity = ctx.identity;
  // Organization identity (docs/admin.md §Organization identities): key pins on disk, the
  // certificate and anchors from the settings, given to every meeting the room joins.
  const pins = await FileIdentityPins.open(ctx.stateDir, {
    now: () => ctx.clock.now(),
    log: log.child({ component: 'identity' }),
  });
  const roomIdentity = new RoomIdentity({ settings: () => settings, identity, clock: ctx.clock, pins });
  for (const p of roomIdentity.problems()) log.warn({ code: p.code }, p.message);
  // Verified meeting policies, pinned per meeting (docs/protocol.md "Meeting policy").
  const policies = await FilePolicyBook.open(ctx.stateDir, {
    log: log.child({ component: 'meeting-policy' }),
  });

  // The room's one command port for the panel and the HTTP servers; it forwards to the room, made
  // below (the room needs the devices' mute state first).
  const commands: RoomCommands = {
    join: (id, pass) => room.join(id, pass),
    leave: () => room.leave(),
    setMute: (m) => room.setMute(m),
    setCamera: (on) => room.setCamera(on),
    setVolume: (v) => room.setVolume(v),
    ptz: (c) => room.ptz(c),
    react: (r) => room.react(r),
    chat: (text, to) => room.chat(text, to),
    share: (on) => room.share(on),
    acknowledgeSecurityCode: () => room.acknowledgeSecurityCode(),
  };
  const devicesConfig = o.devices ?? devicesConfigFrom(settings);
  const devices = new DeviceManager(
    o.contentPresence === undefined
      ? devicesConfig
      : { ...devicesConfig, content: { device: o.contentPresence, presence: 'laptop' } },
    {
      clock: ctx.clock,
      commands,
      view: { phase: 'idle', roomName: settings.room.name, meetings: [], notice: null, presets: [] },
      logger: log.child({ component: 'devices' }),
    },
  );
  // The media worker (docs/decisions/0013-media-worker.md) the room made is stopped with it.
  const ownPeers =
    o.peers === undefined
      ? new WorkerPeerConnectionFactory({ logger: log.child({ component: 'media-worker' }) })
      : null;
  const peers: PeerConnectionFactory = o.peers ?? (ownPeers as WorkerPeerConnectionFactory);
  const mediaWorker = peers instanceof WorkerPeerConnectionFactory ? peers : null;
  const room: Room = new Room({
    roomName: () => settings.room.name,
    relayUrl: () => settings.meetingService.url,
    network: () => networkFrom(settings),
    minimumEncryption: () => settings.encryption.minimum,
    identity,
    clock: ctx.clock,
    log,
    peers,
    runner: new NodeProcessRunner(),
    mute: devices.mute,
    camera: () => devices.camera,
    schedule:
      o.schedule ??
      new RelayScheduleSource({
        signalUrl: settings.meetingService.url,
        room: identity.deviceId,
        token: () => settings.meetingService.token,
        identityKey: toBase64Url(identity.publicKey),
        policies,
        anchors: () => roomIdentity.trust().anchors ?? [],
        network: () => networkFrom(settings),
      }),
    media: withContentPresence(
      o.media === undefined
        ? mediaConfigFrom(settings, existsSync(DEFAULT_FONT) ? DEFAULT_FONT : null, o.testContent === true)
        : o.media,
      // A dongle (or the demo's laptop) is watched: sharing needs it plugged in.
      devices.contentWatched ? () => devices.contentPresent : undefined,
    ),
    volume: settings.media.volume,
    trust: () => roomIdentity.trust(),
    meetingPolicies: policies,
    // Read at every use: turning chat off in the settings applies at once (the state refreshes).
    chatEnabled: () => settings.room.chat,
  });
  const inputs = (): SnapshotInputs => ({
    room,
    roomName: settings.room.name,
    deviceId: identity.deviceId,
    addresses: lanAddresses(),
    devices: devices.status(),
    problems: [...ctx.problems, ...roomIdentity.problems()],
  });
  const store = new RoomSnapshotStore(roomSnapshot(inputs()));
  const refresh = () => {
    store.update(roomSnapshot(inputs()));
    devices.setView(panelView(inputs()));
  };
  room.events.on('change', refresh);
  devices.events.on('device.state', refresh);
  // The room screen follows the dongle; a plugged laptop is shared at once (`room.autoShare`).
  devices.events.on('content.plugged', refresh);
  devices.events.on('content.unplugged', refresh);
  autoShare(devices, room, { enabled: () => settings.room.autoShare, log });

  const admin = createAdminBackend({
    stateDir: ctx.stateDir,
    checkSettings: roomIdentity.check,
    policies,
    settings: () => settings,
    setSettings: (s) => {
      settings = s;
      refresh();
    },
    identity,
    room,
    devices: () => devices.status(),
    logs: (n) => ring.tail(n),
    log: log.child({ component: 'admin' }),
    startedAt: ctx.clock.now(),
    restart,
  });
  const metrics = new RoomMetricsSource(room, () => devices.status(), false, mediaWorker);
  const registry = new RoomMetrics({ version: process.env['npm_package_version'] ?? '0.0.0' });
  const options = httpOptions(settings);
  const http = await createHttpServers({
    stateDir: ctx.stateDir,
    deviceId: identity.deviceId,
    clock: ctx.clock,
    log,
    source: store,
    commands,
    admin,
    deviceTests: createDeviceTests({
      clock: ctx.clock,
      runner: new NodeProcessRunner(),
      log: log.child({ component: 'device-tests' }),
      speaker: () => ({
        device: settings.devices.speakerphone.playbackDevice,
        volume: settings.media.volume,
      }),
      devices: () => devices.status(),
      panel: () => devices.panel,
      events: devices.events,
    }),
    video: room.videoFeed,
    kiosk: options.kiosk,
    adminServer: {
      ...options.adminServer,
      ...(o.roomctlCommand === undefined ? {} : { roomctlCommand: o.roomctlCommand }),
      authenticatedPlugins: [
        {
          scope: 'metrics',
          plugin: metricsRoutes({ metrics: registry, snapshot: () => metrics.snapshot() }),
        },
        { scope: 'admin', plugin: identityRoutes(roomIdentity.admin()) },
        ...(o.adminPlugins ?? []),
      ],
    },
  });
  const roomModule: Module = {
    name: 'room',
    start: () => room.start(),
    async stop() {
      await room.stop();
      await ownPeers?.close();
      await pins.flush();
      await policies.settled();
    },
  };
  return {
    modules: [devices, roomModule, http.module],
    app: { room, devices, http, store, metrics, mediaWorker },
  };
}

async function safeMode(
  ctx: DaemonContext,
  ring: LogRing,
  restart: () => void,
): Promise<{ modules: Module[]; app: RoomApp }> {
  const problem = ctx.safeMode ?? new RoomdError('config.identity_corrupt');
  const deviceId = ctx.identity?.deviceId ?? 'unknown';
  const store = new RoomSnapshotStore({
    room: { name: ctx.settings.room.name },
    deviceId,
    addresses: lanAddresses(),
    schedule: [],
    meeting: null,
    devices: [],
    errors: [
      { code: problem.code, message: `roomd is in safe mode: ${problem.message}` },
      ...ctx.problems.map((p) => ({ code: p.code, message: p.message })),
    ],
    media: null,
  });
  const refuse = async (): Promise<never> => {
    throw new RoomdError('config.invalid', {
      message: `The room cannot do that in safe mode: ${problem.message}`,
    });
  };
  const id = ctx.identity;
  const settingsStore = new SettingsStore(
    ctx.stateDir,
    id === null ? {} : { check: (s) => assertIdentitySettings(s, id.publicKey) },
  );
  const http = await createHttpServers({
    stateDir: ctx.stateDir,
    deviceId,
    clock: ctx.clock,
    log: ctx.log,
    source: store,
    commands: {
      join: refuse,
      leave: refuse,
      setMute: refuse,
      setCamera: refuse,
      setVolume: refuse,
      ptz: refuse,
      react: refuse,
      chat: refuse,
      share: refuse,
      acknowledgeSecurityCode: refuse,
    },
    admin: {
      getSettings: async () => ctx.loaded.stored,
      setSettings: async (patch) => {
        const saved = await settingsStore.save(patch);
        restart();
        return saved;
      },
      settingsSchema: () => SettingsSchema,
      onClaimed: async () => {},
      applyProvisioning: async (b) => {
        await settingsStore.save(b.settings);
        restart();
      },
      status: async () => ({ deviceId, safeMode: { code: problem.code, message: problem.message } }),
      health: async () => ({
        status: 'failing',
        checks: [{ name: 'configuration', ok: false, detail: problem.message }],
      }),
      devices: async () => [],
      logs: async ({ lines }) => ring.tail(lines),
      restart: async () => void setTimeout(restart, 250).unref(),
      scheduleMeeting: refuse,
    },
    ...httpOptions(ctx.settings),
  });
  return {
    modules: [http.module],
    app: { room: null, devices: null, http, store, metrics: null, mediaWorker: null },
  };
}
