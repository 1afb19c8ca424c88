// The PCI side of an FPGA or BMC reload of a card that is a local PCI function
// (reference/secure-update.md "Reboot / reload"): mask AER on the upstream port, remove the
// function, wait for the card to come back, rescan below the port, restore AER. Used as the
// `aroundReload` hook of rebootCard (src/afu/bmc/reboot.ts) by the CLI and the management API.
import { logger } from '../util/log.js';
import { PciError } from './errors.js';
import { liveSysfs, type PciSysfs } from './sysfs.js';
import { parentBridge } from './topology.js';
import { removeDevice, rescan } from './driver.js';
import { maskAer, restoreAer, type AerMasks } from './aer.js';
import { normalizeBdf } from './address.js';

const log = logger('pci:reload');

/** DPDK's opae_reboot_device waits this long for the FPGA or BMC to come back before rescanning. */
export const RELOAD_WAIT_MS = 10_000;

export interface PciReloadOptions {
  sysfs?: PciSysfs;
  /** How long the card needs to reload before the rescan (default RELOAD_WAIT_MS). */
  waitMs?: number;
  /** Called before the device is removed: close everything that uses it (fds, mappings). */
  release?(): void;
  /** Progress lines for the CLI. */
  onStep?(message: string): void;
}

export interface PciReloadHook {
  before(): void;
  after(): Promise<void>;
  /** The AER masks saved on the upstream port (undefined: no AER there, or nothing done yet). */
  readonly savedAer: AerMasks | undefined;
}

export function pciReloadHook(bdf: string, options: PciReloadOptions = {}): PciReloadHook {
  const sysfs = options.sysfs ?? liveSysfs;
  const name = normalizeBdf(bdf);
  const port = parentBridge(name, { sysfs });
  let saved: AerMasks | undefined;
  const step = (m: string): void => {
    log(m);
    options.onStep?.(m);
  };
  return {
    get savedAer() {
      return saved;
    },
    before() {
      if (!port) {
        step(`${name} sits on a root bus: no upstream port whose AER to mask`);
        return;
      }
      saved = maskAer(port, { sysfs });
      step(saved ? `AER of upstream port ${port} masked (was uncorrectable 0x${saved.uncorrectable.toString(16)}, correctable 0x${saved.correctable.toString(16)})` : `upstream port ${port} has no AER capability to mask`);
    },
    async after() {
      try {
        options.release?.();
        removeDevice(name, { sysfs });
        const waitMs = options.waitMs ?? RELOAD_WAIT_MS;
        step(`${name} removed; waiting ${waitMs / 1000} s for the card to reload`);
        await new Promise((r) => setTimeout(r, waitMs));
        rescan(port, { sysfs });
        step(port ? `rescanned below ${port}` : 'rescanned the PCI buses');
      } finally {
        if (saved) {
          try {
            restoreAer(saved, { sysfs });
            step(`AER of ${saved.bdf} restored`);
          } catch (e) {
            throw new PciError('EPCI_AER_RESTORE', `${saved.bdf}: restoring the AER masks failed: ${(e as Error).message}; write uncorrectable 0x${saved.uncorrectable.toString(16)} at 0x${(saved.capability + 8).toString(16)} and correctable 0x${saved.correctable.toString(16)} at 0x${(saved.capability + 0x14).toString(16)} of its config space (setpci)`, { ...saved }, { cause: e });
          }
        }
      }
    },
  };
}
