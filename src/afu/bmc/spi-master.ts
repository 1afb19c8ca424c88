// Host driver of the Altera SPI master in front of the MAX10 BMC (spi-altera-core.c), over either
// register bus (spi-regbus.ts: feature 0xD on the N3000, 0xE on D5005-class cards). SPI master
// registers (byte addresses): RXDATA 0, TXDATA 4, STATUS 8, CONTROL 0xC, SLAVE_SEL (TARGET_SEL)
// 0x14. A transfer is polled word by word: write TXDATA, wait for STATUS.RRDY, read RXDATA
// (altera_spi_txrx without an IRQ).
import { TimeoutError } from '../../errors.js';
import {
  ALTERA_SPI_RXDATA, ALTERA_SPI_TXDATA, ALTERA_SPI_STATUS, ALTERA_SPI_CONTROL, ALTERA_SPI_SLAVE_SEL, STATUS_RRDY, CONTROL_SSO,
} from '../../dfl/regs/max10-bmc.js';
import type { BatchStopTag, SpiRegBus } from './spi-regbus.js';
import type { AccessBatch, AccessBatchRunner } from '../../mmio/access-batch.js';

const RRDY = BigInt(STATUS_RRDY);

/** Polls of STATUS.RRDY per word before giving up (the kernel spins without bound). */
export const RRDY_TIMEOUT_POLLS = 10000;

export class AlteraSpiMaster {
  readonly bus: SpiRegBus;
  readonly #rrdyTag: BatchStopTag = { error: () => this.#rrdyTimeout() };

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
    throw this.#rrdyTimeout();
  }

  #rrdyTimeout(): TimeoutError {
    return new TimeoutError('ESPI_RRDY_TIMEOUT', `${this.bus.name}: SPI STATUS never showed RRDY (bit 7) after a TXDATA write (${RRDY_TIMEOUT_POLLS} polls); the SPI link to the BMC is down, reset the card`, {});
  }

  /** The region's batch runner when the register bus sits on a region that runs batches. */
  get batchRunner(): AccessBatchRunner | undefined {
    return this.bus.region.accessBatch;
  }

  /** chipSelect's accesses, appended to `batch`. */
  queueChipSelect(batch: AccessBatch, active: boolean, cs = 0): void {
    if (active) {
      this.bus.queueWrite(batch, ALTERA_SPI_SLAVE_SEL, 1 << cs);
      this.bus.queueWrite(batch, ALTERA_SPI_CONTROL, CONTROL_SSO);
    } else {
      this.bus.queueWrite(batch, ALTERA_SPI_CONTROL, 0);
      this.bus.queueWrite(batch, ALTERA_SPI_SLAVE_SEL, 0);
    }
  }

  /**
   * txrx's accesses, appended to `batch`: the TXDATA write, STATUS read again from its command
   * while RRDY is clear (RRDY_TIMEOUT_POLLS reads in all), then RXDATA. Returns RXDATA's poll slot.
   * With `expectRx` the batch stops after RXDATA unless it read exactly that word (the caller
   * predicted the answer and carries on by itself where it differs).
   */
  queueTxrx(batch: AccessBatch, word: number, expectRx?: { word: number; tag: unknown }): number {
    this.bus.queueWrite(batch, ALTERA_SPI_TXDATA, word);
    const loop = batch.mark();
    this.bus.queueRead(batch, ALTERA_SPI_STATUS);
    batch.check(RRDY, RRDY, { retryFrom: loop, maxRetries: RRDY_TIMEOUT_POLLS - 1 }, this.#rrdyTag);
    const slot = this.bus.queueRead(batch, ALTERA_SPI_RXDATA);
    if (expectRx) batch.check(0xffff_ffffn, BigInt(expectRx.word >>> 0), {}, expectRx.tag);
    return slot;
  }
}
