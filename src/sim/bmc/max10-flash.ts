// The MAX10 BMC's flash window as the device model keeps it (include/linux/mfd/intel-m10-bmc.h
// M10BMC_N3000_FLASH_BASE/END, M10BMC_STAGING_BASE/SIZE, M10BMC_N3000_STAGING_FLASH_COUNT,
// M10BMC_N3000_*_PROG_ADDR/_REH_ADDR; reference/secure-update.md): the 56 MiB staging area
// (sparse, erased flash reads 0xff), the flash-count bit vector, the root entry hash areas, and the
// NIOS's check of a staged image against its own block0 (the PACSign layout of
// src/dfl/regs/signed-image-layout.ts). The doorbell state machine (max10-model.ts) decides when
// staging is writable, when to authenticate and when to commit.
import { createHash } from 'node:crypto';
import { REH_MAGIC, REH_SHA_NUM_BYTES, STAGING_BASE, STAGING_SIZE } from '../../dfl/regs/max10-bmc.js';
import { fieldPrep } from '../../util/bitfield.js';
import {
  B0_CONTENT_TYPE, B0_MAGIC, B0_PAYLOAD_LENGTH, B0_SHA256, B0_SHA384, B0_SUBTYPE, B0_VERSION, BLOCK0_MAGIC, PAYLOAD_OFFSET, SHA256_BYTES,
  SHA384_BYTES, Subtype, VERSION_BYTES,
} from '../../dfl/regs/signed-image-layout.js';
import { getLe32, putLe32 } from '../../util/bytes.js';

/** The flash window (M10BMC_N3000_FLASH_BASE / _FLASH_END). */
export const FLASH_BASE = 0x10000000;
export const FLASH_END = 0x1fffffff;
/** Staging flash count: an inverted bit vector, one more bit cleared per update (M10BMC_N3000_STAGING_FLASH_COUNT). */
export const FLASH_COUNT_ADDR = 0x17ffb000;
export const FLASH_COUNT_SIZE = 4096;
/** Root entry hash areas: {prog address, magic}; the hash follows at +4 (intel-m10-bmc.h M10BMC_N3000_*_PROG_ADDR / _PROG_MAGIC / _REH_ADDR). */
export const REH_AREAS = [
  { name: 'sr', contentType: 0, prog: 0x17ffd000, magic: 0x5253 },
  { name: 'bmc', contentType: 1, prog: 0x17ffc000, magic: 0x5746 },
  { name: 'pr', contentType: 2, prog: 0x17ffe000, magic: 0x5250 },
] as const;

/**
 * AUTH_RESULT codes of this model (the register's encoding is not public; the kernel and DPDK
 * only log it): 0 pass, else the first check that failed.
 */
export const AuthResult = { PASS: 0, BLOCK0_MAGIC: 0x1, PAYLOAD_LENGTH: 0x2, SHA256: 0x4, SHA384: 0x8, INJECTED: 0x80 } as const;

/** What authentication found in block0; `payload` is the root key hash of a key-hash image. */
export interface StagedImage {
  contentType: number;
  subtype: number;
  version: string;
  payloadLength: number;
  payload: Uint8Array | undefined;
}

const PAGE = 4096;

export class Max10Flash {
  /** Completed updates (subtype "update"); the flash-count bit vector shows it. */
  flashCount = 0;
  readonly #staging = new Map<number, Uint8Array>();
  readonly #reh = new Map<number, { bits: number; hash: Uint8Array }>();

  /** The staged bytes at `offset` of the staging area (erased flash reads 0xff). */
  stagingBytes(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length).fill(0xff);
    for (let i = 0; i < length;) {
      const at = offset + i;
      const page = this.#staging.get(Math.floor(at / PAGE));
      const inPage = at % PAGE;
      const n = Math.min(PAGE - inPage, length - i);
      if (page) out.set(page.subarray(inPage, inPage + n), i);
      i += n;
    }
    return out;
  }

  /** Pages of staging that hold data (sparse storage). */
  get stagingPages(): number {
    return this.#staging.size;
  }

  eraseStaging(): void {
    this.#staging.clear();
  }

  /** True when `address` is in the staging area. */
  inStaging(address: number): boolean {
    return address >= STAGING_BASE && address < STAGING_BASE + STAGING_SIZE;
  }

  /** Store one word of staging at an absolute address (the caller checked inStaging and that staging is writable). */
  writeStaging32(address: number, value: number): void {
    const off = address - STAGING_BASE;
    const index = Math.floor(off / PAGE);
    let page = this.#staging.get(index);
    if (!page) {
      page = new Uint8Array(PAGE).fill(0xff);
      this.#staging.set(index, page);
    }
    putLe32(page, off % PAGE, value >>> 0);
  }

  /** A word of the flash window this model keeps (staging, flash count, root entry hashes), or undefined. */
  read32(address: number): number | undefined {
    if (this.inStaging(address)) {
      const off = address - STAGING_BASE;
      const page = this.#staging.get(Math.floor(off / PAGE));
      return page ? getLe32(page, off % PAGE) : 0xffffffff;
    }
    if (address >= FLASH_COUNT_ADDR && address < FLASH_COUNT_ADDR + FLASH_COUNT_SIZE) {
      // Inverted bit vector: every update clears one more bit, lowest first.
      const firstBit = (address - FLASH_COUNT_ADDR) * 8;
      let v = 0xffffffff;
      for (let b = 0; b < 32; b++) if (firstBit + b < this.flashCount) v &= ~(1 << b);
      return v >>> 0;
    }
    for (const area of REH_AREAS) {
      if (address === area.prog) {
        const reh = this.#reh.get(area.prog);
        return reh ? (fieldPrep(REH_SHA_NUM_BYTES, reh.bits) | fieldPrep(REH_MAGIC, area.magic)) >>> 0 : 0xffffffff;
      }
      if (address >= area.prog + 4 && address < area.prog + 4 + SHA384_BYTES) {
        const reh = this.#reh.get(area.prog);
        const i = address - area.prog - 4;
        if (!reh || i >= reh.hash.length) return 0xffffffff;
        return getLe32(reh.hash, i);
      }
    }
    return undefined;
  }

  /** Check the staged image against its own block0 (magic, length, SHA-256, SHA-384). */
  authenticate(): { result: number; staged?: StagedImage } {
    const head = this.stagingBytes(0, PAYLOAD_OFFSET);
    if (getLe32(head, B0_MAGIC) !== BLOCK0_MAGIC) return { result: AuthResult.BLOCK0_MAGIC };
    const length = getLe32(head, B0_PAYLOAD_LENGTH);
    if (length === 0 || PAYLOAD_OFFSET + length > STAGING_SIZE) return { result: AuthResult.PAYLOAD_LENGTH };
    const payload = this.stagingBytes(PAYLOAD_OFFSET, length);
    if (createHash('sha256').update(payload).digest().compare(head.subarray(B0_SHA256, B0_SHA256 + SHA256_BYTES)) !== 0) return { result: AuthResult.SHA256 };
    if (createHash('sha384').update(payload).digest().compare(head.subarray(B0_SHA384, B0_SHA384 + SHA384_BYTES)) !== 0) return { result: AuthResult.SHA384 };
    let version = '';
    for (let i = B0_VERSION; i < B0_VERSION + VERSION_BYTES && head[i] !== 0; i++) version += String.fromCharCode(head[i]!);
    const subtype = head[B0_SUBTYPE]!;
    const keyHash = subtype >= Subtype.ROOT_KEY_HASH_256 ? payload.slice(0, subtype === Subtype.ROOT_KEY_HASH_256 ? SHA256_BYTES : SHA384_BYTES) : undefined;
    return { result: AuthResult.PASS, staged: { contentType: head[B0_CONTENT_TYPE]!, subtype, version, payloadLength: length, payload: keyHash } };
  }

  /** The copy finished: count an update, program a root key hash. */
  commit(staged: StagedImage): void {
    if (staged.subtype === Subtype.UPDATE) this.flashCount++;
    if (staged.payload) {
      const area = REH_AREAS.find((a) => a.contentType === staged.contentType);
      if (area) this.#reh.set(area.prog, { bits: staged.payload.length * 8, hash: staged.payload });
    }
  }
}
