// The FME header of the sim card (reference/dfl.md "FME header"; dfl.h FME_HDR_*): GUID,
// FME_CAP, PORT_OFFSET(n), BITSTREAM_ID/MD. Read only, like the hardware's capability registers.
import type { SimBlock } from './register-file.js';
import { DfhReg } from '../dfl/regs/dfh.js';
import {
  FME_CAP, FME_ERROR_CAP, FME_INJECT_CATASTROPHIC, FME_INJECT_ERROR_MASK, FME_INJECT_FATAL, FME_INJECT_NONFATAL, FME_PORT_OFST,
  FME_RAS_CATFAT_INJECTED_CATAST, FME_RAS_CATFAT_INJECTED_FATAL, FME_RAS_NONFAT_INJECTED, FmeErrorReg, FmeReg,
} from '../dfl/regs/fiu.js';
import { PR_INTFC_ID_H, PR_INTFC_ID_L } from '../dfl/regs/pr.js';
import { fieldPrep } from '../util/bitfield.js';
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
    this.cap = fieldPrep(FME_CAP.FABRIC_VERID, 1) | FME_CAP.PCIE0_LINK_AVL | FME_CAP.IOMMU_AVL |
      fieldPrep(FME_CAP.NUM_PORTS, options.ports.length) | fieldPrep(FME_CAP.ADDR_WIDTH, 48);
    this.#portOffsets = options.ports.map((p) =>
      FME_PORT_OFST.IMP | fieldPrep(FME_PORT_OFST.BAR_ID, p.bar) | (p.vfOnly ? FME_PORT_OFST.ACC_CTRL : 0n) | fieldPrep(FME_PORT_OFST.DFH_OFST, p.offset));
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
          return this.#portOffsets[(rel - FmeReg.PORT_OFFSET0) >> 3] ?? fieldPrep(FME_PORT_OFST.BAR_ID, FME_PORT_OFST.BAR_SKIP);
        }
        return 0n;
    }
  }

  write64(): void {
    // Capability registers are read-only.
  }
}

/**
 * FME global error feature (0x4, dfl-fme-error.c): FME_ERROR and PCIE0/1_ERROR latch errors and
 * clear the bits written as 1 (the kernel writes back the value it read); the masks are plain
 * registers. RAS_ERROR_INJECT[2:0] raises, while set, the injected catastrophic (bit 0 ->
 * RAS_CATFAT_ERROR[11]), fatal (bit 1 -> RAS_CATFAT_ERROR[8]) or non-fatal (bit 2 ->
 * RAS_NONFAT_ERROR[6]) RAS error (DPDK ifpga_defines.h feature_fme_ras_*error). The first and
 * second latched FME_ERROR show in FME_FIRST_ERROR / FME_NEXT_ERROR until FME_ERROR is clear again.
 * The feature's MSI-X vector (FME_ERROR_CAP) is raised when an error latches or is injected that
 * its mask register does not mask (the interrupt the kernel hands to DFL_FPGA_FME_ERR_SET_IRQ).
 */
export class FmeGlobalErrorBlock implements SimBlock {
  readonly #cap: bigint;
  readonly #regs = new Map<number, bigint>();
  readonly #raise: () => void;
  constructor(vector: number, raise: () => void = () => {}) {
    this.#cap = FME_ERROR_CAP.SUPP_INT | fieldPrep(FME_ERROR_CAP.INT_VECT, vector);
    this.#raise = raise;
  }
  /** Latch error bits as the hardware would (sim faults, control requests, tests); unmasked new bits raise the error vector. */
  latch(register: 'FME_ERROR' | 'PCIE0_ERROR' | 'PCIE1_ERROR', bits: bigint): void {
    const off = FmeErrorReg[register];
    const before = this.#regs.get(off) ?? 0n;
    this.#regs.set(off, before | bits);
    const mask = this.#regs.get(FmeErrorReg[`${register}_MASK`]) ?? 0n;
    if ((bits & ~before & ~mask) !== 0n) this.#raise();
    if (register === 'FME_ERROR') {
      if (!this.#regs.get(FmeErrorReg.FME_FIRST_ERROR)) this.#regs.set(FmeErrorReg.FME_FIRST_ERROR, bits);
      else if (!this.#regs.get(FmeErrorReg.FME_NEXT_ERROR)) this.#regs.set(FmeErrorReg.FME_NEXT_ERROR, bits);
    }
  }
  /** RAS_CATFAT_ERROR and RAS_NONFAT_ERROR as the injection bits make them. */
  #ras(inject: bigint): { catFatal: bigint; nonFatal: bigint } {
    return {
      catFatal: (inject & FME_INJECT_CATASTROPHIC ? FME_RAS_CATFAT_INJECTED_CATAST : 0n) | (inject & FME_INJECT_FATAL ? FME_RAS_CATFAT_INJECTED_FATAL : 0n),
      nonFatal: inject & FME_INJECT_NONFATAL ? FME_RAS_NONFAT_INJECTED : 0n,
    };
  }
  read64(rel: number): bigint {
    if (rel === FME_ERROR_CAP.OFFSET) return this.#cap;
    const ras = this.#ras(this.#regs.get(FmeErrorReg.RAS_ERROR_INJECT) ?? 0n);
    if (rel === FmeErrorReg.RAS_CATFAT_ERROR) return ras.catFatal;
    if (rel === FmeErrorReg.RAS_NONFAT_ERROR) return ras.nonFatal;
    return this.#regs.get(rel) ?? 0n;
  }
  write64(rel: number, value: bigint): void {
    switch (rel) {
      case FmeErrorReg.FME_ERROR:
      case FmeErrorReg.PCIE0_ERROR:
      case FmeErrorReg.PCIE1_ERROR: {
        const left = (this.#regs.get(rel) ?? 0n) & ~value; // write 1 to clear
        this.#regs.set(rel, left);
        if (rel === FmeErrorReg.FME_ERROR && left === 0n) {
          this.#regs.delete(FmeErrorReg.FME_FIRST_ERROR);
          this.#regs.delete(FmeErrorReg.FME_NEXT_ERROR);
        }
        return;
      }
      case FmeErrorReg.FME_ERROR_MASK:
      case FmeErrorReg.PCIE0_ERROR_MASK:
      case FmeErrorReg.PCIE1_ERROR_MASK:
      case FmeErrorReg.RAS_NONFAT_ERROR_MASK:
      case FmeErrorReg.RAS_CATFAT_ERROR_MASK:
        this.#regs.set(rel, value);
        return;
      case FmeErrorReg.RAS_ERROR_INJECT: {
        const before = this.#ras(this.#regs.get(rel) ?? 0n);
        this.#regs.set(rel, value & FME_INJECT_ERROR_MASK);
        const after = this.#ras(value);
        const newCatFatal = after.catFatal & ~before.catFatal & ~(this.#regs.get(FmeErrorReg.RAS_CATFAT_ERROR_MASK) ?? 0n);
        const newNonFatal = after.nonFatal & ~before.nonFatal & ~(this.#regs.get(FmeErrorReg.RAS_NONFAT_ERROR_MASK) ?? 0n);
        if ((newCatFatal | newNonFatal) !== 0n) this.#raise();
        return;
      }
      default: // read-only registers ignore writes
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
    return rel === PR_INTFC_ID_L ? this.#id.low : rel === PR_INTFC_ID_H ? this.#id.high : 0n;
  }
  write64(): void {}
}
