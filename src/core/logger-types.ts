/**
 * The logger interface every module takes (logger.ts backs it with pino). On its own so that code
 * which also runs in the browser (docs/decisions/0022-one-core-in-node-and-browser.md) can take a
 * logger without reaching pino.
 */

export type LogFn = {
  (message: string): void;
  (fields: Record<string, unknown>, message?: string): void;
};

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}
