// One lock file per device, and the flock(2) protocol that makes every read-modify-write of it
// exclusive between processes:
//
//   open(path, O_RDONLY|O_NOFOLLOW), else O_CREAT|O_EXCL 0644 -> flock(LOCK_EX|LOCK_NB) (retry until a deadline) ->
//   check that the fd is still the file at `path` (same inode; a writer may have replaced it) ->
//   read, decide, write a new file next to it and rename() it over `path` -> close (unlocks).
//
// rename() makes each update atomic for readers without locks (a listing never sees half a
// file) and gives the new file to the writer (0644, owned by the writer: others cannot modify it).
// A process that waited on the old inode sees the inode change and retries on the new file.
import { openSync, closeSync, fstatSync, statSync, readFileSync, unlinkSync, constants as fsConstants } from 'node:fs';
import { join } from 'node:path';
import { flock } from '../sys/libc.js';
import { LOCK_EX, LOCK_NB } from '../sys/constants.js';
import { isSysError } from '../sys/sys-error.js';
import { stateDir, checkStateDir, pathProblem, replaceFile, type CheckedDir } from '../util/state-dir.js';
import { DeviceError, VfiokitError } from '../errors.js';

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

/** VFIOKIT_LOCK_DIR, else stateDir('locks') (under /run for root); created 0755 and checked (src/util/state-dir.ts checkStateDir). */
export function lockDir(): string {
  return lockDirChecked().dir;
}

/** The lock directory and whether it is a shared group directory (files owned by their writers). */
export function lockDirChecked(): CheckedDir {
  return checkStateDir(process.env.VFIOKIT_LOCK_DIR || stateDir('locks'), {
    what: 'lock directory', env: 'VFIOKIT_LOCK_DIR', code: 'ELOCK_DIR',
    error: (code, message, details) => new LockError(code, message, details),
  });
}

/** An exclusive hold on one lock file: read it, replace it, release it. */
export class LockedFile implements Disposable {
  readonly path: string;
  #fd: number;
  #created: boolean;
  #written = false;

  constructor(path: string, fd: number, created = false) {
    this.path = path;
    this.#fd = fd;
    this.#created = created;
  }

  /** The current content ('' for a new, empty file) and the uid of the file's owner (its last writer). */
  read(): { text: string; uid: number } {
    try {
      return { text: readFileSync(this.#fd, 'utf8'), uid: fstatSync(this.#fd).uid };
    } catch (err) {
      throw new LockError('ELOCK_READ', `cannot read lock file ${this.path}: ${pathProblem((err as NodeJS.ErrnoException).code)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); remove it (rm -r ${this.path}) as its owner or root`, { path: this.path });
    }
  }

  /** Replace the content atomically (replaceFile: O_EXCL|O_NOFOLLOW temp + rename). The hold stays on the old inode, which is fine: it is released next. */
  write(text: string): void {
    try {
      replaceFile(this.path, text, LOCK_FILE_MODE);
      this.#written = true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new LockError('ELOCK_WRITE', `cannot write lock file ${this.path}: ${pathProblem(code)} (${code ?? (err as Error).message}); ${code === 'EPERM' || code === 'EACCES' ? 'in a shared directory only the user who wrote a record (or root) may replace it' : `check permissions of ${this.path} and its directory`}`, { path: this.path });
    }
  }

  /** Remove the file (a FREE record in a shared directory, so the next user creates their own). */
  remove(): void {
    try {
      unlinkSync(this.path);
      this.#written = true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new LockError('ELOCK_WRITE', `cannot remove lock file ${this.path}: ${pathProblem(code)} (${code}); only the user who wrote it (or root) may`, { path: this.path });
    }
  }

  release(): void {
    if (this.#fd < 0) return;
    // A file this hold created and never filled is removed, so it does not stay behind owned by
    // this user (in a shared directory nobody else could replace it).
    if (this.#created && !this.#written) {
      try {
        if (fstatSync(this.#fd).size === 0 && statSync(this.path).ino === fstatSync(this.#fd).ino) unlinkSync(this.path);
      } catch { /* gone already */ }
    }
    closeSync(this.#fd); // closing the last fd of the open file description drops the flock
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.release();
  }
}

/** Open the lock file without following a planted link: the existing one, else a new one (O_EXCL). */
function tryOpen(path: string): { fd: number; created: boolean } {
  for (;;) {
    try {
      return { fd: openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK), created: false };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return openFailed(path, err);
    }
    try {
      return { fd: openSync(path, fsConstants.O_RDONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, LOCK_FILE_MODE), created: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return openFailed(path, err);
      // Created by another process meanwhile: open that one.
    }
  }
}

function openFailed(path: string, err: unknown): never {
  const code = (err as NodeJS.ErrnoException).code;
  const link = code === 'ELOOP';
  throw new LockError(code === 'EACCES' ? 'EACCES' : 'ELOCK_OPEN', `cannot open lock file ${path}: ${link ? 'it is a symbolic link (not followed; remove it)' : pathProblem(code)} (${code}); ${link ? `rm ${path}` : 'run as root or as the reservation\'s owner'}`, { path });
}

/** Take the exclusive flock on `<dir>/<name>`, waiting up to LOCK_WAIT_MS for another process's update. */
export function lockFile(dir: string, name: string, waitMs = LOCK_WAIT_MS): LockedFile {
  const path = join(dir, name);
  const deadline = performance.now() + waitMs;
  for (;;) {
    const { fd, created } = tryOpen(path);
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
          const locked = new LockedFile(path, fd, created);
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
