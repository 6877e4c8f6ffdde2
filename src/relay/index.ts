/**
 * The relay (meeting service) public surface: createRelay, its hooks for adversarial tests, the
 * registry types and the CLI entry.
 */
export { type AdmissionDecision, decideAdmission, PasscodeLockout } from './admission.ts';
export { runRelayCli } from './cli.ts';
export { type ClientLink, RelayCore } from './core.ts';
export { Connection } from './session.ts';
export type { HookContext, MediaHookContext, OutgoingBody, RelayHooks } from './hooks.ts';
export { chooseLeader, type LeaderChoice } from './leader.ts';
export {
  type Account,
  type MeetingRecord,
  MeetingRegistry,
  type NewMeeting,
  type RoomScheduleEntry,
} from './registry.ts';
export { createRelay, type Relay, type RelayAddress, type RelayOptions, SIGNAL_PATH } from './server.ts';
export { DEFAULT_TURN_TTL_SECONDS, type TurnSettings, turnCredential, turnIceServer } from './turn.ts';
