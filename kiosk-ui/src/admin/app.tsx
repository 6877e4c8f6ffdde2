/**
 * The admin console (docs/kiosk-and-admin-api.md §Admin console), served by the admin context:
 * claim with the setup code from the room screen, sign in, then Status, Devices, Settings,
 * Encryption, Provisioning and Logs, each a page at `#/<name>`. Everything it does is also in the
 * API (`/docs`) and in roomctl.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, api, asApiError, onUnauthorized, setCsrf } from './api.ts';
import { HEALTH_WORDS, healthTone, overallHealth } from './devices-view.ts';
import { DevicesPage } from './pages/devices.tsx';
import { EncryptionPage } from './pages/encryption.tsx';
import { LogsPage } from './pages/logs.tsx';
import { ProvisioningPage } from './pages/provisioning.tsx';
import { SettingsPage } from './pages/settings.tsx';
import { StatusPage } from './pages/status.tsx';
import { useSettingsEditor } from './settings-editor.ts';
import type { ClaimStatus, OverviewReply } from './types.ts';
import { ErrorText, Pill, useAction, useApi } from './ui.tsx';

type View = 'loading' | 'claim' | 'login' | 'console';

const PAGES = [
  { id: 'status', title: 'Status' },
  { id: 'devices', title: 'Devices' },
  { id: 'settings', title: 'Settings' },
  { id: 'encryption', title: 'Encryption' },
  { id: 'provisioning', title: 'Provisioning' },
  { id: 'logs', title: 'Logs' },
] as const;
type PageId = (typeof PAGES)[number]['id'];

function route(): { page: PageId; section: string | null } {
  const [, page, section] = window.location.hash.split('/');
  const known = PAGES.find((p) => p.id === page);
  return { page: known?.id ?? 'status', section: section ?? null };
}

function useRoute() {
  const [r, setR] = useState(route);
  useEffect(() => {
    const on = () => setR(route());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return r;
}

function ClaimForm({ onDone }: { onDone: () => void }) {
  const [error, busy, run] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const body: Record<string, string> = {
      setupCode: String(form.get('setupCode') ?? '').trim(),
      password: String(form.get('password') ?? ''),
    };
    const roomName = String(form.get('roomName') ?? '').trim();
    const orgKey = String(form.get('organisationKey') ?? '').trim();
    if (roomName !== '') body['roomName'] = roomName;
    if (orgKey !== '') body['organisationKey'] = orgKey;
    void run(async () => {
      const r = await api<{ csrfToken: string }>('POST', '/api/v1/claim', body);
      setCsrf(r.csrfToken);
      onDone();
    });
  };
  return (
    <form class="card auth-card" onSubmit={submit} data-testid="claim-form">
      <h2>Claim this room device</h2>
      <p>Enter the setup code shown on the room screen and choose the admin password.</p>
      <label>
        Setup code <input name="setupCode" required autocomplete="off" />
      </label>
      <label>
        Room name <input name="roomName" />
      </label>
      <label>
        Admin password (10 characters or more){' '}
        <input name="password" type="password" required minLength={10} autocomplete="new-password" />
      </label>
      <label>
        Organization key (optional, Ed25519 public key in hex) <input name="organisationKey" />
      </label>
      <ErrorText error={error} />
      <button type="submit" disabled={busy}>
        Claim
      </button>
    </form>
  );
}

function LoginForm({ onDone, locked }: { onDone: () => void; locked: boolean }) {
  const [error, busy, run] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const password = String(new FormData(e.currentTarget as HTMLFormElement).get('password') ?? '');
    void run(async () => {
      const r = await api<{ csrfToken: string }>('POST', '/api/v1/login', { password });
      setCsrf(r.csrfToken);
      onDone();
    });
  };
  return (
    <form class="card auth-card" onSubmit={submit} data-testid="login-form">
      <h2>Sign in</h2>
      {locked && (
        <div class="notice notice-bad">
          Sign-in over the network is paused after many failed attempts. Try again later, or sign in on the
          room device itself.
        </div>
      )}
      <label>
        Admin password <input name="password" type="password" required autocomplete="current-password" />
      </label>
      <ErrorText error={error} />
      <button type="submit" disabled={busy}>
        Sign in
      </button>
    </form>
  );
}

function SettingsRoute({ page, section }: { page: 'settings' | 'encryption'; section: string | null }) {
  // A fresh copy of the settings each time the page opens (a bundle may have changed them).
  const ed = useSettingsEditor();
  useEffect(() => {
    if (section !== null && ed.root !== null)
      document.getElementById(`section-${section}`)?.scrollIntoView({ block: 'start' });
  }, [section, ed.root]);
  return page === 'settings' ? <SettingsPage ed={ed} /> : <EncryptionPage ed={ed} />;
}

function Console({ onSignedOut }: { onSignedOut: () => void }) {
  const { page, section } = useRoute();
  const overview = useApi<OverviewReply>('/api/v1/overview', 3000);
  const [error, , run] = useAction();
  const [restarting, setRestarting] = useState(false);
  const o = overview.data;
  const status = o === null ? null : overallHealth(o.health, o.devices);
  const title = PAGES.find((p) => p.id === page)?.title ?? '';
  return (
    <div class="shell">
      <nav class="sidebar" aria-label="Console pages">
        {PAGES.map((p) => (
          <a
            key={p.id}
            href={`#/${p.id}`}
            class={p.id === page ? 'active' : ''}
            aria-current={p.id === page ? 'page' : undefined}
            data-testid={`nav-${p.id}`}
          >
            {p.title}
          </a>
        ))}
        <div class="sidebar-foot">
          <a href="/docs/" target="_blank" rel="noreferrer">
            API reference
          </a>
        </div>
      </nav>
      <main class="main">
        <div class="page-head">
          <h1 data-testid="page-title">{title}</h1>
          <div class="page-head-side">
            {o !== null && status !== null && (
              <span class="head-room">
                {o.room.name}{' '}
                <Pill tone={healthTone(status)} testid="head-health">
                  {HEALTH_WORDS[status]}
                </Pill>
              </span>
            )}
            <button
              type="button"
              class="secondary"
              data-testid="restart"
              disabled={restarting}
              onClick={() => {
                if (!window.confirm('Restart the room now? A meeting in progress is left.')) return;
                void run(async () => {
                  await api('POST', '/api/v1/restart');
                  setRestarting(true);
                });
              }}
            >
              {restarting ? 'Restarting…' : 'Restart room'}
            </button>
            <button
              type="button"
              class="secondary"
              data-testid="sign-out"
              onClick={() =>
                void run(async () => {
                  await api('POST', '/api/v1/logout');
                  setCsrf(null);
                  onSignedOut();
                })
              }
            >
              Sign out
            </button>
          </div>
        </div>
        <ErrorText error={error} />
        {page === 'status' && <StatusPage overview={o} error={overview.error} />}
        {page === 'devices' && (
          <DevicesPage overview={o} error={overview.error} reload={() => void overview.reload()} />
        )}
        {(page === 'settings' || page === 'encryption') && <SettingsRoute page={page} section={section} />}
        {page === 'provisioning' && (
          <ProvisioningPage
            lastSerial={o?.lastBundleSerial ?? null}
            onApplied={() => void overview.reload()}
          />
        )}
        {page === 'logs' && <LogsPage />}
      </main>
    </div>
  );
}

export function AdminApp() {
  const [view, setView] = useState<View>('loading');
  const [claim, setClaim] = useState<ClaimStatus | null>(null);
  const [startError, setStartError] = useState<ApiError | null>(null);
  const refresh = useCallback(async () => {
    const c = await api<ClaimStatus>('GET', '/api/v1/claim');
    setClaim(c);
    if (!c.claimed) return setView('claim');
    try {
      const s = await api<{ csrfToken: string | null }>('GET', '/api/v1/session');
      setCsrf(s.csrfToken);
      setView('console');
    } catch (error) {
      // Not signed in (401), or no longer (403): the sign-in form.
      if (!(error instanceof ApiError) || (error.status !== 401 && error.status !== 403)) throw error;
      setView('login');
    }
  }, []);
  /** Claimed? Signed in? Any other failure (the device not answering) is shown above the form. */
  const reload = useCallback(() => {
    setStartError(null);
    refresh().catch((error: unknown) => {
      setStartError(asApiError(error));
      setView('login');
    });
  }, [refresh]);
  useEffect(() => {
    onUnauthorized(() => setView('login'));
    reload();
    return () => onUnauthorized(null);
  }, [reload]);
  return (
    <div class="admin">
      <header class="topbar">
        <span class="brand">roomd</span>
        <span class="brand-sub">room console</span>
        {claim !== null && <span class="device mono">Device {claim.deviceId}</span>}
      </header>
      {view === 'loading' && <p class="muted pad">Loading…</p>}
      {startError !== null && view !== 'console' && (
        <div class="pad">
          <ErrorText error={startError} />
        </div>
      )}
      {view === 'claim' && <ClaimForm onDone={reload} />}
      {view === 'login' && <LoginForm locked={claim?.loginLocked === true} onDone={reload} />}
      {view === 'console' && <Console onSignedOut={reload} />}
    </div>
  );
}
