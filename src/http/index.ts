/**
 * The HTTP layer's public surface (docs/kiosk-and-admin-api.md): the servers, the ports the app
 * layer implements, the state schema, provisioning-bundle signing and roomctl's entry point.
 */
export { signBundle, verifyBundle, type BundlePayload, type SignedBundle } from './admin/bundle.ts';
export { ensureDeviceCertificate, type DeviceCertificate } from './admin/certificate.ts';
export { RoomSnapshotStore } from './kiosk/snapshot-store.ts';
export type {
  AdminBackend,
  HealthReport,
  MeetingToSchedule,
  RoomStateSource,
  Unsubscribe,
  VideoFeedSource,
  VideoSink,
} from './ports.ts';
export { main as roomctlMain, runRoomctl } from './roomctl/cli.ts';
export * from './schemas/state.ts';
export {
  createHttpServers,
  DEFAULT_ADMIN_PORT,
  DEFAULT_KIOSK_PORT,
  DEFAULT_UI_DIR,
  type HttpOptions,
  type HttpServers,
} from './server.ts';
