// Where vfiokit keeps per-device state shared between processes (reservations, flash status) and
// the one check every such directory passes before a file in it is trusted.
//
// Base: VFIOKIT_STATE_DIR, else /run/vfiokit (root, or a shared group directory set up by root),
// else $XDG_RUNTIME_DIR/vfiokit, else /tmp/vfiokit-<uid>.
//
// A state directory is either
//   private: owned by the caller (or root), writable by its owner only (0755); a private
//            directory of ours found writable by others is tightened, anyone else's is refused;
//   shared:  owned by root (or the caller), group-writable with the setgid and sticky bits and not
//            writable by others (mode 3775 or 3770, e.g. root:fpga). setgid gives every file the
//            directory's group; sticky (as on /tmp) lets only a file's owner (or root) rename or
//            remove it, so one user's reservation or flash record cannot be replaced by another.
// A directory owned by anyone else is refused: its owner could replace every file in it.
import { accessSync, chmodSync, closeSync, constants, fchmodSync, fstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { DeviceError, type VfiokitError } from '../errors.js';
import { logger } from './log.js';
import type { VfiokitErrorCode } from '../error-codes.js';

const log = logger('state');

/** Private state directories are created readable by all, writable by their owner. */
export const STATE_DIR_MODE = 0o755;
/** The mode bits a shared group directory must have (setgid + sticky + group write). */
export const SHARED_DIR_BITS = 0o2000 | 0o1000 | 0o070; // S_ISGID | S_ISVTX | S_IRWXG (inode(7))

/** Plain words for the errno codes a path can fail with. */
export function pathProblem(code: string | undefined): string {
  switch (code) {
    case 'ENOTDIR': return 'a component of the path is not a directory';
    case 'ENOENT': return 'a component of the path does not exist';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EROFS': return 'the file system is read-only';
    case 'ENOSPC': return 'no space left on the device';
    case 'EEXIST': return 'it exists and is not a directory';
    default: return code ?? 'unknown error';
  }
}

/**
 * mkdir -p, one component at a time (no recursive mkdir: Node's loops forever on a path under
 * /proc, where mkdir(2) answers ENOENT for a parent that exists). Throws the failing errno.
 */
export function makeDirs(dir: string, mode = STATE_DIR_MODE): void {
  const path = resolve(dir);
  const missing: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    let st: Stats | undefined;
    try {
      st = statSync(p);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (st) {
      if (!st.isDirectory()) throw Object.assign(new Error(`${p} is not a directory`), { code: 'ENOTDIR' });
      break;
    }
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

function usable(dir: string): boolean {
  try {
    makeDirs(dir);
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The state directory (created if missing), optionally a subdirectory of it. */
export function stateDir(sub?: string): string {
  const candidates = process.env.VFIOKIT_STATE_DIR
    ? [process.env.VFIOKIT_STATE_DIR]
    : ['/run/vfiokit', ...(process.env.XDG_RUNTIME_DIR ? [join(process.env.XDG_RUNTIME_DIR, 'vfiokit')] : []), join(tmpdir(), `vfiokit-${process.getuid?.() ?? 0}`)];
  for (const base of candidates) {
    const dir = sub ? join(base, sub) : base;
    if (usable(dir)) return dir;
  }
  return sub ? join(candidates[0]!, sub) : candidates[0]!;
}

/** A file-name-safe key for a device URL or BDF ("vfio:0000:3b:00.0" -> "vfio_0000_3b_00.0"). */
export function deviceKey(url: string): string {
  return url.replace(/[^A-Za-z0-9._-]+/g, '_');
}

export interface CheckedDir {
  dir: string;
  /** A shared group directory (setgid + sticky): files in it belong to their writers. */
  shared: boolean;
}

export interface DirCheckOptions {
  /** What the directory is, for messages ("lock directory"). */
  what: string;
  /** The variable that chooses another directory, for the advice. */
  env: string;
  /** Builds the error thrown (the caller's typed error class). */
  error: (code: VfiokitErrorCode, message: string, details: Record<string, unknown>) => VfiokitError;
  /** Error code (default 'ESTATE_DIR'). */
  code?: VfiokitErrorCode;
}

/**
 * Create `dir` if missing and check that files in it can be trusted (see the top of this file):
 * owner the caller or root; private (not writable by group or others; ours is tightened) or
 * shared (group-writable with setgid and sticky, not writable by others). Anything else is refused
 * with the chmod that fixes it.
 */
export function checkStateDir(dir: string, options: DirCheckOptions): CheckedDir {
  const code = options.code ?? 'ESTATE_DIR';
  const fail = (message: string, details: Record<string, unknown> = {}): never => {
    throw options.error(code, `${options.what} ${dir} ${message}`, { dir, ...details });
  };
  let st: Stats;
  try {
    makeDirs(dir);
    st = statSync(dir);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return fail(`cannot be created: ${pathProblem(e.code)} (${e.code}); set ${options.env} to a writable directory`);
  }
  if (!st.isDirectory()) fail(`is not a directory; set ${options.env} to a directory`);
  const me = process.getuid?.() ?? 0;
  if (st.uid !== me && st.uid !== 0) {
    fail(`belongs to uid ${st.uid}, who could replace any file in it; use a directory of your own or one owned by root (set ${options.env})`, { uid: st.uid });
  }
  const mode = st.mode & 0o7777;
  if ((mode & 0o022) === 0) return { dir, shared: false };
  if ((mode & 0o002) === 0 && (mode & SHARED_DIR_BITS) === SHARED_DIR_BITS) return { dir, shared: true };
  if (st.uid === me) {
    // Ours but writable by others without the shared-directory bits: tighten it.
    try {
      chmodSync(dir, mode & ~0o022);
    } catch (err) {
      fail(`is writable by group or others and chmod failed (${(err as NodeJS.ErrnoException).code}); chmod 755 ${dir} or set ${options.env}`, { mode });
    }
    log('tightened %s to %s', dir, (mode & ~0o022).toString(8));
    return { dir, shared: false };
  }
  return fail(`is writable by group or others (mode ${mode.toString(8)}) without being a shared group directory; chmod 755 ${dir} (private) or chmod 3775 ${dir} with its group set to the users who share the card (see README "Security"), or set ${options.env}`, { mode });
}

/** DeviceError builder for checkStateDir callers without their own error class. */
export const deviceError = (code: VfiokitErrorCode, message: string, details: Record<string, unknown>): VfiokitError => new DeviceError(code, message, details);

/**
 * Replace `path` atomically with `text`: a new temp file next to it, created O_CREAT|O_EXCL|
 * O_NOFOLLOW (a link planted under that name is never followed or reused), given exactly `mode`
 * with fchmod, then rename(2)d over `path` (which replaces a planted link itself, not its target).
 * Throws the system error; the temp file is removed on failure.
 */
export function replaceFile(path: string, text: string, mode = 0o644): void {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let fd = -1;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
    fchmodSync(fd, mode); // exact mode regardless of umask
    writeSync(fd, text);
    closeSync(fd);
    fd = -1;
    renameSync(tmp, path);
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    try { unlinkSync(tmp); } catch { /* not created */ }
    throw err;
  }
}

/** Open an existing file read-only without following a link planted in its place; its text and owner. */
export function readOwnedFile(path: string): { text: string; uid: number } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EINVAL' });
    return { text: readFileSync(fd, 'utf8'), uid: st.uid };
  } finally {
    closeSync(fd);
  }
}
