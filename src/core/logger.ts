/**
 * The logger interface every module takes, backed by pino: structured JSON lines with a
 * `component` field; under systemd (JOURNAL_STREAM set) each line starts with an sd-daemon(3)
 * priority prefix such as `<6>` so journald files it at the right level; human-readable output
 * only when stdout is a TTY. Secrets are redacted by key name as a second line of defence —
 * the first is never passing them to a logger at all.
 */
import { Writable } from 'node:stream';
import { pino, type DestinationStream, type Level } from 'pino';
import type { LogFn, Logger } from './logger-types.ts';

export type { LogFn, Logger };

export type LogLevel = Level | 'silent';

/** Keys whose values are never written, at any depth we know of. */
export const REDACTED_KEYS = [
  'password',
  'passcode',
  'secret',
  'token',
  'privateKey',
  'key',
  'meetingKey',
  'sessionId',
  'cookie',
  'authorization',
  'setupCode',
] as const;

const REDACT_PATHS = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

/** pino numeric level → sd-daemon priority (0 emerg … 7 debug). */
export function journalPriority(pinoLevel: number): number {
  if (pinoLevel >= 60) return 2;
  if (pinoLevel >= 50) return 3;
  if (pinoLevel >= 40) return 4;
  if (pinoLevel >= 30) return 6;
  return 7;
}

const LEVEL_RE = /"level":(\d+)/;

/** Prefix each JSON line with its journald priority. */
export function withJournalPrefix(line: string): string {
  const m = LEVEL_RE.exec(line);
  const prio = journalPriority(m === null ? 30 : Number(m[1]));
  return `<${prio}>${line}`;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to stdout. */
  destination?: DestinationStream;
  /** Force the journald prefix on or off; defaults to `JOURNAL_STREAM` being set. */
  journald?: boolean;
  /** Force pretty output on or off; defaults to stdout being a TTY. */
  pretty?: boolean;
  /** Extra fields on every line. */
  base?: Record<string, unknown>;
}

export async function createLogger(options: LoggerOptions = {}): Promise<Logger> {
  const level = options.level ?? ((process.env['ROOMD_LOG_LEVEL'] as LogLevel | undefined) || 'info');
  const journald = options.journald ?? process.env['JOURNAL_STREAM'] !== undefined;
  const pretty =
    options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true && !journald);
  let destination = options.destination;
  if (destination === undefined && pretty) {
    const { default: prettyFactory } = await import('pino-pretty');
    destination = prettyFactory({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  }
  return pino(
    {
      level,
      base: { ...(options.base ?? {}) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      ...(journald && !pretty ? { hooks: { streamWrite: withJournalPrefix } } : {}),
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  ) as unknown as Logger;
}

/** Child logger for a component: every line carries `component`. */
export function componentLogger(parent: Logger, component: string): Logger {
  return parent.child({ component });
}

/** A logger that drops everything; for tests and pure code paths. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' }) as unknown as Logger;
}

/** A logger that keeps parsed lines in memory; for tests that assert on logs. */
export function memoryLogger(level: LogLevel = 'trace'): {
  logger: Logger;
  lines: Record<string, unknown>[];
  text: () => string;
} {
  const lines: Record<string, unknown>[] = [];
  let raw = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const s = chunk.toString('utf8');
      raw += s;
      for (const l of s.split('\n'))
        if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  const logger = pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    stream,
  ) as unknown as Logger;
  return { logger, lines, text: () => raw };
}
