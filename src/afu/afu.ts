// Afu: the accelerator behind a Port. Register accesses take offsets inside the AFU's MMIO window
// (PORT_CAP[23:8] KiB from the AFU's DFH, dfl.c parse_feature_port_afu), checked against it
// before they reach the BAR.
import type { PollOptions, PollResult, Region } from '../mmio/region.js';
import { poll32Async, poll64Async, type AsyncPollOptions } from '../mmio/poll-async.js';
import type { Feature } from '../dfl/feature.js';
import { DfhReg } from '../dfl/regs/dfh.js';
import { formatGuid } from '../dfl/guid.js';
import { RegionError } from '../errors.js';
import { hex } from '../util/bytes.js';
import type { Port } from './port.js';

export class Afu {
  readonly port: Port;
  readonly feature: Feature;
  /** The BAR holding the AFU's MMIO. */
  readonly region: Region;
  /** Offset of the AFU's DFH (start of its MMIO) in the BAR. */
  readonly offset: number;
  /** Bytes of AFU MMIO. */
  readonly size: number;
  /** The AFU's GUID when the card was discovered. */
  readonly guid: string;

  constructor(port: Port, feature: Feature) {
    this.port = port;
    this.feature = feature;
    this.region = port.device.region(feature.bar);
    this.offset = feature.offset;
    this.size = feature.size;
    this.guid = feature.guid ?? '';
  }

  /** The GUID the AFU reports now (changes after partial reconfiguration). */
  readGuid(): string {
    return formatGuid(this.read64(DfhReg.GUID_H), this.read64(DfhReg.GUID_L));
  }

  #outside(offset: number, width: number): RegionError {
    return new RegionError(
      'EAFU_BOUNDS',
      `AFU of port ${this.port.number}: ${width * 8}-bit access at AFU offset ${Number.isInteger(offset) && offset >= 0 ? hex(offset) : String(offset)} is outside its MMIO (${hex(this.size)} bytes, PORT_CAP[23:8])`,
      { port: this.port.number, offset, width, size: this.size },
    );
  }

  read32(offset: number): number {
    if (offset !== (offset >>> 0) || offset + 4 > this.size) throw this.#outside(offset, 4);
    return this.region.read32(this.offset + offset);
  }

  read64(offset: number): bigint {
    if (offset !== (offset >>> 0) || offset + 8 > this.size) throw this.#outside(offset, 8);
    return this.region.read64(this.offset + offset);
  }

  write32(offset: number, value: number): void {
    if (offset !== (offset >>> 0) || offset + 4 > this.size) throw this.#outside(offset, 4);
    this.region.write32(this.offset + offset, value);
  }

  write64(offset: number, value: bigint): void {
    if (offset !== (offset >>> 0) || offset + 8 > this.size) throw this.#outside(offset, 8);
    this.region.write64(this.offset + offset, value);
  }

  /** 64 bytes at a 64-byte aligned AFU offset (OPAE fpgaWriteMMIO512; Region.write512). */
  write512(offset: number, data: BigUint64Array | Uint8Array): void {
    if (offset !== (offset >>> 0) || offset + 64 > this.size) throw this.#outside(offset, 64);
    this.region.write512(this.offset + offset, data);
  }

  /** Poll an AFU register until (value & mask) === expected or the timeout passes (synchronous: for waits of microseconds). */
  poll32(offset: number, mask: number, expected: number, options?: PollOptions): PollResult<number> {
    if (offset !== (offset >>> 0) || offset + 4 > this.size) throw this.#outside(offset, 4);
    return this.region.poll32(this.offset + offset, mask, expected, options);
  }

  poll64(offset: number, mask: bigint, expected: bigint, options?: PollOptions): PollResult<bigint> {
    if (offset !== (offset >>> 0) || offset + 8 > this.size) throw this.#outside(offset, 8);
    return this.region.poll64(this.offset + offset, mask, expected, options);
  }

  /** The same poll without holding the event loop (src/mmio/poll-async.ts): for waits of milliseconds or more. */
  poll32Async(offset: number, mask: number, expected: number, options?: AsyncPollOptions): Promise<PollResult<number>> {
    if (offset !== (offset >>> 0) || offset + 4 > this.size) return Promise.reject(this.#outside(offset, 4));
    return poll32Async(this.region, this.offset + offset, mask, expected, options);
  }

  poll64Async(offset: number, mask: bigint, expected: bigint, options?: AsyncPollOptions): Promise<PollResult<bigint>> {
    if (offset !== (offset >>> 0) || offset + 8 > this.size) return Promise.reject(this.#outside(offset, 8));
    return poll64Async(this.region, this.offset + offset, mask, expected, options);
  }
}
