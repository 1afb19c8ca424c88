// Documented exit codes of the vfiokit command (README "Exit codes").
export const ExitCode = {
  OK: 0,
  /** The operation failed (device error, timeout, refused by the card). */
  FAILURE: 1,
  /** Bad command line: unknown command or option, missing argument. */
  USAGE: 2,
  /** Bad input file or data (GBS, signed image, config). */
  BAD_INPUT: 3,
  /** Device missing, busy, reserved by someone else, or permission denied. */
  UNAVAILABLE: 4,
  /** Cancelled by the user (Ctrl-C). */
  CANCELLED: 130,
} as const;
