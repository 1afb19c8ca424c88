// What a reservation costs the operations that take one (PR, flash, reset): the flock-protected
// read-modify-write of a lock file, side by side with its parts. Rows: a bare flock acquire +
// release of the lock file; reading a reservation (no lock); reserve + free (two locked updates,
// each writing a new file and renaming it over the old); withReservation around an empty function
// on a free card (reserve+enter, leave+free: what `vfiokit pr` adds); the same when the caller
// already holds the card. Lock files live in a temporary directory (tmpfs when /tmp is one).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockFile } from '../src/lock/lock-file.js';
import { reserve, free, getReservation, withReservation } from '../src/lock/reservations.js';
import { measureNs, measureNsAsync, type BenchReport, type BenchRow } from './lib.js';

export async function run({ args }: { json: boolean; args: string[] }): Promise<BenchReport> {
  const quick = args.includes('--quick');
  const n = quick ? 200 : 2000;
  const dir = mkdtempSync(join(tmpdir(), 'vfiokit-bench-lock-'));
  const saved = process.env.VFIOKIT_LOCK_DIR;
  process.env.VFIOKIT_LOCK_DIR = dir;
  try {
    const rows: BenchRow[] = [];
    rows.push({ path: 'flock', op: 'lock file acquire + release', usPerOp: measureNs((k) => { for (let i = 0; i < k; i++) lockFile(dir, 'bench.lock').release(); }, n) / 1000 });
    reserve('sim:bench-read');
    rows.push({ path: 'read', op: 'getReservation (no lock)', usPerOp: measureNs((k) => { for (let i = 0; i < k; i++) getReservation('sim:bench-read'); }, n) / 1000 });
    rows.push({ path: 'reserve+free', op: 'reserve then free (2 locked updates)', usPerOp: measureNs((k) => { for (let i = 0; i < k; i++) { reserve('sim:bench'); free('sim:bench'); } }, n / 4) / 1000 });
    rows.push({ path: 'withReservation(free card)', op: 'auto reserve, PROGRAM, INACTIVE, free', usPerOp: await measureNsAsync(async (k) => { for (let i = 0; i < k; i++) await withReservation('sim:bench-auto', 'PROGRAM', () => undefined); }, n / 4) / 1000 });
    reserve('sim:bench-held');
    rows.push({ path: 'withReservation(held)', op: 'PROGRAM then INACTIVE/RESERVED on a held card', usPerOp: await measureNsAsync(async (k) => { for (let i = 0; i < k; i++) { await withReservation('sim:bench-held', 'RESET', () => undefined); } }, n / 4) / 1000 });
    return {
      benchmark: 'reservations',
      rows,
      baseline: 'flock',
      notes: [`lock directory ${dir}`, 'medians over repetitions; a PR or flash pays the withReservation row once per operation', 'each update replaces the file by rename: on ext4 that flushes its data (auto_da_alloc), on tmpfs (/run on most systems) it does not'],
    };
  } finally {
    if (saved === undefined) delete process.env.VFIOKIT_LOCK_DIR;
    else process.env.VFIOKIT_LOCK_DIR = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}
