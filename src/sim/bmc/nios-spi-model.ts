// Device side of FME feature 0xD "N3000 Nios" (drivers/fpga/dfl-n3000-nios.c): the indirect
// command/status window onto the Altera SPI master (indirect 0x0-0x14) and the Nios handshake
// registers (0x1000+), with the Nios firmware's retimer initialisation.
//   +0x08 N3000_NS_PARAM: 32-bit words, one chip select (same layout as SPI_CORE_PARAMETER)
//   +0x10 N3000_NS_CTRL: a write runs the command [63:62] (1 read, 2 write) on address [44:32]
//         with data [31:0]; STAT[32] RW_VAL drops and rises again after `indirectLatency` polls
//   +0x18 N3000_NS_STAT: [32] RW_VAL, [31:0] read data
// Nios firmware (n3000_nios_init_done_check's other side): FW_VERSION 0x1004 ([31:28] major). From
// major 3 on the firmware waits for the host's INIT_START (with the FEC mode in [23:8]), then
// configures the retimers and sets INIT_DONE `initMs` later; before 3 it starts on its own at
// power-up. FW_VERSION 0 is a card without Nios firmware (INIT never changes). PKVL_A/B_MODE_STS
// report the retimer mode (GROUP_OK + 4x25G / 4x10G) once done; 'nios-retimer-error' reports a
// non-OK group (the kernel logs it and carries on); 'nios-init-never' never sets DONE (the kernel's
// probe times out after 10 s).
import type { Clock } from '../../util/clock.js';
import {
  NS_PARAM, NS_CTRL, NS_STAT, NS_CTRL_ADDR, NS_CTRL_CMD_MSK, NS_CTRL_CMD_RD, NS_CTRL_CMD_WR, NS_STAT_RD_DATA,
  NS_CTRL_WR_DATA, NS_STAT_RW_VAL, NIOS_INIT, NIOS_INIT_DONE, NIOS_INIT_START, NIOS_INIT_REQ_FEC_MODE_MSK_ALL, NIOS_FW_VERSION,
  NIOS_FW_MAJOR_INIT_START, NIOS_PKVL_A_MODE_STS, NIOS_PKVL_B_MODE_STS, PKVL_MODE_STS_GROUP_MSK, PKVL_MODE_STS_ID_MSK, PkvlMode, niosFwMajor,
} from '../../dfl/regs/n3000-nios.js';
import { fieldGet, fieldPrep } from '../../util/bitfield.js';
import { CORE_PARAMETER_VALUE, type SpiCoreModel } from './spi-master-model.js';

export type NiosFault = 'nios-init-never' | 'nios-retimer-error';
export const NIOS_FAULTS: readonly NiosFault[] = ['nios-init-never', 'nios-retimer-error'];

export interface NiosOptions {
  /** N3000_NIOS_FW_VERSION (default 0x30000000: 3.0.0, which waits for INIT_START). */
  fwVersion?: number;
  /** Retimer initialisation time after START (or power-up before firmware 3): default 2000 ms. */
  initMs?: number;
  /** INIT_DONE already set at power-up (a card whose Nios was started before). */
  initDone?: boolean;
  faults?: readonly NiosFault[];
  /** Retimer line rate: 25 G reports PKVL mode 4x25G, 10 G 4x10G. */
  linkSpeedMbps?: number;
  /**
   * Polls of NS_STAT that still show RW_VAL clear after a command (default 0: the first poll sees
   * it; dfl-n3000-nios.c: "Usually the state changes in 1 or 2 loops").
   */
  indirectLatency?: number;
}

/** Retimer init time of the default firmware (the kernel allows 10 s). */
export const NIOS_DEFAULT_INIT_MS = 2000;

export class NiosSpiModel {
  readonly core: SpiCoreModel;
  readonly fwVersion: number;
  readonly initMs: number;
  indirectLatency: number;
  readonly faults: Set<NiosFault>;
  /** Counters for tests: commands run, INIT_START writes seen. */
  readonly counters = { commands: 0, starts: 0 };
  #clock: Clock;
  #linkSpeedMbps: number;
  #init = 0;
  #doneAt = Infinity;
  #stat = NS_STAT_RW_VAL;
  #pendingPolls = 0;

  constructor(clock: Clock, core: SpiCoreModel, options: NiosOptions = {}) {
    this.#clock = clock;
    this.core = core;
    this.fwVersion = (options.fwVersion ?? 0x3000_0000) >>> 0;
    this.initMs = options.initMs ?? NIOS_DEFAULT_INIT_MS;
    this.indirectLatency = options.indirectLatency ?? 0;
    this.faults = new Set(options.faults ?? []);
    this.#linkSpeedMbps = options.linkSpeedMbps ?? 25_000;
    if (options.initDone) {
      this.#init = niosFwMajor(this.fwVersion) >= NIOS_FW_MAJOR_INIT_START ? NIOS_INIT_START : 0;
      this.#doneAt = clock.now();
    } else if (this.fwVersion !== 0 && niosFwMajor(this.fwVersion) < NIOS_FW_MAJOR_INIT_START) {
      this.#doneAt = clock.now() + this.initMs; // old firmware initialises on its own at power-up
    }
  }

  get initDone(): boolean {
    return !this.faults.has('nios-init-never') && this.#clock.now() >= this.#doneAt;
  }

  /** The FPGA's FLR resets the SPI master; the Nios keeps its one-time initialisation. */
  reset(): void {
    this.#stat = NS_STAT_RW_VAL;
    this.#pendingPolls = 0;
    this.core.reset();
  }

  read64(offset: number): bigint {
    switch (offset) {
      case NS_PARAM: return CORE_PARAMETER_VALUE;
      case NS_STAT:
        if (this.#pendingPolls > 0) {
          this.#pendingPolls--;
          return this.#stat & ~NS_STAT_RW_VAL;
        }
        return this.#stat;
      default: return 0n;
    }
  }

  write64(offset: number, value: bigint): void {
    if (offset !== NS_CTRL) return;
    const cmd = fieldGet(NS_CTRL_CMD_MSK, value);
    const address = Number(fieldGet(NS_CTRL_ADDR, value));
    if (cmd === NS_CTRL_CMD_RD) {
      this.#stat = NS_STAT_RW_VAL | fieldPrep(NS_STAT_RD_DATA, this.#readReg(address) >>> 0);
    } else if (cmd === NS_CTRL_CMD_WR) {
      this.#writeReg(address, Number(fieldGet(NS_CTRL_WR_DATA, value)));
      this.#stat = NS_STAT_RW_VAL;
    } else {
      return; // NOP (and the reserved command 3) start nothing
    }
    this.counters.commands++;
    this.#pendingPolls = this.indirectLatency;
  }

  #pkvlModeSts(): number {
    if (!this.initDone) return PkvlMode.RESET;
    if (this.faults.has('nios-retimer-error')) return fieldPrep(PKVL_MODE_STS_GROUP_MSK, 0x1) | fieldPrep(PKVL_MODE_STS_ID_MSK, PkvlMode.RESET);
    return this.#linkSpeedMbps >= 25_000 ? PkvlMode.M4X25G : PkvlMode.M4X10G;
  }

  #readReg(address: number): number {
    if (address < 0x1000) return this.core.readReg(address);
    switch (address) {
      case NIOS_INIT: return (this.#init | (this.initDone ? NIOS_INIT_DONE : 0)) >>> 0;
      case NIOS_FW_VERSION: return this.fwVersion;
      case NIOS_PKVL_A_MODE_STS:
      case NIOS_PKVL_B_MODE_STS: return this.#pkvlModeSts();
      default: return 0;
    }
  }

  #writeReg(address: number, value: number): void {
    if (address < 0x1000) {
      this.core.writeReg(address, value);
      return;
    }
    if (address !== NIOS_INIT || this.fwVersion === 0 || niosFwMajor(this.fwVersion) < NIOS_FW_MAJOR_INIT_START) return;
    // Firmware >= 3: the first INIT_START latches the FEC mode and starts the retimer init.
    if ((value & NIOS_INIT_START) !== 0 && (this.#init & NIOS_INIT_START) === 0) {
      this.#init = (NIOS_INIT_START | (value & NIOS_INIT_REQ_FEC_MODE_MSK_ALL)) >>> 0;
      this.#doneAt = this.#clock.now() + this.initMs;
      this.counters.starts++;
    }
  }
}
