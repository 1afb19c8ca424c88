// A hand-built DFL source for tests and fuzzing: BARs are byte arrays served through
// TrappedRegions (so every walker access goes through the real Region checks), config space is a
// byte array with an optional DFL VSEC.
import { TrappedRegion } from '../../src/mmio/trapped-region.js';
import type { Region } from '../../src/mmio/region.js';
import { getLe32, getLe64, putLe32, putLe64 } from '../../src/util/bytes.js';
import type { DflSource } from '../../src/dfl/walk.js';
import { encodeDfh, type DfhFields } from '../../src/dfl/dfh.js';
import { DfhType } from '../../src/dfl/regs/dfh.js';
import { DeviceError } from '../../src/errors.js';

export class FakeDflDevice implements DflSource {
  readonly identity = { vendor: 0x8086 };
  readonly regionCount = 9;
  readonly bars: (Uint8Array<ArrayBufferLike> | undefined)[];
  readonly config: Uint8Array<ArrayBufferLike>;
  #regions = new Map<number, Region>();

  constructor(bars: Record<number, Uint8Array<ArrayBufferLike>>, config: Uint8Array<ArrayBufferLike> = new Uint8Array(4096), vendor = 0x8086) {
    this.bars = [];
    for (let i = 0; i < 6; i++) this.bars[i] = bars[i];
    this.config = config;
    this.identity.vendor = vendor;
  }

  regionInfo(index: number): { size: number } {
    return { size: this.bars[index]?.length ?? 0 };
  }

  region(index: number): Region {
    const bytes = this.bars[index];
    if (!bytes) throw new DeviceError('EDEVICE_REGION', `fake device has no BAR${index}`);
    let r = this.#regions.get(index);
    if (!r) {
      r = new TrappedRegion(`fake BAR${index}`, bytes.length, {
        read32: (o) => getLe32(bytes, o),
        read64: (o) => getLe64(bytes, o),
        write32: (o, v) => putLe32(bytes, o, v),
        write64: (o, v) => putLe64(bytes, o, v),
      });
      this.#regions.set(index, r);
    }
    return r;
  }

  configRead(offset: number, width: 1 | 2 | 4): number {
    if (offset + width > this.config.length) return width === 4 ? 0xffff_ffff : width === 2 ? 0xffff : 0xff;
    if (width === 4) return getLe32(this.config, offset);
    if (width === 2) return this.config[offset]! | (this.config[offset + 1]! << 8);
    return this.config[offset]!;
  }
}

/** Write a 64-bit value into a byte array. */
export function put64(bytes: Uint8Array, offset: number, value: bigint): void {
  putLe64(bytes, offset, value);
}

export function dfh(fields: DfhFields): bigint {
  return encodeDfh(fields);
}

export const T = DfhType;

/** Config space with a DFL VSEC at 0x100 listing `entries` (raw Offset/BIR words); `count` overrides the count. */
export function vsecConfig(entries: number[], count = entries.length): Uint8Array {
  const c = new Uint8Array(4096);
  putLe32(c, 0x100, 0x000b | (1 << 16)); // VSEC, version 1, next 0
  putLe32(c, 0x104, 0x43 | ((0x0c + 4 * entries.length) << 20));
  putLe32(c, 0x108, count);
  entries.forEach((e, i) => putLe32(c, 0x10c + 4 * i, e >>> 0));
  return c;
}

/** FME header at `offset` in `bar`: DFH, GUID, FME_CAP with `ports`, PORT_OFFSET(n) words. */
export function putFme(bar: Uint8Array, offset: number, f: { next?: number; eol?: boolean; ports?: bigint[]; portCount?: number }): void {
  put64(bar, offset, dfh({ type: T.FIU, id: 0, next: f.next ?? 0, eol: f.eol ?? true }));
  put64(bar, offset + 0x08, 0x82fe38f0f9e17764n);
  put64(bar, offset + 0x10, 0xbfaf2ae94a5246e3n);
  const ports = f.ports ?? [];
  put64(bar, offset + 0x30, BigInt(f.portCount ?? ports.length) << 17n);
  ports.forEach((p, i) => put64(bar, offset + 0x38 + 8 * i, p));
}

/** Port header at `offset`: DFH, GUID, NEXT_AFU, PORT_CAP (MMIO KiB). */
export function putPort(bar: Uint8Array, offset: number, f: { next?: number; eol?: boolean; nextAfu?: number; mmioKiB?: number; number?: number }): void {
  put64(bar, offset, dfh({ type: T.FIU, id: 1, next: f.next ?? 0, eol: f.eol ?? true }));
  put64(bar, offset + 0x08, 0x9642b06c6b355b87n);
  put64(bar, offset + 0x10, 0x3ab49893138d42ebn);
  put64(bar, offset + 0x18, BigInt(f.nextAfu ?? 0));
  put64(bar, offset + 0x30, (BigInt(f.mmioKiB ?? 0) << 8n) | BigInt(f.number ?? 0));
}

/** Port FIU implemented at `bar`+`offset` in the FME port table. */
export function portOffsetWord(bar: number, offset: number, opts: { vfOnly?: boolean; implemented?: boolean } = {}): bigint {
  return ((opts.implemented ?? true) ? 1n << 60n : 0n) | (opts.vfOnly ? 1n << 55n : 0n) | (BigInt(bar) << 32n) | BigInt(offset);
}
