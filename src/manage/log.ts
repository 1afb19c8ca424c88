// Management API logging, mirroring the seed API's set_log_level / set_log_file:
//   0 disabled, 1 errors (default), 2 + warnings, 3 + information, 4 + debug (every vfiokit:*
//   debug namespace). Messages go to stderr, and to a log file when one is set.
import { appendFileSync, closeSync, openSync, writeSync } from 'node:fs';
import { format } from 'node:util';
import createDebug from 'debug';

export const LogLevel = { DISABLED: 0, ERROR: 1, WARNING: 2, INFO: 3, DEBUG: 4 } as const;
const NAMES = ['', 'ERROR', 'WARNING', 'INFO', 'DEBUG'];

let level: number = LogLevel.ERROR;
let fileFd: number | undefined;
let filePath: string | undefined;
let consoleOutput = true;
const originalDebugLog = createDebug.log;
let priorNamespaces: string | undefined;

function emit(line: string): void {
  if (consoleOutput) process.stderr.write(line + '\n');
  if (fileFd !== undefined) writeSync(fileFd, line + '\n');
}

/** Log a management API message at `at` (1 error .. 4 debug) if the level lets it through. */
export function manageLog(at: 1 | 2 | 3 | 4, message: string, ...args: unknown[]): void {
  if (at > level) return;
  emit(`vfiokit ${NAMES[at]}: ${format(message, ...args)}`);
}

export function currentLogLevel(): number {
  return level;
}

/** Set the level (0..4); anything else leaves it unchanged. Returns the level in effect. */
export function setManageLogLevel(next?: number): number {
  if (next === undefined || !Number.isInteger(next) || next < 0 || next > 4) return level;
  level = next;
  if (level === LogLevel.DEBUG) {
    priorNamespaces ??= createDebug.disable();
    createDebug.enable(priorNamespaces ? `${priorNamespaces},vfiokit:*` : 'vfiokit:*');
  } else if (priorNamespaces !== undefined) {
    createDebug.enable(priorNamespaces);
    priorNamespaces = undefined;
  }
  return level;
}

/** Send messages (and debug output at level 4) to `path` too; `clean` truncates it first. No path: stop. */
export function setManageLogFile(path?: string, clean = false): void {
  if (fileFd !== undefined) {
    closeSync(fileFd);
    fileFd = undefined;
    filePath = undefined;
    createDebug.log = originalDebugLog;
  }
  if (path === undefined) return;
  if (clean) appendFileSync(path, '', { flag: 'w' });
  fileFd = openSync(path, 'a', 0o644);
  filePath = path;
  createDebug.log = (...args: unknown[]) => {
    if (fileFd !== undefined) writeSync(fileFd, format(...args) + '\n');
    if (consoleOutput) process.stderr.write(format(...args) + '\n');
  };
}

export function logFilePath(): string | undefined {
  return filePath;
}

/** Echo to stderr (default) or only to the file. */
export function setConsoleLogging(on: boolean): void {
  consoleOutput = on;
}
