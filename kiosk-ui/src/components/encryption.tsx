/**
 * The encryption area (docs/kiosk-and-admin-api.md §Room screen): green shield with padlock + "End-to-end encrypted" + the security code in 8 groups of 5, large
 * enough to read aloud across the room; green shield with check mark + "Encrypted — keys held by
 * the meeting service" for enhanced meetings; "Verifying encryption…" until proven (orange for a
 * partial state); and the features this meeting has turned off, with why.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Meeting } from '../api.ts';
import { codeChangedText, codeLabel } from './wording.ts';

type ShieldKind = Meeting['shield'];

export function ShieldIcon({ kind, size = 'large' }: { kind: ShieldKind; size?: 'large' | 'small' }) {
  const tone = kind === 'e2ee' || kind === 'enhanced' ? 'green' : kind === 'none' ? 'grey' : 'orange';
  return (
    <svg
      class={`shield-icon shield-${tone} shield-${size}`}
      viewBox="0 0 48 56"
      role="img"
      aria-label={ariaFor(kind)}
      data-testid="shield-icon"
      data-icon={kind === 'e2ee' ? 'padlock' : kind === 'enhanced' ? 'check' : kind}
    >
      <path class="shield-body" d="M24 2 L44 9 V26 C44 40 35 50 24 54 C13 50 4 40 4 26 V9 Z" />
      {kind === 'e2ee' && (
        <g class="shield-mark">
          <rect x="15" y="25" width="18" height="15" rx="2.5" />
          <path class="shield-stroke" d="M18.5 25 V20.5 a5.5 5.5 0 0 1 11 0 V25" />
        </g>
      )}
      {kind === 'enhanced' && <path class="shield-stroke shield-check" d="M14 28 L21 35 L34 21" />}
      {(kind === 'verifying' || kind === 'partial') && (
        <g class="shield-mark shield-dots">
          <circle cx="16" cy="29" r="2.6" />
          <circle cx="24" cy="29" r="2.6" />
          <circle cx="32" cy="29" r="2.6" />
        </g>
      )}
      {kind === 'none' && <path class="shield-stroke" d="M16 21 L32 37 M32 21 L16 37" />}
    </svg>
  );
}

function ariaFor(kind: ShieldKind): string {
  switch (kind) {
    case 'e2ee':
      return 'Shield with padlock: end-to-end encrypted';
    case 'enhanced':
      return 'Shield with check mark: encrypted, keys held by the meeting service';
    case 'partial':
      return 'Orange shield: encryption not fully verified';
    case 'verifying':
      return 'Shield: verifying encryption';
    default:
      return 'Not encrypted';
  }
}

export function SecurityCode({ code }: { code: string }) {
  const groups = code.split(' ');
  return (
    <div class="security-code" data-testid="security-code">
      {groups.map((g, i) => (
        <span class="code-group" key={`${i}-${g}`}>
          {g}
        </span>
      ))}
    </div>
  );
}

export function EncryptionArea({ meeting, children }: { meeting: Meeting; children?: ComponentChildren }) {
  const { shield } = meeting;
  return (
    <section class={`encryption encryption-${shield}`} data-testid="encryption" data-shield={shield}>
      <div class="encryption-head">
        <ShieldIcon kind={shield} />
        <div>
          <div class="encryption-title" data-testid="encryption-title">
            {titleFor(meeting)}
          </div>
          <div class="encryption-sub">{subtitleFor(meeting)}</div>
        </div>
      </div>
      {shield === 'e2ee' && meeting.securityCode !== null && (
        <div class={`code-block ${meeting.securityCodeChanged ? 'code-block-changed' : ''}`}>
          <div class="code-label" data-testid="code-label">
            {codeLabel(meeting)}
          </div>
          <SecurityCode code={meeting.securityCode} />
        </div>
      )}
      {children}
    </section>
  );
}

function titleFor(m: Meeting): string {
  switch (m.shield) {
    case 'e2ee':
      return 'End-to-end encrypted';
    case 'enhanced':
      return 'Encrypted — keys held by the meeting service';
    case 'partial':
      return 'Not fully protected';
    case 'verifying':
      return 'Verifying encryption…';
    default:
      return 'Not encrypted end to end';
  }
}

function subtitleFor(m: Meeting): string {
  switch (m.shield) {
    case 'e2ee':
      return 'Keys are made on the participants’ devices. The meeting service cannot see or hear this meeting.';
    case 'enhanced':
      return 'Media is encrypted in transit. The meeting service holds the keys.';
    case 'partial':
      return partialReason(m);
    case 'verifying':
      return m.encryption === 'e2ee'
        ? 'Checking the participants’ keys before showing the security code.'
        : 'Checking the connection’s encryption.';
    default:
      return 'This meeting is not protected by end-to-end encryption.';
  }
}

/** Why an orange shield is orange, most serious first (docs/protocol.md "Shield (fail-closed)"). */
function partialReason(m: Meeting): string {
  const others = m.participants.filter((p) => p.self !== true);
  const changed = others.filter((p) => p.identity?.status === 'key-changed').length;
  const unverified = others.filter((p) => p.identity?.status === 'unverified').length;
  const unkeyed = others.filter((p) => m.encryption === 'e2ee' && p.keyed === false).length;
  const tail = ' Do not share anything sensitive until the shield turns green.';
  if (changed > 0)
    return `${changed === 1 ? 'Someone joined' : `${changed} people joined`} with another identity key than before. Check who it is.${tail}`;
  if (unverified > 0)
    return `${unverified === 1 ? 'One participant is' : `${unverified} participants are`} not verified by an organization this room trusts. Compare the roster code aloud with them.${tail}`;
  if (unkeyed > 0)
    return `${unkeyed === 1 ? 'One participant cannot' : `${unkeyed} participants cannot`} take part in end-to-end encryption.${tail}`;
  return `The encryption of this meeting could not be fully verified.${tail}`;
}

export function CodeChangedBanner({
  meeting,
  onAcknowledge,
}: {
  meeting: Meeting;
  onAcknowledge: () => void;
}) {
  // "Got it" hides the banner at once; roomd's answer only confirms it.
  const [dismissed, setDismissed] = useState<string | null>(null);
  if (!meeting.securityCodeChanged || meeting.securityCode === null) return null;
  if (dismissed === meeting.securityCode) return null;
  return (
    <div class="code-banner" role="alert" data-testid="code-changed-banner">
      <ShieldIcon kind="e2ee" size="small" />
      <div class="code-banner-text" data-testid="code-changed-text">
        <strong>The security code has changed.</strong> {codeChangedText(meeting)}
      </div>
      <button
        type="button"
        class="button button-light"
        onClick={() => {
          setDismissed(meeting.securityCode);
          onAcknowledge();
        }}
        data-testid="ack-code"
      >
        Got it
      </button>
    </div>
  );
}

/** Features with the same reason share one entry, so the list fits in the encryption band. */
export function DisabledFeatures({ meeting }: { meeting: Meeting }) {
  if (meeting.disabledFeatures.length === 0) return null;
  const byReason = new Map<string, string[]>();
  for (const f of meeting.disabledFeatures)
    byReason.set(f.reason, [...(byReason.get(f.reason) ?? []), f.feature]);
  return (
    <section class="disabled-features" data-testid="disabled-features">
      <div class="code-label">Off in this meeting</div>
      <ul>
        {[...byReason].map(([reason, features]) => (
          <li key={reason}>
            <span class="feature-name">{features.join(' · ')}</span>
            <span class="feature-reason">{reason}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
