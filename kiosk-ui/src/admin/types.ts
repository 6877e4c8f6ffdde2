/**
 * Shapes the console reads, from the server's own schemas where they are TypeBox-only
 * (src/http/admin/console-schemas.ts, src/http/schemas/state.ts), and the few small ones of the
 * identity and token routes (src/http/admin/identity.ts, src/http/schemas/admin.ts) restated here.
 */
import type { DeviceTestReply, OverviewReply } from '../../../src/http/admin/console-schemas.ts';
import type { DeviceInfo, ScheduledMeeting } from '../../../src/http/schemas/state.ts';

export type { DeviceInfo, DeviceTestReply, OverviewReply, ScheduledMeeting };
export type ConsoleMeeting = NonNullable<OverviewReply['meeting']>;
export type Health = OverviewReply['health'];

export type Scope = 'metrics' | 'operator' | 'admin';

export interface TokenInfo {
  id: string;
  name: string;
  scope: Scope;
  createdAt: string;
}

export interface ClaimStatus {
  claimed: boolean;
  deviceId: string;
  organisationKeyTrusted: boolean;
  loginLocked: boolean;
}

export type CertificateStatus =
  | { status: 'none' }
  | { status: 'verified'; org: string; name: string; kind: string; notAfter: string }
  | { status: 'unverified'; reason: string };

export interface IdentityInfo {
  deviceId: string;
  identityKey: string;
  fingerprint: string;
  certificate: Record<string, unknown> | null;
  certificateStatus: CertificateStatus;
  trustAnchors: { org: string; publicKey: string; fingerprint: string }[];
  unverifiedParticipants: string;
  pins: number;
  problems: string[];
}

export interface PinInfo {
  org: string;
  name: string;
  fingerprint: string;
  key: string;
  firstSeen: string;
}
