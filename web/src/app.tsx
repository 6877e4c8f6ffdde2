/**
 * The web client's page: a join form (meeting id from the address, passcode, display name), then the
 * meeting: the shield, the 40-digit security code to compare with the room's, and the roster from
 * the leader-signed heartbeat with each participant's verification mark. The same words and
 * fail-closed rules as the room screen (docs/kiosk-and-admin-api.md §Room screen).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { SystemClock } from '../../src/core/clock.ts';
import type { MeetingParticipant, MeetingSnapshot } from '../../src/meeting/status.ts';
import { BundleInfo } from './bundle-info.tsx';
import { encodeBase64Url } from '../../src/core/encoding.ts';
import type { IdentityCertificate } from '../../src/e2ee/certificate.ts';
import { certificateFor, loadCertificate, saveCertificate } from './certificate.ts';
import { loadIdentity, type WebIdentity } from './identity.ts';
import { parseMeetingLink } from './link.ts';
import {
  anchorFingerprint,
  type KeptTrust,
  type LinkTrust,
  linkTrust,
  loadTrust,
  saveAnchors,
  withAnchor,
} from './trust-store.ts';
import type { PeerLike } from './media/connection.ts';
import { LocalMedia, MediaPanel } from './media-view.tsx';
import { WebMeeting } from './meeting.ts';

function signalUrl(loc: Location): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}/v1/signal`;
}

const SHIELD_TEXT: Record<MeetingSnapshot['shield'], string> = {
  e2ee: 'End-to-end encrypted',
  enhanced: 'Encrypted — keys held by the meeting service',
  partial: 'Not everyone is end-to-end encrypted',
  verifying: 'Verifying encryption…',
  none: 'Not encrypted',
};

/** Members holding the key whom no organization this visitor trusts vouches for. */
function unverifiedKeyed(s: MeetingSnapshot): number {
  return s.participants.filter((p) => !p.self && p.keyed && p.identity.status !== 'verified').length;
}

function Shield({ kind, unverified }: { kind: MeetingSnapshot['shield']; unverified: number }) {
  // Orange because of people nobody vouches for, not because of unencrypted ones: say so (as the room).
  const text = kind === 'partial' && unverified > 0 ? 'Not fully protected' : SHIELD_TEXT[kind];
  const tone = kind === 'e2ee' || kind === 'enhanced' ? 'green' : kind === 'none' ? 'grey' : 'orange';
  return (
    <div class={`shield shield-${tone}`} data-testid="shield" data-shield={kind}>
      <svg viewBox="0 0 48 56" role="img" aria-label={text} class="shield-icon">
        <path class="shield-body" d="M24 2 L44 9 V26 C44 40 35 50 24 54 C13 50 4 40 4 26 V9 Z" />
        {kind === 'e2ee' && (
          <g class="shield-mark">
            <rect x="15" y="25" width="18" height="15" rx="2.5" />
            <path class="shield-stroke" d="M18.5 25 V20.5 a5.5 5.5 0 0 1 11 0 V25" />
          </g>
        )}
        {kind === 'enhanced' && <path class="shield-stroke" d="M14 28 L21 35 L34 21" />}
      </svg>
      <span data-testid="shield-text">{text}</span>
    </div>
  );
}

function mark(p: MeetingParticipant): string {
  const id = p.identity;
  switch (id.status) {
    case 'verified':
      return `Verified · ${id.org}`;
    case 'key-changed':
      return `Key changed · ${id.org}`;
    case 'unverified':
      return `Not verified · ${id.fingerprint}`;
    default:
      return p.clientType;
  }
}

function Roster({ snapshot }: { snapshot: MeetingSnapshot }) {
  return (
    <ul class="roster" data-testid="roster">
      {snapshot.participants.map((p) => (
        <li
          key={p.id}
          data-testid="participant"
          data-self={p.self ? 'yes' : 'no'}
          data-identity={p.identity.status}
        >
          <span class="name">
            {p.name}
            {p.self ? ' (you)' : ''}
          </span>
          <span class={`mark mark-${p.identity.status}`}>{mark(p)}</span>
          {!p.keyed && snapshot.encryption === 'e2ee' && <span class="mark mark-unkeyed">no key yet</span>}
        </li>
      ))}
    </ul>
  );
}

/** Media starts once the service let us in, never before it answered (as the room's camera). */
const ADMITTED: ReadonlySet<MeetingSnapshot['status']> = new Set([
  'keying',
  'secure',
  'rekeying',
  'reconnecting',
]);

function InMeeting({
  snapshot,
  onLeave,
  meeting,
  media,
}: {
  snapshot: MeetingSnapshot;
  onLeave: () => void;
  meeting: WebMeeting | null;
  media: LocalMedia | null;
}) {
  const groups = snapshot.securityCode?.split(' ') ?? [];
  return (
    <main class="meeting" data-testid="meeting" data-status={snapshot.status}>
      <header>
        <h1>{snapshot.title === '' ? `Meeting ${snapshot.id}` : snapshot.title}</h1>
        <button type="button" class="leave" data-testid="leave" onClick={onLeave}>
          Leave
        </button>
      </header>
      <Shield kind={snapshot.shield} unverified={unverifiedKeyed(snapshot)} />
      {snapshot.shield === 'partial' && unverifiedKeyed(snapshot) > 0 && snapshot.rosterCode !== null && (
        <section class="roster-check" data-testid="roster-check">
          <p>
            {unverifiedKeyed(snapshot) === 1
              ? 'One participant is not verified by an organization you trust.'
              : `${unverifiedKeyed(snapshot)} participants are not verified by an organization you trust.`}{' '}
            Compare the roster code aloud with everyone; share nothing sensitive until it matches.
          </p>
          <div class="roster-code" data-testid="roster-code" data-code={snapshot.rosterCode}>
            {snapshot.rosterCode}
          </div>
        </section>
      )}
      {snapshot.status === 'waiting-for-host' && <p data-testid="waiting">Waiting for the host to join…</p>}
      {snapshot.error !== null && (
        <p class="warning" data-testid="warning">
          {snapshot.error.message}
        </p>
      )}
      {snapshot.shield === 'e2ee' && snapshot.securityCode !== null && (
        <section class={`code ${snapshot.securityCodeChanged ? 'code-changed' : ''}`}>
          <h2>{snapshot.securityCodeChanged ? 'The security code changed' : 'Security code'}</h2>
          <p class="hint">Check that everyone sees the same code.</p>
          <div class="security-code" data-testid="security-code" data-code={snapshot.securityCode}>
            {groups.map((g, i) => (
              <span key={`${i}-${g}`}>{g}</span>
            ))}
          </div>
        </section>
      )}
      {snapshot.alarms.map((a) => (
        <p class="alarm" key={a}>
          {a}
        </p>
      ))}
      {meeting !== null && media !== null && ADMITTED.has(snapshot.status) && (
        <MediaPanel meeting={meeting} media={media} participants={snapshot.participants} />
      )}
      <Roster snapshot={snapshot} />
      <BundleInfo />
    </main>
  );
}

/**
 * The meeting's media counters on `window.roomdWebStats()` for tests and benchmarks (frames, bytes,
 * drops, decoder errors: no keys, no media, nothing a page script could not count itself).
 */
function exposeStats(local: LocalMedia): void {
  (globalThis as { roomdWebStats?: () => unknown }).roomdWebStats = () => local.stats();
}

/**
 * This browser's key and its certificate: the key to give the organization's issuer, the
 * certificate it prints pasted back (checked, then kept), or removed (web/src/certificate.ts).
 */
function CertificatePanel({
  identity,
  certificate,
  onChange,
}: {
  identity: WebIdentity;
  certificate: IdentityCertificate | null;
  onChange: (c: IdentityCertificate | null) => void;
}) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const key = encodeBase64Url(identity.publicKey);
  const save = () => {
    const r = certificateFor(text.trim(), identity.publicKey, Date.now());
    if (!r.ok) {
      setProblem(r.message);
      return;
    }
    setProblem(null);
    setText('');
    onChange(r.cert);
    void saveCertificate(r.cert).then((kept) => {
      if (!kept) setProblem('Certificate used for this page only: this browser keeps nothing.');
    });
  };
  return (
    <details class="certificate" data-testid="certificate-panel">
      <summary data-testid="certificate">
        {certificate === null
          ? 'Not certified by an organization'
          : `Certified by ${certificate.org} as ${certificate.name}`}
      </summary>
      <p>
        This browser's identity key: <code data-testid="identity-key">{key}</code>
      </p>
      <p class="hint">
        Your organization certifies it with{' '}
        <code>
          roomctl identity issue --org-key ORG-KEY-FILE --name "Your name" --kind person --key {key}
        </code>
        ; paste what that prints here:
      </p>
      <textarea
        data-testid="certificate-input"
        rows={4}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
      />
      <div class="certificate-actions">
        <button type="button" data-testid="certificate-save" onClick={save} disabled={text.trim() === ''}>
          Use this certificate
        </button>
        {certificate !== null && (
          <button
            type="button"
            data-testid="certificate-remove"
            onClick={() => {
              onChange(null);
              void saveCertificate(null);
            }}
          >
            Remove the certificate
          </button>
        )}
      </div>
      {problem !== null && (
        <p class="error" data-testid="certificate-error">
          {problem}
        </p>
      )}
    </details>
  );
}

/**
 * Whom this browser trusts, and what the link asks (web/src/trust-store.ts): a link never adds an
 * organization by itself — its fragment may come from the relay — so a new one is shown with its
 * key's fingerprint and trusted only when the person says so; another key for a known organization
 * is refused.
 */
function TrustLine({
  proposed,
  kept,
  onAccept,
}: {
  proposed: LinkTrust;
  kept: KeptTrust;
  onAccept: () => void;
}) {
  const trusted = kept.anchors.map((a) => `${a.org} (key ${anchorFingerprint(a)})`).join(', ');
  switch (proposed.kind) {
    case 'none':
      return (
        <p class="device" data-testid="trust" data-trust="none">
          {kept.anchors.length === 0
            ? 'This browser trusts no organization: nobody can be verified, so compare the codes aloud.'
            : `This browser trusts ${trusted}.`}
        </p>
      );
    case 'known':
      return (
        <p class="device" data-testid="trust" data-trust="known">
          Your link names {proposed.anchor.org}, which this browser trusts (key{' '}
          {anchorFingerprint(proposed.anchor)}).
        </p>
      );
    case 'new':
      return (
        <div class="trust-new" data-testid="trust" data-trust="new">
          <p>
            Your link asks this browser to trust <strong>{proposed.anchor.org}</strong>, key{' '}
            <code>{anchorFingerprint(proposed.anchor)}</code>. Trust it only if you know this is their key:
            the link could have been changed on its way, by the meeting service too.
          </p>
          <button type="button" data-testid="trust-accept" onClick={onAccept}>
            Trust {proposed.anchor.org}
          </button>
        </div>
      );
    case 'conflict':
      return (
        <p class="error" data-testid="trust" data-trust="conflict">
          Your link names {proposed.anchor.org} with a key ({anchorFingerprint(proposed.anchor)}) other than
          the one this browser trusts for it ({anchorFingerprint(proposed.known)}): it is not trusted. Ask{' '}
          {proposed.anchor.org} which is theirs.
        </p>
      );
  }
}

type Phase =
  | { kind: 'form'; error: string | null }
  | { kind: 'joined'; snapshot: MeetingSnapshot }
  | { kind: 'ended'; message: string };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'form', error: null });
  const [identity, setIdentity] = useState<WebIdentity | null>(null);
  const meeting = useRef<WebMeeting | null>(null);
  const media = useRef<LocalMedia | null>(null);
  const [link] = useState(() => parseMeetingLink(location));
  const [meetingId, setMeetingId] = useState(link.meetingId);
  const [passcode, setPasscode] = useState('');
  const [name, setName] = useState('');
  const [certificate, setCertificate] = useState<IdentityCertificate | null>(null);

  const [kept, setKept] = useState<KeptTrust | null>(null);

  // The key, its certificate and what this browser trusts, all before Join is possible.
  useEffect(() => {
    (async () => {
      const id = await loadIdentity();
      const [cert, trust] = await Promise.all([loadCertificate(id.publicKey, Date.now()), loadTrust()]);
      setCertificate(cert);
      setKept(trust);
      setIdentity(id);
    })().catch((e: unknown) =>
      setPhase({ kind: 'form', error: `This browser could not make or read its key: ${String(e)}` }),
    );
  }, []);
  const proposed = kept === null ? ({ kind: 'none' } as const) : linkTrust(link.anchor, kept.anchors);
  const acceptOrganization = () => {
    if (kept === null || proposed.kind !== 'new') return;
    const anchors = withAnchor(kept.anchors, proposed.anchor);
    setKept({ ...kept, anchors });
    void saveAnchors(anchors);
  };

  const join = (ev: Event) => {
    ev.preventDefault();
    if (identity === null || kept === null || meetingId === '' || name.trim() === '') return;
    // Made in the click: browsers let a page play sound only after a gesture.
    const audio =
      typeof AudioContext === 'undefined' ? null : new AudioContext({ latencyHint: 'interactive' });
    const clock = new SystemClock();
    const m = new WebMeeting({
      signalUrl: signalUrl(location),
      meetingId,
      passcode,
      displayName: name.trim(),
      identity,
      clock,
      // Fail closed as the room does by default: someone no trusted organization vouches for keeps
      // the shield from green (docs/threat-model.md §What remains, first contact).
      trust: {
        anchors: kept.anchors,
        pins: kept.pins,
        unverified: 'warn',
        ...(certificate === null ? {} : { certificate }),
      },
      openSocket: (url, on) => {
        const ws = new WebSocket(url);
        ws.onmessage = (ev) => on.message(ev.data);
        ws.onclose = (ev) => on.close(ev.code);
        return ws;
      },
      // The browser's own WebRTC stack (the shared code sees only the parts it uses).
      createPeer: (config) => new RTCPeerConnection(config) as unknown as PeerLike,
    });
    meeting.current = m;
    const local = new LocalMedia(m, audio, clock);
    media.current = local;
    exposeStats(local);
    m.events.on('state', (snapshot) => {
      if (snapshot.status !== 'left' && snapshot.status !== 'failed') setPhase({ kind: 'joined', snapshot });
    });
    m.events.on('ended', ({ status, error }) => {
      meeting.current = null;
      local.stop();
      media.current = null;
      setPhase(
        status === 'left'
          ? { kind: 'ended', message: 'You left the meeting.' }
          : { kind: 'form', error: error?.message ?? 'The meeting ended.' },
      );
    });
    m.join();
  };

  if (phase.kind === 'joined')
    return (
      <InMeeting
        snapshot={phase.snapshot}
        onLeave={() => meeting.current?.leave()}
        meeting={meeting.current}
        media={media.current}
      />
    );
  if (phase.kind === 'ended') {
    return (
      <main class="ended" data-testid="ended">
        <p>{phase.message}</p>
        <button type="button" onClick={() => setPhase({ kind: 'form', error: null })}>
          Join again
        </button>
      </main>
    );
  }
  return (
    <main class="join">
      <h1>Join a meeting</h1>
      <form onSubmit={join} data-testid="join-form">
        <label>
          Meeting ID
          <input
            name="meeting"
            inputMode="numeric"
            autoComplete="off"
            value={meetingId}
            onInput={(e) => setMeetingId(e.currentTarget.value.trim())}
          />
        </label>
        <label>
          Passcode
          <input
            name="passcode"
            type="password"
            autoComplete="off"
            value={passcode}
            onInput={(e) => setPasscode(e.currentTarget.value)}
          />
        </label>
        <label>
          Your name
          <input name="name" maxLength={64} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <button type="submit" data-testid="join" disabled={identity === null}>
          Join
        </button>
      </form>
      {phase.error !== null && (
        <p class="error" data-testid="error">
          {phase.error}
        </p>
      )}
      {identity !== null && (
        <CertificatePanel identity={identity} certificate={certificate} onChange={setCertificate} />
      )}
      {identity !== null && (
        <p class="device" data-testid="device">
          This browser's key: {identity.persistent ? 'kept in this browser, encrypted' : 'for this page only'}
        </p>
      )}
      {kept !== null && <TrustLine proposed={proposed} kept={kept} onAccept={acceptOrganization} />}
    </main>
  );
}
