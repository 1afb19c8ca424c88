// The MAX10 BMC's flash window as the device model keeps it (include/linux/mfd/intel-m10-bmc.h
// M10BMC_N3000_FLASH_BASE/END, M10BMC_STAGING_BASE/SIZE, M10BMC_N3000_STAGING_FLASH_COUNT,
// M10BMC_N3000_*_PROG_ADDR/_REH_ADDR; reference/secure-update.md): the 56 MiB staging area
// (sparse, erased flash reads 0xff), the flash-count bit vector, the root entry hash areas, and the
// NIOS's check of a staged image against its own block0 (the PACSign layout of
// src/dfl/regs/signed-image-layout.ts). The doorbell state machine (max10-model.ts) decides when
// staging is writable, when to authenticate and when to commit.
import { createHash } from 'node:crypto';
import {
  CSK_BIT_LEN, CSK_VEC_OFFSET, FLASH_COUNT_ADDR, FLASH_COUNT_SIZE, REH_AREAS as SECURITY_AREAS, REH_MAGIC, REH_SHA_NUM_BYTES, STAGING_BASE, STAGING_SIZE,
} from '../../dfl/regs/max10-bmc.js';
import { fieldPrep } from '../../util/bitfield.js';
import {
  B0_CONTENT_TYPE, B0_MAGIC, B0_PAYLOAD_LENGTH, B0_SHA256, B0_SHA384, B0_SUBTYPE, B0_VERSION, BLOCK0_MAGIC, PAYLOAD_OFFSET, SHA256_BYTES,
  SHA384_BYTES, Subtype, VERSION_BYTES,
} from '../../dfl/regs/signed-image-layout.js';
import { getLe32, putLe32 } from '../../util/bytes.js';
import { ArgumentError } from '../../errors.js';

/** The flash window (M10BMC_N3000_FLASH_BASE / _FLASH_END). */
export const FLASH_BASE = 0x10000000;
export const FLASH_END = 0x1fffffff;
export { FLASH_COUNT_ADDR, FLASH_COUNT_SIZE };
/**
 * Root entry hash areas (src/dfl/regs/max10-bmc.ts) with the block0 content type whose root key
 * hash programming and key cancellation land there (0 SR, 1 BMC, 2 PR: PACSign CONTENT_*).
 */
export const REH_AREAS = SECURITY_AREAS.map((a, contentType) => ({ ...a, contentType }));

/**
 * AUTH_RESULT codes of this model (the register's encoding is not public; the kernel and DPDK
 * only log it): 0 pass, else the first check that failed.
 */
export const AuthResult = { PASS: 0, BLOCK0_MAGIC: 0x1, PAYLOAD_LENGTH: 0x2, SHA256: 0x4, SHA384: 0x8, INJECTED: 0x80 } as const;

/** What authentication found in block0; `payload` is the root key hash of a key-hash image or the CSK ID of a cancellation. */
export interface StagedImage {
  contentType: number;
  subtype: number;
  version: string;
  payloadLength: number;
  payload: Uint8Array | undefined;
}

const PAGE = 4096;

export type SecurityAreaName = (typeof SECURITY_AREAS)[number]['name'];

/** Security data a BMC leaves the factory with, or has gathered in the field (Max10Options.security). */
export interface Max10Security {
  /** Root entry hash per area: 32 (SHA-256) or 48 (SHA-384) bytes; absent = "hash not programmed". */
  rootEntryHash?: Partial<Record<SecurityAreaName, Uint8Array>>;
  /** Canceled code-signing key IDs per area (0..127). */
  canceledCsks?: Partial<Record<SecurityAreaName, readonly number[]>>;
  /** Staging flashes counted so far (cleared bits of the flash-count vector). */
  flashCount?: number;
}

/**
 * A provisioned card (the sim URL's bmcSecurity=provisioned): SR and BMC root entry hashes
 * programmed (SHA-384 and SHA-256), PR not; canceled keys in two areas; a few staging flashes counted.
 */
export const PROVISIONED_SECURITY: Readonly<Max10Security> = Object.freeze({
  rootEntryHash: {
    sr: createHash('sha384').update('vfiokit sim SR root key').digest(),
    bmc: createHash('sha256').update('vfiokit sim BMC root key').digest(),
  },
  canceledCsks: { sr: [0, 2, 3, 31, 32], bmc: [], pr: [127] },
  flashCount: 7,
});

export class Max10Flash {
  /** Flashes of the staging area (countStagingFlash); the flash-count bit vector shows it. */
  flashCount = 0;
  readonly #staging = new Map<number, Uint8Array>();
  readonly #reh = new Map<number, { bits: number; hash: Uint8Array }>();
  /** Canceled CSK IDs per area (bit n = ID n); the flash keeps them as cleared bits. */
  readonly #canceled = new Map<number, bigint>();

  constructor(security: Max10Security = {}) {
    if (security.flashCount !== undefined) {
      if (!Number.isInteger(security.flashCount) || security.flashCount < 0 || security.flashCount > FLASH_COUNT_SIZE * 8) {
        throw new ArgumentError('EARG_BMC_SECURITY', `flashCount ${security.flashCount} is not a count the ${FLASH_COUNT_SIZE * 8}-bit flash-count vector holds`, { flashCount: security.flashCount });
      }
      this.flashCount = security.flashCount;
    }
    for (const area of REH_AREAS) {
      const hash = security.rootEntryHash?.[area.name];
      if (hash) {
        if (hash.length !== SHA256_BYTES && hash.length !== SHA384_BYTES) {
          throw new ArgumentError('EARG_BMC_SECURITY', `the ${area.name} root entry hash is ${hash.length} bytes; only ${SHA256_BYTES} (SHA-256) or ${SHA384_BYTES} (SHA-384) exist`, { area: area.name });
        }
        this.#reh.set(area.prog, { bits: hash.length * 8, hash: Uint8Array.from(hash) });
      }
      for (const id of security.canceledCsks?.[area.name] ?? []) {
        if (!Number.isInteger(id) || id < 0 || id >= CSK_BIT_LEN) throw new ArgumentError('EARG_BMC_SECURITY', `canceled CSK ID ${id} (${area.name}) is not in 0..${CSK_BIT_LEN - 1}`, { area: area.name, id });
        this.#cancelKey(area.prog, id);
      }
    }
  }

  /** Clear CSK `id`'s bit in the area's vector (a canceled key). */
  #cancelKey(prog: number, id: number): void {
    this.#canceled.set(prog, (this.#canceled.get(prog) ?? 0n) | (1n << BigInt(id)));
  }

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
      if (address >= area.prog + CSK_VEC_OFFSET && address < area.prog + CSK_VEC_OFFSET + CSK_BIT_LEN / 8) {
        const word = BigInt((address - area.prog - CSK_VEC_OFFSET) * 8);
        return Number(~((this.#canceled.get(area.prog) ?? 0n) >> word) & 0xffff_ffffn) >>> 0;
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
    // A root key hash image carries the hash; a key cancellation certificate the CSK ID as a u32 (PACSign CANCEL_reader).
    const keyHash = subtype >= Subtype.ROOT_KEY_HASH_256 ? payload.slice(0, subtype === Subtype.ROOT_KEY_HASH_256 ? SHA256_BYTES : SHA384_BYTES)
      : subtype === Subtype.CANCELLATION ? payload.slice(0, 4) : undefined;
    return { result: AuthResult.PASS, staged: { contentType: head[B0_CONTENT_TYPE]!, subtype, version, payloadLength: length, payload: keyHash } };
  }

  /**
   * The host has written a whole image into staging (HOST_STATUS_WRITE_DONE): one more flash of the
   * staging area, whatever the image is and whether it then authenticates. The kernel's ABI
   * (Documentation/ABI/testing/sysfs-driver-intel-m10-bmc-sec-update, flash_count: "number of
   * times the secure update staging area has been flashed") counts flashes, not completed updates;
   * the vector wears out with the flash (RSU_STAT_WEAROUT). The vector saturates when every bit is clear.
   */
  countStagingFlash(): void {
    if (this.flashCount < FLASH_COUNT_SIZE * 8) this.flashCount++;
  }

  /** The copy finished: program a root key hash, record a canceled key. */
  commit(staged: StagedImage): void {
    const area = REH_AREAS.find((a) => a.contentType === staged.contentType);
    if (!staged.payload || !area) return;
    if (staged.subtype === Subtype.CANCELLATION) {
      const id = getLe32(staged.payload, 0);
      if (id < CSK_BIT_LEN) this.#cancelKey(area.prog, id);
    } else {
      this.#reh.set(area.prog, { bits: staged.payload.length * 8, hash: staged.payload });
    }
  }
}
