// DflError: a malformed Device Feature List (or VSEC / port table that points at one). Every
// instance names the BAR and offset where the walker saw the problem, and says what to check.
import { FormatError } from '../errors.js';
import { hex } from '../util/bytes.js';
import type { VfiokitErrorCode } from '../error-codes.js';

export class DflError extends FormatError {
  constructor(code: VfiokitErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, details);
  }
}

/** Builds a DflError whose message starts with "BAR<n>+<offset>:". */
export function dflError(code: VfiokitErrorCode, bar: number, offset: number, what: string, details: Record<string, unknown> = {}): DflError {
  return new DflError(code, `DFL at BAR${bar}+${hex(offset)}: ${what}`, { bar, offset, ...details });
}
