// Device side of FME private feature 0xE on an N3000: the Altera SPI master (spi-altera-core.c
// register set) behind the DFL indirect access window (spi-altera-dfl.c), wired to the MAX10's
// SPI-AVMM bridge on chip select 0. Register offsets are relative to the feature's DFH.
//   +0x08 SPI_CORE_PARAMETER: [7:2] data width 32, [13:8] one chip select, [31:22] SPI clock
//   +0x10 INDIRECT_ADDR: write [9] read / [8] write + [2:0] register index; the bit reads back
//         set for `indirectLatency` polls, then clears (the host polls it, spi-altera-dfl.c)
//   +0x18 INDIRECT_RD_DATA: [31:0] data, [32] valid (reference/secure-update.md; the kernel calls
//         bit 32 INDIRECT_DEBUG and ignores it)
//   +0x20 INDIRECT_WR_DATA: [31:0]
// SPI master registers: RXDATA 0, TXDATA 4, STATUS 8 (ROE 3, TOE 4, TMT 5, TRDY 6, RRDY 7, E 8),
// CONTROL 0xC (SSO 10), SLAVE_SEL 0x14. A TXDATA write shifts 32 bits out MSB first (the host
// swaps bytes so the first phy byte is in [31:24], regmap-spi-avmm br_swap_words_32).
import type { AvalonBridge } from './avalon-bridge.js';
import {
  SPI_CORE_PARAMETER, CORE_DATA_WIDTH_SHIFT, CORE_NUM_CHIPSELECT_SHIFT, SPI_INDIRECT_ADDR, SPI_INDIRECT_RD_DATA, SPI_INDIRECT_WR_DATA,
  INDIRECT_WR, INDIRECT_RD, INDIRECT_VALID,
  INDIRECT_REG_MASK, INDIRECT_DATA_MASK, ALTERA_SPI_RXDATA, ALTERA_SPI_TXDATA, ALTERA_SPI_STATUS, ALTERA_SPI_CONTROL, ALTERA_SPI_SLAVE_SEL,
  STATUS_ROE, STATUS_TOE, STATUS_TMT, STATUS_TRDY, STATUS_RRDY, STATUS_E, CONTROL_SSO,
} from '../../dfl/regs/max10-bmc.js';

// The register map is shared with the host driver (src/dfl/regs/max10-bmc.ts). The window's
// offsets keep the model's names; the SPI master registers are used as indices (offset >> 2),
// which is how INDIRECT_ADDR[2:0] names them.
export { SPI_CORE_PARAMETER, INDIRECT_WR, INDIRECT_RD, INDIRECT_VALID };
export const INDIRECT_ADDR = SPI_INDIRECT_ADDR;
export const INDIRECT_RD_DATA = SPI_INDIRECT_RD_DATA;
export const INDIRECT_WR_DATA = SPI_INDIRECT_WR_DATA;

const RXDATA = ALTERA_SPI_RXDATA >> 2;
const TXDATA = ALTERA_SPI_TXDATA >> 2;
const STATUS = ALTERA_SPI_STATUS >> 2;
const CONTROL = ALTERA_SPI_CONTROL >> 2;
const SLAVE_SEL = ALTERA_SPI_SLAVE_SEL >> 2;

/** DATA_WIDTH 32 in [7:2], NUM_CHIPSELECT 1 in [13:8], SPI clock 12.5 MHz code in [31:22]. */
export const CORE_PARAMETER_VALUE = (32n << CORE_DATA_WIDTH_SHIFT) | (1n << CORE_NUM_CHIPSELECT_SHIFT) | (25n << 22n);

export class SpiMasterModel {
  /** Polls of INDIRECT_ADDR that still show the command bit (0 = completes at once). */
  indirectLatency = 1;
  /** SPI words exchanged with the BMC (for tests and benchmarks). */
  words = 0;
  #bridge: AvalonBridge;
  #cmd = 0n;
  #pendingPolls = 0;
  #rdData = 0n;
  #wrData = 0;
  #rx = 0;
  #status = STATUS_TMT | STATUS_TRDY;
  #control = 0;
  #slaveSel = 0;

  constructor(bridge: AvalonBridge) {
    this.#bridge = bridge;
  }

  reset(): void {
    this.#cmd = 0n;
    this.#pendingPolls = 0;
    this.#rdData = 0n;
    this.#wrData = 0;
    this.#rx = 0;
    this.#status = STATUS_TMT | STATUS_TRDY;
    this.#control = 0;
    this.#slaveSel = 0;
    this.#bridge.reset();
  }

  read64(offset: number): bigint {
    switch (offset) {
      case SPI_CORE_PARAMETER: return CORE_PARAMETER_VALUE;
      case INDIRECT_ADDR:
        if (this.#pendingPolls > 0) {
          this.#pendingPolls--;
          return this.#cmd;
        }
        return this.#cmd & ~(INDIRECT_RD | INDIRECT_WR);
      case INDIRECT_RD_DATA: return this.#rdData;
      case INDIRECT_WR_DATA: return BigInt(this.#wrData);
      default: return 0n;
    }
  }

  write64(offset: number, value: bigint): void {
    switch (offset) {
      case INDIRECT_WR_DATA:
        this.#wrData = Number(value & INDIRECT_DATA_MASK);
        return;
      case INDIRECT_ADDR: {
        this.#cmd = value & 0x3ffn;
        const reg = Number(value & INDIRECT_REG_MASK);
        if ((value & INDIRECT_RD) !== 0n) this.#rdData = BigInt(this.#readReg(reg)) | INDIRECT_VALID;
        else if ((value & INDIRECT_WR) !== 0n) this.#writeReg(reg, this.#wrData);
        this.#pendingPolls = (value & (INDIRECT_RD | INDIRECT_WR)) !== 0n ? this.indirectLatency : 0;
        return;
      }
      default:
        return;
    }
  }

  #selected(): boolean {
    return (this.#control & CONTROL_SSO) !== 0 && (this.#slaveSel & 1) !== 0;
  }

  #readReg(reg: number): number {
    switch (reg) {
      case RXDATA:
        this.#status &= ~STATUS_RRDY;
        return this.#rx;
      case STATUS: return this.#status | ((this.#status & (STATUS_ROE | STATUS_TOE)) !== 0 ? STATUS_E : 0);
      case CONTROL: return this.#control;
      case SLAVE_SEL: return this.#slaveSel;
      default: return 0;
    }
  }

  #writeReg(reg: number, value: number): void {
    switch (reg) {
      case TXDATA: {
        if ((this.#status & STATUS_RRDY) !== 0) this.#status |= STATUS_ROE; // previous word never read
        let rx = 0xffffffff; // MISO floats high with no slave selected
        if (this.#selected()) {
          const bridge = this.#bridge;
          rx = (bridge.exchange(value >>> 24) << 24) | (bridge.exchange((value >>> 16) & 0xff) << 16) | (bridge.exchange((value >>> 8) & 0xff) << 8) | bridge.exchange(value & 0xff);
          this.words++;
        }
        this.#rx = rx >>> 0;
        this.#status |= STATUS_RRDY;
        return;
      }
      case STATUS:
        this.#status &= ~(STATUS_ROE | STATUS_TOE);
        return;
      case CONTROL: {
        const was = this.#selected();
        this.#control = value & 0x5d8;
        if (was && !this.#selected()) this.#bridge.resetReceiver();
        return;
      }
      case SLAVE_SEL:
        this.#slaveSel = value;
        return;
      default:
        return;
    }
  }
}
