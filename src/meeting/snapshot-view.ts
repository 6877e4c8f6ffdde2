/**
 * Pure pieces of the meeting snapshot (status.ts) the state machine (machine.ts) computes from the
 * E2EE session's status: the meeting status while connected, the shield-side fields, and the facts
 * of the "security code changed" banner (docs/kiosk-and-admin-api.md §Room screen).
 */
import type { E2eeStatus } from '../e2ee/index.ts';
import type { ServerMessageOf } from '../protocol/schemas.ts';
import type { EncryptionMode } from '../protocol/vocabulary.ts';
import { type CodeChange, type MeetingSnapshot, type MeetingStatus, participantsFrom } from './status.ts';

export type RelayRoster = ServerMessageOf<'roster'>['participants'];

type PreviousLeader = Omit<CodeChange, 'leader' | 'leaderIsSelf'>;

/**
 * The status while connected: `secure` once the shield is and our senders use the newest epoch,
 * `rekeying` when it was secure before, else `keying`; `reconnecting` while not admitted. Other
 * statuses (connecting, waiting-for-host) stay as they are.
 */
export function connectedStatus(
  current: MeetingStatus,
  st: Pick<E2eeStatus, 'shield' | 'epoch' | 'sendEpoch'>,
  admitted: boolean,
  wasSecure: boolean,
): MeetingStatus {
  if (current !== 'keying' && current !== 'secure' && current !== 'rekeying' && current !== 'reconnecting')
    return current;
  if (!admitted) return 'reconnecting';
  if ((st.shield === 'e2ee' || st.shield === 'enhanced') && st.sendEpoch === st.epoch) return 'secure';
  return wasSecure ? 'rekeying' : 'keying';
}

/** The snapshot fields the E2EE status decides (everything but the status, banner and error). */
export function e2eeFields(
  st: E2eeStatus,
  relayRoster: RelayRoster,
  selfId: string | null,
  mode: EncryptionMode | null,
): Pick<
  MeetingSnapshot,
  'shield' | 'securityCode' | 'rosterCode' | 'identityPolicy' | 'epoch' | 'leader' | 'participants' | 'alarms'
> {
  return {
    shield: st.shield,
    securityCode: st.mode === 'e2ee' ? st.securityCode : null,
    rosterCode: st.mode === 'e2ee' ? st.rosterCode : null,
    identityPolicy: st.identityPolicy,
    epoch: st.epoch,
    leader: st.leaderId,
    participants: participantsFrom(st.roster, relayRoster, selfId, mode),
    alarms: st.alarms.map((a) => a.reason),
  };
}

/**
 * What the code-change banner says and how long it stays up: who held the keys before (name from the
 * last verified roster, whether the relay listed them as host, whether they left) and who holds them
 * now, once the new leader's signed roster names them. Times are monotonic ms.
 */
export class CodeChangeFacts {
  /** Participants the relay listed as the meeting's host (for the wording only). */
  readonly #hostIds = new Set<string>();
  /** Display names in the last verified roster, by participant id. */
  #verifiedNames = new Map<string, string>();
  /** A change of key holder seen, waiting for the new leader's roster to name it. */
  #pending: { from: PreviousLeader | null; to: string | null } | null = null;
  #bannerUntil = 0;

  /** The relay's roster arrived: remember who it calls host. */
  relayRoster(roster: RelayRoster): void {
    for (const p of roster) if (p.host) this.#hostIds.add(p.participantId);
  }

  /** The E2EE session accepted another leader; `roster` is the relay's current one. */
  leaderChanged(from: string | null, roster: RelayRoster): void {
    this.#pending = {
      from:
        from === null
          ? null
          : {
              previousLeader: this.#verifiedNames.get(from) ?? null,
              previousLeaderHost: this.#hostIds.has(from),
              previousLeaderLeft: !roster.some((p) => p.participantId === from),
            },
      to: null,
    };
  }

  /** The security code changed under `leaderId`: the banner stays up until `until`. */
  codeChanged(leaderId: string, until: number): void {
    this.#bannerUntil = until;
    this.#pending = { from: this.#pending?.from ?? null, to: leaderId };
  }

  acknowledge(): void {
    this.#bannerUntil = 0;
  }

  bannerUp(now: number): boolean {
    return this.#bannerUntil > now;
  }

  /**
   * The change to show given the verified roster now: a pending change once the roster names its
   * new leader, else `shown` as it is.
   */
  current(
    verified: readonly { participantId: string; displayName: string }[],
    selfId: string | null,
    shown: CodeChange | null,
  ): CodeChange | null {
    if (verified.length > 0)
      this.#verifiedNames = new Map(verified.map((r) => [r.participantId, r.displayName]));
    const pending = this.#pending;
    if (pending === null || pending.to === null) return shown;
    const to = pending.to;
    const name = verified.find((r) => r.participantId === to)?.displayName;
    if (name === undefined) return shown;
    this.#pending = null;
    return {
      previousLeader: pending.from?.previousLeader ?? null,
      previousLeaderHost: pending.from?.previousLeaderHost ?? false,
      previousLeaderLeft: pending.from?.previousLeaderLeft ?? false,
      leader: name,
      leaderIsSelf: to === selfId,
    };
  }
}
