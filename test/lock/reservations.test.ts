// Reservations: state machine, ownership (self, ancestors, others), permissions of the lock files,
// the flock protocol, races between real processes, and stale owners after a kill.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync, chmodSync, readFileSync, readdirSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import {
  reserve, free, transition, getReservation, listReservations, withReservation, canonicalDevice, reservationId,
  deviceForReservationId, ReservationError, TransitionError, nextStates, canTransition, lockDir, LockError,
} from '../../src/lock/index.js';
import { lockFile } from '../../src/lock/lock-file.js';
import { processInfo, isSelfOrAncestor, ancestry } from '../../src/lock/process-info.js';

let dir: string;
const savedDir = process.env.VFIOKIT_LOCK_DIR;

beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'vfiokit-lock-')), 'locks');
  process.env.VFIOKIT_LOCK_DIR = dir;
});

afterEach(() => {
  if (savedDir === undefined) delete process.env.VFIOKIT_LOCK_DIR;
  else process.env.VFIOKIT_LOCK_DIR = savedDir;
  rmSync(resolve(dir, '..'), { recursive: true, force: true });
});

/** A live process that is not us and not our ancestor (an unrelated owner). */
function unrelated(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)'], { stdio: 'ignore' });
}

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe('state machine', () => {
  it('allows the documented life and RESET from everywhere', () => {
    expect(nextStates('FREE')).toEqual(['RESERVED', 'RESET']);
    expect(canTransition('RESERVED', 'PROGRAM')).toBe(true);
    expect(canTransition('PROGRAM', 'INACTIVE')).toBe(true);
    expect(canTransition('INACTIVE', 'ACTIVE')).toBe(true);
    expect(canTransition('ACTIVE', 'FREE')).toBe(true);
    for (const s of ['FREE', 'RESERVED', 'PROGRAM', 'INACTIVE', 'ACTIVE'] as const) expect(canTransition(s, 'RESET')).toBe(true);
    expect(canTransition('FREE', 'PROGRAM')).toBe(false);
    expect(canTransition('PROGRAM', 'FREE')).toBe(false);
    expect(canTransition('RESERVED', 'ACTIVE')).toBe(false);
  });

  it('walks FREE -> RESERVED -> PROGRAM -> INACTIVE -> ACTIVE -> FREE and records the bitstream', () => {
    const d = 'sim:walk';
    expect(getReservation(d).state).toBe('FREE');
    const r = reserve(d);
    expect(r).toMatchObject({ state: 'RESERVED', stale: false, id: reservationId(d) });
    expect(r.owner).toMatchObject({ pid: process.pid, uid: process.getuid!() });
    transition(d, 'PROGRAM');
    transition(d, 'INACTIVE', { bitstream: { signature: 'sha256:abcd', afuGuid: 'd8424dc4-a4a3-c413-f89e-433683f9040b' } });
    expect(transition(d, 'ACTIVE').bitstream).toMatchObject({ signature: 'sha256:abcd' });
    const f = free(d);
    expect(f).toMatchObject({ state: 'FREE', owner: null });
    // The loaded bitstream is still known after the card is freed.
    expect(getReservation(d).bitstream?.signature).toBe('sha256:abcd');
  });

  it('refuses transitions the machine does not allow, with the allowed ones in the message', () => {
    reserve('sim:t');
    let err: unknown;
    try {
      transition('sim:t', 'ACTIVE');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TransitionError);
    expect((err as Error).message).toBe('sim:t: cannot go from RESERVED to ACTIVE; from RESERVED the next state may be PROGRAM, FREE, RESET');
    transition('sim:t', 'PROGRAM');
    expect(code(() => free('sim:t'))).toBe('ETRANSITION');
    expect(free('sim:t', { force: true }).state).toBe('FREE');
  });

  it('RESET from any state by the owner, from FREE only by force', () => {
    expect(code(() => transition('sim:r', 'RESET'))).toBe('ENOTRESERVED');
    expect(transition('sim:r', 'RESET', { force: true }).state).toBe('RESET');
    expect(transition('sim:r', 'FREE', { force: true }).state).toBe('FREE');
    reserve('sim:r');
    transition('sim:r', 'PROGRAM');
    expect(transition('sim:r', 'RESET').state).toBe('RESET');
    expect(transition('sim:r', 'RESERVED').state).toBe('RESERVED');
  });
});

describe('ownership', () => {
  it('a second reserve fails, even by the same owner, naming who holds the card', () => {
    reserve('sim:a');
    let err: unknown;
    try {
      reserve('sim:a');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReservationError);
    expect((err as ReservationError).code).toBe('ERESERVED');
    expect((err as Error).message).toContain(`sim:a is RESERVED by pid ${process.pid}`);
  });

  it('a reservation owned by an ancestor (the shell) lets its descendants act; others are refused', async () => {
    const parent = process.ppid;
    expect(isSelfOrAncestor(parent, processInfo(parent)!.startTime)).toBe(true);
    expect(ancestry()[0]!.pid).toBe(process.pid);
    reserve('sim:shell', { owner: parent });
    expect(getReservation('sim:shell').owner!.pid).toBe(parent);
    transition('sim:shell', 'PROGRAM');
    transition('sim:shell', 'INACTIVE');
    free('sim:shell');

    const other = unrelated();
    try {
      await new Promise((r) => setTimeout(r, 50));
      reserve('sim:other', { owner: other.pid! });
      expect(code(() => transition('sim:other', 'PROGRAM'))).toBe('ERESERVED');
      expect(code(() => free('sim:other'))).toBe('ERESERVED');
      await expect(withReservation('sim:other', 'PROGRAM', () => 1)).rejects.toMatchObject({ code: 'ERESERVED' });
      expect(free('sim:other', { force: true }).state).toBe('FREE');
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('an owner pid that is not running is refused', () => {
    expect(code(() => reserve('sim:x', { owner: 999_999_999 }))).toBe('EOWNER');
  });
});

describe('lock files', () => {
  it('are 0644 files in a 0755 directory, one per device, and readable JSON', () => {
    reserve('3b:00.0');
    const dirMode = statSync(lockDir()).mode & 0o777;
    expect(dirMode).toBe(0o755);
    const r = getReservation('0000:3b:00.0');
    expect(r.device).toBe('vfio:0000:3b:00.0');
    expect(statSync(r.file).mode & 0o777).toBe(0o644);
    expect(statSync(r.file).uid).toBe(process.getuid!());
    expect(JSON.parse(readFileSync(r.file, 'utf8'))).toMatchObject({ device: 'vfio:0000:3b:00.0', state: 'RESERVED' });
    expect(readdirSync(dir)).toEqual(['vfio_0000_3b_00.0.lock']);
  });

  it('a lock directory writable by others is tightened (ours) before use', () => {
    lockDir();
    chmodSync(dir, 0o777);
    lockDir();
    expect(statSync(dir).mode & 0o777).toBe(0o755);
  });

  it('canonical device names and reservation ids', () => {
    expect(canonicalDevice('3B:00.0')).toBe('vfio:0000:3b:00.0');
    expect(canonicalDevice('vfio:0000:3b:00.1')).toBe('vfio:0000:3b:00.1');
    expect(canonicalDevice('vfio-user:rel.sock')).toBe(`vfio-user:${resolve('rel.sock')}`);
    expect(canonicalDevice('sim:n3000')).toBe('sim:n3000');
    expect(code(() => canonicalDevice('nonsense'))).toBe('EDEVICE_URL');
    expect(reservationId('3b:00.0')).toBe(reservationId('vfio:0000:3b:00.0'));
    expect(reservationId('sim:n3000')).toMatch(/^r-[0-9a-f]{8}$/);
    reserve('sim:n3000');
    expect(deviceForReservationId(reservationId('sim:n3000'))).toBe('sim:n3000');
    expect(deviceForReservationId('r-00000000')).toBeUndefined();
  });

  it('a corrupt lock file is reported and cleared by a forced free', () => {
    lockDir();
    writeFileSync(join(dir, 'sim_bad.lock'), '{ not json', { mode: 0o644 });
    expect(code(() => reserve('sim:bad'))).toBe('ELOCK_CORRUPT');
    expect(listReservations().corrupt[0]!.message).toContain('sim_bad.lock is corrupt');
    expect(code(() => free('sim:bad'))).toBe('ELOCK_CORRUPT');
    expect(free('sim:bad', { force: true })).toMatchObject({ state: 'FREE', device: 'sim:bad' });
    expect(reserve('sim:bad').state).toBe('RESERVED');
  });

  it('a lock held too long by another process times out with a typed error', () => {
    lockDir();
    using held = lockFile(dir, 'sim_held.lock');
    // flock locks belong to the open file description: a second open in this process contends too.
    let err: unknown;
    try {
      lockFile(dir, 'sim_held.lock', 30);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LockError);
    expect((err as LockError).code).toBe('ELOCK_TIMEOUT');
    held.release();
    expect(() => lockFile(dir, 'sim_held.lock', 30).release()).not.toThrow();
  });
});

describe('withReservation (how PR and flash take the card)', () => {
  it('an operation that fails keeps its own error when the reservation cannot be left (lock file broken meanwhile)', async () => {
    const err = await withReservation('sim:broken', 'PROGRAM', () => {
      // An administrator (or a bug) replaces the lock file by a directory during the operation.
      const file = getReservation('sim:broken').file;
      rmSync(file);
      mkdirSync(file);
      throw new TransitionError('EPR_CRC', 'CRC error in the bitstream');
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransitionError);
    expect((err as TransitionError).code).toBe('EPR_CRC');
    // Leaving after success still reports the lock failure (the state change was not recorded).
    rmSync(getReservation('sim:broken2').file, { force: true });
    await expect(withReservation('sim:broken2', 'PROGRAM', () => {
      const file = getReservation('sim:broken2').file;
      rmSync(file);
      mkdirSync(file);
    })).rejects.toBeInstanceOf(LockError);
  });

  it('reserves a free card for the call, advances on success and frees it afterwards', async () => {
    const seen: string[] = [];
    const out = await withReservation('sim:pr', 'PROGRAM', (scope) => {
      seen.push(getReservation('sim:pr').state);
      expect(scope.automatic).toBe(true);
      scope.setBitstream({ signature: 'sha256:feed', afuGuid: '11111111-2222-3333-4444-555555555555' });
      return 42;
    });
    expect(out).toBe(42);
    expect(seen).toEqual(['PROGRAM']);
    expect(getReservation('sim:pr')).toMatchObject({ state: 'FREE', owner: null, bitstream: { signature: 'sha256:feed' } });
  });

  it('uses an existing reservation of the caller and keeps it; failure falls back to RESERVED', async () => {
    reserve('sim:mine');
    await expect(withReservation('sim:mine', 'PROGRAM', () => { throw new Error('CRC error'); })).rejects.toThrow('CRC error');
    expect(getReservation('sim:mine')).toMatchObject({ state: 'RESERVED', owner: { pid: process.pid } });
    await withReservation('sim:mine', 'PROGRAM', (s) => { expect(s.automatic).toBe(false); s.setBitstream({ signature: 'v2' }); });
    expect(getReservation('sim:mine')).toMatchObject({ state: 'INACTIVE', bitstream: { signature: 'v2' } });
    transition('sim:mine', 'ACTIVE');
    // Re-programming an ACTIVE AFU steps through INACTIVE.
    await withReservation('sim:mine', 'PROGRAM', () => undefined);
    expect(getReservation('sim:mine').state).toBe('INACTIVE');
    await withReservation('sim:mine', 'RESET', () => undefined);
    expect(getReservation('sim:mine').state).toBe('RESERVED');
  });

  it('refuses to nest the same state', async () => {
    await withReservation('sim:nest', 'PROGRAM', async () => {
      await expect(withReservation('sim:nest', 'PROGRAM', () => 0)).rejects.toMatchObject({ code: 'EBUSY' });
    });
    expect(getReservation('sim:nest').state).toBe('FREE');
  });
});

const tsxImport = ['--import', 'tsx'];

describe('between processes', () => {
  it('two processes racing for one device: exactly one wins, 50 rounds', async () => {
    const workers = [0, 1].map(() => fork(resolve(__dirname, 'fixtures/race-worker.ts'), [], { execArgv: tsxImport, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
    try {
      await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
      const wins = new Map<number, number>();
      for (let round = 0; round < 50; round++) {
        const device = `sim:race-${round}`;
        const at = Date.now() + 15;
        const replies = await Promise.all(workers.map((w) => new Promise<{ pid: number; outcome: string }>((r) => {
          w.once('message', r);
          w.send({ round, device, at });
        })));
        const outcomes = replies.map((r) => r.outcome).sort();
        expect(outcomes, `round ${round}`).toEqual(['ERESERVED', 'won']);
        const winner = replies.find((r) => r.outcome === 'won')!.pid;
        wins.set(winner, (wins.get(winner) ?? 0) + 1);
        expect(getReservation(device).owner!.pid).toBe(winner);
      }
      expect([...wins.values()].reduce((a, b) => a + b, 0)).toBe(50);
    } finally {
      for (const w of workers) w.kill('SIGKILL');
    }
  }, 60_000);

  it('a killed owner leaves a stale reservation: reported, refused, recovered with a forced free', async () => {
    const child = spawn(process.execPath, [...tsxImport, resolve(__dirname, 'fixtures/hold.ts'), 'sim:stale'], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    await new Promise<void>((r) => child.stdout!.once('data', () => r()));
    const held = getReservation('sim:stale');
    expect(held).toMatchObject({ state: 'PROGRAM', stale: false, owner: { pid: child.pid } });
    expect(code(() => reserve('sim:stale'))).toBe('ERESERVED');

    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const stale = getReservation('sim:stale');
    expect(stale).toMatchObject({ state: 'PROGRAM', stale: true });
    expect(listReservations().reservations.find((r) => r.device === 'sim:stale')!.stale).toBe(true);
    let err: unknown;
    try {
      reserve('sim:stale');
    } catch (e) {
      err = e;
    }
    expect((err as ReservationError).code).toBe('ESTALE');
    expect((err as Error).message).toContain('no longer running');
    expect((err as Error).message).toContain('clear it with free(device, { force: true })');
    expect(code(() => free('sim:stale'))).toBe('ESTALE');
    await expect(withReservation('sim:stale', 'PROGRAM', () => 0)).rejects.toMatchObject({ code: 'ESTALE' });
    expect(free('sim:stale', { force: true }).state).toBe('FREE');
    expect(reserve('sim:stale').owner!.pid).toBe(process.pid);
  }, 30_000);
});

describe('hooks for the PR and flash flows', () => {
  it('prReservationHook: PROGRAM for the duration, INACTIVE with the bitstream on success, freed if it was free', async () => {
    const { prReservationHook, flashReserveHook } = await import('../../src/lock/hooks.js');
    const hook = prReservationHook('sim:hook', { signature: 'sha256:0123', afuGuid: 'aaaaaaaa-0000-0000-0000-000000000000' });
    hook.begin({ operation: 'pr', port: 0 });
    expect(getReservation('sim:hook').state).toBe('PROGRAM');
    hook.end({ operation: 'pr', port: 0, ok: true });
    expect(getReservation('sim:hook')).toMatchObject({ state: 'FREE', bitstream: { signature: 'sha256:0123' } });

    reserve('sim:hook');
    const failing = prReservationHook('sim:hook', { signature: 'sha256:bad' });
    failing.begin({ operation: 'pr', port: 0 });
    failing.end({ operation: 'pr', port: 0, ok: false });
    expect(getReservation('sim:hook')).toMatchObject({ state: 'RESERVED', bitstream: { signature: 'sha256:0123' } });

    const release = flashReserveHook('sim:hook')('secure update');
    expect(getReservation('sim:hook').state).toBe('PROGRAM');
    expect(code(() => flashReserveHook('sim:hook')('again'))).toBe('EBUSY');
    release.release();
    release.release();
    expect(getReservation('sim:hook').state).toBe('RESERVED');
  });
});

describe('lock file I/O errors are typed', () => {
  it('a lock file that cannot be read (a directory in its place) is a LockError naming the path and the way out', async () => {
    const { LockedFile, LockError } = await import('../../src/lock/lock-file.js');
    const dir = mkdtempSync(join(tmpdir(), 'vfiokit-lockread-'));
    try {
      const held = new LockedFile(dir, openSync(dir, 'r'));
      let err: unknown;
      try {
        held.read();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LockError);
      expect(err).toMatchObject({ code: 'ELOCK_READ', details: { path: dir } });
      expect((err as Error).message).toMatch(/EISDIR.*rm -r /);
      held.release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
