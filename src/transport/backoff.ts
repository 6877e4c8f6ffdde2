/**
 * Reconnect backoff (docs/protocol.md §Session flow: relay loss -> reconnect): exponential from
 * `initialMs` to `maxMs` with "equal jitter" (half fixed, half random) so a relay restart is not
 * met by every room at the same instant.
 */

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 250;
  const max = options.maxMs ?? 10_000;
  const factor = options.factor ?? 2;
  const random = options.random ?? Math.random;
  const base = Math.min(max, initial * factor ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + (base / 2) * random());
}
