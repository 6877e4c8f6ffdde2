/**
 * Checks of the participant role (`participant.ts`) on a verified heartbeat (docs/protocol.md
 * "Protocol", "Binding pinning", "Identity certificates"): fork detection within a leader's tenure,
 * the leader's own roster entry, binding pins and identity certificates. Pure but for the pins and
 * identity stores they are handed.
 */
import { RoomdError } from '../core/errors.ts';
import type { HeartbeatMessage } from './messages.ts';
import type { AcceptedLeader } from './participant-options.ts';
import type { BindingPins } from './pins.ts';
import type { RosterIdentities } from './roster-identity.ts';
import type { ParticipantId, RosterEntry } from './types.ts';

/**
 * A heartbeat that verified under the current leader's key but contradicts one accepted before in
 * this tenure: the same counter with another hash, a broken chain, or time / epoch / roster
 * version going back under a higher counter. Heartbeats of an earlier tenure (epoch below this
 * tenure's first) are plain replays, refused by the sequence check. `recent`: chain hash by counter
 * of the current leader's recent heartbeats; `tenureEpoch`: epoch of the first one accepted.
 */
export function isFork(
  recent: ReadonlyMap<number, string>,
  tenureEpoch: number,
  last: { counter: number; hash: string; time: number; epoch: number; rosterVersion: number },
  b: HeartbeatMessage['body'],
  hash: string,
): boolean {
  if (b.epoch < tenureEpoch) return false;
  const known = recent.get(b.counter);
  if (known !== undefined) return known !== hash;
  const before = recent.get(b.counter - 1);
  if (before !== undefined && b.prev !== before) return true;
  return (
    b.counter > last.counter &&
    (b.time < last.time || b.epoch < last.epoch || b.rosterVersion < last.rosterVersion)
  );
}

/**
 * The leader lists itself with exactly the identity of the binding that signs (docs/protocol.md
 * "Identity certificates"): nobody can show one certificate in the roster and sign with another key.
 * Throws `e2ee.leader_rejected` otherwise.
 */
export function checkLeaderEntry(b: HeartbeatMessage['body'], leader: AcceptedLeader): void {
  const own = b.roster.find((e) => e.participantId === b.leaderId);
  const lb = leader.binding.body;
  if (
    own === undefined ||
    own.bindingHash !== leader.binding.hashB64 ||
    own.ivk !== lb.ivk ||
    JSON.stringify(own.cert ?? null) !== JSON.stringify(lb.cert ?? null)
  ) {
    throw new RoomdError('e2ee.leader_rejected', {
      message: 'The leader’s roster entry does not match the keys it signs with.',
    });
  }
}

/**
 * Offers every keyed entry of a verified roster to the binding pins and marks quarantined ones
 * (`e2ee: false` with a binding hash) as conflicts (docs/protocol.md "Binding pinning"): the ids in
 * conflict.
 */
export function pinConflicts(pins: BindingPins, roster: readonly RosterEntry[]): string[] {
  const conflicted: string[] = [];
  for (const e of roster) {
    if (e.bindingHash === '') continue;
    if (!e.e2ee) {
      pins.markConflict(e.participantId, e.bindingHash);
      conflicted.push(e.participantId);
    } else if (pins.offer(e.participantId, e.bindingHash) === 'conflict') {
      conflicted.push(e.participantId);
    }
  }
  return conflicted;
}

/**
 * Checks every entry's certificate against our anchors and pins per (organization, name)
 * (docs/protocol.md "Identity certificates"): the names whose key changed, and whether a keyed member
 * other than us is unverified under a policy that blocks the shield.
 */
export function identityChanges(
  ids: RosterIdentities,
  selfId: ParticipantId,
  roster: readonly RosterEntry[],
): { changed: string[]; unverifiedKeyed: boolean } {
  const changed: string[] = [];
  let unverifiedKeyed = false;
  for (const e of roster) {
    const v = ids.entry(e);
    if (v.status === 'key-changed') changed.push(`${v.name} (${v.org})`);
    // Our own key we know; others see us as what our certificate says.
    if (e.e2ee && e.participantId !== selfId && ids.blocksShield(v)) unverifiedKeyed = true;
  }
  return { changed, unverifiedKeyed };
}
