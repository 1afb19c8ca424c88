// Host driver of the Altera SPI master in front of the MAX10 BMC (spi-altera-core.c), over either
// register bus (spi-regbus.ts: feature 0xD on the N3000, 0xE on D5005-class cards). SPI master
// registers (byte addresses): RXDATA 0, TXDATA 4, STATUS 8, CONTROL 0xC, SLAVE_SEL (TARGET_SEL)
// 0x14. A transfer is polled word by word: write TXDATA, wait for STATUS.RRDY, read RXDATA
// (altera_spi_txrx without an IRQ).
import { TimeoutError } from '../../errors.js';
import {
  ALTERA_SPI_RXDATA, ALTERA_SPI_TXDATA, ALTERA_SPI_STATUS, ALTERA_SPI_CONTROL, ALTERA_SPI_SLAVE_SEL, STATUS_RRDY, CONTROL_SSO,
} from '../../dfl/regs/max10-bmc.js';
import type { SpiRegBus } from './spi-regbus.js';

/** Polls of STATUS.RRDY per word before giving up (the kernel spins without bound). */
export const RRDY_TIMEOUT_POLLS = 10000;

export class AlteraSpiMaster {
  readonly bus: SpiRegBus;

  constructor(bus: SpiRegBus) {
    this.bus = bus;
    // altera_spi_init_host: interrupts off, clear status, flush a stale RX word.
    this.writeReg(ALTERA_SPI_CONTROL, 0);
    this.writeReg(ALTERA_SPI_STATUS, 0);
    if ((this.readReg(ALTERA_SPI_STATUS) & STATUS_RRDY) !== 0) this.readReg(ALTERA_SPI_RXDATA);
  }

  get region() {
    return this.bus.region;
  }

  readReg(reg: number): number {
    return this.bus.readReg(reg);
  }

  writeReg(reg: number, value: number): void {
    this.bus.writeReg(reg, value);
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
    throw new TimeoutError('ESPI_RRDY_TIMEOUT', `${this.bus.name}: SPI STATUS never showed RRDY (bit 7) after a TXDATA write (${RRDY_TIMEOUT_POLLS} polls); the SPI link to the BMC is down, reset the card`, {});
  }
}
