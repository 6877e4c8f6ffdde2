/**
 * Process exit codes roomd uses, chosen so systemd and scripts can tell them apart.
 * 0 and 1 follow convention; 64–78 follow sysexits.h where one fits.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 64,
  config: 78,
  unavailable: 69,
  software: 70,
  ioError: 74,
  tempFail: 75,
  /** A module failed to stop cleanly during shutdown; the process still exits. */
  unclean: 71,
  /** Killed by a signal: 128 + signal number is what shells report. */
  signalBase: 128,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
