/**
 * Types, options, counters and constants of the Nextion transaction layer (`link.ts`;
 * docs/hardware.md §Acknowledgements, restarts, line speed), and the small byte helpers it uses.
 */
import type { Clock } from '../../core/clock.ts';
import type { RoomdError } from '../../core/errors.ts';
import type { SupervisedStream } from '../../transport/serial/supervisor.ts';
import type { NextionFrame } from './codec.ts';

export type Expect = 'ack' | 'value' | 'page';

export interface Pending {
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly expect: Expect;
  readonly resolve: (v: NextionFrame) => void;
  readonly reject: (e: RoomdError) => void;
}

export type ResetReason =
  | 'opened'
  | 'reopened'
  | 'panel-ready'
  | 'panel-startup'
  | 'panel-wake'
  /** The panel stopped answering (e.g. restarted without announcing it) and was found again. */
  | 'panel-recovered'
  /** Asked for, not a reset: the admin console's panel test (docs/kiosk-and-admin-api.md §Admin console). */
  | 'requested';

export type NextionLinkEvents = {
  frame: NextionFrame;
  reset: { reason: ResetReason };
  /** No speed answered `connect`: the panel is gone or off (`device.timeout`). */
  offline: { error: RoomdError };
};

/** `closed`: no line; `booting`: start-up frame seen, waiting for `88`; `offline`: no speed answers. */
export type LinkPhase = 'closed' | 'booting' | 'probing' | 'ready' | 'offline';

/** Tried after the current and the configured speed, most common first. */
export const PROBE_RATES: readonly number[] = [9600, 115200, 57600, 38400, 19200, 230400, 921600, 4800, 2400];

/** Harmless and acknowledged at `bkcmd=3`: a system variable assigned to itself. */
export const HEARTBEAT = 'sys0=sys0';

/** Time the panel gets to change its speed after `baud=` before we follow. */
export const BAUD_SETTLE_MS = 50;
/** `baud=` tries while the panel keeps answering at its old speed, before the link stays there. */
export const BAUD_SWITCH_ATTEMPTS = 3;
/** How long `88` may lag behind `00 00 00 FF FF FF`. */
export const BOOT_GRACE_MS = 300;

export interface NextionLinkOptions {
  readonly stream: SupervisedStream;
  readonly clock: Clock;
  /** Per instruction; default 400 ms. */
  readonly timeoutMs?: number;
  /** Idle time before a heartbeat; default 750 ms; 0 turns heartbeats off. */
  readonly heartbeatMs?: number;
  /** Speeds tried after the current and the configured one; default `PROBE_RATES`. */
  readonly probeRates?: readonly number[];
  /** Added to each probe's wait for USB-serial latency; default 70 ms. */
  readonly probeMarginMs?: number;
  /** Pause between probe rounds while no speed answers; default 2000 ms. */
  readonly offlineRetryMs?: number;
  /** Queue cap; further sends are rejected with `device.unavailable`. Default 256. */
  readonly maxQueue?: number;
}

export interface NextionLinkCounters {
  sent: number;
  acked: number;
  errors: number;
  timeouts: number;
  /** `24 FF FF FF` notices. */
  overflows: number;
  heartbeats: number;
  /** `connect` attempts. */
  probes: number;
  /** Times the panel was found again after silence. */
  recoveries: number;
  /** `baud=` that the panel followed / did not follow. */
  baudSwitches: number;
  baudFallbacks: number;
  /** Searches ended by an unexpected error (see `#startProbe`). */
  probeFailures: number;
}

/** All counters at zero. */
export function zeroCounters(): NextionLinkCounters {
  return {
    sent: 0,
    acked: 0,
    errors: 0,
    timeouts: 0,
    overflows: 0,
    heartbeats: 0,
    probes: 0,
    recoveries: 0,
    baudSwitches: 0,
    baudFallbacks: 0,
    probeFailures: 0,
  };
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function noop(): void {}
