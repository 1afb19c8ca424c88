// Flash status shared between processes: the records and the states. The rules for acting on
// another process's flash (refusing, cancelling, rebooting) are in ../flash-coordination.ts.
//
// The process running a flash (or reboot) publishes its state in the flash state directory
// (stateDir('flash'), checked like the lock directory: src/util/state-dir.ts checkStateDir) as
// <deviceKey>.u<uid>.json, one file per user, replaced atomically (replaceFile: O_EXCL|O_NOFOLLOW
// temp + rename). `vfiokit status` in any process reads the newest record of the card. In a
// shared group directory (setgid + sticky) each user can only replace their own files, and a
// record is believed only when its file belongs to the uid in its name and its live pid runs as
// that uid, so nobody can fake another user's flash.
//
// Status numbers follow DPDK (drivers/raw/ifpga/base/ifpga_sec_mgr.h, rte_pmd_ifpga.h:
// IFPGA_RSU_IDLE 0, PREPARE 1, READY 2, COPYING 3, REBOOT 4). The management API's six state
// names map onto them: PREPARING is DPDK's PREPARE, and DONE has no number of its own: DPDK's
// fpga_update_flash sets COPYING 100 and then IDLE when the update ends, so DONE is status 0
// with progress 100 (docs/flash-status.md).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalDevice } from '../../lock/reservations.js';
import { processAlive, processUid } from '../../lock/process-info.js';
import { DeviceError } from '../../errors.js';
import { checkStateDir, deviceKey, readOwnedFile, replaceFile, stateDir } from '../../util/state-dir.js';
import { parseBoundedJson } from '../../util/bounded-json.js';

/** Status numbers (DPDK IFPGA_RSU_*); DONE shares IDLE's 0 (see above). */
export const FlashState = { IDLE: 0, PREPARING: 1, READY: 2, COPYING: 3, DONE: 0, REBOOT: 4 } as const;
export type FlashStateName = keyof typeof FlashState;
export const flashStateNames: readonly FlashStateName[] = ['IDLE', 'PREPARING', 'READY', 'COPYING', 'DONE', 'REBOOT'];

/** States in which a process is driving the BMC. */
const BUSY_STATES: readonly FlashStateName[] = ['PREPARING', 'READY', 'COPYING', 'REBOOT'];
/** States in which a cancel can still stop the update (the host has not handed the image over). */
const CANCELLABLE_STATES: readonly FlashStateName[] = ['PREPARING', 'READY'];

/** True in the states in which a process drives the BMC (a flash or a reboot runs). */
export function flashStateBusy(state: FlashStateName): boolean {
  return BUSY_STATES.includes(state);
}

/** True in the states in which a cancel still stops the update (the host writes staging). */
export function flashStateCancellable(state: FlashStateName): boolean {
  return CANCELLABLE_STATES.includes(state);
}

export interface FlashStatus {
  /** Device URL. */
  device: string;
  state: FlashStateName;
  /** DPDK status number (FlashState). */
  status: number;
  /** Percent: written while READY, copied while COPYING, 100 when DONE. */
  progress: number;
  /** PID of the process running the operation. */
  pid: number;
  /** Its user (from the record file's owner). */
  uid?: number;
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

/** The flash state directory, created and checked (owner, mode; shared group directories allowed). */
export function flashDir(): string {
  return checkStateDir(stateDir('flash'), {
    what: 'flash state directory', env: 'VFIOKIT_STATE_DIR', code: 'EFLASH_DIR',
    error: (code, message, details) => new DeviceError(code, message, details),
  }).dir;
}

export const myUid = (): number => process.getuid?.() ?? 0;

/** This user's status record of `url`. */
export function statusPath(url: string, uid = myUid()): string {
  return join(flashDir(), `${statusKey(url)}.u${uid}.json`);
}

/** This user's cancel request for `url` (written and honoured by ../flash-coordination.ts). */
export function cancelRequestPath(url: string, uid = myUid()): string {
  return join(flashDir(), `${statusKey(url)}.u${uid}.cancel`);
}

/** Atomically replace this user's status record. */
export function writeFlashStatus(status: FlashStatus): void {
  const { uid: _uid, stale: _stale, ...record } = status;
  replaceFile(statusPath(status.device), JSON.stringify(record) + '\n', 0o644);
}

/** The per-user files of a card with `suffix`, each with the uid its name and its owner agree on. */
export function userFiles(url: string, suffix: string): { path: string; uid: number; text: string }[] {
  const dir = flashDir();
  const prefix = `${statusKey(url)}.u`;
  const out: { path: string; uid: number; text: string }[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) continue;
    const uid = Number(name.slice(prefix.length, name.length - suffix.length));
    if (!Number.isInteger(uid) || uid < 0) continue;
    const path = join(dir, name);
    try {
      const file = readOwnedFile(path);
      if (file.uid !== uid) continue; // planted under another user's name
      out.push({ path, uid, text: file.text });
    } catch {
      /* removed meanwhile, or a link: ignored */
    }
  }
  return out;
}

function idle(url: string): FlashStatus {
  return { device: url, state: 'IDLE', status: FlashState.IDLE, progress: 0, pid: 0, updatedAt: 0 };
}

/** The newest status record of a card: IDLE when there is none; `stale` when its writer died mid-operation. */
export function readFlashStatus(url: string): FlashStatus {
  let best: FlashStatus | undefined;
  for (const file of userFiles(url, '.json')) {
    let record: FlashStatus;
    try {
      record = parseBoundedJson(file.text, 'flash status record') as FlashStatus;
    } catch {
      continue;
    }
    if (typeof record !== 'object' || record === null || typeof record.state !== 'string' || !flashStateNames.includes(record.state) || !Number.isInteger(record.pid)) continue;
    // A live pid of another user than the file's: a faked record.
    if (record.pid > 0 && file.uid !== 0 && processAlive(record.pid) && processUid(record.pid) !== file.uid) continue;
    record.uid = file.uid;
    record.status = FlashState[record.state];
    if (!best || (record.updatedAt ?? 0) > best.updatedAt) best = record;
  }
  if (!best) return idle(url);
  if (flashStateBusy(best.state) && best.pid !== process.pid && !processAlive(best.pid)) best.stale = true;
  return best;
}
