// Host driver of the Altera SPI master behind FME private feature 0xE (MAX10 SPI), reached through
// the feature's indirect register window (drivers/spi/spi-altera-dfl.c, spi-altera-core.c; DPDK
// drivers/raw/ifpga/base/opae_spi.c; reference/secure-update.md):
//   +0x08 SPI_CORE_PARAMETER  [7:2] data width, [13:8] chip selects, [14] CPOL, [15] CPHA
//   +0x10 INDIRECT_ADDR (SPI_CTRL)  [9] read, [8] write, [2:0] SPI master register index (offset >> 2)
//   +0x18 INDIRECT_RD_DATA (SPI_READ)  [31:0] data
//   +0x20 INDIRECT_WR_DATA (SPI_WRITE) [31:0] data
// The host writes the command and polls INDIRECT_ADDR until the read/write bit clears
// (spi-altera-dfl.c, INDIRECT_TIMEOUT polls). SPI master registers: RXDATA 0, TXDATA 4, STATUS 8,
// CONTROL 0xC, SLAVE_SEL 0x14. A transfer is polled word by word: write TXDATA, wait for
// STATUS.RRDY, read RXDATA (altera_spi_txrx).
import { DeviceError, TimeoutError } from '../../errors.js';
import type { Region } from '../../mmio/region.js';
import { hex } from '../../util/bytes.js';

import {
  SPI_CORE_PARAMETER, CORE_DATA_WIDTH_SHIFT, CORE_DATA_WIDTH_MASK, CORE_NUM_CHIPSELECT_SHIFT, CORE_NUM_CHIPSELECT_MASK,
  CORE_CPOL_SHIFT, CORE_CPHA_SHIFT, SPI_INDIRECT_ADDR, INDIRECT_WR, INDIRECT_RD, SPI_INDIRECT_RD_DATA, INDIRECT_DATA_MASK,
  SPI_INDIRECT_WR_DATA, ALTERA_SPI_RXDATA, ALTERA_SPI_TXDATA, ALTERA_SPI_STATUS, ALTERA_SPI_CONTROL, ALTERA_SPI_SLAVE_SEL,
  STATUS_RRDY, CONTROL_SSO,
} from '../../dfl/regs/max10-bmc.js';

// The register map (src/dfl/regs/max10-bmc.ts, shared with the sim's SPI master model), re-exported.
export {
  SPI_CORE_PARAMETER, CORE_DATA_WIDTH_SHIFT, CORE_DATA_WIDTH_MASK, CORE_NUM_CHIPSELECT_SHIFT, CORE_NUM_CHIPSELECT_MASK,
  SPI_INDIRECT_ADDR, INDIRECT_WR, INDIRECT_RD, SPI_INDIRECT_RD_DATA, INDIRECT_DATA_MASK, SPI_INDIRECT_WR_DATA,
  ALTERA_SPI_RXDATA, ALTERA_SPI_TXDATA, ALTERA_SPI_STATUS, ALTERA_SPI_CONTROL, ALTERA_SPI_SLAVE_SEL,
  STATUS_ROE, STATUS_TOE, STATUS_TMT, STATUS_TRDY, STATUS_RRDY, STATUS_E, CONTROL_SSO,
} from '../../dfl/regs/max10-bmc.js';

/** spi-altera-dfl.c INDIRECT_TIMEOUT: polls of INDIRECT_ADDR before giving up. */
export const INDIRECT_TIMEOUT_POLLS = 10000;
/** Polls of STATUS.RRDY per word before giving up (the kernel spins without bound). */
export const RRDY_TIMEOUT_POLLS = 10000;

export interface SpiCoreParameters {
  dataWidth: number;
  chipSelects: number;
  cpol: boolean;
  cpha: boolean;
}

export class AlteraSpiMaster {
  readonly region: Region;
  /** Offset of the feature's DFH in the region. */
  readonly base: number;
  readonly params: SpiCoreParameters;
  #name: string;

  constructor(region: Region, base: number) {
    this.region = region;
    this.base = base;
    this.#name = `${region.name} FME feature 0xE (SPI master at ${hex(base)})`;
    const v = region.read64(base + SPI_CORE_PARAMETER);
    this.params = {
      dataWidth: Number((v >> CORE_DATA_WIDTH_SHIFT) & CORE_DATA_WIDTH_MASK),
      chipSelects: Number((v >> CORE_NUM_CHIPSELECT_SHIFT) & CORE_NUM_CHIPSELECT_MASK),
      cpol: ((v >> CORE_CPOL_SHIFT) & 1n) === 1n,
      cpha: ((v >> CORE_CPHA_SHIFT) & 1n) === 1n,
    };
    if (this.params.dataWidth < 32 || this.params.chipSelects < 1) {
      throw new DeviceError('ESPI_PARAMS', `${this.#name}: SPI_CORE_PARAMETER ${hex(v)} reports ${this.params.dataWidth}-bit words and ${this.params.chipSelects} chip selects; the MAX10 bridge needs 32-bit words and chip select 0. Is this an N3000-class card?`, { coreParameter: `0x${v.toString(16)}` });
    }
    // altera_spi_init_host: interrupts off, clear status, flush a stale RX word.
    this.writeReg(ALTERA_SPI_CONTROL, 0);
    this.writeReg(ALTERA_SPI_STATUS, 0);
    if ((this.readReg(ALTERA_SPI_STATUS) & STATUS_RRDY) !== 0) this.readReg(ALTERA_SPI_RXDATA);
  }

  #waitIndirect(bit: bigint, what: string, reg: number): void {
    const region = this.region;
    const addr = this.base + SPI_INDIRECT_ADDR;
    for (let i = 0; i < INDIRECT_TIMEOUT_POLLS; i++) {
      if ((region.read64(addr) & bit) === 0n) return;
    }
    throw new TimeoutError('ESPI_INDIRECT_TIMEOUT', `${this.#name}: indirect ${what} of SPI master register ${hex(reg)} did not complete: INDIRECT_ADDR (+0x10) bit ${bit === INDIRECT_RD ? 9 : 8} still set after ${INDIRECT_TIMEOUT_POLLS} polls; the SPI master is hung, reset the card`, { register: reg });
  }

  /** Read SPI master register `reg` (byte offset) through the indirect window. */
  readReg(reg: number): number {
    this.region.write64(this.base + SPI_INDIRECT_ADDR, BigInt(reg >>> 2) | INDIRECT_RD);
    this.#waitIndirect(INDIRECT_RD, 'read', reg);
    return Number(this.region.read64(this.base + SPI_INDIRECT_RD_DATA) & INDIRECT_DATA_MASK);
  }

  /** Write SPI master register `reg` (byte offset) through the indirect window. */
  writeReg(reg: number, value: number): void {
    this.region.write64(this.base + SPI_INDIRECT_WR_DATA, BigInt(value >>> 0));
    this.region.write64(this.base + SPI_INDIRECT_ADDR, BigInt(reg >>> 2) | INDIRECT_WR);
    this.#waitIndirect(INDIRECT_WR, 'write', reg);
  }

  /** Assert (true) or release chip select `cs` (altera_spi_set_cs). */
  chipSelect(active: boolean, cs = 0): void {
    if (active) {
      this.writeReg(ALTERA_SPI_SLAVE_SEL, 1 << cs);
      this.writeReg(ALTERA_SPI_CONTROL, CONTROL_SSO);
    } else {
      this.writeReg(ALTERA_SPI_CONTROL, 0);
      this.writeReg(ALTERA_SPI_SLAVE_SEL, 0);
    }
  }

  /** Shift one 32-bit word out and return the word shifted in at the same time. */
  txrx(word: number): number {
    this.writeReg(ALTERA_SPI_TXDATA, word);
    for (let i = 0; i < RRDY_TIMEOUT_POLLS; i++) {
      const status = this.readReg(ALTERA_SPI_STATUS);
      if ((status & STATUS_RRDY) !== 0) return this.readReg(ALTERA_SPI_RXDATA);
    }
    throw new TimeoutError('ESPI_RRDY_TIMEOUT', `${this.#name}: SPI STATUS never showed RRDY (bit 7) after a TXDATA write (${RRDY_TIMEOUT_POLLS} polls); the SPI link to the BMC is down, reset the card`, {});
  }
}
