// The register bus in front of the Altera SPI master (spi-altera-core.c talks to it through a
// regmap): two kinds, picked by the FME feature the kernel binds (bmc.ts bmcDriver):
//   0xD "N3000 Nios" (dfl-n3000-nios.c + spi-altera-platform.c): indirect command/status words,
//       SPI master registers at indirect 0x0-0x14 (nios-regbus.ts);
//   0xE MAX10 SPI (spi-altera-dfl.c, D5005/N5010 class): its own INDIRECT_ADDR / RD_DATA / WR_DATA
//       window, the register index in [2:0] (this file).
// Both read the SPI master's parameters (data width, chip selects, CPOL/CPHA) at +0x08 in the
// same layout (N3000_NS_PARAM / SPI_CORE_PARAMETER).
import { DeviceError, TimeoutError } from '../../errors.js';
import type { Region } from '../../mmio/region.js';
import type { AccessBatch } from '../../mmio/access-batch.js';
import { hex } from '../../util/bytes.js';
import {
  SPI_CORE_PARAMETER, CORE_DATA_WIDTH, CORE_NUM_CHIPSELECT, CORE_CLK_POLARITY, CORE_CLK_PHASE, SPI_INDIRECT_ADDR, INDIRECT_WR,
  INDIRECT_RD, INDIRECT_REG, SPI_INDIRECT_RD_DATA, INDIRECT_DATA_MASK, SPI_INDIRECT_WR_DATA,
} from '../../dfl/regs/max10-bmc.js';
import { fieldGet, fieldPrep } from '../../util/bitfield.js';

export interface SpiCoreParameters {
  dataWidth: number;
  chipSelects: number;
  cpol: boolean;
  cpha: boolean;
}

/** 32-bit registers of the SPI master (and, on 0xD, the Nios), by byte address. */
export interface SpiRegBus {
  readonly kind: 'nios' | 'dfl-indirect';
  /** FME feature ID the bus sits behind (0xd or 0xe). */
  readonly featureId: number;
  readonly region: Region;
  /** Offset of the feature's register block (DFH in v0, CSR block in v1) in the region. */
  readonly base: number;
  readonly name: string;
  readonly params: SpiCoreParameters;
  readReg(reg: number): number;
  writeReg(reg: number, value: number): void;
  /**
   * The same accesses as writeReg, appended to an access batch (src/mmio/access-batch.ts): each
   * poll carries the kernel's bound, and its tag is the error the unbatched call throws on timeout.
   */
  queueWrite(batch: AccessBatch, reg: number, value: number): void;
  /** The same accesses as readReg; the returned poll slot's value holds the register in [31:0]. */
  queueRead(batch: AccessBatch, reg: number): number;
}

/** Tag of a batched poll or check: the error the unbatched access throws where the batch stopped. */
export interface BatchStopTag {
  error(): Error;
}

/** The register value in a queued read's poll value (NS_STAT / INDIRECT_RD_DATA keep it in [31:0]). */
export const queuedRegValue = (pollValue: bigint): number => Number(pollValue & 0xffff_ffffn);

/** Decode N3000_NS_PARAM / SPI_CORE_PARAMETER and refuse what cannot carry the MAX10 bridge. */
export function readSpiParams(region: Region, base: number, name: string): SpiCoreParameters {
  const v = region.read64(base + SPI_CORE_PARAMETER);
  const params = {
    dataWidth: Number(fieldGet(CORE_DATA_WIDTH, v)),
    chipSelects: Number(fieldGet(CORE_NUM_CHIPSELECT, v)),
    cpol: (v & CORE_CLK_POLARITY) !== 0n,
    cpha: (v & CORE_CLK_PHASE) !== 0n,
  };
  if (params.dataWidth < 32 || params.chipSelects < 1) {
    throw new DeviceError('ESPI_PARAMS', `${name}: SPI parameters ${hex(v)} (+0x08) report ${params.dataWidth}-bit words and ${params.chipSelects} chip selects; the MAX10 bridge needs 32-bit words and chip select 0. Is this an N3000/D5005-class card?`, { coreParameter: `0x${v.toString(16)}` });
  }
  return params;
}

/** What both buses share: where the feature's registers are and the SPI master's parameters. */
export abstract class SpiRegBusBase implements SpiRegBus {
  abstract readonly kind: SpiRegBus['kind'];
  readonly featureId: number;
  readonly region: Region;
  readonly base: number;
  readonly name: string;
  readonly params: SpiCoreParameters;

  constructor(region: Region, base: number, featureId: number, what: string) {
    this.region = region;
    this.base = base;
    this.featureId = featureId;
    this.name = `${region.name} FME feature 0x${featureId.toString(16).toUpperCase()} (${what} at ${hex(base)})`;
    this.params = readSpiParams(region, base, this.name);
  }

  abstract readReg(reg: number): number;
  abstract writeReg(reg: number, value: number): void;
  abstract queueWrite(batch: AccessBatch, reg: number, value: number): void;
  abstract queueRead(batch: AccessBatch, reg: number): number;
}

/** spi-altera-dfl.c INDIRECT_TIMEOUT: polls of INDIRECT_ADDR before giving up. */
export const INDIRECT_TIMEOUT_POLLS = 10000;

/** Feature 0xE's window (spi-altera-dfl.c indirect_bus_reg_read / indirect_bus_reg_write). */
export class DflIndirectRegBus extends SpiRegBusBase {
  readonly kind = 'dfl-indirect';
  /** Stop tags of queued polls, one per register and direction. */
  readonly #tags = new Map<number, BatchStopTag>();

  constructor(region: Region, base: number) {
    super(region, base, 0xe, 'SPI master');
  }

  #wait(bit: bigint, what: string, reg: number): void {
    const addr = this.base + SPI_INDIRECT_ADDR;
    for (let i = 0; i < INDIRECT_TIMEOUT_POLLS; i++) {
      if ((this.region.read64(addr) & bit) === 0n) return;
    }
    throw this.#timeout(bit, what, reg);
  }

  #queueWait(batch: AccessBatch, bit: bigint, what: 'read' | 'write', reg: number): void {
    const key = reg * 2 + (what === 'write' ? 1 : 0);
    let tag = this.#tags.get(key);
    if (!tag) this.#tags.set(key, tag = { error: () => this.#timeout(bit, what, reg) });
    batch.poll(8, this.base + SPI_INDIRECT_ADDR, bit, 0n, INDIRECT_TIMEOUT_POLLS, tag);
  }

  #timeout(bit: bigint, what: string, reg: number): TimeoutError {
    return new TimeoutError('ESPI_INDIRECT_TIMEOUT', `${this.name}: indirect ${what} of SPI master register ${hex(reg)} did not complete: INDIRECT_ADDR (+0x10) bit ${bit === INDIRECT_RD ? 9 : 8} still set after ${INDIRECT_TIMEOUT_POLLS} polls; the SPI master is hung, reset the card`, { register: reg });
  }

  readReg(reg: number): number {
    this.region.write64(this.base + SPI_INDIRECT_ADDR, fieldPrep(INDIRECT_REG, reg >>> 2) | INDIRECT_RD);
    this.#wait(INDIRECT_RD, 'read', reg);
    return Number(fieldGet(INDIRECT_DATA_MASK, this.region.read64(this.base + SPI_INDIRECT_RD_DATA)));
  }

  writeReg(reg: number, value: number): void {
    this.region.write64(this.base + SPI_INDIRECT_WR_DATA, fieldPrep(INDIRECT_DATA_MASK, value >>> 0));
    this.region.write64(this.base + SPI_INDIRECT_ADDR, fieldPrep(INDIRECT_REG, reg >>> 2) | INDIRECT_WR);
    this.#wait(INDIRECT_WR, 'write', reg);
  }

  queueRead(batch: AccessBatch, reg: number): number {
    batch.write(8, this.base + SPI_INDIRECT_ADDR, BigInt(reg >>> 2) | INDIRECT_RD);
    this.#queueWait(batch, INDIRECT_RD, 'read', reg);
    return batch.poll(8, this.base + SPI_INDIRECT_RD_DATA, 0n, 0n, 1);
  }

  queueWrite(batch: AccessBatch, reg: number, value: number): void {
    batch.write(8, this.base + SPI_INDIRECT_WR_DATA, BigInt(value >>> 0));
    batch.write(8, this.base + SPI_INDIRECT_ADDR, BigInt(reg >>> 2) | INDIRECT_WR);
    this.#queueWait(batch, INDIRECT_WR, 'write', reg);
  }
}
