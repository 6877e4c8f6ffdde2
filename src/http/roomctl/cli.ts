/**
 * `roomctl` (docs/kiosk-and-admin-api.md §roomctl): the admin's command line for one room device.
 * Parses arguments, resolves the connection (flags > ROOMCTL_* env > saved config), runs a command,
 * prints human text or `--json`, and returns an exit code from RoomctlExit. `bin/roomctl.js` calls
 * `main`.
 */
import * as fsp from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { AdminClient } from './client.ts';
import * as cmd from './commands.ts';
import { defaultConfigPath, loadConnection, saveConnection } from './config.ts';
import * as demo from './demo.ts';
import { RoomctlError, RoomctlExit } from './exit.ts';
import * as idc from './identity.ts';

export interface RoomctlIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  readStdin?: () => Promise<string>;
  /** Wall-clock ms since the Unix epoch (certificate validity); default the system clock. */
  now?: () => number;
}

export const USAGE = `Usage: roomctl <command> [options]

Commands:
  claim --url URL --fingerprint FP --code CODE (--password-file F | --password-stdin) [--room-name NAME] [--org-key HEX]
  token create --name NAME [--scope metrics|operator|admin]   (default metrics; prints the token once)
  token list
  token revoke ID
  provision --bundle FILE
  status | health | devices
  settings get [KEY]
  settings set KEY=VALUE...
  logs [--lines N]
  restart
  schedule --title T --start ISO (--end ISO | --minutes N) [--encryption e2ee|enhanced] [--passcode P]
  identity org-init --org NAME --out FILE      (no device needed; roomctl identity --help)
  identity issue --org-key FILE --name NAME --kind room|person|bot --key IVK [--days N]
  identity show | identity pins | identity forget --org ORG --name NAME
  identity provision [--anchor FILE] [--cert FILE]
  demo status | host-leaves | join | leave | phone-join | share | say | relay-restart | …
                                               (roomd demo only; roomctl demo --help)

Connection: --url, --fingerprint, --token, --insecure, --config FILE
  (or ROOMCTL_URL, ROOMCTL_FINGERPRINT, ROOMCTL_TOKEN; claim saves them)
Every command takes --json. Exit codes: 0 ok, 1 refused, 64 usage, 65 invalid input,
  69 unreachable, 70 device error, 75 try later (rate limit, lockout), 77 not allowed, 78 not configured.
`;

const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  url: { type: 'string' },
  fingerprint: { type: 'string' },
  token: { type: 'string' },
  insecure: { type: 'boolean' },
  config: { type: 'string' },
  code: { type: 'string' },
  'password-file': { type: 'string' },
  'password-stdin': { type: 'boolean' },
  'room-name': { type: 'string' },
  'org-key': { type: 'string' },
  bundle: { type: 'string' },
  lines: { type: 'string' },
  title: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  minutes: { type: 'string' },
  encryption: { type: 'string' },
  passcode: { type: 'string' },
  name: { type: 'string' },
  scope: { type: 'string' },
  org: { type: 'string' },
  out: { type: 'string' },
  kind: { type: 'string' },
  key: { type: 'string' },
  days: { type: 'string' },
  anchor: { type: 'string' },
  cert: { type: 'string' },
  meeting: { type: 'string' },
} as const;

const COMMANDS = new Set([
  'claim',
  'token',
  'provision',
  'status',
  'health',
  'devices',
  'settings',
  'logs',
  'restart',
  'schedule',
  'identity',
  'demo',
]);

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function usage(message: string): RoomctlError {
  return new RoomctlError(RoomctlExit.usage, `${message}\n\n${USAGE}`);
}

function identityUsage(message: string): RoomctlError {
  return new RoomctlError(RoomctlExit.usage, `${message}\n\n${idc.IDENTITY_USAGE}`);
}

function needIdentity(v: Values, name: keyof Values): string {
  const value = v[name];
  if (typeof value !== 'string' || value === '') throw identityUsage(`--${name} is required.`);
  return value;
}

function need(v: Values, name: keyof Values): string {
  const value = v[name];
  if (typeof value !== 'string' || value === '') throw usage(`--${name} is required.`);
  return value;
}

async function readFileOrFail(file: string, what: string): Promise<string> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (error) {
    throw new RoomctlError(
      RoomctlExit.usage,
      `Cannot read the ${what} file ${file} (${(error as Error).message}).`,
    );
  }
}

export async function runRoomctl(argv: string[], io: RoomctlIo): Promise<number> {
  let json = argv.includes('--json');
  try {
    let parsed: { values: Values; positionals: string[] };
    try {
      parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (error) {
      throw usage((error as Error).message);
    }
    const { values: v, positionals } = parsed;
    json = v.json === true;
    const [command, sub, ...rest] = positionals;
    if (
      (command === 'identity' && (v.help === true || sub === undefined || sub === 'help')) ||
      (command === 'help' && sub === 'identity')
    ) {
      io.stdout(idc.IDENTITY_USAGE);
      return RoomctlExit.ok;
    }
    if (
      (command === 'demo' && (v.help === true || sub === undefined || sub === 'help')) ||
      (command === 'help' && sub === 'demo')
    ) {
      io.stdout(demo.DEMO_USAGE);
      return RoomctlExit.ok;
    }
    if (v.help === true || command === undefined || command === 'help') {
      io.stdout(USAGE);
      return command === undefined && v.help !== true ? RoomctlExit.usage : RoomctlExit.ok;
    }
    if (!COMMANDS.has(command)) throw usage(`Unknown command "${command}".`);
    // A mistyped demo command is a usage error before any connection is made.
    if (command === 'demo') demo.checkArgs(sub, rest, v.kind);
    const now = io.now ?? Date.now;
    // The issuer's commands work on local files only: no device, no connection.
    if (command === 'identity' && (sub === 'org-init' || sub === 'issue')) {
      if (rest.length > 0) throw identityUsage(`Unexpected "${rest[0]}".`);
      let local: cmd.CommandResult;
      if (sub === 'org-init') {
        const made = await idc.orgInit(needIdentity(v, 'out'), needIdentity(v, 'org'), now());
        io.stderr(made.note);
        local = made;
      } else {
        const kind = needIdentity(v, 'kind');
        if (!idc.isKind(kind)) throw identityUsage('--kind is room, person or bot.');
        local = await idc.issue(
          {
            orgKeyFile: needIdentity(v, 'org-key'),
            name: needIdentity(v, 'name'),
            kind,
            key: needIdentity(v, 'key'),
            days: Number(v.days ?? '365'),
          },
          now(),
        );
      }
      io.stdout(json ? JSON.stringify(local.json) : local.human);
      return RoomctlExit.ok;
    }
    const configFile = v.config ?? io.env['ROOMCTL_CONFIG'] ?? defaultConfigPath(io.env);
    const saved = await loadConnection(configFile);
    const url = v.url ?? io.env['ROOMCTL_URL'] ?? saved.url;
    const fingerprint = v.fingerprint ?? io.env['ROOMCTL_FINGERPRINT'] ?? saved.fingerprint;
    const token = v.token ?? io.env['ROOMCTL_TOKEN'] ?? saved.token;
    if (url === undefined)
      throw new RoomctlError(
        RoomctlExit.config,
        'No device: pass --url https://host:8443 or run roomctl claim.',
      );
    const client = new AdminClient({
      url,
      ...(fingerprint === undefined ? {} : { fingerprint }),
      ...(token === undefined || command === 'claim' ? {} : { token }),
      ...(v.insecure === true ? { insecure: true } : {}),
    });
    if (command !== 'claim' && token === undefined) {
      throw new RoomctlError(
        RoomctlExit.config,
        'No API token: run roomctl claim, or pass --token / ROOMCTL_TOKEN.',
      );
    }

    let result: cmd.CommandResult;
    let code: number = RoomctlExit.ok;
    switch (command) {
      case 'claim': {
        let password: string;
        if (v['password-file'] !== undefined)
          password = (await readFileOrFail(v['password-file'], 'password')).replace(/\r?\n$/, '');
        else if (v['password-stdin'] === true && io.readStdin !== undefined)
          password = (await io.readStdin()).replace(/\r?\n$/, '');
        else if (io.env['ROOMCTL_PASSWORD'] !== undefined) password = io.env['ROOMCTL_PASSWORD'];
        else
          throw usage(
            'Give the new admin password with --password-file, --password-stdin or ROOMCTL_PASSWORD.',
          );
        const claimed = await cmd.claim(client, {
          setupCode: need(v, 'code'),
          password,
          ...(v['room-name'] === undefined ? {} : { roomName: v['room-name'] }),
          ...(v['org-key'] === undefined ? {} : { organisationKey: v['org-key'] }),
        });
        await saveConnection(configFile, {
          url,
          fingerprint: client.observedFingerprint ?? fingerprint ?? '',
          token: claimed.token,
        });
        result = claimed;
        break;
      }
      case 'token':
        if (sub === 'create' && rest.length === 0) {
          const scope = v.scope ?? 'metrics';
          if (!cmd.isScope(scope)) throw usage('--scope is metrics, operator or admin.');
          result = await cmd.tokenCreate(client, need(v, 'name'), scope);
        } else if (sub === 'list' && rest.length === 0) result = await cmd.tokenList(client);
        else if (sub === 'revoke' && rest.length === 1) result = await cmd.tokenRevoke(client, rest[0]!);
        else throw usage('Use "token create --name NAME [--scope S]", "token list" or "token revoke ID".');
        break;
      case 'provision': {
        const text = await readFileOrFail(need(v, 'bundle'), 'bundle');
        let bundle: unknown;
        try {
          bundle = JSON.parse(text);
        } catch (error) {
          if (!(error instanceof SyntaxError)) throw error;
          throw new RoomctlError(RoomctlExit.dataErr, `The bundle file ${v.bundle} is not JSON.`);
        }
        result = await cmd.provision(client, bundle);
        break;
      }
      case 'status':
        result = await cmd.status(client);
        break;
      case 'health': {
        const h = await cmd.health(client);
        result = h;
        if (!h.healthy) code = RoomctlExit.failure;
        break;
      }
      case 'devices':
        result = await cmd.devices(client);
        break;
      case 'settings':
        if (sub === 'get') result = await cmd.settingsGet(client, rest[0]);
        else if (sub === 'set' && rest.length > 0) result = await cmd.settingsSet(client, rest);
        else throw usage('Use "settings get [KEY]" or "settings set KEY=VALUE...".');
        break;
      case 'logs': {
        const lines = Number(v.lines ?? '500');
        if (!Number.isInteger(lines) || lines < 1) throw usage('--lines must be a positive whole number.');
        result = await cmd.logs(client, lines);
        break;
      }
      case 'restart':
        result = await cmd.restart(client);
        break;
      case 'identity':
        if (sub === 'show' && rest.length === 0) result = await idc.show(client);
        else if (sub === 'pins' && rest.length === 0) result = await idc.pins(client);
        else if (sub === 'forget' && rest.length === 0)
          result = await idc.forget(client, needIdentity(v, 'org'), needIdentity(v, 'name'));
        else if (sub === 'provision' && rest.length === 0) {
          if (v.anchor === undefined && v.cert === undefined)
            throw identityUsage('identity provision needs --anchor FILE, --cert FILE or both.');
          const anchor =
            v.anchor === undefined ? undefined : idc.anchorFromText(await readFileOrFail(v.anchor, 'anchor'));
          const certificate =
            v.cert === undefined
              ? undefined
              : idc.certificateFromText(await readFileOrFail(v.cert, 'certificate'));
          result = await idc.provision(client, {
            ...(anchor === undefined ? {} : { anchor }),
            ...(certificate === undefined ? {} : { certificate }),
          });
        } else throw identityUsage(`Unknown identity command "${sub ?? ''}".`);
        break;
      case 'demo':
        result = await demo.runDemo(client, sub as string, {
          ...(v.meeting === undefined ? {} : { meetingId: v.meeting }),
          ...(v.kind === undefined ? {} : { kind: v.kind }),
          ...(v.name === undefined ? {} : { name: v.name }),
          ...(rest[0] === undefined ? {} : { device: rest[0], text: rest.join(' ') }),
        });
        break;
      case 'schedule': {
        const start = new Date(need(v, 'start'));
        if (Number.isNaN(start.getTime()))
          throw usage('--start must be a date and time, e.g. 2026-11-26T14:00:00Z.');
        const end =
          v.end !== undefined
            ? new Date(v.end)
            : new Date(start.getTime() + Number(v.minutes ?? '60') * 60_000);
        if (Number.isNaN(end.getTime()) || end <= start) throw usage('The meeting must end after it starts.');
        const encryption = v.encryption ?? 'e2ee';
        if (encryption !== 'e2ee' && encryption !== 'enhanced')
          throw usage('--encryption is e2ee or enhanced.');
        result = await cmd.schedule(client, {
          title: need(v, 'title'),
          start: start.toISOString(),
          end: end.toISOString(),
          encryption,
          ...(v.passcode === undefined ? {} : { passcode: v.passcode }),
        });
        break;
      }
      default:
        throw usage(`Unknown command "${command}".`);
    }
    io.stdout(json ? JSON.stringify(result.json) : result.human);
    return code;
  } catch (error) {
    const e =
      error instanceof RoomctlError
        ? error
        : new RoomctlError(
            RoomctlExit.software,
            `roomctl failed: ${error instanceof Error ? error.message : String(error)}`,
          );
    if (json)
      io.stdout(JSON.stringify({ error: { message: e.message, exitCode: e.exitCode, ...e.details } }));
    else io.stderr(`roomctl: ${e.message}`);
    return e.exitCode;
  }
}

/** Entry for bin/roomctl.js. */
export async function main(): Promise<void> {
  const code = await runRoomctl(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(`${t}\n`),
    stderr: (t) => process.stderr.write(`${t}\n`),
    env: process.env,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  });
  process.exitCode = code;
}
