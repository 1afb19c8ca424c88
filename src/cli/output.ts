// Shared CLI output: one-line errors with a mapped exit code, JSON printing, argument parsing.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VfiokitError, ArgumentError, FormatError, DeviceError } from '../errors.js';
import { ExitCode } from './exit-codes.js';
import { cliAdvice } from './advice.js';

export class UsageError extends ArgumentError {}

/** Errno codes of a device or file that is missing, busy or not ours: exit 4 (device unavailable). */
const UNAVAILABLE_CODES = ['ENOENT', 'EACCES', 'EPERM', 'EBUSY', 'ENODEV', 'ERESERVED'];

/**
 * Print a one-line error ("vfiokit <cmd>: what happened; what to do") and return its exit code.
 * With `json` (the command ran with --json) the error is also one JSON document on stdout,
 * {"error": {code, message, exitCode, ...details}}, so scripts need not parse stderr.
 */
export function reportError(command: string, err: unknown, options: { json?: boolean } = {}): number {
  const code = reportErrorText(command, err);
  if (options.json) {
    const e = err as { code?: unknown; message?: unknown } | undefined;
    const details = err instanceof VfiokitError ? err.details : {};
    const advice = err instanceof VfiokitError ? cliAdvice(err) : undefined;
    const error = { ...details, code: typeof e?.code === 'string' ? e.code : 'EUNEXPECTED', message: oneLine(String(e?.message ?? err)), ...(advice ? { advice } : {}), exitCode: code };
    process.stdout.write(JSON.stringify({ error }, (_, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v)) + '\n');
  }
  return code;
}

function reportErrorText(command: string, err: unknown): number {
  if (err instanceof VfiokitError) {
    // The library says what to do in API terms; the CLI adds the command (advice.ts).
    const advice = cliAdvice(err);
    process.stderr.write(`vfiokit ${command}: ${oneLine(err.message)}${advice ? `; ${advice}` : ''}\n`);
    if (process.env.DEBUG && err.stack) process.stderr.write(err.stack + '\n');
    return exitCodeFor(err);
  }
  const e = err as NodeJS.ErrnoException | undefined;
  const message = oneLine(e?.message ?? String(err));
  // A system error that escaped a typed wrapper (ENOENT, EACCES, ...): say what the system said.
  if (e && typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) {
    process.stderr.write(`vfiokit ${command}: ${message}\n`);
    if (process.env.DEBUG && e.stack) process.stderr.write(e.stack + '\n');
    return UNAVAILABLE_CODES.includes(e.code) ? ExitCode.UNAVAILABLE : ExitCode.FAILURE;
  }
  process.stderr.write(`vfiokit ${command}: unexpected error: ${message} (a bug in vfiokit: run again with DEBUG=vfiokit:* for the stack and report it)\n`);
  if (process.env.DEBUG && e?.stack) process.stderr.write(e.stack + '\n');
  return ExitCode.FAILURE;
}

/** Error messages are one line on stderr: fold any line breaks a message carries. */
function oneLine(message: string): string {
  return message.replace(/\s*\n\s*/g, '; ');
}

export function exitCodeFor(err: VfiokitError): number {
  // Bad arguments from the command line, including ones the library refuses (a malformed BDF,
  // an unknown sim option): exit 2.
  if (err instanceof ArgumentError || err.code === 'EUSAGE') return ExitCode.USAGE;
  if (err instanceof FormatError) return ExitCode.BAD_INPUT;
  if (err instanceof DeviceError || UNAVAILABLE_CODES.includes(err.code)) return ExitCode.UNAVAILABLE;
  if (err.code === 'ECANCELED') return ExitCode.CANCELLED;
  return ExitCode.FAILURE;
}

/** node:util parseArgs with errors turned into UsageError. */
type ParsedCommandLine<T extends NonNullable<ParseArgsConfig['options']>> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>>;

export function parseCommandLine<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, allowPositionals = true): ParsedCommandLine<T> {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError('EUSAGE', `${(err as Error).message}; see --help`);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v), 2) + '\n');
}
