// Fme: the FPGA Management Engine of a card (reference/dfl.md "FME header"; dfl-fme-main.c).
import { FME_BITSTREAM_ID, FME_CAP, FmeReg } from '../dfl/regs/fiu.js';
import { fieldGet } from '../util/bitfield.js';
import { PR_INTFC_ID_H, PR_INTFC_ID_L } from '../dfl/regs/pr.js';
import { Fiu } from './fiu.js';
import { fmePrDriver } from './pr/fme-pr.js';

/** PR interface ID registers of the PR feature 0x5 (reference/pr.md PR_INTFC_ID_L/H; src/dfl/regs/pr.ts). */
export { PR_INTFC_ID_L, PR_INTFC_ID_H };

/** FME_CAP decoded (dfl.h FME_CAP_*). */
export interface FmeCapabilities {
  raw: bigint;
  fabricVersion: number;
  socketId: number;
  pcie0Link: boolean;
  pcie1Link: boolean;
  coherentLink: boolean;
  iommu: boolean;
  portCount: number;
  addressWidth: number;
  cacheSizeKiB: number;
  cacheAssociativity: number;
}

export function decodeFmeCap(raw: bigint): FmeCapabilities {
  return {
    raw,
    fabricVersion: Number(fieldGet(FME_CAP.FABRIC_VERID, raw)),
    socketId: Number(fieldGet(FME_CAP.SOCKET_ID, raw)),
    pcie0Link: (raw & FME_CAP.PCIE0_LINK_AVL) !== 0n,
    pcie1Link: (raw & FME_CAP.PCIE1_LINK_AVL) !== 0n,
    coherentLink: (raw & FME_CAP.COHR_LINK_AVL) !== 0n,
    iommu: (raw & FME_CAP.IOMMU_AVL) !== 0n,
    portCount: Number(fieldGet(FME_CAP.NUM_PORTS, raw)),
    addressWidth: Number(fieldGet(FME_CAP.ADDR_WIDTH, raw)),
    cacheSizeKiB: Number(fieldGet(FME_CAP.CACHE_SIZE, raw)),
    cacheAssociativity: Number(fieldGet(FME_CAP.CACHE_ASSOC, raw)),
  };
}

/** BITSTREAM_ID version: major [59:56], minor [55:52], patch [51:48] (dfl.md; FME_BITSTREAM_ID). */
export function decodeBitstreamVersion(id: bigint): { major: number; minor: number; patch: number; text: string } {
  const major = Number(fieldGet(FME_BITSTREAM_ID.MAJOR, id));
  const minor = Number(fieldGet(FME_BITSTREAM_ID.MINOR, id));
  const patch = Number(fieldGet(FME_BITSTREAM_ID.PATCH, id));
  return { major, minor, patch, text: `${major}.${minor}.${patch}` };
}

export class Fme extends Fiu {
  /** FME_CAP, decoded. */
  get capabilities(): FmeCapabilities {
    return decodeFmeCap(this.region.read64(this.offset + FmeReg.CAP));
  }

  /** FME_CAP[19:17]: the number of ports. */
  get portCount(): number {
    return Number(fieldGet(FME_CAP.NUM_PORTS, this.region.read64(this.offset + FmeReg.CAP)));
  }

  get bitstreamId(): bigint {
    return this.region.read64(this.offset + FmeReg.BITSTREAM_ID);
  }

  get bitstreamVersion(): { major: number; minor: number; patch: number; text: string } {
    return decodeBitstreamVersion(this.bitstreamId);
  }

  get bitstreamMetadata(): bigint {
    return this.region.read64(this.offset + FmeReg.BITSTREAM_MD);
  }

  /** The PR interface ID (PR registers +0xB0:+0xA8 as a UUID, from the CSR block in DFH v1); undefined when the FME has no PR feature reachable through a BAR. */
  get prInterfaceId(): string | undefined {
    return this.instance(fmePrDriver)?.manager.ops.compatId();
  }
}
