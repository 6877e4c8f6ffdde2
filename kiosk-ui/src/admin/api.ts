/**
 * The admin page's calls to the admin API (issue 7, admin context): JSON over the session cookie,
 * with the CSRF token sent on every state-changing request.
 */
let csrfToken: string | null = null;

export function setCsrf(token: string | null): void {
  csrfToken = token;
}

export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly fields: { path: string; message: string }[];
  constructor(
    status: number,
    code: string,
    message: string,
    fields: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  const init: RequestInit = { method, headers, credentials: 'same-origin' };
  if (body !== undefined) init.body = JSON.stringify(body);
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'transport.closed', 'The room device is not answering.');
  }
  if (res.status === 204) return undefined as T;
  const payload = (await res.json().catch(() => null)) as
    | (T & { error?: { code: string; message: string; fields?: { path: string; message: string }[] } })
    | null;
  if (!res.ok) {
    const e = payload?.error;
    throw new ApiError(
      res.status,
      e?.code ?? 'core.internal',
      e?.message ?? `Error ${res.status}`,
      e?.fields ?? [],
    );
  }
  return payload as T;
}
