// One lock file per device, and the flock(2) protocol that makes every read-modify-write of it
// exclusive between processes:
//
//   open(path, O_RDONLY|O_CREAT, 0644) -> flock(LOCK_EX|LOCK_NB) (retry until a deadline) ->
//   check that the fd is still the file at `path` (same inode; a writer may have replaced it) ->
//   read, decide, write a new file next to it and rename() it over `path` -> close (unlocks).
//
// rename() makes each update atomic for readers without locks (a listing never sees half a
// file) and gives the new file to the writer (0644, owned by the writer: others cannot modify it).
// A process that waited on the old inode sees the inode change and retries on the new file.
import { openSync, closeSync, fstatSync, statSync, readFileSync, writeFileSync, renameSync, unlinkSync, mkdirSync, chmodSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { flock } from '../sys/libc.js';
import { LOCK_EX, LOCK_NB } from '../sys/constants.js';
import { isSysError } from '../sys/sys-error.js';
import { stateDir } from '../util/state-dir.js';
import { DeviceError, VfiokitError } from '../errors.js';
import { logger } from '../util/log.js';

const log = logger('lock');

/** How long to wait for another process's read-modify-write of the same lock file (it takes microseconds). */
export const LOCK_WAIT_MS = 5_000;
/** Pause between attempts while another process holds the flock. */
const LOCK_RETRY_MS = 1;
/** Lock files are readable by all, writable only by their owner. */
export const LOCK_FILE_MODE = 0o644;
/** The lock directory: readable by all, writable only by its owner. */
export const LOCK_DIR_MODE = 0o755;

/** The lock directory is unsafe, a lock file is corrupt, or the lock could not be taken in time. */
export class LockError extends DeviceError {}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** VFIOKIT_LOCK_DIR, else stateDir('locks') (under /run for root); created 0755 and checked. */
export function lockDir(): string {
  const dir = process.env.VFIOKIT_LOCK_DIR || stateDir('locks');
  let st;
  try {
    mkdirSync(dir, { recursive: true, mode: LOCK_DIR_MODE });
    st = statSync(dir);
  } catch (err) {
    throw new LockError('ELOCK_DIR', `cannot create the lock directory ${dir}: ${(err as NodeJS.ErrnoException).code}; set VFIOKIT_LOCK_DIR to a writable directory`, { dir });
  }
  if (!st.isDirectory()) throw new LockError('ELOCK_DIR', `${dir} is not a directory; set VFIOKIT_LOCK_DIR to a directory`, { dir });
  if ((st.mode & 0o022) !== 0) {
    // Someone else could replace lock files. Tighten it when it is ours, else refuse.
    if (st.uid === process.getuid?.()) {
      try {
        chmodSync(dir, st.mode & 0o7755);
      } catch (err) {
        throw new LockError('ELOCK_DIR', `lock directory ${dir} is writable by group or others and chmod failed (${(err as NodeJS.ErrnoException).code}); chmod 755 ${dir} or set VFIOKIT_LOCK_DIR`, { dir, mode: st.mode & 0o777 });
      }
      log('tightened %s to %s', dir, (st.mode & 0o7755).toString(8));
    } else {
      throw new LockError('ELOCK_DIR', `lock directory ${dir} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 755 ${dir} or set VFIOKIT_LOCK_DIR`, { dir, mode: st.mode & 0o777 });
    }
  }
  return dir;
}

/** An exclusive hold on one lock file: read it, replace it, release it. */
export class LockedFile implements Disposable {
  readonly path: string;
  #fd: number;

  constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  /** The current content ('' for a new, empty file). */
  read(): string {
    try {
      return readFileSync(this.path, 'utf8');
    } catch (err) {
      throw new LockError('ELOCK_READ', `cannot read lock file ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; if it is damaged, \`vfiokit free <device> --force\` replaces it`, { path: this.path });
    }
  }

  /** Replace the content atomically (temp file + rename). The hold stays on the old inode, which is fine: it is released next. */
  write(text: string): void {
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(tmp, text, { mode: LOCK_FILE_MODE, flag: 'wx' });
      chmodSync(tmp, LOCK_FILE_MODE); // exact mode regardless of umask
      renameSync(tmp, this.path);
    } catch (err) {
      try { unlinkSync(tmp); } catch { /* not created */ }
      throw new LockError('ELOCK_WRITE', `cannot write lock file ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; check permissions of ${this.path} and its directory (root, or the reservation's owner)`, { path: this.path });
    }
  }

  release(): void {
    if (this.#fd < 0) return;
    closeSync(this.#fd); // closing the last fd of the open file description drops the flock
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

function tryOpen(path: string): number {
  try {
    return openSync(path, fsConstants.O_RDONLY | fsConstants.O_CREAT, LOCK_FILE_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LockError(code === 'EACCES' ? 'EACCES' : 'ELOCK_OPEN', `cannot open lock file ${path}: ${code}; run as root or as the reservation's owner`, { path });
  }
}

/** Take the exclusive flock on `<dir>/<name>`, waiting up to LOCK_WAIT_MS for another process's update. */
export function lockFile(dir: string, name: string, waitMs = LOCK_WAIT_MS): LockedFile {
  const path = join(dir, name);
  const deadline = performance.now() + waitMs;
  for (;;) {
    const fd = tryOpen(path);
    let held = false;
    try {
      try {
        flock(fd, LOCK_EX | LOCK_NB);
        held = true;
      } catch (err) {
        if (!isSysError(err) || (err.code !== 'EAGAIN' && err.code !== 'EWOULDBLOCK')) throw err;
      }
      if (held) {
        // Still the file at `path`? A writer may have renamed a new one over it while we waited.
        let same = false;
        try {
          same = statSync(path).ino === fstatSync(fd).ino;
        } catch {
          same = false;
        }
        if (same) {
          const locked = new LockedFile(path, fd);
          return locked;
        }
      }
    } catch (err) {
      closeSync(fd);
      if (err instanceof VfiokitError) throw err;
      throw new LockError('ELOCK', `flock on ${path} failed: ${(err as Error).message}`, { path });
    }
    closeSync(fd);
    if (performance.now() > deadline) {
      throw new LockError('ELOCK_TIMEOUT', `lock file ${path} stayed locked for ${waitMs} ms; another vfiokit process is stuck holding it (find it with: fuser ${path})`, { path, waitMs });
    }
    Atomics.wait(sleepCell, 0, 0, LOCK_RETRY_MS);
  }
}
