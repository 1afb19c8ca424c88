// Flash coordination: the rules for a card that several processes (and users) may drive, in one
// place. Every flash, reboot and cancel (SecureUpdate, rebootCard, the CLI's flash / cancel /
// reboot, the management API and so the daemon) asks this module:
//   - whether another live process flashes or reboots the card (a second one is refused EBUSY, as
//     the kernel's firmware_upload_start refuses while fw_upload progress is not IDLE:
//     drivers/base/firmware_loader/sysfs_upload.c; two processes must not drive the SPI master);
//   - who may cancel it and when: the flasher's own user or root, while the host still writes the
//     staging area (PREPARING, READY; intel-m10-bmc-sec-update.c rsu_cancel refuses unless the BMC
//     is RSU_PROG_READY);
//   - how a cancel reaches the flashing process: <deviceKey>.u<uid>.cancel in the flash state
//     directory names its pid, and the flasher honours it between blocks (the kernel's
//     m10bmc_sec_cancel only sets cancel_request; the flashing thread acts on it), and what a
//     cancel does when no live process flashes: abort what a killed flash left on the BMC;
//   - a reboot with reload: the card's reservation in RESET, the PCI side of the reload for a
//     local PCI function (src/pci/reload.ts), the BMC's request (src/afu/bmc/reboot.ts).
// The records themselves (paths, atomic writes, the newest record of a card) are bmc/flash-status.ts.
import { rmSync } from 'node:fs';
import { DeviceError, TimeoutError, VfiokitError } from '../errors.js';
import { FlashError } from './errors.js';
import { userName } from '../lock/process-info.js';
import { withReservation } from '../lock/reservations.js';
import { pciReloadHook, type PciReloadOptions } from '../pci/reload.js';
import { replaceFile } from '../util/state-dir.js';
import { parseBoundedJson } from '../util/bounded-json.js';
import type { Device } from '../device/device.js';
import type { Bmc } from './bmc/bmc.js';
import type { BootPage, RebootTarget } from './bmc/reboot.js';
import {
  cancelRequestPath, flashStateBusy, flashStateCancellable, myUid, readFlashStatus, userFiles, type FlashStatus,
} from './bmc/flash-status.js';

/** The record of a flash or reboot that a live process (this one included) runs on the card. */
export function liveFlash(url: string): FlashStatus | undefined {
  const s = readFlashStatus(url);
  return s.pid && !s.stale && flashStateBusy(s.state) ? s : undefined;
}

/** The record of a flash or reboot that another live process runs on the card, or undefined. */
export function runningElsewhere(url: string): FlashStatus | undefined {
  const s = liveFlash(url);
  return s && s.pid !== process.pid ? s : undefined;
}

/** What the running operation is, for messages: "reboot" or "flash". */
const operation = (s: FlashStatus): string => (s.state === 'REBOOT' ? 'reboot' : 'flash');

/**
 * Refuse to start `what` (a flash or a reboot) while another live process flashes or reboots the
 * card: DeviceError EBUSY naming the process and its state, unless `error` builds another class.
 */
export function refuseIfRunningElsewhere(url: string, what: string, error: (code: 'EBUSY', message: string, details: Record<string, unknown>) => VfiokitError = (c, m, d) => new DeviceError(c, m, d)): void {
  const other = runningElsewhere(url);
  if (!other) return;
  throw error('EBUSY', `${what}: process ${other.pid} is already running a ${operation(other)} of ${url} (${other.state}${other.state === 'REBOOT' ? '' : ` ${other.progress}%`}); wait for it to finish${other.state === 'REBOOT' ? '' : ' or cancel it (requestCancel)'}`, { pid: other.pid, state: other.state });
}

/**
 * The one rule for cancelling another process's flash: it must be the caller's own user's (or the
 * caller root), and still cancellable (PREPARING or READY). Throws DeviceError EPERM /
 * EFLASH_CANCEL_STATE naming who and what; returns the record to ask.
 */
export function checkCancelOf(other: FlashStatus): FlashStatus {
  const me = myUid();
  if (me !== 0 && other.uid !== undefined && other.uid !== me) {
    throw new DeviceError('EPERM', `the flash of ${other.device} is run by process ${other.pid} of user ${userName(other.uid)}; only that user or root may cancel it`, { pid: other.pid, uid: other.uid, state: other.state });
  }
  if (!flashStateCancellable(other.state)) {
    throw new VfiokitError('EFLASH_CANCEL_STATE', `cannot cancel: the ${operation(other)} run by process ${other.pid} is ${other.state}${other.state === 'COPYING' ? ` (${other.progress}%)` : ''}; an update can only be cancelled while the host writes the staging area (READY)${other.state === 'COPYING' ? '; the BMC must finish copying: wait for it (readFlashStatus)' : ''}`, { pid: other.pid, state: other.state, progress: other.progress });
  }
  return other;
}

/** Ask the process running `other` to cancel, after checkCancelOf. */
export function requestCancel(other: FlashStatus): void {
  checkCancelOf(other);
  replaceFile(cancelRequestPath(other.device), JSON.stringify({ pid: other.pid, by: process.pid }) + '\n', 0o644);
}

/** True when this process's flash of `url` was asked to stop by its own user or root. */
export function cancelRequested(url: string): boolean {
  const me = myUid();
  return userFiles(url, '.cancel').some((f) => {
    if (f.uid !== me && f.uid !== 0) return false;
    try {
      return (parseBoundedJson(f.text, 'cancel request') as { pid?: unknown }).pid === process.pid;
    } catch {
      return false;
    }
  });
}

/** Remove this user's cancel request (requests naming a finished pid are ignored anyway). */
export function clearCancelRequest(url: string): void {
  rmSync(cancelRequestPath(url), { force: true });
}

export interface CancelFlashOptions {
  /**
   * When no live process flashes the card: open it and abort what a killed flash left on the BMC
   * (SecureUpdate.cancel). Without it such a cancel is refused EINVAL (the caller cannot reach
   * the card, e.g. the management API for a card it has not probed).
   */
  abortLeftover?(): Promise<unknown>;
  /** Wait this long for the flashing process to confirm (its record back at IDLE); 0: do not wait. */
  confirmMs?: number;
  /** How often to read the flashing process's record while waiting (default 100 ms). */
  pollMs?: number;
  /** The name the user gave the card, for the messages (default the URL). */
  name?: string;
  /** Called once the flashing process has been asked, before waiting for it. */
  onAsked?(pid: number): void;
}

export type CancelFlashResult = { how: 'process'; pid: number; confirmed: boolean } | { how: 'device' };

/**
 * Cancel the flash of a card, wherever it runs: a live process (this one included) is asked
 * through the state directory after the user and state checks, and with `confirmMs` followed
 * until its record shows the cancel (EFLASH_STOPPED when it stopped for another reason,
 * EFLASH_TOO_LATE when it went on to COPYING, ETIMEDOUT when it did not answer). With no live
 * flash, `abortLeftover` aborts what a dead one left; without it the cancel is refused EINVAL.
 */
export async function cancelFlash(url: string, options: CancelFlashOptions = {}): Promise<CancelFlashResult> {
  const name = options.name ?? url;
  const running = liveFlash(url);
  if (!running) {
    if (!options.abortLeftover) {
      const s = readFlashStatus(url);
      throw new DeviceError('EINVAL', `${name}: no flash update is running (state ${s.state}${s.stale ? ', its process is gone: cancel aborts what it left' : ''})`, { device: url });
    }
    await options.abortLeftover();
    return { how: 'device' };
  }
  requestCancel(running);
  options.onAsked?.(running.pid);
  const confirmMs = options.confirmMs ?? 0;
  if (confirmMs <= 0) return { how: 'process', pid: running.pid, confirmed: false };
  const deadline = Date.now() + confirmMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
    const now = readFlashStatus(url);
    if (now.state === 'IDLE' || now.stale) {
      if (now.error?.code !== 'ECANCELED') throw new FlashError('EFLASH_STOPPED', `the flash of ${url} stopped, but not by the cancel: ${now.error?.message ?? (now.stale ? `process ${running.pid} died` : now.state)}; read its status (readFlashStatus)`, { device: url });
      return { how: 'process', pid: running.pid, confirmed: true };
    }
    if (!flashStateCancellable(now.state)) {
      throw new FlashError('EFLASH_TOO_LATE', `too late: the update of ${url} went on to ${now.state}, which cannot be stopped; let it finish (readFlashStatus shows its progress)`, { device: url, state: now.state });
    }
  }
  throw new TimeoutError('ETIMEDOUT', `process ${running.pid} did not confirm the cancel within ${confirmMs / 1000} s; read the flash status (readFlashStatus) to see whether it stopped`, { device: url, pid: running.pid });
}

export interface RebootWithReloadOptions {
  target: RebootTarget;
  page: BootPage;
  /** Reboot even a card another process has reserved (the reservation's force rule). */
  force?: boolean;
  /** Called before a local PCI function is removed: close what else uses the device. */
  release?(): void;
  /** Progress lines of the PCI side. */
  onStep?(message: string): void;
  /** The PCI side's sysfs tree and reload wait (tests, other roots). */
  pci?: Omit<PciReloadOptions, 'release' | 'onStep'>;
}

/**
 * Reload the FPGA or the BMC of an open card: the card's reservation `key` taken in RESET first
 * (a card another process holds is refused before its BMC is touched), its BMC opened with
 * `openBmc` and closed on every path, the REBOOT status record under `key`, and for a local PCI
 * function (vfio) the PCI side around the reload (AER masked upstream, remove, rescan, AER
 * restored; pci/reload.ts), which closes the BMC and the device before removing the function.
 */
export async function rebootWithReload(device: Device, openBmc: () => Promise<Bmc>, key: string, options: RebootWithReloadOptions): Promise<void> {
  const bdf = device.capabilities?.hostPci?.bdf;
  await withReservation(key, 'RESET', async () => {
    using bmc = await openBmc();
    const aroundReload = bdf
      ? pciReloadHook(bdf, {
        ...options.pci,
        release: () => {
          bmc.close();
          device.close();
          options.release?.();
        },
        ...(options.onStep ? { onStep: options.onStep } : {}),
      })
      : undefined;
    await bmc.reboot({ target: options.target, page: options.page, device: key, aroundReload });
  }, { force: options.force === true });
}
