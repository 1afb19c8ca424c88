// FME feature 0xD "N3000 Nios", host side (drivers/fpga/dfl-n3000-nios.c): the indirect register
// bus onto the Altera SPI master and the Nios handshake registers, and the handshake the kernel
// runs before it takes the SPI master (n3000_nios_init_done_check).
//   n3000_nios_reg_read/write: write NS_CTRL {[63:62] cmd, [44:32] address, [31:0] data}, then
//   poll NS_STAT until [32] RW_VAL, at most N3000_NIOS_REGBUS_RETRY_COUNT reads; read data [31:0].
import { TimeoutError } from '../../errors.js';
import type { Region } from '../../mmio/region.js';
import type { Clock } from '../../util/clock.js';
import { hex } from '../../util/bytes.js';
import { logger } from '../../util/log.js';
import {
  NS_CTRL, NS_STAT, NS_STAT_RD_DATA, NS_STAT_RW_VAL, NS_CTRL_CMD_RD, NS_CTRL_CMD_WR, NIOS_REGBUS_RETRY_COUNT, nsCtrl,
  NIOS_FW_VERSION, NIOS_INIT, NIOS_INIT_DONE, NIOS_INIT_START, NIOS_FW_MAJOR_INIT_START, NIOS_INIT_INTERVAL_MS, NIOS_INIT_TIMEOUT_MS,
  NIOS_PKVL_A_MODE_STS, NIOS_PKVL_B_MODE_STS, FecMode, fecModeAll, niosFwMajor, niosFwMinor, niosFwPatch, pkvlModeOk,
} from '../../dfl/regs/n3000-nios.js';
import { SpiRegBusBase, type BatchStopTag } from './spi-regbus.js';
import type { AccessBatch } from '../../mmio/access-batch.js';
import { fieldGet } from '../../util/bitfield.js';

const log = logger('bmc:nios');

export class NiosRegBus extends SpiRegBusBase {
  readonly kind = 'nios';
  /** Stop tags of queued polls, one per register and direction. */
  readonly #tags = new Map<number, BatchStopTag>();

  constructor(region: Region, base: number) {
    super(region, base, 0xd, 'N3000 Nios');
  }

  /** n3000_nios_poll_stat_timeout. */
  #poll(what: string, reg: number): bigint {
    const stat = this.base + NS_STAT;
    for (let i = 0; i < NIOS_REGBUS_RETRY_COUNT; i++) {
      const v = this.region.read64(stat);
      if ((v & NS_STAT_RW_VAL) !== 0n) return v;
    }
    throw this.#timeout(what, reg);
  }

  #timeout(what: string, reg: number): TimeoutError {
    return new TimeoutError('ENIOS_REGBUS_TIMEOUT', `${this.name}: indirect ${what} of ${hex(reg)} did not complete: NS_STAT (+0x18) bit 32 (RW_VAL) stayed clear for ${NIOS_REGBUS_RETRY_COUNT} polls; the Nios register bus is hung, reset the card`, { register: reg });
  }

  readReg(reg: number): number {
    this.region.write64(this.base + NS_CTRL, nsCtrl(NS_CTRL_CMD_RD, reg));
    return Number(fieldGet(NS_STAT_RD_DATA, this.#poll('read', reg)));
  }

  writeReg(reg: number, value: number): void {
    this.region.write64(this.base + NS_CTRL, nsCtrl(NS_CTRL_CMD_WR, reg, value));
    this.#poll('write', reg);
  }

  /** n3000_nios_poll_stat_timeout as a batched poll: RW_VAL within NIOS_REGBUS_RETRY_COUNT reads. */
  #queuePoll(batch: AccessBatch, what: 'read' | 'write', reg: number): number {
    const key = reg * 2 + (what === 'write' ? 1 : 0);
    let tag = this.#tags.get(key);
    if (!tag) this.#tags.set(key, tag = { error: () => this.#timeout(what, reg) });
    return batch.poll(8, this.base + NS_STAT, NS_STAT_RW_VAL, NS_STAT_RW_VAL, NIOS_REGBUS_RETRY_COUNT, tag);
  }

  queueRead(batch: AccessBatch, reg: number): number {
    batch.write(8, this.base + NS_CTRL, nsCtrl(NS_CTRL_CMD_RD, reg));
    return this.#queuePoll(batch, 'read', reg);
  }

  queueWrite(batch: AccessBatch, reg: number, value: number): void {
    batch.write(8, this.base + NS_CTRL, nsCtrl(NS_CTRL_CMD_WR, reg, value));
    this.#queuePoll(batch, 'write', reg);
  }
}

export interface NiosInitResult {
  /** FW_VERSION raw and as "major.minor.patch" (nios_fw_version_show prints hex digits). */
  fwVersion: number;
  fwVersionText: string;
  /** True when this call wrote INIT_START (firmware >= 3 that had not been started). */
  started: boolean;
  /** INIT after the handshake. */
  init: number;
  pkvlA: number;
  pkvlB: number;
  /** Retimer configuration reported an error (the SPI master is still usable, as in the kernel). */
  retimerError: boolean;
  /** FW_VERSION read 0: no Nios firmware; the kernel skips the check and carries on. */
  noFirmware: boolean;
}

/**
 * n3000_nios_init_done_check: read FW_VERSION; 0 means no Nios firmware (carry on). For major >= 3,
 * if INIT shows neither DONE nor START, write START with Reed-Solomon FEC on all links (the
 * kernel's only mode). Then poll INIT until DONE every 100 ms for up to 10 s on the device's clock;
 * a timeout fails (the kernel's probe fails with it). With DONE, a PKVL mode status that is not
 * GROUP_OK is logged and tolerated, as the kernel does, so the BMC can still be reflashed.
 */
export async function niosInitDoneCheck(bus: NiosRegBus, clock: Clock): Promise<NiosInitResult> {
  const fw = bus.readReg(NIOS_FW_VERSION);
  const fwText = `${niosFwMajor(fw).toString(16)}.${niosFwMinor(fw).toString(16)}.${niosFwPatch(fw).toString(16)}`;
  const base = { fwVersion: fw, fwVersionText: fwText, started: false, init: 0, pkvlA: 0, pkvlB: 0, retimerError: false, noFirmware: false };
  if (fw === 0) {
    log('%s: Nios version reg = 0, skip INIT_DONE check; the retimers may be uninitialized', bus.name);
    return { ...base, noFirmware: true };
  }
  let started = false;
  if (niosFwMajor(fw) >= NIOS_FW_MAJOR_INIT_START) {
    const init = bus.readReg(NIOS_INIT);
    if ((init & (NIOS_INIT_DONE | NIOS_INIT_START)) === 0) {
      bus.writeReg(NIOS_INIT, (NIOS_INIT_START | fecModeAll(FecMode.RS)) >>> 0);
      started = true;
      log('%s: Nios %s: wrote INIT_START with RS FEC', bus.name, fwText);
    }
  }
  const deadline = clock.now() + NIOS_INIT_TIMEOUT_MS;
  let init = bus.readReg(NIOS_INIT);
  // regmap_read_poll_timeout: one more read after the deadline passes.
  while ((init & NIOS_INIT_DONE) === 0) {
    if (clock.now() > deadline) break;
    await clock.sleep(NIOS_INIT_INTERVAL_MS);
    init = bus.readReg(NIOS_INIT);
  }
  const pkvlA = bus.readReg(NIOS_PKVL_A_MODE_STS);
  const pkvlB = bus.readReg(NIOS_PKVL_B_MODE_STS);
  const result = { ...base, started, init, pkvlA, pkvlB, retimerError: !(pkvlModeOk(pkvlA) && pkvlModeOk(pkvlB)) };
  if ((init & NIOS_INIT_DONE) === 0) {
    throw new TimeoutError('ENIOS_INIT_TIMEOUT', `${bus.name}: NIOS_INIT_DONE timed out: INIT (0x1000) = ${hex(init, 8)} after ${NIOS_INIT_TIMEOUT_MS / 1000} s (Nios firmware ${fwText}; PKVL_A_MODE_STS ${hex(pkvlA, 8)}, PKVL_B_MODE_STS ${hex(pkvlB, 8)}); the Nios still owns the SPI master to the BMC: power-cycle the card`, { init, fwVersion: fw, pkvlA, pkvlB });
  }
  if (result.retimerError) log('%s: NIOS_INIT_DONE OK, but err on retimer init (PKVL_A_MODE_STS %s, PKVL_B_MODE_STS %s)', bus.name, hex(pkvlA, 8), hex(pkvlB, 8));
  return result;
}

