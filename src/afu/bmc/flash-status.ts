// Flash status shared between processes: the process running a flash writes its state to
// stateDir('flash')/<deviceKey>.json (write tmp + rename, so a reader never sees half a file);
// `vfiokit status` in another process reads it. `vfiokit cancel` from another process leaves a
// <deviceKey>.cancel request that the flashing process honours between blocks (only the
// flashing process touches the doorbell while it runs, as in the kernel's m10bmc_sec_cancel).
import { canonicalDevice } from '../../lock/reservations.js';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deviceKey, stateDir } from '../../util/state-dir.js';

/** Status codes of the management API (reference/secure-update.md). */
export const FlashState = { IDLE: 0, PREPARING: 1, READY: 2, COPYING: 3, DONE: 4, REBOOT: 5 } as const;
export type FlashStateName = keyof typeof FlashState;
export const flashStateNames: readonly FlashStateName[] = ['IDLE', 'PREPARING', 'READY', 'COPYING', 'DONE', 'REBOOT'];

export interface FlashStatus {
  /** Device URL. */
  device: string;
  state: FlashStateName;
  /** FlashState code (0..5). */
  status: number;
  /** Percent: written while READY, copied while COPYING, 100 when DONE. */
  progress: number;
  /** PID of the process running the operation. */
  pid: number;
  /** Wall-clock time of this record (ms since the epoch). */
  updatedAt: number;
  image?: { type: number; typeName: string; subtype: number; subtypeName: string; version: string; length: number };
  /** The last failure (state is back to IDLE). */
  error?: { code: string; message: string };
  /** Set when the record's process is gone while the state was not final (crash or kill). */
  stale?: boolean;
}

/** One key per card however it is named: "3b:00.0", "0000:3b:00.0" and "vfio:0000:3b:00.0" agree. */
export function statusKey(url: string): string {
  // One name per card, as reservations use: "3b:00.0", "vfio:0000:3b:00.0" and
  // "sim:n3000?fault=dma" name the cards "vfio:0000:3b:00.0" and "sim:n3000".
  return deviceKey(canonicalDevice(url));
}

export function statusPath(url: string): string {
  return join(stateDir('flash'), `${statusKey(url)}.json`);
}

export function cancelRequestPath(url: string): string {
  return join(stateDir('flash'), `${statusKey(url)}.cancel`);
}

/** Atomically replace the status record. */
export function writeFlashStatus(status: FlashStatus): void {
  const path = statusPath(status.device);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(status) + '\n', { mode: 0o644 });
  renameSync(tmp, path);
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The status record for a device: IDLE when there is none; `stale` when its writer died mid-flash. */
export function readFlashStatus(url: string): FlashStatus {
  const path = statusPath(url);
  let record: FlashStatus | undefined;
  try {
    record = JSON.parse(readFileSync(path, 'utf8')) as FlashStatus;
  } catch {
    record = undefined;
  }
  if (!record || typeof record.state !== 'string' || !(record.state in FlashState)) {
    return { device: url, state: 'IDLE', status: FlashState.IDLE, progress: 0, pid: 0, updatedAt: 0 };
  }
  const busy = record.state === 'PREPARING' || record.state === 'READY' || record.state === 'COPYING' || record.state === 'REBOOT';
  if (busy && !alive(record.pid)) record.stale = true;
  return record;
}

export function requestCancel(url: string): void {
  writeFileSync(cancelRequestPath(url), `${process.pid}\n`);
}

export function cancelRequested(url: string): boolean {
  return existsSync(cancelRequestPath(url));
}

export function clearCancelRequest(url: string): void {
  rmSync(cancelRequestPath(url), { force: true });
}
