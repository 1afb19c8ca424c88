// SparseRegion: a device region of which only some areas may be mmapped (the SPARSE_MMAP
// capability of DEVICE_GET_REGION_INFO; vfio-user.rst "VFIO sparse mmap cap header", e.g. a BAR
// around an MSI-X table). Accesses inside a mapped area go straight to memory (MappedRegion);
// the rest is trapped (REGION_READ/WRITE), which the protocol allows for the whole region.
import type { Clock } from '../util/clock.js';
import type { PollOptions, PollResult, Region } from '../mmio/region.js';
import type { MappedRegion } from '../mmio/mapped-region.js';
import { accessError } from '../mmio/checks.js';

export interface MappedArea {
  /** Offset of the area in the region. */
  offset: number;
  size: number;
  region: MappedRegion;
}

export class SparseRegion implements Region {
  readonly kind = 'mapped' as const;
  readonly name: string;
  readonly clock: Clock;
  readonly sharedBuffer = undefined;
  #size: number;
  #trapped: Region;
  #areas: MappedArea[];
  #starts: number[];
  #ends: number[];

  constructor(name: string, trapped: Region, areas: MappedArea[]) {
    this.name = name;
    this.clock = trapped.clock;
    this.#size = trapped.size;
    this.#trapped = trapped;
    this.#areas = [...areas].sort((a, b) => a.offset - b.offset);
    this.#starts = this.#areas.map((a) => a.offset);
    this.#ends = this.#areas.map((a) => a.offset + a.size);
  }

  get size(): number {
    return this.#size;
  }

  get closed(): boolean {
    return this.#size === 0;
  }

  /** The mapped area holding [offset, offset+length), or -1 (then the access is trapped). */
  #area(offset: number, length: number): number {
    const starts = this.#starts;
    const ends = this.#ends;
    for (let i = 0; i < starts.length; i++) if (offset >= starts[i]! && offset + length <= ends[i]!) return i;
    return -1;
  }

  #closedCheck(offset: number, width: number): void {
    if (this.#size === 0) throw accessError(this.name, 0, true, offset, width);
  }

  read32(offset: number): number {
    this.#closedCheck(offset, 4);
    const i = this.#area(offset, 4);
    return i < 0 ? this.#trapped.read32(offset) : this.#areas[i]!.region.read32(offset - this.#starts[i]!);
  }

  read64(offset: number): bigint {
    this.#closedCheck(offset, 8);
    const i = this.#area(offset, 8);
    return i < 0 ? this.#trapped.read64(offset) : this.#areas[i]!.region.read64(offset - this.#starts[i]!);
  }

  write32(offset: number, value: number): void {
    this.#closedCheck(offset, 4);
    const i = this.#area(offset, 4);
    if (i < 0) this.#trapped.write32(offset, value);
    else this.#areas[i]!.region.write32(offset - this.#starts[i]!, value);
  }

  write64(offset: number, value: bigint): void {
    this.#closedCheck(offset, 8);
    const i = this.#area(offset, 8);
    if (i < 0) this.#trapped.write64(offset, value);
    else this.#areas[i]!.region.write64(offset - this.#starts[i]!, value);
  }

  poll32(offset: number, mask: number, expected: number, options?: PollOptions): PollResult<number> {
    this.#closedCheck(offset, 4);
    const i = this.#area(offset, 4);
    return i < 0 ? this.#trapped.poll32(offset, mask, expected, options) : this.#areas[i]!.region.poll32(offset - this.#starts[i]!, mask, expected, options);
  }

  poll64(offset: number, mask: bigint, expected: bigint, options?: PollOptions): PollResult<bigint> {
    this.#closedCheck(offset, 8);
    const i = this.#area(offset, 8);
    return i < 0 ? this.#trapped.poll64(offset, mask, expected, options) : this.#areas[i]!.region.poll64(offset - this.#starts[i]!, mask, expected, options);
  }

  write512(offset: number, data: BigUint64Array | Uint8Array): void {
    this.#closedCheck(offset, 64);
    const i = this.#area(offset, 64);
    if (i < 0) this.#trapped.write512(offset, data);
    else this.#areas[i]!.region.write512(offset - this.#starts[i]!, data);
  }

  writeStream64(offset: number, words: BigUint64Array): void {
    this.#closedCheck(offset, 8);
    const i = this.#area(offset, 8);
    if (i < 0) this.#trapped.writeStream64(offset, words);
    else this.#areas[i]!.region.writeStream64(offset - this.#starts[i]!, words);
  }

  readBlock(offset: number, length: number, width?: 32 | 64, into?: Uint8Array): Uint8Array {
    this.#closedCheck(offset, 4);
    const i = this.#area(offset, length);
    return i < 0 ? this.#trapped.readBlock(offset, length, width, into) : this.#areas[i]!.region.readBlock(offset - this.#starts[i]!, length, width, into);
  }

  writeBlock(offset: number, data: Uint8Array, width?: 32 | 64): void {
    this.#closedCheck(offset, 4);
    const i = this.#area(offset, data.length);
    if (i < 0) this.#trapped.writeBlock(offset, data, width);
    else this.#areas[i]!.region.writeBlock(offset - this.#starts[i]!, data, width);
  }

  close(): void {
    if (this.#size === 0) return;
    this.#size = 0;
    for (const a of this.#areas) a.region.close();
    this.#trapped.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
