// PCIe Advanced Error Reporting masks on a port, through its sysfs `config` file. Around an FPGA
// or BMC reload the card drops off the link; the upstream port would report Surprise Down and
// other uncorrectable errors (and the kernel might start error recovery), so the reload masks
// them first and restores them after the rescan (reference/secure-update.md "Reboot / reload";
// OPAE's rsu and DPDK's ifpga reload do the same).
// Register offsets: include/uapi/linux/pci_regs.h (PCI_EXT_CAP_ID_ERR, PCI_ERR_UNCOR_MASK,
// PCI_ERR_COR_MASK); the extended capability list starts at 0x100 (PCI_CFG_SPACE_SIZE).
import fs from 'node:fs';
import path from 'node:path';
import { PciError } from './errors.js';
import { liveSysfs, type PciSysfs } from './sysfs.js';
import { normalizeBdf } from './address.js';

/** PCI_CFG_SPACE_SIZE: the extended capabilities start here. */
const EXT_CAP_START = 0x100;
/** PCI_CFG_SPACE_EXP_SIZE. */
const EXT_CFG_SIZE = 0x1000;
/** PCI_EXT_CAP_ID_ERR. */
export const EXT_CAP_ID_AER = 0x0001;
/** PCI_ERR_UNCOR_MASK: uncorrectable error mask (1 = not reported). */
export const AER_UNCOR_MASK = 0x08;
/** PCI_ERR_COR_MASK: correctable error mask. */
export const AER_COR_MASK = 0x14;
const ALL_MASKED = 0xffff_ffff;
/** At most (4096 - 256) / 4 headers: a longer walk is a loop. */
const MAX_EXT_CAPS = (EXT_CFG_SIZE - EXT_CAP_START) / 4;

export interface AerMasks {
  bdf: string;
  /** Offset of the AER capability in config space. */
  capability: number;
  uncorrectable: number;
  correctable: number;
}

function configFile(sysfs: PciSysfs, bdf: string): string {
  return path.join(sysfs.devicePath(bdf), 'config');
}

function withConfig<T>(sysfs: PciSysfs, bdf: string, flags: 'r' | 'r+', fn: (fd: number) => T): T {
  const file = configFile(sysfs, bdf);
  let fd: number;
  try {
    fd = fs.openSync(file, flags);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new PciError('EPCI_CONFIG', `${bdf}: cannot open ${file} (${code})${code === 'EACCES' || code === 'EPERM' ? ': run as root' : ''}`, { bdf, file, errno: code }, { cause: e });
  }
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function read32(fd: number, offset: number): number | undefined {
  const b = Buffer.alloc(4);
  return fs.readSync(fd, b, 0, 4, offset) === 4 ? b.readUInt32LE(0) : undefined;
}

function write32(fd: number, offset: number, value: number): void {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0, 0);
  fs.writeSync(fd, b, 0, 4, offset);
}

/** Offset of the AER extended capability of `bdf`, or undefined (no AER, or extended space not readable: not root). */
export function findAerCapability(bdf: string, options: { sysfs?: PciSysfs } = {}): number | undefined {
  const sysfs = options.sysfs ?? liveSysfs;
  const name = normalizeBdf(bdf);
  return withConfig(sysfs, name, 'r', (fd) => {
    let offset = EXT_CAP_START;
    for (let i = 0; i < MAX_EXT_CAPS && offset >= EXT_CAP_START && offset < EXT_CFG_SIZE; i++) {
      const header = read32(fd, offset);
      if (header === undefined || header === 0 || header === ALL_MASKED) return undefined;
      if ((header & 0xffff) === EXT_CAP_ID_AER) return offset;
      offset = (header >>> 20) & 0xffc; // [31:20] next capability offset, dword aligned
    }
    return undefined;
  });
}

/** Save the AER masks of `bdf` and mask every error; undefined when the port has no AER. */
export function maskAer(bdf: string, options: { sysfs?: PciSysfs } = {}): AerMasks | undefined {
  const sysfs = options.sysfs ?? liveSysfs;
  const name = normalizeBdf(bdf);
  const capability = findAerCapability(name, { sysfs });
  if (capability === undefined) return undefined;
  return withConfig(sysfs, name, 'r+', (fd) => {
    const uncorrectable = read32(fd, capability + AER_UNCOR_MASK);
    const correctable = read32(fd, capability + AER_COR_MASK);
    if (uncorrectable === undefined || correctable === undefined) {
      throw new PciError('EPCI_CONFIG', `${name}: AER capability at 0x${capability.toString(16)} is cut short in config space`, { bdf: name, capability });
    }
    write32(fd, capability + AER_UNCOR_MASK, ALL_MASKED);
    write32(fd, capability + AER_COR_MASK, ALL_MASKED);
    return { bdf: name, capability, uncorrectable, correctable };
  });
}

/** Put back the masks `maskAer` saved. */
export function restoreAer(saved: AerMasks, options: { sysfs?: PciSysfs } = {}): void {
  const sysfs = options.sysfs ?? liveSysfs;
  withConfig(sysfs, saved.bdf, 'r+', (fd) => {
    write32(fd, saved.capability + AER_UNCOR_MASK, saved.uncorrectable);
    write32(fd, saved.capability + AER_COR_MASK, saved.correctable);
  });
}
