/**
 * Small pieces every console page uses: running an API call with its error, polling, status
 * colours, the two fingerprints (one format each, everywhere), the shield and result boxes.
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type ApiError, api, asApiError } from './api.ts';
import { certificateRows } from './format.ts';

export type Tone = 'good' | 'warn' | 'bad' | 'idle';

export function ErrorText({ error }: { error: ApiError | null }) {
  if (error === null) return null;
  return (
    <div class="notice notice-bad" role="alert" data-testid="error">
      <strong>{error.message}</strong>
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

/** Run one API action at a time: its error (or null) and whether it is running. */
export function useAction(): [ApiError | null, boolean, (fn: () => Promise<void>) => Promise<void>] {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const run = useCallback(async (fn: () => Promise<void>) => {
    setError(null);
    setBusy(true);
    try {
      await fn();
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  }, []);
  return [error, busy, run];
}

/** GET `path` now and every `everyMs` (0: once); `reload` fetches again at once. */
export function useApi<T>(
  path: string,
  everyMs = 0,
): { data: T | null; error: ApiError | null; reload: () => Promise<void> } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const alive = useRef(true);
  const reload = useCallback(async () => {
    try {
      const d = await api<T>('GET', path);
      if (!alive.current) return;
      setData(d);
      setError(null);
    } catch (e) {
      if (alive.current) setError(asApiError(e));
    }
  }, [path]);
  useEffect(() => {
    alive.current = true;
    void reload();
    const t = everyMs > 0 ? window.setInterval(() => void reload(), everyMs) : undefined;
    return () => {
      alive.current = false;
      if (t !== undefined) window.clearInterval(t);
    };
  }, [reload, everyMs]);
  return { data, error, reload };
}

export function Pill({
  tone,
  children,
  testid,
}: {
  tone: Tone;
  children: ComponentChildren;
  testid?: string;
}) {
  return (
    <span class={`pill pill-${tone}`} data-testid={testid} data-tone={tone}>
      <span class="dot" aria-hidden="true" />
      {children}
    </span>
  );
}

export function Card({
  title,
  children,
  actions,
  testid,
  wide,
}: {
  title: ComponentChildren;
  children: ComponentChildren;
  actions?: ComponentChildren;
  testid?: string;
  wide?: boolean;
}) {
  return (
    <section class={`card${wide === true ? ' card-wide' : ''}`} data-testid={testid}>
      <div class="card-head">
        <h2>{title}</h2>
        {actions !== undefined && <div class="card-actions">{actions}</div>}
      </div>
      {children}
    </section>
  );
}

/** The admin certificate's fingerprint, laid out as on the setup screen. */
export function CertFingerprint({ fingerprint }: { fingerprint: string }) {
  const [a, b] = certificateRows(fingerprint);
  return (
    <div class="mono fingerprint" data-testid="cert-fingerprint" data-fingerprint={fingerprint}>
      <div>{a}</div>
      <div>{b}</div>
    </div>
  );
}

/** An identity key's short fingerprint ("abcd ef01 2345 6789"), as roomctl prints it. */
export function KeyFingerprint({ fingerprint, testid }: { fingerprint: string; testid?: string }) {
  return (
    <span class="mono key-fp" data-testid={testid}>
      {fingerprint}
    </span>
  );
}

/** The room screen's own shield (one drawing for both; docs/kiosk-and-admin-api.md §Room screen). */
export { ShieldIcon } from '../components/encryption.tsx';

/** The outcome of a test or an action: green when it passed, amber when it did not. */
export function Outcome({
  ok,
  children,
  testid,
}: {
  ok: boolean;
  children: ComponentChildren;
  testid?: string;
}) {
  return (
    <div
      class={`notice ${ok ? 'notice-good' : 'notice-warn'}`}
      role="status"
      data-testid={testid}
      data-ok={String(ok)}
    >
      {children}
    </div>
  );
}

export function Row({
  label,
  children,
  testid,
  stack,
}: {
  label: string;
  children: ComponentChildren;
  testid?: string;
  /** Label above the value (for long values such as the certificate fingerprint). */
  stack?: boolean;
}) {
  return (
    <div class={stack === true ? 'kv kv-stack' : 'kv'}>
      <div class="kv-label">{label}</div>
      <div class="kv-value" data-testid={testid}>
        {children}
      </div>
    </div>
  );
}
