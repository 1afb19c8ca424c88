// A Device Feature List image the host writes into the ivshmem BAR2 file: an FME (thermal and
// global-perf private features, one port in the port table) and a Port (error and UMsg
// features, NEXT_AFU to an AFU with its GUID), laid out as a real N3000 BAR0 is
// (drivers/fpga/dfl.h, reference/dfl.md). Also the summary both sides compare.
import { encodeDfh } from '../../src/dfl/dfh.js';
import { DfhReg, DfhType, FiuId } from '../../src/dfl/regs/dfh.js';
import { FmeReg, FME_PORT_OFST, PortReg, PORT_CAP, FME_CAP } from '../../src/dfl/regs/fiu.js';
import { fieldPrep } from '../../src/util/bitfield.js';
import { flattenFeatures, type Feature } from '../../src/dfl/feature.js';
import { putLe64 } from '../../src/util/bytes.js';

export const DFL_IMAGE_SIZE = 1 << 20;
export const PORT_OFFSET = 0x40000;
export const AFU_GUID = { high: 0x8568ab4e6ba54616n, low: 0xbb652a578330a8ebn };

export function buildDflImage(): Uint8Array {
  const b = new Uint8Array(DFL_IMAGE_SIZE);
  const put = (off: number, v: bigint) => putLe64(b, off, v);
  // FME at 0: next private feature at +0x1000.
  put(0x0, encodeDfh({ type: DfhType.FIU, id: FiuId.FME, next: 0x1000 }));
  put(DfhReg.GUID_L, 0x82fe38f0f9e17764n);
  put(DfhReg.GUID_H, 0xbfaf2ae94a5246e3n);
  put(FmeReg.CAP, fieldPrep(FME_CAP.NUM_PORTS, 1) | fieldPrep(FME_CAP.ADDR_WIDTH, 38));
  put(FmeReg.PORT_OFFSET0, FME_PORT_OFST.IMP | fieldPrep(FME_PORT_OFST.BAR_ID, 0) | fieldPrep(FME_PORT_OFST.DFH_OFST, PORT_OFFSET));
  // FME thermal management (id 1) then global performance (id 3), end of list.
  put(0x1000, encodeDfh({ type: DfhType.PRIVATE, id: 0x1, next: 0x1000 }));
  put(0x2000, encodeDfh({ type: DfhType.PRIVATE, id: 0x3, next: 0x1000, eol: true }));
  // Port at PORT_OFFSET: NEXT_AFU -> AFU at +0x10000; private features at +0x1000 (error, id 0x10)
  // and +0x2000 (UMsg, id 0x11), end of list.
  put(PORT_OFFSET, encodeDfh({ type: DfhType.FIU, id: FiuId.PORT, next: 0x1000 }));
  put(PORT_OFFSET + DfhReg.GUID_L, 0x4fb69a7a3a4cdb5fn);
  put(PORT_OFFSET + DfhReg.GUID_H, 0x3ab49893138d42ebn);
  put(PORT_OFFSET + DfhReg.NEXT_AFU, 0x10000n);
  put(PORT_OFFSET + PortReg.CAP, fieldPrep(PORT_CAP.PORT_NUM, 0) | fieldPrep(PORT_CAP.MMIO_SIZE, 64) | fieldPrep(PORT_CAP.SUPP_INT_NUM, 4));
  put(PORT_OFFSET + 0x1000, encodeDfh({ type: DfhType.PRIVATE, id: 0x10, next: 0x1000 }));
  put(PORT_OFFSET + 0x2000, encodeDfh({ type: DfhType.PRIVATE, id: 0x11, next: 0, eol: true }));
  const afu = PORT_OFFSET + 0x10000;
  put(afu, encodeDfh({ type: DfhType.AFU, id: 0, next: 0, eol: true }));
  put(afu + DfhReg.GUID_L, AFU_GUID.low);
  put(afu + DfhReg.GUID_H, AFU_GUID.high);
  return b;
}

/** A comparable summary of a walk: "type:name@bar+offset[guid]" depth first. */
export function summarizeFeatures(roots: readonly Feature[]): string[] {
  return flattenFeatures(roots).map((f) => `${f.type}:${f.name}@${f.bar}+0x${f.offset.toString(16)}${f.guid ? `[${f.guid}]` : ''}`);
}
