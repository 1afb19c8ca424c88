// Reboot / reload of the FPGA or the BMC from the factory or user flash page (DPDK
// drivers/raw/ifpga/base/ifpga_sec_mgr.c n3000_reload_fpga / n3000_reload_bmc;
// reference/secure-update.md "Reboot / reload"):
//   FPGA (secure BMC, N3000 only): FPGA_RECONF [23] RP_LOAD cleared, then set with the page in
//        [22:20] (factory 0, user 1), then COUNTDOWN_START [18] cleared and set; the BMC reloads
//        when the countdown starts.
//   BMC: DOORBELL config select [28] = page with reboot request [29]; factory is config select 1
//        on the N3000 and 0 on the D5005 class (registers.ts BOARD_BOOT).
// Refused on a legacy (non-secure) BMC (intel-m10-bmc-spi.c check_m10bmc_version).
// Refused while an update runs (DPDK n3000 check: progress must be idle or RSU done). The PCIe
// side (save/disable AER on the upstream port, remove the function, rescan, restore AER) belongs
// to the caller's `aroundReload` hook: it depends on the transport (sysfs for vfio).
import { ArgumentError, DeviceError } from '../../errors.js';
import { logger } from '../../util/log.js';
import { fieldPrep } from '../../util/bitfield.js';
import type { BmcTransport } from './transport.js';
import {
  BOARD_BOOT, DOORBELL, DRBL_CONFIG_SEL, DRBL_REBOOT_DISABLED, DRBL_REBOOT_REQ, FPGA_RECONF_COUNTDOWN_START, FPGA_RECONF_PAGE,
  FPGA_RECONF_REQUEST, M10BMC_SYS_BASE, SYS_FPGA_RECONF, assertSecureBmc, decodeDoorbell, progressName,
  rsuProgress, rsuProgressDone, type BmcBoard,
} from './registers.js';
import { FlashState, writeFlashStatus } from './flash-status.js';
import { refuseIfRunningElsewhere } from '../flash-coordination.js';

const log = logger('bmc:reboot');

export type RebootTarget = 'fpga' | 'bmc';
export type BootPage = 'user' | 'factory';

export interface RebootOptions {
  target: RebootTarget;
  page: BootPage;
  /** Device URL for the shared status record (REBOOT while it runs). */
  device?: string;
  /** Card class: boot-page semantics (default 'n3000'). */
  board?: BmcBoard;
  /** Runs around the reload: e.g. disable AER and remove the PCI function, then rescan and restore. */
  aroundReload?: { before?(): void | Promise<void>; after?(): void | Promise<void> };
}

export async function rebootCard(t: BmcTransport, options: RebootOptions): Promise<void> {
  const { target, page } = options;
  if (target !== 'fpga' && target !== 'bmc') throw new ArgumentError('EUSAGE', `reboot target "${String(target)}" is not fpga or bmc`, { target });
  if (page !== 'user' && page !== 'factory') throw new ArgumentError('EUSAGE', `boot page "${String(page)}" is not user or factory`, { page });
  if (options.device) refuseIfRunningElsewhere(options.device, 'reboot refused');
  const board = BOARD_BOOT[options.board ?? 'n3000'];
  if (target === 'fpga' && !board.fpgaReload) {
    throw new DeviceError('ENOTSUP', `FPGA reload refused: on a ${board.name} card the BMC offers BMC page reloads only (intel-m10-bmc-sec-update d5005_image_load_hndlrs: bmc_factory, bmc_user); reboot the BMC (--target bmc) or power-cycle the host`, { target, board: options.board });
  }
  assertSecureBmc(t, `${target} reboot`);
  const doorbell = t.read32(DOORBELL);
  if (!rsuProgressDone(rsuProgress(doorbell))) {
    throw new DeviceError('EBUSY', `reboot refused: the BMC is ${progressName(rsuProgress(doorbell))}; an update must finish before a reload (readFlashStatus shows it)`, decodeDoorbell(doorbell));
  }
  if (target === 'bmc' && (doorbell & DRBL_REBOOT_DISABLED) !== 0) {
    throw new DeviceError('EREBOOT_DISABLED', 'BMC reboot refused: the BMC reports reboot disabled (DOORBELL[30]); its firmware does not allow a host-requested reboot', decodeDoorbell(doorbell));
  }
  const mark = (state: 'REBOOT' | 'IDLE', progress: number): void => {
    if (options.device) writeFlashStatus({ device: options.device, state, status: FlashState[state], progress, pid: process.pid, updatedAt: Date.now() });
  };
  mark('REBOOT', 0);
  try {
    await options.aroundReload?.before?.();
    mark('REBOOT', 1);
    if (target === 'fpga') {
      // n3000_reload_fpga (secure BMC): RP_LOAD 0, RP_LOAD 1 with the page, COUNTDOWN_START 0, 1.
      const sel = page === 'factory' ? 0 : 1;
      const reconf = M10BMC_SYS_BASE + SYS_FPGA_RECONF;
      t.updateBits(reconf, FPGA_RECONF_REQUEST, 0);
      t.updateBits(reconf, FPGA_RECONF_REQUEST | FPGA_RECONF_PAGE, FPGA_RECONF_REQUEST | fieldPrep(FPGA_RECONF_PAGE, sel));
      t.updateBits(reconf, FPGA_RECONF_COUNTDOWN_START, 0);
      t.updateBits(reconf, FPGA_RECONF_COUNTDOWN_START, FPGA_RECONF_COUNTDOWN_START);
    } else {
      const factory = page === 'factory';
      const sel = (factory ? board.bmcFactoryConfigSel : 1 - board.bmcFactoryConfigSel) === 1 ? DRBL_CONFIG_SEL : 0;
      t.updateBits(DOORBELL, DRBL_CONFIG_SEL | DRBL_REBOOT_REQ, sel | DRBL_REBOOT_REQ);
    }
    log('%s reload from the %s page requested', target, page);
    mark('REBOOT', 2);
    await options.aroundReload?.after?.();
  } finally {
    mark('IDLE', 0);
  }
}
