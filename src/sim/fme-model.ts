// The FME header of the sim card (reference/dfl.md "FME header"; dfl.h FME_HDR_*): GUID,
// FME_CAP, PORT_OFFSET(n), BITSTREAM_ID/MD. Read only, like the hardware's capability registers.
import type { SimBlock } from './register-file.js';
import { DfhReg } from '../dfl/dfh.js';
import { FME_CAP, FME_ERROR_CAP, FME_INJECT_ERROR_MASK, FME_PORT_OFST, FmeErrorReg, FmeReg, putField } from '../dfl/fiu-regs.js';
import { parseGuid, FME_GUID } from '../dfl/guid.js';

export interface SimPortLocation {
  bar: number;
  offset: number;
  /** Port accessible from a VF only (PORT_OFFSET[55]). */
  vfOnly?: boolean;
}

export interface FmeHeaderOptions {
  ports: SimPortLocation[];
  bitstreamId: bigint;
  bitstreamMd: bigint;
}

export class FmeHeaderBlock implements SimBlock {
  readonly cap: bigint;
  readonly #portOffsets: bigint[];
  readonly #guid = parseGuid(FME_GUID);
  readonly #bitstreamId: bigint;
  readonly #bitstreamMd: bigint;

  constructor(options: FmeHeaderOptions) {
    // FME_CAP: fabric version 1, PCIe0 link, IOMMU, port count, 48-bit addresses (dfl.h FME_CAP_*).
    this.cap = putField(1, FME_CAP.FABRIC_VERID) | putField(1, FME_CAP.PCIE0_LINK_AVL) | putField(1, FME_CAP.IOMMU_AVL) |
      putField(options.ports.length, FME_CAP.NUM_PORTS) | putField(48, FME_CAP.ADDR_WIDTH);
    this.#portOffsets = options.ports.map((p) =>
      FME_PORT_OFST.IMP | (BigInt(p.bar) << FME_PORT_OFST.BAR_SHIFT) | (p.vfOnly ? FME_PORT_OFST.ACC_CTRL : 0n) | BigInt(p.offset));
    this.#bitstreamId = options.bitstreamId;
    this.#bitstreamMd = options.bitstreamMd;
  }

  read64(rel: number): bigint {
    switch (rel) {
      case DfhReg.GUID_L: return this.#guid.low;
      case DfhReg.GUID_H: return this.#guid.high;
      case FmeReg.CAP: return this.cap;
      case FmeReg.BITSTREAM_ID: return this.#bitstreamId;
      case FmeReg.BITSTREAM_MD: return this.#bitstreamMd;
      default:
        if (rel >= FmeReg.PORT_OFFSET0 && rel < FmeReg.PORT_OFFSET0 + 8 * 4) {
          // Unused PORT_OFFSET slots read IMP = 0 with BAR 7 (no port there).
          return this.#portOffsets[(rel - FmeReg.PORT_OFFSET0) >> 3] ?? BigInt(FME_PORT_OFST.BAR_SKIP) << FME_PORT_OFST.BAR_SHIFT;
        }
        return 0n;
    }
  }

  write64(): void {
    // Capability registers are read-only.
  }
}

/** FME global error feature (0x4) registers the sim implements: FME_ERROR_CAP (dfl.md). */
export class FmeGlobalErrorBlock implements SimBlock {
  readonly #cap: bigint;
  /** The mask registers and RAS_ERROR_INJECT hold what the host writes (dfl-fme-error.c writes the
   * masks at init and reads inject_errors back); no error source is modelled, so the error
   * registers read 0. Before, writes were dropped and the kernel's inject_errors read back 0. */
  readonly #rw = new Map<number, bigint>();
  constructor(vector: number) {
    this.#cap = putField(1, FME_ERROR_CAP.SUPP_INT) | putField(vector, FME_ERROR_CAP.INT_VECT);
  }
  read64(rel: number): bigint {
    if (rel === FME_ERROR_CAP.OFFSET) return this.#cap;
    return this.#rw.get(rel) ?? 0n;
  }
  write64(rel: number, value: bigint): void {
    switch (rel) {
      case FmeErrorReg.FME_ERROR_MASK: case FmeErrorReg.PCIE0_ERROR_MASK: case FmeErrorReg.PCIE1_ERROR_MASK:
      case FmeErrorReg.RAS_NONFAT_ERROR_MASK: case FmeErrorReg.RAS_CATFAT_ERROR_MASK:
        this.#rw.set(rel, value);
        return;
      case FmeErrorReg.RAS_ERROR_INJECT:
        this.#rw.set(rel, value & FME_INJECT_ERROR_MASK);
        return;
      default:
    }
  }
}

/** PR feature (0x5) without a PR engine model: it still shows PR_INTFC_ID_L/H (pr.md +0xA8/+0xB0). */
export class PrInterfaceIdBlock implements SimBlock {
  readonly #id: { high: bigint; low: bigint };
  constructor(interfaceId: string) {
    this.#id = parseGuid(interfaceId);
  }
  read64(rel: number): bigint {
    return rel === 0xa8 ? this.#id.low : rel === 0xb0 ? this.#id.high : 0n;
  }
  write64(): void {}
}
