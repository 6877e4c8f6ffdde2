/**
 * roomctl's client for the admin API (docs/kiosk-and-admin-api.md §roomctl): HTTPS to the room
 * device, whose self-signed certificate is pinned by its SHA-256 fingerprint (shown on the room screen).
 * The first connection fetches the certificate and compares fingerprints; requests then trust
 * exactly that certificate. Bearer token auth; errors come back as RoomctlError with an exit code.
 */
import * as https from 'node:https';
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { RoomctlError, exitCodeForStatus, RoomctlExit } from './exit.ts';

export interface ClientOptions {
  url: string;
  token?: string;
  /** "AB:CD:…" (case and separators ignored) */
  fingerprint?: string;
  /** Skip certificate pinning (first contact on a trusted network only). */
  insecure?: boolean;
  timeoutMs?: number;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export function normaliseFingerprint(fp: string): string {
  return fp.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
}

export class AdminClient {
  readonly url: URL;
  readonly #options: ClientOptions;
  #pinnedPem: string | null = null;
  observedFingerprint: string | null = null;

  constructor(options: ClientOptions) {
    try {
      this.url = new URL(options.url);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_INVALID_URL') throw error;
      throw new RoomctlError(
        RoomctlExit.usage,
        `"${options.url}" is not a URL (expected https://host:port).`,
      );
    }
    if (this.url.protocol !== 'https:')
      throw new RoomctlError(RoomctlExit.usage, 'The admin URL must start with https://.');
    this.#options = options;
    if (options.fingerprint === undefined && options.insecure !== true) {
      throw new RoomctlError(
        RoomctlExit.config,
        'Pass --fingerprint with the certificate fingerprint shown on the room screen (or --insecure).',
      );
    }
  }

  async request(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const ca = await this.#certificate();
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const headers: Record<string, string> = { accept: 'application/json' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (this.#options.token !== undefined) headers['authorization'] = `Bearer ${this.#options.token}`;
    return new Promise<ApiResponse>((resolve, reject) => {
      const req = https.request(
        {
          host: this.url.hostname.replace(/^\[|\]$/g, ''),
          port: this.url.port === '' ? 443 : Number(this.url.port),
          path,
          method,
          headers,
          timeout: this.#options.timeoutMs ?? 15_000,
          ...(ca === null ? { rejectUnauthorized: false } : { ca, checkServerIdentity: () => undefined }),
          agent: false,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown = null;
            if ((res.headers['content-type'] ?? '').includes('json') && text !== '') {
              try {
                json = JSON.parse(text);
              } catch (error) {
                if (!(error instanceof SyntaxError)) throw error;
                json = null;
              }
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (e) => reject(unreachable(this.url, e)));
      req.end(payload);
    });
  }

  /** Request and turn any non-2xx answer into a RoomctlError carrying the server's sentence. */
  async call(method: string, path: string, body?: unknown): Promise<ApiResponse> {
    const res = await this.request(method, path, body);
    if (res.status >= 200 && res.status < 300) return res;
    const err = (res.json as { error?: { code?: string; message?: string; fields?: unknown } } | null)?.error;
    throw new RoomctlError(
      exitCodeForStatus(res.status),
      err?.message ?? `The room device answered ${res.status}.`,
      {
        status: res.status,
        ...(err?.code === undefined ? {} : { code: err.code }),
        ...(err?.fields === undefined ? {} : { fields: err.fields }),
      },
    );
  }

  /** Fetch the server certificate once and check it against the pinned fingerprint. */
  async #certificate(): Promise<string | null> {
    if (this.#pinnedPem !== null) return this.#pinnedPem;
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const socket = tls.connect(
        {
          host: this.url.hostname.replace(/^\[|\]$/g, ''),
          port: this.url.port === '' ? 443 : Number(this.url.port),
          rejectUnauthorized: false,
          servername: /^[\d.]+$|:/.test(this.url.hostname) ? '' : this.url.hostname,
          timeout: this.#options.timeoutMs ?? 15_000,
        },
        () => {
          const cert = socket.getPeerCertificate();
          socket.end();
          if (cert?.raw === undefined)
            reject(new RoomctlError(RoomctlExit.unavailable, 'The room device sent no certificate.'));
          else resolve(cert.raw);
        },
      );
      socket.on('timeout', () => socket.destroy(new Error('timed out')));
      socket.on('error', (e) => reject(unreachable(this.url, e)));
    });
    const x509 = new X509Certificate(raw);
    this.observedFingerprint = x509.fingerprint256;
    if (this.#options.insecure === true && this.#options.fingerprint === undefined) return null;
    if (normaliseFingerprint(x509.fingerprint256) !== normaliseFingerprint(this.#options.fingerprint ?? '')) {
      throw new RoomctlError(
        RoomctlExit.noPerm,
        `The room device's certificate fingerprint is ${x509.fingerprint256}, not the expected one. ` +
          'Check the fingerprint on the room screen; someone may be intercepting the connection.',
      );
    }
    this.#pinnedPem = x509.toString();
    return this.#pinnedPem;
  }
}

function unreachable(url: URL, cause: unknown): RoomctlError {
  if (cause instanceof RoomctlError) return cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new RoomctlError(
    RoomctlExit.unavailable,
    `Cannot reach the room device at ${url.origin} (${reason}).`,
  );
}
