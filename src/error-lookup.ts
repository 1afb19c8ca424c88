// Looking up the one list of error codes (src/error-codes.ts): what the registry says about a code
// (listed or of a family), a system error's code as an errno code, and the errors of the templated
// codes the shared checks throw.
import { constants } from 'node:os';
import { ArgumentError, DeviceError, FormatError, RegionError, TimeoutError, VfiokitError } from './errors.js';
import { ERROR_CODES, ERROR_CODE_FAMILIES, type CodeArgs, type CodeSpec, type ErrnoName, type ErrorClassName, type TemplatedCode } from './error-codes.js';

const errnoNames = new Set(Object.keys(constants.errno));

export interface ResolvedCode {
  code: string;
  class: ErrorClassName;
  errno: ErrnoName;
  advice: string;
  /** 'listed', or the family pattern the code belongs to. */
  family: string;
}

/** What the registry says about `code` (a listed code or one of a family); undefined for others. */
export function codeSpec(code: string): ResolvedCode | undefined {
  const listed = (ERROR_CODES as Record<string, CodeSpec>)[code];
  if (listed) return { code, class: listed.class, errno: listed.errno, advice: listed.advice, family: 'listed' };
  for (const [prefix, family] of [['EVFIO_OPEN_', ERROR_CODE_FAMILIES[1]], ['EVFIO_CHOWN_', ERROR_CODE_FAMILIES[2]], ['EVFIO_', ERROR_CODE_FAMILIES[0]]] as const) {
    const rest = code.slice(prefix.length);
    if (code.startsWith(prefix) && errnoNames.has(rest)) return { code, class: family.class, errno: rest as ErrnoName, advice: family.advice, family: family.pattern };
  }
  if (errnoNames.has(code)) return { code, class: 'VfiokitError', errno: code as ErrnoName, advice: ERROR_CODE_FAMILIES[3].advice, family: '<errno>' };
  return undefined;
}

/** A Node system error's code as an errno code ('EIO' when it has none this Node names). */
export function errnoCode(code: string | undefined, fallback: ErrnoName = 'EIO'): ErrnoName {
  return code !== undefined && errnoNames.has(code) ? (code as ErrnoName) : fallback;
}

/** The message of a templated code. */
export function errorMessage<C extends TemplatedCode>(code: C, args: CodeArgs<C>): string {
  return (ERROR_CODES[code].message as (a: CodeArgs<C>) => string)(args);
}

const BASE_CLASSES = { VfiokitError, ArgumentError, DeviceError, RegionError, TimeoutError, FormatError } as const;

/**
 * The error of a templated code, of its registered class, with its arguments as details (plus
 * `details`). The shared checks throw these, so every transport says the same thing the same way.
 */
export function codeError<C extends TemplatedCode>(code: C, args: CodeArgs<C>, details: Record<string, unknown> = {}): VfiokitError {
  const Class = BASE_CLASSES[ERROR_CODES[code].class as keyof typeof BASE_CLASSES];
  return new Class(code, errorMessage(code, args), { ...(args as Record<string, unknown>), ...details });
}
