/**
 * `roomd relay` (docs/protocol.md §Management API): serve the relay, or manage meetings on a
 * running one through its HTTP API.
 *
 *   roomd relay [serve] [--host 127.0.0.1] [--port 7443] [--state-dir DIR] [--cert F --key F] [--admin-token-file F]
 *                       [--media-plane embedded|janus --janus ws://HOST:8188 [--janus ws://HOST2:8188]...]
 *                       [--turn-url turns:HOST:443?transport=tcp [--turn-url ...]... --turn-secret-file F [--turn-ttl S]]
 *                       [--last-n N] [--loudest K]   (docs/protocol.md §Big meetings)
 *   roomd relay janus-config --out DIR --ice-interface IFACE --media-address ADDR [...] (janus/config-cli.ts)
 *   roomd relay create --host-key KEY [--title T] [--passcode P] [--start ISO] [--end ISO] [--room R]
 *                      [--encryption e2ee|enhanced] [--join-before-host] [--id ID] [--policy FILE]
 *   roomd relay list [--json]
 *   roomd relay delete ID
 *   roomd relay account [--account ID] [--allow-e2ee true|false] [--default-encryption e2ee|enhanced]
 *   roomd relay room-token --room DEVICE_ID [--name NAME]... [--revoke]
 *   roomd relay rooms
 * Management commands take --url (default http://127.0.0.1:7443) and the admin token from --token,
 * ROOMD_RELAY_TOKEN, or the state directory's `admin-token` file (--state-dir / ROOMD_RELAY_STATE_DIR).
 */
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { RoomdError } from '../core/errors.ts';
import { ExitCode } from '../core/exit-codes.ts';
import type { Logger } from '../core/logger.ts';
import { writeFileAtomic } from '../core/store.ts';
import { checkAdminToken, generateAdminToken } from './http-api.ts';
import { janusConfigCommand } from './janus/config-cli.ts';
import { createRelay } from './server.ts';
import { checkTurnSettings, type TurnSettings } from './turn.ts';

/** Where `serve` keeps the admin token it made, in its state directory (mode 0600). */
export const ADMIN_TOKEN_FILE = 'admin-token';

async function readTokenFile(file: string): Promise<string> {
  const token = (await fsp.readFile(file, 'utf8')).trim();
  checkAdminToken(undefined, token);
  return token;
}

/** The state directory's admin token: read it, or make one (atomically, 0600) on the first start. */
export async function loadOrCreateAdminToken(stateDir: string): Promise<{ token: string; created: boolean }> {
  const file = path.join(stateDir, ADMIN_TOKEN_FILE);
  try {
    return { token: await readTokenFile(file), created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await fsp.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const token = generateAdminToken();
  await writeFileAtomic(file, `${token}\n`, { mode: 0o600 });
  return { token, created: true };
}

export interface RelayCliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  env: Record<string, string | undefined>;
  logger?: Logger;
  /** Stops `serve`; without it SIGINT/SIGTERM do. */
  signal?: AbortSignal;
  /** Called once `serve` listens (tests, sd_notify). */
  onListening?: (url: string) => void;
}

const DEFAULT_PORT = 7443;
/** A meeting policy is under 2 KiB as JSON; a larger file is not one. */
const MAX_POLICY_FILE_CHARS = 16 * 1024;
const USAGE =
  'usage: roomd relay [serve|create|list|delete|account|room-token|rooms|janus-config] [options] (see docs/protocol.md)';

export async function runRelayCli(argv: readonly string[], io: RelayCliIo): Promise<number> {
  const [first, ...rest] = argv;
  const sub = first === undefined || first.startsWith('-') ? 'serve' : first;
  const args = first === undefined || first.startsWith('-') ? [...argv] : rest;
  try {
    switch (sub) {
      case 'serve':
        return await serve(args, io);
      case 'janus-config':
        return await janusConfigCommand(args, io);
      case 'create':
      case 'list':
      case 'delete':
      case 'account':
      case 'room-token':
      case 'rooms':
        return await manage(sub, args, io);
      default:
        io.stderr(USAGE);
        return ExitCode.usage;
    }
  } catch (error) {
    const e = error as Error & { code?: string };
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      io.stderr(`${e.message}\n${USAGE}`);
      return ExitCode.usage;
    }
    io.stderr(`roomd relay: ${e.message}`);
    return ExitCode.failure;
  }
}

async function serve(args: string[], io: RelayCliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'state-dir': { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      'admin-token-file': { type: 'string' },
      'media-plane': { type: 'string' },
      janus: { type: 'string', multiple: true },
      'turn-url': { type: 'string', multiple: true },
      'turn-secret-file': { type: 'string' },
      'turn-ttl': { type: 'string' },
      'last-n': { type: 'string' },
      loudest: { type: 'string' },
    },
    strict: true,
  });
  const lastN = values['last-n'] === undefined ? undefined : Number(values['last-n']);
  const loudest = values.loudest === undefined ? undefined : Number(values.loudest);
  for (const [flag, n] of [
    ['--last-n', lastN],
    ['--loudest', loudest],
  ] as const) {
    if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 100)) {
      io.stderr(`${flag} must be a whole number from 1 to 100`);
      return ExitCode.usage;
    }
  }
  const planeKind = values['media-plane'] ?? 'embedded';
  if (planeKind !== 'embedded' && planeKind !== 'janus') {
    io.stderr('--media-plane is embedded or janus');
    return ExitCode.usage;
  }
  const janus = values.janus ?? [];
  if ((planeKind === 'janus') !== janus.length > 0 || !janus.every((u) => /^wss?:\/\/./.test(u))) {
    io.stderr(
      '--media-plane janus needs --janus ws://HOST:PORT, once per instance (and --janus needs --media-plane janus)',
    );
    return ExitCode.usage;
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.stderr('--port must be a number from 0 to 65535');
    return ExitCode.usage;
  }
  if ((values.cert === undefined) !== (values.key === undefined)) {
    io.stderr('--cert and --key go together');
    return ExitCode.usage;
  }
  const turnUrls = values['turn-url'] ?? [];
  if (
    turnUrls.length > 0 !== (values['turn-secret-file'] !== undefined) ||
    (values['turn-ttl'] !== undefined && turnUrls.length === 0)
  ) {
    io.stderr(
      "--turn-url and --turn-secret-file go together (the secret is coturn's static-auth-secret); --turn-ttl needs them",
    );
    return ExitCode.usage;
  }
  let turn: TurnSettings | undefined;
  if (values['turn-secret-file'] !== undefined) {
    const secret = (await fsp.readFile(values['turn-secret-file'], 'utf8')).trim();
    turn = {
      urls: turnUrls,
      secret,
      ...(values['turn-ttl'] === undefined ? {} : { ttlSeconds: Number(values['turn-ttl']) }),
    };
    try {
      checkTurnSettings(turn);
    } catch (error) {
      if (!(error instanceof RoomdError) || error.code !== 'config.invalid') throw error;
      io.stderr(`--turn-*: ${error.message}`);
      return ExitCode.usage;
    }
  }
  const stateDir = values['state-dir'] ?? io.env['ROOMD_RELAY_STATE_DIR'];
  const tls =
    values.cert === undefined || values.key === undefined
      ? undefined
      : { cert: await fsp.readFile(values.cert), key: await fsp.readFile(values.key) };
  // The admin token: a file given, the environment, or the one kept in the state directory.
  let adminToken: string | undefined;
  let tokenNote: string;
  if (values['admin-token-file'] !== undefined) {
    adminToken = await readTokenFile(values['admin-token-file']);
    tokenNote = `admin token from ${values['admin-token-file']}`;
  } else if ((io.env['ROOMD_RELAY_TOKEN'] ?? '') !== '') {
    adminToken = io.env['ROOMD_RELAY_TOKEN'];
    tokenNote = 'admin token from ROOMD_RELAY_TOKEN';
  } else if (stateDir !== undefined) {
    const kept = await loadOrCreateAdminToken(stateDir);
    adminToken = kept.token;
    const file = path.join(stateDir, ADMIN_TOKEN_FILE);
    // Shown once, when made; afterwards only where it is.
    tokenNote = kept.created
      ? `made an admin token for the management API: ${kept.token} (kept in ${file}, mode 0600)`
      : `admin token in ${file}`;
  } else {
    tokenNote = '';
  }
  const relay = createRelay({
    host: values.host ?? '127.0.0.1',
    port,
    ...(stateDir === undefined ? {} : { stateDir }),
    ...(tls === undefined ? {} : { tls }),
    ...(adminToken === undefined ? {} : { adminToken }),
    ...(io.logger === undefined ? {} : { logger: io.logger }),
    ...(janus.length === 0 ? {} : { mediaPlane: { kind: 'janus' as const, instances: janus } }),
    ...(lastN === undefined && loudest === undefined
      ? {}
      : {
          bigMeeting: {
            ...(lastN === undefined ? {} : { lastN }),
            ...(loudest === undefined ? {} : { loudest }),
          },
        }),
    ...(turn === undefined ? {} : { turn }),
  });
  await relay.start();
  io.stdout(
    JSON.stringify({ event: 'listening', signal: relay.address.signalUrl, api: relay.address.httpUrl }),
  );
  io.stderr(
    `roomd relay: ${
      tokenNote === ''
        ? `made an admin token for the management API, in memory only (use --state-dir to keep one): ${relay.adminToken}`
        : tokenNote
    }`,
  );
  io.onListening?.(relay.address.signalUrl);
  await new Promise<void>((resolve) => {
    if (io.signal !== undefined) {
      if (io.signal.aborted) resolve();
      io.signal.addEventListener('abort', () => resolve(), { once: true });
      return;
    }
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
  await relay.stop();
  return ExitCode.ok;
}

async function manage(sub: string, args: string[], io: RelayCliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
      id: { type: 'string' },
      title: { type: 'string' },
      'host-key': { type: 'string' },
      passcode: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      room: { type: 'string' },
      encryption: { type: 'string' },
      'join-before-host': { type: 'boolean' },
      policy: { type: 'string' },
      account: { type: 'string' },
      'allow-e2ee': { type: 'string' },
      'default-encryption': { type: 'string' },
      'state-dir': { type: 'string' },
      name: { type: 'string', multiple: true },
      revoke: { type: 'boolean' },
    },
    strict: true,
  });
  const base = (values.url ?? io.env['ROOMD_RELAY_URL'] ?? `http://127.0.0.1:${DEFAULT_PORT}`).replace(
    /\/$/,
    '',
  );
  const stateDir = values['state-dir'] ?? io.env['ROOMD_RELAY_STATE_DIR'];
  let token = values.token ?? io.env['ROOMD_RELAY_TOKEN'];
  if (token === undefined && stateDir !== undefined) {
    try {
      token = await readTokenFile(path.join(stateDir, ADMIN_TOKEN_FILE));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const json = text === '' ? null : (JSON.parse(text) as unknown);
    if (!res.ok) {
      const message = (json as { message?: string } | null)?.message ?? `HTTP ${res.status}`;
      throw new Error(message);
    }
    return json;
  };

  if (sub === 'list') {
    const { meetings } = (await call('GET', '/api/v1/meetings')) as { meetings: Record<string, unknown>[] };
    if (values.json === true) io.stdout(JSON.stringify(meetings));
    else {
      for (const m of meetings) {
        io.stdout(
          `${m['id']}\t${m['encryption']}\t${m['start'] ?? '-'}\t${m['end'] ?? '-'}\t${m['room'] ?? '-'}\t${m['title']}`,
        );
      }
    }
    return ExitCode.ok;
  }
  if (sub === 'delete') {
    const id = positionals[0] ?? values.id;
    if (id === undefined) {
      io.stderr('usage: roomd relay delete MEETING_ID');
      return ExitCode.usage;
    }
    await call('DELETE', `/api/v1/meetings/${encodeURIComponent(id)}`);
    io.stdout(JSON.stringify({ deleted: id }));
    return ExitCode.ok;
  }
  if (sub === 'rooms') {
    io.stdout(JSON.stringify(await call('GET', '/api/v1/rooms')));
    return ExitCode.ok;
  }
  if (sub === 'room-token') {
    if (values.room === undefined) {
      io.stderr('usage: roomd relay room-token --room DEVICE_ID [--name NAME]... [--revoke]');
      return ExitCode.usage;
    }
    const p = `/api/v1/rooms/${encodeURIComponent(values.room)}/tokens`;
    if (values.revoke === true) {
      await call('DELETE', p);
      io.stdout(JSON.stringify({ revoked: values.room }));
      return ExitCode.ok;
    }
    // Printed once: the relay keeps only a hash. Give it to the room as meetingService.token.
    io.stdout(JSON.stringify(await call('POST', p, values.name === undefined ? {} : { names: values.name })));
    return ExitCode.ok;
  }
  if (sub === 'account') {
    const id = values.account ?? 'default';
    const patch: Record<string, unknown> = {};
    if (values['allow-e2ee'] !== undefined) {
      if (values['allow-e2ee'] !== 'true' && values['allow-e2ee'] !== 'false') {
        io.stderr('--allow-e2ee takes true or false');
        return ExitCode.usage;
      }
      patch['allowE2ee'] = values['allow-e2ee'] === 'true';
    }
    if (values['default-encryption'] !== undefined) patch['defaultEncryption'] = values['default-encryption'];
    const path = `/api/v1/accounts/${encodeURIComponent(id)}`;
    const account =
      Object.keys(patch).length === 0 ? await call('GET', path) : await call('PATCH', path, patch);
    io.stdout(JSON.stringify(account));
    return ExitCode.ok;
  }
  // create
  if (values['host-key'] === undefined) {
    io.stderr('roomd relay create needs --host-key (the host device identity public key, base64url)');
    return ExitCode.usage;
  }
  const body: Record<string, unknown> = { hostIdentityKey: values['host-key'] };
  const map: [keyof typeof values, string][] = [
    ['id', 'id'],
    ['title', 'title'],
    ['passcode', 'passcode'],
    ['start', 'start'],
    ['end', 'end'],
    ['room', 'room'],
    ['encryption', 'encryption'],
    ['account', 'account'],
  ];
  for (const [flag, field] of map) if (values[flag] !== undefined) body[field] = values[flag];
  if (values['join-before-host'] === true) body['joinBeforeHost'] = true;
  // A host-signed meeting policy (docs/protocol.md "Meeting policy"), JSON; the relay checks its shape.
  if (values.policy !== undefined) {
    const text = await fsp.readFile(values.policy, 'utf8');
    if (text.length > MAX_POLICY_FILE_CHARS) {
      io.stderr(`--policy: ${values.policy} is larger than a meeting policy can be`);
      return ExitCode.usage;
    }
    try {
      body['policy'] = JSON.parse(text) as unknown;
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      io.stderr(`--policy: ${values.policy} is not JSON`);
      return ExitCode.usage;
    }
  }
  const created = await call('POST', '/api/v1/meetings', body);
  io.stdout(JSON.stringify(created));
  return ExitCode.ok;
}
