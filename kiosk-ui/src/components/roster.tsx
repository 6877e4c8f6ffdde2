/**
 * The participant list (docs/kiosk-and-admin-api.md §Room screen): per participant exactly what is
 * known about whose identity key it is — certified by an organization this room trusts, not
 * verified (with the key's short fingerprint and why), or an identity key that changed (an alarm) —
 * and nothing for clients without one. Under it the roster code people compare after joins and
 * leaves, and a calm notice when the room's policy asks for verified participants and some are not.
 */
import type { Meeting, Participant } from '../api.ts';

const CLIENT_LABEL: Record<string, string> = {
  room: 'Room system',
  desktop: 'Desktop app',
  mobile: 'Mobile app',
  web: 'Web browser',
  phone: 'Telephone',
  sip: 'SIP device',
};

const KIND_LABEL: Record<string, string> = { room: 'Room', person: 'Person', bot: 'Bot' };

const kindLabel = (kind: string) => KIND_LABEL[kind] ?? kind;

function Identity({ p }: { p: Participant }) {
  const id = p.identity;
  switch (id.status) {
    case 'verified':
      return (
        <div class="identity identity-verified" data-testid="identity-verified">
          <span class="badge badge-verified" data-testid="verified-badge">
            ✓ Verified · {id.org}
          </span>
          <span class="identity-detail">
            {kindLabel(id.kind)}
            {id.certifiedName !== p.name && (
              <span data-testid="certified-name"> · certified as “{id.certifiedName}”</span>
            )}
          </span>
        </div>
      );
    case 'unverified':
      return (
        <div class="identity identity-unverified" data-testid="identity-unverified">
          <span class="badge badge-unverified">Not verified</span>
          <span class="identity-detail">
            key <span class="key-fp">{id.fingerprint}</span> · {id.reason}
          </span>
        </div>
      );
    case 'key-changed':
      return (
        <div class="identity identity-key-changed" role="alert" data-testid="identity-key-changed">
          <span class="alarm-title">⚠ Identity key changed</span>
          <span class="alarm-detail">
            {id.org} · “{id.certifiedName}” ({kindLabel(id.kind).toLowerCase()}) now has another key,{' '}
            <span class="key-fp">{id.fingerprint}</span>. Check who this is.
          </span>
        </div>
      );
    default:
      // No identity key (telephone, web without E2EE): the client kind says it all.
      return null;
  }
}

function ParticipantRow({ p, e2ee }: { p: Participant; e2ee: boolean }) {
  const status = p.identity.status;
  return (
    <li
      class={`participant participant-${status}`}
      data-testid="participant"
      data-participant={p.id}
      data-verified={String(p.verified)}
      data-identity={status}
    >
      <div class="participant-head">
        <span class="participant-name">{p.name}</span>
        {p.self === true && <span class="pill">This room</span>}
        <span class="participant-client">{CLIENT_LABEL[p.clientType] ?? p.clientType}</span>
      </div>
      <Identity p={p} />
      {e2ee && !p.keyed && status !== 'none' && (
        <div class="identity-detail" data-testid="participant-unkeyed">
          Not given the meeting key
        </div>
      )}
    </li>
  );
}

export function RosterCode({ code }: { code: string }) {
  return (
    <div class="roster-code" data-testid="roster-code">
      <span class="roster-code-label">Roster check</span>{' '}
      <span class="roster-code-digits" data-testid="roster-code-digits">
        {code}
      </span>{' '}
      <span class="roster-code-hint">— compare after people join or leave</span>
    </div>
  );
}

/**
 * Participants with an identity key that no organization this room trusts vouches for now: the
 * unverified and those whose key changed (also shown as an alarm). Clients without an identity
 * key (telephone) are not counted.
 */
export function unverifiedCount(meeting: Meeting): number {
  return meeting.participants.filter(
    (p) => p.identity.status === 'unverified' || p.identity.status === 'key-changed',
  ).length;
}

export function UnverifiedWarning({ meeting }: { meeting: Meeting }) {
  const policy = meeting.identityPolicy;
  const n = unverifiedCount(meeting);
  if ((policy !== 'warn' && policy !== 'refuse') || n === 0) return null;
  return (
    <div class="identity-warning" role="status" data-testid="unverified-warning">
      {n === 1 ? '1 participant is' : `${n} participants are`} not verified by an organization this room
      trusts.
    </div>
  );
}

const RANK: Record<Participant['identity']['status'], number> = {
  'key-changed': 0,
  unverified: 1,
  verified: 2,
  none: 2,
};

/**
 * Roster order, except that a changed identity key comes first and then the unverified, so in a
 * long list they are never the ones scrolled out of view.
 */
function problemsFirst(participants: readonly Participant[]): Participant[] {
  return participants
    .map((p, i) => ({ p, i }))
    .sort((a, b) => RANK[a.p.identity.status] - RANK[b.p.identity.status] || a.i - b.i)
    .map(({ p }) => p);
}

export function Roster({ meeting }: { meeting: Meeting }) {
  const e2ee = meeting.encryption === 'e2ee';
  const rosterCode = meeting.rosterCode ?? null;
  return (
    <section class="roster" data-testid="roster">
      <h3>
        Participants <span class="count">{meeting.participants.length}</span>
      </h3>
      <UnverifiedWarning meeting={meeting} />
      <ul class="roster-list">
        {problemsFirst(meeting.participants).map((p) => (
          <ParticipantRow key={p.id} p={p} e2ee={e2ee} />
        ))}
      </ul>
      {e2ee && rosterCode !== null && <RosterCode code={rosterCode} />}
    </section>
  );
}
