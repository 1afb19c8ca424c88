// Shared CLI output: one-line errors with a mapped exit code, JSON printing, argument parsing.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VfiokitError, ArgumentError, FormatError, DeviceError } from '../errors.js';
import { ExitCode } from './exit-codes.js';

export class UsageError extends ArgumentError {}

/** Print a one-line error ("vfiokit <cmd>: what happened; what to do") and return its exit code. */
export function reportError(command: string, err: unknown): number {
  if (err instanceof VfiokitError) {
    process.stderr.write(`vfiokit ${command}: ${err.message}\n`);
    if (process.env.DEBUG && err.stack) process.stderr.write(err.stack + '\n');
    return exitCodeFor(err);
  }
  const e = err as Error;
  process.stderr.write(`vfiokit ${command}: unexpected error: ${e?.message ?? String(err)}\n${e?.stack ?? ''}\n`);
  return ExitCode.FAILURE;
}

export function exitCodeFor(err: VfiokitError): number {
  if (err instanceof UsageError || err.code === 'EUSAGE') return ExitCode.USAGE;
  if (err instanceof FormatError) return ExitCode.BAD_INPUT;
  if (err instanceof DeviceError || ['ENOENT', 'EACCES', 'EPERM', 'EBUSY', 'ENODEV', 'ERESERVED'].includes(err.code)) return ExitCode.UNAVAILABLE;
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
