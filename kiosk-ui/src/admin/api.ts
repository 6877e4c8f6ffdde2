/**
 * The admin console's calls to the admin API (docs/kiosk-and-admin-api.md §Admin console): JSON
 * over the session cookie, with the CSRF token sent on every state-changing request. A 401 (the
 * session ended or expired) tells the console to show the sign-in form again.
 */
let csrfToken: string | null = null;
let onSignedOut: (() => void) | null = null;

export function setCsrf(token: string | null): void {
  csrfToken = token;
}

/** Called once per 401 from a signed-in call. */
export function onUnauthorized(handler: (() => void) | null): void {
  onSignedOut = handler;
}

export interface FieldProblem {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fields: FieldProblem[];
  readonly context: Record<string, unknown>;
  constructor(
    status: number,
    code: string,
    message: string,
    fields: FieldProblem[] = [],
    context: Record<string, unknown> = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.context = context;
  }
}

type ErrorReply = {
  error?: { code: string; message: string; fields?: FieldProblem[]; context?: Record<string, unknown> };
};

async function send(method: string, path: string, body?: unknown, accept = 'application/json') {
  const headers: Record<string, string> = { accept };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) init.body = JSON.stringify(body);
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (error) {
    // fetch rejects with a TypeError when there is no answer at all (network, certificate).
    if (!(error instanceof TypeError)) throw error;
    throw new ApiError(0, 'transport.closed', 'The room device is not answering.');
  }
  if (!res.ok) {
    const payload = (await res.json().catch(() => null)) as ErrorReply | null;
    const e = payload?.error;
    if (res.status === 401 && path !== '/api/v1/login' && path !== '/api/v1/session') onSignedOut?.();
    throw new ApiError(
      res.status,
      e?.code ?? 'core.internal',
      e?.message ?? `Error ${res.status}`,
      e?.fields ?? [],
      e?.context ?? {},
    );
  }
  return res;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await send(method, path, body);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A text answer (the log download). */
export async function apiText(path: string): Promise<string> {
  return (await send('GET', path, undefined, 'text/plain')).text();
}

/** Any failure as an ApiError (a bug in the console is shown, not swallowed). */
export function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, 'core.internal', String(e));
}
