// Who a process is, from /proc (proc(5)): its parent, start time, real uid and command. A
// reservation records its owner's pid AND start time, so a pid reused by an unrelated process after
// the owner died is not mistaken for the owner.
import { readFileSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** /proc/<pid>/stat field 22: start time in clock ticks since boot (unique with the pid). */
  startTime: number;
  /** Process state letter (R, S, D, Z, ...). */
  state: string;
  /** Executable name (comm). */
  comm: string;
}

/** /proc/<pid>/stat parsed, or undefined when the process does not exist. */
export function processInfo(pid: number): ProcessInfo | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ..."; comm may contain spaces and parentheses: split at the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); field N is fields[N - 3].
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    startTime: Number(fields[19]),
  };
}

/** True when `pid` runs and (if given) started at `startTime`; zombies count as gone. */
export function processAlive(pid: number, startTime?: number): boolean {
  const info = processInfo(pid);
  if (!info || info.state === 'Z' || info.state === 'X') return false;
  return startTime === undefined || info.startTime === startTime;
}

/** The pid's real uid from /proc/<pid>/status, or undefined. */
export function processUid(pid: number): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The command line of a pid, arguments joined by spaces ('' when unreadable). */
export function processCommandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** User name for a uid from /etc/passwd, else the number as a string. */
export function userName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 3 && Number(f[2]) === uid) return f[0]!;
    }
  } catch {
    /* no passwd file: fall through */
  }
  return String(uid);
}

/** The chain self, parent, grandparent, ... up to init (bounded, cycle-safe). */
export function ancestry(pid: number = process.pid): ProcessInfo[] {
  const chain: ProcessInfo[] = [];
  const seen = new Set<number>();
  let p: number | undefined = pid;
  while (p && p > 0 && !seen.has(p) && chain.length < 256) {
    seen.add(p);
    const info = processInfo(p);
    if (!info) break;
    chain.push(info);
    p = info.ppid;
  }
  return chain;
}

/** True when the process `pid` (started at `startTime`) is `self` or one of its ancestors. */
export function isSelfOrAncestor(pid: number, startTime: number | undefined, self: number = process.pid): boolean {
  return ancestry(self).some((a) => a.pid === pid && (startTime === undefined || a.startTime === startTime));
}
