/**
 * The admin page served by the admin context (issue 7): claim with the setup code from the room
 * screen, sign in, then status, health, devices, settings, provisioning bundle, API tokens, logs,
 * restart. Everything it does is also in the API (`/docs`) and in roomctl.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError, api, setCsrf } from './api.ts';

type View = 'loading' | 'claim' | 'login' | 'dashboard';
interface ClaimStatus {
  claimed: boolean;
  deviceId: string;
  loginLocked: boolean;
}

function ErrorText({ error }: { error: ApiError | null }) {
  if (error === null) return null;
  return (
    <div class="error" role="alert">
      {error.message}
      {error.fields.length > 0 && (
        <ul>
          {error.fields.map((f) => (
            <li key={f.path}>
              <code>{f.path}</code> {f.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function useAction(): [ApiError | null, (fn: () => Promise<void>) => Promise<void>] {
  const [error, setError] = useState<ApiError | null>(null);
  const run = useCallback(async (fn: () => Promise<void>) => {
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'core.internal', String(e)));
    }
  }, []);
  return [error, run];
}

function ClaimForm({ onDone }: { onDone: () => void }) {
  const [error, run] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const body: Record<string, string> = {
      setupCode: String(form.get('setupCode') ?? ''),
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
    <form class="card" onSubmit={submit}>
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
        <input name="password" type="password" required minLength={10} />
      </label>
      <label>
        Organisation key (optional, Ed25519 public key in hex) <input name="organisationKey" />
      </label>
      <ErrorText error={error} />
      <button type="submit">Claim</button>
    </form>
  );
}

function LoginForm({ onDone, locked }: { onDone: () => void; locked: boolean }) {
  const [error, run] = useAction();
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
    <form class="card" onSubmit={submit}>
      <h2>Sign in</h2>
      {locked && (
        <div class="error">
          Sign-in over the network is paused after many failed attempts. Try again later, or sign in on the
          room device itself.
        </div>
      )}
      <label>
        Admin password <input name="password" type="password" required />
      </label>
      <ErrorText error={error} />
      <button type="submit">Sign in</button>
    </form>
  );
}

function JsonCard({ title, path }: { title: string; path: string }) {
  const [data, setData] = useState<unknown>(null);
  const [error, run] = useAction();
  useEffect(() => {
    void run(async () => setData(await api('GET', path)));
  }, [path, run]);
  return (
    <section class="card">
      <h2>{title}</h2>
      <ErrorText error={error} />
      <pre>{data === null ? '…' : JSON.stringify(data, null, 2)}</pre>
    </section>
  );
}

function SettingsCard() {
  const [text, setText] = useState('');
  const [saved, setSaved] = useState(false);
  const [error, run] = useAction();
  useEffect(() => {
    void run(async () => setText(JSON.stringify(await api('GET', '/api/v1/settings'), null, 2)));
  }, [run]);
  const save = () =>
    run(async () => {
      setSaved(false);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ApiError(400, 'http.bad_request', 'The settings are not valid JSON.');
      }
      setText(JSON.stringify(await api('PATCH', '/api/v1/settings', body), null, 2));
      setSaved(true);
    });
  return (
    <section class="card">
      <h2>Settings</h2>
      <textarea
        rows={16}
        value={text}
        onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)}
      />
      <ErrorText error={error} />
      {saved && <div class="ok">Saved.</div>}
      <button type="button" onClick={() => void save()}>
        Save settings
      </button>
    </section>
  );
}

function OperationsCard({ onSignedOut }: { onSignedOut: () => void }) {
  const [error, run] = useAction();
  const [message, setMessage] = useState<string | null>(null);
  const [token, setToken] = useState<string | null>(null);
  const [scope, setScope] = useState<'metrics' | 'operator' | 'admin'>('metrics');
  const upload = (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (file === undefined) return;
    void run(async () => {
      const r = await api<{ serial: number }>('POST', '/api/v1/provision', JSON.parse(await file.text()));
      setMessage(`Applied provisioning bundle #${r.serial}.`);
    });
  };
  return (
    <section class="card">
      <h2>Operations</h2>
      <ErrorText error={error} />
      {message !== null && <div class="ok">{message}</div>}
      {token !== null && (
        <div class="ok">
          New API token, scope {scope} (shown once): <code>{token}</code>
        </div>
      )}
      <label>
        Provisioning bundle <input type="file" accept="application/json,.json" onChange={upload} />
      </label>
      <div class="row">
        <a class="button" href="/api/v1/logs?lines=5000" download>
          Download logs
        </a>
        <label>
          Token scope{' '}
          <select
            value={scope}
            onChange={(e) => setScope((e.currentTarget as HTMLSelectElement).value as typeof scope)}
          >
            <option value="metrics">metrics (read /metrics)</option>
            <option value="operator">operator (status, schedule, restart)</option>
            <option value="admin">admin (everything)</option>
          </select>
        </label>
        <button
          type="button"
          onClick={() =>
            void run(async () => {
              const r = await api<{ token: string }>('POST', '/api/v1/tokens', {
                name: `admin page ${new Date().toISOString()}`,
                scope,
              });
              setToken(r.token);
            })
          }
        >
          New API token
        </button>
        <button
          type="button"
          class="danger"
          onClick={() =>
            void run(async () => {
              await api('POST', '/api/v1/restart');
              setMessage('The room device is restarting.');
            })
          }
        >
          Restart
        </button>
        <button
          type="button"
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
    </section>
  );
}

export function AdminApp() {
  const [view, setView] = useState<View>('loading');
  const [claim, setClaim] = useState<ClaimStatus | null>(null);
  const refresh = useCallback(async () => {
    const c = await api<ClaimStatus>('GET', '/api/v1/claim');
    setClaim(c);
    if (!c.claimed) return setView('claim');
    try {
      const s = await api<{ csrfToken: string | null }>('GET', '/api/v1/session');
      setCsrf(s.csrfToken);
      setView('dashboard');
    } catch {
      setView('login');
    }
  }, []);
  useEffect(() => {
    void refresh().catch(() => setView('login'));
  }, [refresh]);
  return (
    <div class="admin">
      <header>
        <h1>roomd admin</h1>
        {claim !== null && <span class="device">Device {claim.deviceId}</span>}
        <a href="/docs/">API reference</a>
      </header>
      {view === 'loading' && <p>Loading…</p>}
      {view === 'claim' && <ClaimForm onDone={() => void refresh()} />}
      {view === 'login' && <LoginForm locked={claim?.loginLocked === true} onDone={() => void refresh()} />}
      {view === 'dashboard' && (
        <div class="grid">
          <JsonCard title="Status" path="/api/v1/status" />
          <JsonCard title="Health" path="/api/v1/health" />
          <JsonCard title="Devices" path="/api/v1/devices" />
          <SettingsCard />
          <OperationsCard onSignedOut={() => void refresh()} />
        </div>
      )}
    </div>
  );
}
