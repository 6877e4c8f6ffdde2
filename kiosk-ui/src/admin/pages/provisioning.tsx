/**
 * Provisioning (docs/kiosk-and-admin-api.md §Admin console): apply a signed provisioning bundle and
 * see what it did, API tokens (make one with a scope, list, revoke), the room's identity certificate
 * and the organizations it trusts, and the identity keys it has pinned, each with "Forget".
 */
import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.ts';
import { formatTime } from '../format.ts';
import type { ClaimStatus, IdentityInfo, PinInfo, Scope, TokenInfo } from '../types.ts';
import { Card, ErrorText, KeyFingerprint, Outcome, Row, useAction, useApi } from '../ui.tsx';

const SCOPE_WORDS: Record<Scope, string> = {
  metrics: 'reads /metrics only (monitoring)',
  operator: 'status, health, devices; schedules meetings; restarts',
  admin: 'everything, settings and tokens included',
};

function BundleCard({ lastSerial, onApplied }: { lastSerial: number | null; onApplied: () => void }) {
  const claim = useApi<ClaimStatus>('/api/v1/claim');
  const [error, busy, run] = useAction();
  const [applied, setApplied] = useState<{ serial: number; organisationKey: string; file: string } | null>(
    null,
  );
  const upload = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (file === undefined) return;
    void run(async () => {
      setApplied(null);
      const text = await file.text();
      input.value = '';
      let bundle: unknown;
      try {
        bundle = JSON.parse(text);
      } catch (error) {
        if (!(error instanceof SyntaxError)) throw error;
        throw new ApiError(
          400,
          'http.bad_bundle',
          `${file.name} is not a provisioning bundle: it is not JSON.`,
        );
      }
      const r = await api<{ serial: number; organisationKey: string }>('POST', '/api/v1/provision', bundle);
      setApplied({ ...r, file: file.name });
      void claim.reload();
      onApplied();
    });
  };
  return (
    <Card title="Provisioning bundle" testid="bundle-card">
      <p class="muted">
        A bundle is a settings file signed by your organization (<code>roomd-bundle-v1</code>). The room
        applies it only when the signature is from the organization key it trusts and its serial number is
        newer than the last one.
      </p>
      <Row label="Organization key">
        {claim.data === null
          ? '…'
          : claim.data.organisationKeyTrusted
            ? 'Trusted; only bundles it signed are applied'
            : 'None yet: the first bundle’s signer becomes the trusted key'}
      </Row>
      <Row label="Last bundle applied" testid="last-bundle">
        {lastSerial === null ? '…' : lastSerial === 0 ? 'none' : `#${lastSerial}`}
      </Row>
      <label class="file">
        <span class="button">{busy ? 'Applying…' : 'Choose a bundle file…'}</span>
        <input
          type="file"
          accept="application/json,.json"
          data-testid="bundle-file"
          disabled={busy}
          onChange={upload}
        />
      </label>
      {applied !== null && (
        <Outcome ok testid="bundle-result">
          Applied <strong>{applied.file}</strong>: bundle #{applied.serial}, signed by the organization key{' '}
          <span class="mono">{applied.organisationKey.slice(0, 16)}…</span>. Its settings are in effect (those
          marked “needs restart” after a restart).
        </Outcome>
      )}
      {error !== null && (
        <div class="notice notice-bad" role="alert" data-testid="bundle-error" data-code={error.code}>
          <strong>Not applied.</strong> {error.message}
        </div>
      )}
    </Card>
  );
}

function TokensCard() {
  const tokens = useApi<TokenInfo[]>('/api/v1/tokens');
  const [error, busy, run] = useAction();
  const [name, setName] = useState('');
  const [scope, setScope] = useState<Scope>('metrics');
  const [made, setMade] = useState<{ token: string; name: string; scope: Scope } | null>(null);
  const create = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const r = await api<{ token: string; name: string; scope: Scope }>('POST', '/api/v1/tokens', {
        name: name.trim(),
        scope,
      });
      setMade(r);
      setName('');
      await tokens.reload();
    });
  };
  return (
    <Card title="API tokens" testid="tokens-card">
      <p class="muted">
        For scripts and monitoring (<code>Authorization: Bearer rmd_…</code>). A token is shown once, when it
        is made; the room keeps only its hash.
      </p>
      <form class="row token-form" onSubmit={create} noValidate>
        <label>
          Name{' '}
          <input
            value={name}
            maxLength={64}
            placeholder="e.g. prometheus"
            data-testid="token-name"
            onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          Scope{' '}
          <select
            value={scope}
            data-testid="token-scope"
            onChange={(e) => setScope((e.currentTarget as HTMLSelectElement).value as Scope)}
          >
            {(Object.keys(SCOPE_WORDS) as Scope[]).map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy || name.trim() === ''} data-testid="token-create">
          Make token
        </button>
      </form>
      <p class="muted small">
        Scope {scope}: {SCOPE_WORDS[scope]}.
      </p>
      {made !== null && (
        <div class="notice notice-good" data-testid="token-made">
          New token “{made.name}”, scope {made.scope}. Copy it now — it is not shown again:
          <div class="mono secret-once" data-testid="token-value">
            {made.token}
          </div>
        </div>
      )}
      <ErrorText error={error ?? tokens.error} />
      <table class="table" data-testid="token-list">
        <thead>
          <tr>
            <th>Name</th>
            <th>Scope</th>
            <th>ID</th>
            <th>Made</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(tokens.data ?? []).map((t) => (
            <tr key={t.id} data-testid="token-row" data-token={t.id}>
              <td>{t.name}</td>
              <td>
                <span class={`tag scope-${t.scope}`}>{t.scope}</span>
              </td>
              <td class="mono">{t.id}</td>
              <td>{formatTime(t.createdAt)}</td>
              <td>
                <button
                  type="button"
                  class="link-button danger-text"
                  data-testid="token-revoke"
                  onClick={() => {
                    if (!window.confirm(`Revoke the token “${t.name}”? Scripts using it stop working.`))
                      return;
                    void run(async () => {
                      await api('DELETE', `/api/v1/tokens/${t.id}`);
                      await tokens.reload();
                    });
                  }}
                >
                  Revoke
                </button>
              </td>
            </tr>
          ))}
          {tokens.data?.length === 0 && (
            <tr>
              <td colSpan={5} class="muted">
                No tokens.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </Card>
  );
}

function CertificateStatusText({ s }: { s: IdentityInfo['certificateStatus'] }) {
  if (s.status === 'verified')
    return (
      <span class="good-text" data-testid="certificate-status" data-status="verified">
        ✓ Certified by <strong>{s.org}</strong> as “{s.name}” ({s.kind}), valid until {formatTime(s.notAfter)}
      </span>
    );
  if (s.status === 'unverified')
    return (
      <span class="warn-text" data-testid="certificate-status" data-status="unverified">
        Not valid: {s.reason}
      </span>
    );
  return (
    <span class="muted" data-testid="certificate-status" data-status="none">
      None: others see this room as not verified.
    </span>
  );
}

function IdentityCard() {
  const id = useApi<IdentityInfo>('/api/v1/identity');
  const i = id.data;
  return (
    <Card
      title="Room identity"
      testid="identity-card"
      actions={
        <a class="link" href="#/settings/identity">
          Edit in Settings →
        </a>
      }
    >
      <ErrorText error={id.error} />
      {i === null ? (
        <p class="muted">Loading…</p>
      ) : (
        <>
          <Row label="Identity key">
            <KeyFingerprint fingerprint={i.fingerprint} testid="room-key-fingerprint" />
          </Row>
          <Row label="Certificate">
            <CertificateStatusText s={i.certificateStatus} />
          </Row>
          <Row label="Trusted organizations">
            {i.trustAnchors.length === 0 ? (
              <span class="muted">None: this room cannot verify anyone.</span>
            ) : (
              <ul class="plain" data-testid="trust-anchors">
                {i.trustAnchors.map((a) => (
                  <li key={a.publicKey}>
                    <strong>{a.org}</strong> <KeyFingerprint fingerprint={a.fingerprint} />
                  </li>
                ))}
              </ul>
            )}
          </Row>
          <Row label="Unverified people">
            <a href="#/encryption">
              {i.unverifiedParticipants.charAt(0).toUpperCase() + i.unverifiedParticipants.slice(1)}
            </a>
          </Row>
          {i.problems.length > 0 && (
            <div class="notice notice-warn">
              <ul>
                {i.problems.map((p) => (
                  <li key={p}>{p}</li>
                ))}
              </ul>
            </div>
          )}
        </>
      )}
    </Card>
  );
}

function PinsCard() {
  const pins = useApi<{ pins: PinInfo[]; problem: string | null }>('/api/v1/identity/pins');
  const [error, , run] = useAction();
  const [forgot, setForgot] = useState<string | null>(null);
  return (
    <Card title="Pinned identity keys" testid="pins-card" wide>
      <p class="muted">
        The room remembers the identity key it first saw for each certified person. When someone’s key
        changes, every screen warns “identity key changed”. If you know they really have a new key (a new
        laptop, say), forget the old one here and the room accepts the new one.
      </p>
      {pins.data?.problem != null && <div class="notice notice-warn">{pins.data.problem}</div>}
      {forgot !== null && (
        <Outcome ok testid="pin-forgotten">
          {forgot}
        </Outcome>
      )}
      <ErrorText error={error ?? pins.error} />
      <table class="table" data-testid="pin-list">
        <thead>
          <tr>
            <th>Organization</th>
            <th>Name</th>
            <th>Key</th>
            <th>First seen</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(pins.data?.pins ?? []).map((p) => (
            <tr key={`${p.org}\u0000${p.name}`} data-testid="pin-row" data-name={p.name}>
              <td>{p.org}</td>
              <td>{p.name}</td>
              <td>
                <KeyFingerprint fingerprint={p.fingerprint} />
              </td>
              <td>{formatTime(p.firstSeen)}</td>
              <td>
                <button
                  type="button"
                  class="link-button danger-text"
                  data-testid="pin-forget"
                  onClick={() => {
                    if (!window.confirm(`Forget the key pinned for “${p.name}” of ${p.org}?`)) return;
                    void run(async () => {
                      await api('POST', '/api/v1/identity/pins/forget', { org: p.org, name: p.name });
                      setForgot(`Forgot the key of “${p.name}” (${p.org}); the next key they use is pinned.`);
                      await pins.reload();
                    });
                  }}
                >
                  Forget
                </button>
              </td>
            </tr>
          ))}
          {pins.data?.pins.length === 0 && (
            <tr>
              <td colSpan={5} class="muted">
                No keys pinned yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </Card>
  );
}

export function ProvisioningPage({
  lastSerial,
  onApplied,
}: {
  lastSerial: number | null;
  onApplied: () => void;
}) {
  return (
    <div class="page" data-testid="page-provisioning">
      <div class="grid">
        <BundleCard lastSerial={lastSerial} onApplied={onApplied} />
        <IdentityCard />
        <TokensCard />
        <PinsCard />
      </div>
    </div>
  );
}
