// PCI configuration space of the simulated card: 256 bytes of legacy header and capabilities plus
// 4 KiB extended space (PCI Local Bus / PCIe Base spec layouts; include/uapi/linux/pci_regs.h).
// Standard list: PCI Express capability (0x40) -> MSI-X capability (0xb0). Extended list:
// AER (0x100) -> the DFL VSEC (0x148, vendor 0x8086 ID 0x43, reference/dfl.md) unless the variant
// has none. Writes go through a per-byte writable mask, so BAR sizing (write ~0, read the size
// mask back) and read-only fields behave like hardware.
import { RegionError } from '../errors.js';
import { getLe32, hex, putLe32 } from '../util/bytes.js';
import type { PciIdentity } from '../pci/identity.js';
import {
  PCI_EXT_CAP_ID_VNDR, PCI_VNDR_DFLS_CNT, PCI_VNDR_DFLS_RES, PCI_VNDR_HEADER, PCI_VSEC_ID_INTEL_DFLS,
} from '../dfl/vsec.js';

export const PCI_CONFIG_SIZE = 0x1000;

// Offsets (pci_regs.h).
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_PIN = 0x3d;

export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_INTX_DISABLE = 0x400;
export const PCI_STATUS_CAP_LIST = 0x10;
/** BAR flags: memory, 64-bit, prefetchable (PCI_BASE_ADDRESS_MEM_TYPE_64 | _PREFETCH). */
export const PCI_BAR_MEM64_PREFETCH = 0xc;

export const PCI_CAP_ID_EXP = 0x10;
export const PCI_CAP_ID_MSIX = 0x11;
export const PCI_EXT_CAP_ID_ERR = 0x0001;

/** Where the capabilities sit in the sim's config space. */
export const SIM_CAP_PCIE = 0x40;
/**
 * Past the end of the PCIe capability: a v2 endpoint capability is 0x3c bytes
 * (pci_regs.h PCI_CAP_EXP_ENDPOINT_SIZEOF_V2), so 0x40..0x7b. At 0x70 it overlapped: QEMU's
 * vfio-pci rebuilds the PCIe capability over its full size (hw/vfio/pci.c vfio_setup_pcie_cap)
 * and zeroed the MSI-X header, so Linux saw no MSI-X and dfl-pci failed ("Invalid interrupt
 * number in feature 0x4", drivers/fpga/dfl.c parse_feature_irqs).
 */
export const SIM_CAP_MSIX = 0xb0;
/** Size of a PCIe v2 endpoint capability (include/uapi/linux/pci_regs.h PCI_CAP_EXP_ENDPOINT_SIZEOF_V2). */
export const PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 = 0x3c;
export const SIM_EXT_CAP_AER = 0x100;
/** AER capability length (PCI_ERR_ROOT_ERR_SRC + 4 = 0x38, padded to 0x48 with the TLP prefix log). */
export const SIM_AER_LENGTH = 0x48;
export const SIM_EXT_CAP_VSEC = SIM_EXT_CAP_AER + SIM_AER_LENGTH;

/** MSI-X Message Control (pci_regs.h PCI_MSIX_FLAGS_*). */
export const PCI_MSIX_FLAGS = 2;
export const PCI_MSIX_FLAGS_QSIZE = 0x07ff;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_TABLE = 4;
export const PCI_MSIX_PBA = 8;

export interface BarDescription {
  index: number;
  size: number;
  /** Bus address the firmware assigned (a 64-bit BAR takes index and index+1). */
  address: bigint;
}

export interface ConfigSpaceLayout extends PciIdentity {
  bars: BarDescription[];
  msix: { vectors: number; tableBar: number; tableOffset: number; pbaBar: number; pbaOffset: number };
  /** DFLs the VSEC lists; undefined = no VSEC. */
  vsec?: { bar: number; offset: number }[];
}

export class SimConfigSpace {
  readonly bytes = new Uint8Array(PCI_CONFIG_SIZE);
  /** Writable bits per byte. */
  readonly #wmask = new Uint8Array(PCI_CONFIG_SIZE);
  readonly #name: string;

  constructor(name: string, layout: ConfigSpaceLayout) {
    this.#name = name;
    const b = this.bytes;
    const put16 = (o: number, v: number): void => { b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; };
    put16(PCI_VENDOR_ID, layout.vendor);
    put16(PCI_DEVICE_ID, layout.device);
    put16(PCI_STATUS, PCI_STATUS_CAP_LIST);
    b[PCI_REVISION_ID] = layout.revision;
    b[PCI_CLASS_PROG] = layout.classCode & 0xff;
    b[PCI_CLASS_PROG + 1] = (layout.classCode >>> 8) & 0xff;
    b[PCI_CLASS_PROG + 2] = (layout.classCode >>> 16) & 0xff;
    put16(PCI_SUBSYSTEM_VENDOR_ID, layout.subsystemVendor);
    put16(PCI_SUBSYSTEM_ID, layout.subsystemDevice);
    b[PCI_CAPABILITY_LIST] = SIM_CAP_PCIE;
    b[PCI_INTERRUPT_PIN] = 0; // MSI-X only: no INTx pin
    this.#mask16(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);

    // BARs: 64-bit prefetchable memory; the low dword's address bits below the size are read-only
    // zero, so writing ~0 reads back the size mask (BAR sizing).
    for (const bar of layout.bars) {
      const lo = PCI_BASE_ADDRESS_0 + 4 * bar.index;
      putLe32(b, lo, (Number(bar.address & 0xffff_ffffn) & ~(bar.size - 1) | PCI_BAR_MEM64_PREFETCH) >>> 0);
      putLe32(b, lo + 4, Number(bar.address >> 32n) >>> 0);
      this.#mask32(lo, ~(bar.size - 1) >>> 0);
      this.#mask32(lo + 4, 0xffff_ffff);
    }

    // PCI Express capability v2, endpoint; link x8 at 8 GT/s (PCIe spec 7.5.3).
    const e = SIM_CAP_PCIE;
    b[e] = PCI_CAP_ID_EXP;
    b[e + 1] = SIM_CAP_MSIX;
    put16(e + 2, 0x0002); // PCI_EXP_FLAGS: version 2, type 0 (endpoint)
    putLe32(b, e + 4, 0x0000_8002); // PCI_EXP_DEVCAP: max payload 512 B, role-based error reporting
    this.#mask16(e + 8, 0x7fff); // PCI_EXP_DEVCTL
    putLe32(b, e + 0x0c, 0x0000_0083); // PCI_EXP_LNKCAP: 8 GT/s, x8
    put16(e + 0x12, 0x0083); // PCI_EXP_LNKSTA: 8 GT/s, x8

    // MSI-X capability (PCI spec 6.8.2): table and PBA locations, table size N-1.
    const m = SIM_CAP_MSIX;
    b[m] = PCI_CAP_ID_MSIX;
    b[m + 1] = 0;
    put16(m + PCI_MSIX_FLAGS, (layout.msix.vectors - 1) & PCI_MSIX_FLAGS_QSIZE);
    this.#mask16(m + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_MASKALL | PCI_MSIX_FLAGS_ENABLE);
    putLe32(b, m + PCI_MSIX_TABLE, (layout.msix.tableOffset | layout.msix.tableBar) >>> 0);
    putLe32(b, m + PCI_MSIX_PBA, (layout.msix.pbaOffset | layout.msix.pbaBar) >>> 0);

    // Extended capabilities: AER v2, then (optionally) the DFL VSEC.
    const aerNext = layout.vsec ? SIM_EXT_CAP_VSEC : 0;
    putLe32(b, SIM_EXT_CAP_AER, (PCI_EXT_CAP_ID_ERR | (2 << 16) | (aerNext << 20)) >>> 0);
    this.#mask32(SIM_EXT_CAP_AER + 0x04, 0xffff_ffff); // uncorrectable status (RW1C in hardware; kept simple)
    this.#mask32(SIM_EXT_CAP_AER + 0x08, 0xffff_ffff); // uncorrectable mask
    if (layout.vsec) {
      const v = SIM_EXT_CAP_VSEC;
      const length = PCI_VNDR_DFLS_RES + 4 * layout.vsec.length;
      putLe32(b, v, (PCI_EXT_CAP_ID_VNDR | (1 << 16)) >>> 0);
      putLe32(b, v + PCI_VNDR_HEADER, (PCI_VSEC_ID_INTEL_DFLS | (0 << 16) | (length << 20)) >>> 0);
      putLe32(b, v + PCI_VNDR_DFLS_CNT, layout.vsec.length);
      layout.vsec.forEach((d, i) => putLe32(b, v + PCI_VNDR_DFLS_RES + 4 * i, (d.offset | d.bar) >>> 0));
    }
  }

  #mask16(offset: number, mask: number): void {
    this.#wmask[offset] = mask & 0xff;
    this.#wmask[offset + 1] = (mask >>> 8) & 0xff;
  }

  #mask32(offset: number, mask: number): void {
    putLe32(this.#wmask, offset, mask >>> 0);
  }

  #check(offset: number, width: number): void {
    if ((width !== 1 && width !== 2 && width !== 4) || !Number.isInteger(offset) || offset < 0 || offset % width !== 0 || offset + width > PCI_CONFIG_SIZE) {
      throw new RegionError('EREGION_CONFIG', `${this.#name} config space: a ${width * 8}-bit access at ${String(offset)} is not a naturally aligned access inside the ${hex(PCI_CONFIG_SIZE)}-byte config space`, { offset, width });
    }
  }

  read(offset: number, width: 1 | 2 | 4): number {
    this.#check(offset, width);
    const b = this.bytes;
    if (width === 1) return b[offset]!;
    if (width === 2) return b[offset]! | (b[offset + 1]! << 8);
    return getLe32(b, offset);
  }

  write(offset: number, width: 1 | 2 | 4, value: number): void {
    this.#check(offset, width);
    if (!Number.isInteger(value) || value < 0 || value > 2 ** (8 * width) - 1) {
      throw new RegionError('EREGION_VALUE', `${this.#name} config space: value ${String(value)} does not fit a ${width * 8}-bit write at ${hex(offset)}`, { offset, width, value });
    }
    for (let i = 0; i < width; i++) {
      const m = this.#wmask[offset + i]!;
      const v = (value >>> (8 * i)) & 0xff;
      this.bytes[offset + i] = (this.bytes[offset + i]! & ~m) | (v & m);
    }
  }

  /** MSI-X enabled and not function-masked (Message Control). */
  get msixEnabled(): boolean {
    const flags = this.read(SIM_CAP_MSIX + PCI_MSIX_FLAGS, 2);
    return (flags & PCI_MSIX_FLAGS_ENABLE) !== 0 && (flags & PCI_MSIX_FLAGS_MASKALL) === 0;
  }

  /** What the kernel does on VFIO_DEVICE_SET_IRQS for MSI-X: set or clear Message Control enable. */
  setMsixEnabled(on: boolean): void {
    const o = SIM_CAP_MSIX + PCI_MSIX_FLAGS;
    const flags = this.read(o, 2);
    const next = on ? flags | PCI_MSIX_FLAGS_ENABLE : flags & ~PCI_MSIX_FLAGS_ENABLE;
    this.bytes[o] = next & 0xff;
    this.bytes[o + 1] = (next >>> 8) & 0xff;
  }
}
