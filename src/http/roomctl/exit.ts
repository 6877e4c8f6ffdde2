/**
 * roomctl exit codes (docs/kiosk-and-admin-api.md §roomctl), sysexits.h values where one fits, so a
 * script can tell "fix your command" from "try again later" from "not allowed".
 */
import { ExitCode } from '../../core/exit-codes.ts';

export const RoomctlExit = {
  ok: ExitCode.ok,
  /** The device refused the request (conflict, not found, …). */
  failure: ExitCode.failure,
  usage: ExitCode.usage,
  /** Input was rejected as invalid (bad settings value, bad bundle, bad setup code format). */
  dataErr: 65,
  unavailable: ExitCode.unavailable,
  /** The device had an internal error. */
  software: ExitCode.software,
  /** Rate limited, locked out, or the device is busy/restarting: try again later. */
  tempFail: ExitCode.tempFail,
  /** Wrong credentials, missing token, wrong setup code, certificate fingerprint mismatch. */
  noPerm: 77,
  /** roomctl is not configured for a device (no URL, token or fingerprint). */
  config: ExitCode.config,
} as const;
export type RoomctlExitCode = (typeof RoomctlExit)[keyof typeof RoomctlExit];

export class RoomctlError extends Error {
  readonly exitCode: RoomctlExitCode;
  readonly details: { status?: number; code?: string; fields?: unknown };
  constructor(
    exitCode: RoomctlExitCode,
    message: string,
    details: { status?: number; code?: string; fields?: unknown } = {},
  ) {
    super(message);
    this.exitCode = exitCode;
    this.details = details;
  }
}

export function exitCodeForStatus(status: number): RoomctlExitCode {
  if (status === 400 || status === 413 || status === 422) return RoomctlExit.dataErr;
  if (status === 401 || status === 403) return RoomctlExit.noPerm;
  if (status === 429 || status === 423 || status === 503) return RoomctlExit.tempFail;
  if (status >= 500) return RoomctlExit.software;
  return RoomctlExit.failure;
}
