/**
 * Every outbound TCP or TLS connection the room makes to the meeting service and to TURN goes
 * through here (docs/admin.md §Firewalls, docs/decisions/0020-through-proxies-and-443.md): straight
 * to the target, or through an HTTP proxy with `CONNECT` (RFC 9110 §9.3.6), and TLS on top verified
 * against Node's roots plus the system store, or against a pinned key.
 *
 * Which proxy: the setting (`meetingService.proxy`) wins; without it `HTTPS_PROXY` (or `https_proxy`)
 * from the environment, unless `NO_PROXY` (or `no_proxy`) names the target; loopback targets never
 * go through a proxy. The proxy's password is a secret: errors, contexts and logs only ever carry
 * the redacted address (`http://***@host:port`).
 *
 * The proxy's answer is untrusted: its status line and headers are read up to 8 KiB
 * (MAX_PROXY_ANSWER_BYTES) and decoded totally (`decodeConnectAnswer`), within a deadline from the
 * injected Clock. Every failure is a typed RoomdError (`transport.proxy_*`, `transport.tls_*`,
 * `transport.open_failed`, `core.timeout`).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { Agent, type ClientRequestArgs } from 'node:http';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  createSecureContext,
  rootCertificates,
  type SecureContext,
  type TLSSocket,
  connect as tlsConnect,
} from 'node:tls';
import { type Clock, SystemClock } from '../core/clock.ts';
import { RoomdError } from '../core/errors.ts';

export interface Target {
  host: string;
  port: number;
}

/** An HTTP proxy, parsed: `authorization` is the secret, `display` the redacted address. */
export interface ProxySpec {
  readonly host: string;
  readonly port: number;
  /** `https://` proxy: TLS to the proxy itself (trusted like the system: Node's roots + store). */
  readonly tls: boolean;
  /** `Basic …` from the URL's userinfo, or null. Never logged. */
  readonly authorization: string | null;
  /** The address without its credentials, for messages and logs. */
  readonly display: string;
}

/** What a TLS server must show: a chain to one of `ca`, or (pin set) the key whose SPKI SHA-256 is `pin`. */
export interface TlsTrust {
  /** PEM certificates: Node's roots and the system store. */
  readonly ca: readonly string[];
  /** base64 SHA-256 of the server's SubjectPublicKeyInfo; when set it is the whole trust. */
  readonly pin: string | null;
}

/** Debian's system store (update-ca-certificates), where a private CA is added. */
export const SYSTEM_CA_FILE = '/etc/ssl/certs/ca-certificates.crt';
/** Bound on the proxy's status line and headers. */
export const MAX_PROXY_ANSWER_BYTES = 8 * 1024;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** A pin: base64 of 32 bytes. */
export const TLS_PIN_PATTERN = '^[A-Za-z0-9+/]{43}=$';

export interface ConnectOptions {
  /** Time for each step (TCP and CONNECT, then TLS), from this clock. */
  clock?: Clock;
  timeoutMs?: number;
  /** Trust for an `https://` proxy (default: loadTrust()). */
  proxyTrust?: TlsTrust;
}

// ---- which proxy -----------------------------------------------------------------------------

/**
 * A proxy URL as it may be shown: userinfo replaced by `***`. Everything up to the authority's last
 * `@` goes before the URL is even parsed, so a password with a `/` or `?` in it (which would end the
 * authority early) cannot show through.
 */
export function redactProxyUrl(raw: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(raw)?.[0] ?? '';
  const rest = raw.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  const hidden = at < 0 ? raw : `${scheme}u@${rest.slice(at + 1)}`;
  try {
    const u = new URL(hidden);
    const auth = u.username !== '' || u.password !== '' ? '***@' : '';
    return `${u.protocol}//${auth}${u.host}`;
  } catch (error) {
    if (error instanceof TypeError) return '(not a URL)';
    throw error;
  }
}

/** `http(s)://[user:password@]host[:port]` → ProxySpec; config.invalid (without the secret) otherwise. */
export function parseProxyUrl(raw: string): ProxySpec {
  const display = redactProxyUrl(raw);
  const invalid = (why: string) =>
    new RoomdError('config.invalid', {
      message: `The proxy ${display} ${why}.`,
      context: { proxy: display },
    });
  let u: URL;
  try {
    u = new URL(raw);
  } catch (error) {
    if (error instanceof TypeError) throw invalid('is not a URL');
    throw error;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid('must start with http:// or https://');
  if (u.hostname === '') throw invalid('names no host');
  // A path, query or fragment is no part of a proxy's address; in practice it is a password with a
  // `/`, `?` or `#` in it that was not escaped, and the host and port read from it would be wrong.
  if (
    (u.pathname !== '/' && u.pathname !== '') ||
    u.search !== '' ||
    u.hash !== '' ||
    raw.split('@').length > 2
  )
    throw invalid(
      'has a path, query or fragment, or an unescaped @ (escape such characters in the password)',
    );
  let user: string;
  let password: string;
  try {
    user = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
  } catch (error) {
    if (error instanceof URIError) throw invalid('has badly escaped credentials');
    throw error;
  }
  const tls = u.protocol === 'https:';
  return {
    host: unbracket(u.hostname),
    port: u.port === '' ? (tls ? 443 : 80) : Number(u.port),
    tls,
    authorization:
      user === '' && password === ''
        ? null
        : `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    display,
  };
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** localhost, 127.0.0.0/8, ::1: never through a proxy. */
export function isLoopbackHost(host: string): boolean {
  const h = unbracket(host).toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost') || h === '::1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * Whether `NO_PROXY` names the target: `*`, or entries separated by commas or spaces, each a host
 * or domain suffix (`example.com` and `.example.com` both match `a.example.com`), optionally with
 * `:port`. Address ranges (CIDR) are not understood.
 */
export function noProxyMatches(target: Target, list: string): boolean {
  const host = unbracket(target.host).toLowerCase();
  for (const raw of list.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(entry);
    if (withPort !== null) {
      if (Number(withPort[2]) !== target.port) continue;
      entry = withPort[1] as string;
    }
    entry = unbracket(entry.replace(/^\*?\./, ''));
    if (host === entry || host.endsWith(`.${entry}`)) return true;
  }
  return false;
}

/**
 * The proxy for one target: the setting when given, else the environment's `HTTPS_PROXY` minus
 * `NO_PROXY`; null for loopback and when none applies.
 */
export function proxyFor(
  target: Target,
  setting: string | null,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ProxySpec | null {
  if (isLoopbackHost(target.host)) return null;
  if (setting !== null) return parseProxyUrl(setting);
  const raw = env['HTTPS_PROXY'] || env['https_proxy'];
  if (raw === undefined || raw === '') return null;
  if (noProxyMatches(target, env['NO_PROXY'] || env['no_proxy'] || '')) return null;
  return parseProxyUrl(raw);
}

// ---- trust -----------------------------------------------------------------------------------

const contexts = new WeakMap<TlsTrust, SecureContext>();

/** Node's roots plus the system store file (when it exists), and the pin if any. */
export function loadTrust(options: { pin?: string | null; caFile?: string } = {}): TlsTrust {
  const ca = [...rootCertificates];
  try {
    ca.push(readFileSync(options.caFile ?? SYSTEM_CA_FILE, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EACCES' && code !== 'EISDIR') throw error;
  }
  return { ca, pin: options.pin ?? null };
}

function contextOf(trust: TlsTrust): SecureContext {
  let c = contexts.get(trust);
  if (c === undefined) {
    c = createSecureContext({ ca: [...trust.ca] });
    contexts.set(trust, c);
  }
  return c;
}

/** base64 SHA-256 of a TLS peer's SubjectPublicKeyInfo (what `tlsPin` holds), or null without a certificate. */
export function peerPin(socket: TLSSocket): string | null {
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) return null;
  let spki: Buffer;
  try {
    spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  } catch (error) {
    // A key node:crypto cannot export (an exotic algorithm): no pin can name it.
    if (
      typeof (error as NodeJS.ErrnoException).code === 'string' &&
      /^ERR_/.test((error as NodeJS.ErrnoException).code!)
    )
      return null;
    throw error;
  }
  return createHash('sha256').update(spki).digest('base64');
}

// ---- the proxy's answer ----------------------------------------------------------------------

export type ConnectAnswer =
  | { kind: 'incomplete' }
  | { kind: 'answer'; status: number; headerBytes: number }
  | { kind: 'malformed'; reason: string };

const HEADER_LINE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\r\n]*$/;

/** The proxy's answer to CONNECT so far, decoded totally: status line and headers within 8 KiB. */
export function decodeConnectAnswer(buf: Uint8Array): ConnectAnswer {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const prefix = b.subarray(0, 5).toString('latin1');
  if (!'HTTP/'.startsWith(prefix)) return { kind: 'malformed', reason: 'it is not HTTP' };
  const end = b.indexOf('\r\n\r\n');
  if (end < 0 || end + 4 > MAX_PROXY_ANSWER_BYTES) {
    return b.byteLength >= MAX_PROXY_ANSWER_BYTES || end >= 0
      ? { kind: 'malformed', reason: `its headers are longer than ${MAX_PROXY_ANSWER_BYTES} bytes` }
      : { kind: 'incomplete' };
  }
  const lines = b.subarray(0, end).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.[01] ([1-5]\d\d)(?: [^\r\n]*)?$/.exec(lines[0] ?? '');
  if (status === null) return { kind: 'malformed', reason: 'its status line is not HTTP/1.x' };
  for (let i = 1; i < lines.length; i++) {
    if (!HEADER_LINE.test(lines[i] as string))
      return { kind: 'malformed', reason: 'a header line is malformed' };
  }
  return { kind: 'answer', status: Number(status[1]), headerBytes: end + 4 };
}

function hostPort(t: Target): string {
  return isIP(t.host) === 6 ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
}

// ---- connections -----------------------------------------------------------------------------

const systemClock = new SystemClock();

/**
 * One attempt with a deadline: `run` gets `fail`, and resolves through `done`; on failure or at
 * the deadline every socket it registered is destroyed.
 */
function attempt<T>(
  o: ConnectOptions,
  what: string,
  run: (ctl: { done: (v: T) => void; fail: (e: RoomdError) => void; own: (s: Duplex) => void }) => void,
): Promise<T> {
  const clock = o.clock ?? systemClock;
  const ms = o.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return new Promise<T>((resolve, reject) => {
    const owned: Duplex[] = [];
    let settled = false;
    const timer = clock.setTimeout(
      () =>
        fail(
          new RoomdError('core.timeout', {
            message: `${what} took longer than ${ms} ms and was abandoned.`,
            context: { timeoutMs: ms },
          }),
        ),
      ms,
    );
    function fail(e: RoomdError): void {
      if (settled) return;
      settled = true;
      clock.clear(timer);
      // Outermost first: a TLS socket before the socket it wraps.
      for (const s of owned.reverse()) s.destroy();
      reject(e);
    }
    function done(v: T): void {
      if (settled) return;
      settled = true;
      clock.clear(timer);
      resolve(v);
    }
    try {
      run({ done, fail, own: (s) => owned.push(s) });
    } catch (error) {
      // A synchronous throw: ours (a RoomdError) or Node's refusal of an option (an ERR_* code from
      // net or tls) is settled here, timer and all; anything else is a bug and surfaces.
      const code = (error as NodeJS.ErrnoException).code;
      if (!(error instanceof RoomdError) && !(typeof code === 'string' && code.startsWith('ERR_'))) {
        clock.clear(timer);
        throw error;
      }
      fail(
        error instanceof RoomdError
          ? error
          : new RoomdError('transport.open_failed', {
              message: `${what} could not start (${code}).`,
              cause: error,
            }),
      );
    }
  });
}

function errnoOf(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? 'error';
}

/** A TCP connection to `target`: direct, or through the proxy's CONNECT tunnel. */
export function openTunnel(
  target: Target,
  proxy?: ProxySpec | null,
  o: ConnectOptions = {},
): Promise<Socket> {
  if (proxy === undefined || proxy === null) {
    return attempt(o, `Connecting to ${hostPort(target)}`, ({ done, fail, own }) => {
      const s = netConnect({ host: target.host, port: target.port });
      own(s);
      s.once('connect', () => {
        s.removeAllListeners('error');
        done(s);
      });
      s.once('error', (error) =>
        fail(
          new RoomdError('transport.open_failed', {
            message: `Could not connect to ${hostPort(target)} (${errnoOf(error)}).`,
            context: { host: target.host, port: target.port, errno: errnoOf(error) },
          }),
        ),
      );
    });
  }
  return throughProxy(target, proxy, o);
}

function throughProxy(target: Target, proxy: ProxySpec, o: ConnectOptions): Promise<Socket> {
  const ctx = { proxy: proxy.display, host: target.host, port: target.port };
  return attempt<Socket>(o, `Connecting to ${hostPort(target)} through the proxy ${proxy.display}`, (ctl) => {
    const raw = netConnect({ host: proxy.host, port: proxy.port });
    ctl.own(raw);
    const unreachable = (error: unknown) =>
      ctl.fail(
        new RoomdError('transport.proxy_unreachable', {
          message: `The HTTP proxy ${proxy.display} cannot be reached (${errnoOf(error)}).`,
          context: { ...ctx, errno: errnoOf(error) },
        }),
      );
    raw.once('error', unreachable);
    raw.once('connect', () => {
      raw.removeListener('error', unreachable);
      if (!proxy.tls) {
        handshake(raw, raw, target, proxy, ctl);
        return;
      }
      verifiedTls(raw, { host: proxy.host, port: proxy.port }, o.proxyTrust ?? defaultTrust(), 'proxy', {
        fail: ctl.fail,
        own: ctl.own,
        done: (secured) => handshake(secured, raw, target, proxy, ctl),
      });
    });
  });
}

let cachedTrust: TlsTrust | undefined;
function defaultTrust(): TlsTrust {
  cachedTrust ??= loadTrust();
  return cachedTrust;
}

/** Writes CONNECT and reads the answer; the tunnel is `s` itself, with any early bytes put back. */
function handshake(
  s: Socket,
  raw: Socket,
  target: Target,
  proxy: ProxySpec,
  ctl: { done: (v: Socket) => void; fail: (e: RoomdError) => void },
): void {
  const ctx = { proxy: proxy.display, host: target.host, port: target.port };
  let buf: Buffer = Buffer.alloc(0);
  const cleanup = () => {
    s.removeListener('readable', onReadable);
    s.removeListener('end', onGone);
    s.removeListener('close', onGone);
    s.removeListener('error', onGone);
    raw.removeListener('error', onGone);
  };
  const fail = (e: RoomdError) => {
    cleanup();
    ctl.fail(e);
  };
  function onGone(): void {
    fail(
      new RoomdError('transport.proxy_refused', {
        message: `The HTTP proxy ${proxy.display} closed the connection to ${hostPort(target)} before answering.`,
        context: { ...ctx, status: null },
      }),
    );
  }
  function onReadable(): void {
    for (;;) {
      const chunk = s.read() as Buffer | null;
      if (chunk === null) return;
      buf = Buffer.concat([buf, chunk]);
      const a = decodeConnectAnswer(buf);
      if (a.kind === 'incomplete') continue;
      if (a.kind === 'malformed') {
        fail(
          new RoomdError('transport.proxy_malformed', {
            message: `The HTTP proxy ${proxy.display} answered with something that is not HTTP (${a.reason}).`,
            context: ctx,
          }),
        );
        return;
      }
      if (a.status < 200 || a.status > 299) {
        fail(refusal(a.status, target, proxy));
        return;
      }
      cleanup();
      const rest = buf.subarray(a.headerBytes);
      if (rest.byteLength > 0) s.unshift(rest);
      ctl.done(s);
      return;
    }
  }
  s.on('readable', onReadable);
  s.once('end', onGone);
  s.once('close', onGone);
  s.once('error', onGone);
  if (raw !== s) raw.once('error', onGone);
  const head = [`CONNECT ${hostPort(target)} HTTP/1.1`, `Host: ${hostPort(target)}`];
  if (proxy.authorization !== null) head.push(`Proxy-Authorization: ${proxy.authorization}`);
  s.write(`${head.join('\r\n')}\r\n\r\n`);
}

function refusal(status: number, target: Target, proxy: ProxySpec): RoomdError {
  const context = { proxy: proxy.display, host: target.host, port: target.port, status };
  // 407 is the standard answer; some proxies (tinyproxy 1.11) answer wrong credentials with 401.
  if (status === 407 || status === 401) {
    return new RoomdError('transport.proxy_auth', {
      message:
        proxy.authorization === null
          ? `The HTTP proxy ${proxy.display} needs credentials (${status}): give them in meetingService.proxy (http://user:password@host:port).`
          : `The HTTP proxy ${proxy.display} refused our credentials (${status}).`,
      context,
    });
  }
  return new RoomdError('transport.proxy_refused', {
    message: `The HTTP proxy ${proxy.display} refused to connect to ${hostPort(target)} (HTTP ${status}); it must allow CONNECT to that host and port.`,
    context,
  });
}

/**
 * TLS over `raw`, verified by `trust`: with a pin, the presented key must match it (the chain does
 * not matter then); without, the chain and name must verify.
 */
function verifiedTls(
  raw: Duplex,
  target: Target & { servername?: string },
  trust: TlsTrust,
  who: 'proxy' | 'server',
  ctl: { done: (s: TLSSocket) => void; fail: (e: RoomdError) => void; own: (s: Duplex) => void },
): TLSSocket {
  const name = target.servername ?? target.host;
  const s = tlsConnect({
    socket: raw,
    host: target.host,
    ...(isIP(name) === 0 ? { servername: name } : {}),
    secureContext: contextOf(trust),
    // Checked below, to say why and to apply the pin.
    rejectUnauthorized: false,
  });
  ctl.own(s);
  const where = `${who === 'proxy' ? 'the HTTP proxy ' : ''}${hostPort(target)}`;
  const onError = (error: unknown) =>
    ctl.fail(
      new RoomdError('transport.open_failed', {
        message: `TLS with ${where} failed (${errnoOf(error)}).`,
        context: { host: target.host, port: target.port, errno: errnoOf(error) },
      }),
    );
  s.once('error', onError);
  s.once('secureConnect', () => {
    s.removeListener('error', onError);
    if (trust.pin !== null) {
      const presented = peerPin(s);
      if (presented !== trust.pin) {
        ctl.fail(
          new RoomdError('transport.tls_pin_mismatch', {
            message: `The key of ${where} does not match the pin: expected ${trust.pin}, presented ${presented ?? 'none'} (SPKI SHA-256, base64).`,
            context: { host: target.host, port: target.port, expected: trust.pin, presented },
          }),
        );
        return;
      }
    } else if (!s.authorized) {
      const reason = String(s.authorizationError ?? 'unknown');
      ctl.fail(
        new RoomdError('transport.tls_untrusted', {
          message: `The certificate of ${where} is not trusted (${reason}): add its CA to the system store (${SYSTEM_CA_FILE}, update-ca-certificates)${who === 'server' ? ', or set its key pin (meetingService.tlsPin)' : ''}.`,
          context: { host: target.host, port: target.port, reason },
        }),
      );
      return;
    }
    ctl.done(s);
  });
  return s;
}

/** A TLS connection to `target` (through the proxy when given), verified by `trust`. */
export async function openTls(
  target: Target & { servername?: string },
  trust: TlsTrust,
  proxy?: ProxySpec | null,
  o: ConnectOptions = {},
): Promise<TLSSocket> {
  const raw = await openTunnel(target, proxy, o);
  return attempt<TLSSocket>(o, `TLS with ${hostPort(target)}`, (ctl) => {
    ctl.own(raw);
    verifiedTls(raw, target, trust, 'server', ctl);
  });
}

// ---- node:http / ws --------------------------------------------------------------------------

export interface TunnelAgentOptions extends ConnectOptions {
  /** `https:` (TLS to the target, verified by `trust`) or `http:`. */
  secure: boolean;
  trust: TlsTrust;
  /** The proxy for a target (usually `(t) => proxyFor(t, setting)`). */
  proxy: (target: Target) => ProxySpec | null;
}

/**
 * An http.Agent whose connections are made by openTunnel/openTls: for node:http(s) requests and
 * for `ws` (its `agent` option). No keep-alive: each request has its own connection.
 */
export class TunnelAgent extends Agent {
  readonly #o: TunnelAgentOptions;

  constructor(options: TunnelAgentOptions) {
    super({ keepAlive: false });
    this.#o = options;
    // node:http checks the request's protocol against its agent's.
    Object.assign(this, {
      protocol: options.secure ? 'https:' : 'http:',
      defaultPort: options.secure ? 443 : 80,
    });
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const host = unbracket(String(options.host ?? options.hostname ?? 'localhost'));
    const port = Number(options.port ?? (this.#o.secure ? 443 : 80));
    const target = { host, port };
    const opened = (async (): Promise<Duplex> => {
      const proxy = this.#o.proxy(target);
      return this.#o.secure
        ? openTls(target, this.#o.trust, proxy, this.#o)
        : openTunnel(target, proxy, this.#o);
    })();
    opened.then(
      (s) => callback?.(null, s),
      (error: unknown) =>
        callback?.(error instanceof Error ? error : new Error(String(error)), undefined as never),
    );
    return undefined;
  }
}

// ---- the room's settings ---------------------------------------------------------------------

/** How the room reaches the meeting service (`meetingService.proxy`, `meetingService.tlsPin`). */
export interface NetworkSettings {
  /** `meetingService.proxy`; null: `HTTPS_PROXY`/`NO_PROXY` from `env` apply. */
  proxy: string | null;
  /** `meetingService.tlsPin`: the meeting service's SPKI SHA-256 (base64), or null. */
  tlsPin: string | null;
  /** The system store (tests give their own). */
  caFile?: string;
  env?: Readonly<Record<string, string | undefined>>;
  clock?: Clock;
  timeoutMs?: number;
}

/** The agent for `http:`/`ws:` or `https:`/`wss:` connections to the meeting service. */
export function meetingServiceAgent(protocol: string, n: NetworkSettings): TunnelAgent {
  const secure = protocol === 'https:' || protocol === 'wss:';
  return new TunnelAgent({
    secure,
    trust: sharedTrust(n.caFile ?? SYSTEM_CA_FILE, n.tlsPin),
    proxy: (t) => proxyFor(t, n.proxy, n.env),
    ...(n.clock === undefined ? {} : { clock: n.clock }),
    ...(n.timeoutMs === undefined ? {} : { timeoutMs: n.timeoutMs }),
    proxyTrust: sharedTrust(n.caFile ?? SYSTEM_CA_FILE, null),
  });
}

const trusts = new Map<string, TlsTrust>();

/**
 * loadTrust, kept while the store file is unchanged: requests every few seconds (the schedule)
 * then reuse one parsed set of CAs (contextOf) instead of reading and parsing them each time.
 */
function sharedTrust(caFile: string, pin: string | null): TlsTrust {
  let mtime = -1;
  try {
    mtime = statSync(caFile).mtimeMs;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EACCES' && code !== 'ENOTDIR') throw error;
  }
  const key = `${caFile}\n${pin ?? ''}\n${mtime}`;
  let t = trusts.get(key);
  if (t === undefined) {
    if (trusts.size >= 8) trusts.clear();
    t = loadTrust({ caFile, pin });
    trusts.set(key, t);
  }
  return t;
}
