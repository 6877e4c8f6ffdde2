/**
 * Status at a glance (docs/kiosk-and-admin-api.md §Admin console): the room, its meeting with the
 * shield and security code as the room screen shows them, its devices with colour and last change,
 * the health summary (agreeing with the devices), version, uptime and the two fingerprints.
 */
import {
  checkLabel,
  deviceTone,
  deviceWords,
  HEALTH_WORDS,
  healthTone,
  kindLabel,
  overallHealth,
  stateWords,
} from '../devices-view.ts';
import { formatAgo, formatDuration, formatTime, MEETING_STATUS_WORDS, SHIELD_WORDS } from '../format.ts';
import type { ConsoleMeeting, OverviewReply } from '../types.ts';
import { Card, CertFingerprint, ErrorText, KeyFingerprint, Pill, Row, ShieldIcon } from '../ui.tsx';
import type { ApiError } from '../api.ts';

/** How the meeting media goes (docs/admin.md §Firewalls), in the words a network admin uses. */
const PATH_WORDS: Record<NonNullable<ConsoleMeeting['mediaPath']>, string> = {
  'direct-udp': 'Direct, UDP',
  'direct-tcp': 'Direct, TCP',
  'turn-udp': 'Through the TURN server, UDP',
  'turn-tcp': 'Through the TURN server, TCP',
  'turn-tls': 'Through the TURN server, TLS',
  'turn-tls-proxy': 'Through the TURN server, TLS via the HTTP proxy',
  'turn-tcp-proxy': 'Through the TURN server, TCP via the HTTP proxy',
};

const POLICY_WORDS: Record<string, string> = {
  allow: 'Allow — unverified people are listed as such',
  warn: 'Warn — the shield is not green while anyone unverified holds the meeting key',
  refuse: 'Refuse — unverified people get no meeting key from this room',
};

function MeetingCard({ o }: { o: OverviewReply }) {
  const m = o.meeting;
  if (m === null)
    return (
      <Card title="Meeting" testid="status-meeting">
        <p class="muted" data-testid="no-meeting">
          No meeting right now.
        </p>
        <h3>Next meetings</h3>
        {o.schedule.length === 0 ? (
          <p class="muted">Nothing booked for this room.</p>
        ) : (
          <ul class="plain schedule">
            {o.schedule.map((s) => (
              <li key={s.meetingId}>
                <span class="mono">{formatTime(s.start)}</span> {s.title}{' '}
                <span class="tag">{s.encryption === 'e2ee' ? 'End-to-end encrypted' : 'Enhanced'}</span>
              </li>
            ))}
          </ul>
        )}
      </Card>
    );
  return (
    <Card title="Meeting" testid="status-meeting">
      <div class={`meeting-head shield-${m.shield}`} data-testid="meeting-shield" data-shield={m.shield}>
        <ShieldIcon kind={m.shield} />
        <div>
          <div class="meeting-title" data-testid="meeting-title">
            {m.title ?? m.id}
          </div>
          <div class="shield-words">{SHIELD_WORDS[m.shield]}</div>
          <div class="muted">
            {MEETING_STATUS_WORDS[m.status]} · meeting {m.id}
          </div>
        </div>
      </div>
      <SecurityCodeBlock m={m} />
      <Row label="Participants">
        {m.participants}
        {m.unverified > 0 && (
          <span class="warn-text"> · {m.unverified} not verified by an organization this room trusts</span>
        )}
      </Row>
      {m.identityPolicy !== null && <Row label="Unverified people">{POLICY_WORDS[m.identityPolicy]}</Row>}
      <Row label="Media path">
        <span data-testid="media-path" data-path={m.mediaPath ?? ''}>
          {m.mediaPath === null ? 'Not connected yet' : PATH_WORDS[m.mediaPath]}
        </span>
      </Row>
    </Card>
  );
}

function SecurityCodeBlock({ m }: { m: ConsoleMeeting }) {
  if (m.securityCode === null)
    return m.encryption === 'enhanced' ? (
      <p class="muted">No security code: the meeting service holds the keys of this meeting.</p>
    ) : (
      <p class="muted">The security code appears once the keys are verified.</p>
    );
  return (
    <div class="code-block">
      <div class="kv-label">Security code (the same on every screen in the meeting)</div>
      <div class="security-code" data-testid="security-code" data-code={m.securityCode}>
        {m.securityCode.split(' ').map((g, i) => (
          <span class="code-group" key={`${i}-${g}`}>
            {g}
          </span>
        ))}
      </div>
      {m.securityCodeChanged && (
        <div class="notice notice-warn" data-testid="code-changed">
          The security code changed: the people in the room should compare the new one.
        </div>
      )}
      {m.rosterCode !== null && (
        <Row label="Roster check" testid="roster-code">
          <span class="mono">{m.rosterCode}</span>
        </Row>
      )}
    </div>
  );
}

function DevicesCard({ o }: { o: OverviewReply }) {
  return (
    <Card
      title="Devices"
      testid="status-devices"
      actions={
        <a href="#/devices" class="link">
          Devices page →
        </a>
      }
    >
      <ul class="plain device-list">
        {o.devices.map((d) => (
          <li key={d.id} data-testid="status-device" data-device={d.id} data-status={d.status}>
            <Pill tone={deviceTone(d)}>{deviceWords(d)}</Pill>
            <div class="device-text">
              <strong>{kindLabel(d.kind)}</strong>
              <span class="muted">
                {' '}
                {stateWords(d.state)}
                {d.since !== undefined && ` since ${formatTime(d.since)} (${formatAgo(d.since)})`}
              </span>
              {d.detail !== undefined && <div class="muted small">{d.detail}</div>}
            </div>
          </li>
        ))}
        {o.devices.length === 0 && <li class="muted">No devices reported.</li>}
      </ul>
    </Card>
  );
}

function HealthCard({ o }: { o: OverviewReply }) {
  const status = overallHealth(o.health, o.devices);
  const failing = o.health.checks.filter((c) => !c.ok);
  return (
    <Card title="Health" testid="status-health">
      <p data-testid="health-summary">
        {failing.length === 0
          ? `All ${o.health.checks.length} checks pass.`
          : `${failing.length} of ${o.health.checks.length} checks do not pass: ${failing.map((c) => checkLabel(c.name)).join(', ')}.`}
      </p>
      <ul class="plain checks">
        {o.health.checks.map((c) => (
          <li key={c.name} data-testid="health-check" data-check={c.name} data-ok={String(c.ok)}>
            <Pill tone={c.ok ? 'good' : healthTone(status === 'ok' ? 'degraded' : status)}>
              {c.ok ? 'OK' : 'Problem'}
            </Pill>
            <span>
              <strong>{checkLabel(c.name)}</strong>
              {c.detail !== undefined && <span class="muted"> — {c.detail}</span>}
            </span>
          </li>
        ))}
      </ul>
    </Card>
  );
}

export function StatusPage({
  overview: o,
  error,
}: {
  overview: OverviewReply | null;
  error: ApiError | null;
}) {
  if (o === null) return error !== null ? <ErrorText error={error} /> : <p class="muted">Loading…</p>;
  const status = overallHealth(o.health, o.devices);
  return (
    <div class="page" data-testid="page-status">
      <ErrorText error={error} />
      {o.safeMode !== null && (
        <div class="notice notice-bad" role="alert">
          <strong>Safe mode:</strong> {o.safeMode.message} Fix the settings, then restart the room.
        </div>
      )}
      <section class="hero">
        <div>
          <div class="kv-label">Room</div>
          <h1 data-testid="room-name">{o.room.name}</h1>
          <div class="muted mono">{o.room.deviceId}</div>
        </div>
        <div class="hero-facts">
          <div>
            <div class="kv-label">Health</div>
            <Pill tone={healthTone(status)} testid="health-status">
              {HEALTH_WORDS[status]}
            </Pill>
          </div>
          <div>
            <div class="kv-label">Version</div>
            <div data-testid="version">{o.version ?? 'unknown'}</div>
          </div>
          <div>
            <div class="kv-label">Up for</div>
            <div data-testid="uptime">{o.uptimeSeconds === null ? '—' : formatDuration(o.uptimeSeconds)}</div>
          </div>
        </div>
      </section>
      {o.problems.length > 0 && (
        <div class="notice notice-warn" data-testid="problems">
          <strong>The room reports:</strong>
          <ul>
            {o.problems.map((p, i) => (
              <li key={`${i}-${p.code}`}>{p.message}</li>
            ))}
          </ul>
        </div>
      )}
      <div class="grid">
        <MeetingCard o={o} />
        <DevicesCard o={o} />
        <HealthCard o={o} />
        <Card title="Identity" testid="status-identity">
          <Row label="Admin certificate fingerprint (SHA-256)" stack>
            <CertFingerprint fingerprint={o.certificate.fingerprint} />
            <div class="muted small">
              The same as on the room screen's setup page and for <code>roomctl --fingerprint</code>.
            </div>
          </Row>
          <Row label="Room identity key" stack>
            {o.identity.fingerprint === null ? (
              '—'
            ) : (
              <KeyFingerprint fingerprint={o.identity.fingerprint} testid="identity-fingerprint" />
            )}
            <div class="muted small">
              As <code>roomctl identity show</code> prints it and other participants see it.
            </div>
          </Row>
          <Row label="Meeting service">
            <span class="mono small">{o.meetingService ?? '—'}</span>
          </Row>
          <Row label="Provisioning">
            {o.lastBundleSerial === 0 ? 'No bundle applied yet' : `Bundle #${o.lastBundleSerial} applied`}
          </Row>
        </Card>
      </div>
    </div>
  );
}
