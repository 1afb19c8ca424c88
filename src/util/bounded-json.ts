// JSON from outside (GBS metadata, vfio-user VERSION capabilities, state records) parsed with a
// bound on nesting. V8's JSON.parse itself copes with deep nesting, but everything recursive
// applied to the result afterwards (JSON.stringify in an error message, a validator, a deep
// copy) overflows the stack on ~10,000 levels and escapes as an untyped RangeError. No format
// vfiokit reads nests deeper than a few levels, so deeper input is refused before parsing.
import { FormatError } from '../errors.js';

/** Deepest nesting any vfiokit JSON input may have (GBS metadata nests 3 levels; capabilities 3). */
export const MAX_JSON_DEPTH = 64;

/** Nesting depth of `text` ([ and { outside strings); stops counting once past `limit`. */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max && (max = depth) > limit) return max;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return max;
}

/**
 * JSON.parse with nesting bounded by `maxDepth`. Too deep -> FormatError('EJSON_DEPTH'); invalid
 * JSON -> FormatError('EJSON_SYNTAX'). `what` names the input in the message ("GBS metadata").
 * Callers that have their own error type catch FormatError and rewrap it with their context.
 */
export function parseBoundedJson(text: string, what: string, maxDepth = MAX_JSON_DEPTH): unknown {
  const depth = jsonDepth(text, maxDepth);
  if (depth > maxDepth) {
    throw new FormatError('EJSON_DEPTH', `${what} nests deeper than ${maxDepth} levels; no valid ${what} does, so the input is corrupt or hostile`, { maxDepth });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FormatError('EJSON_SYNTAX', `${what} is not valid JSON (${(err as Error).message})`, {});
  }
}
