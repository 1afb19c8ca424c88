// What the card's BMC says about its security, read as drivers/fpga/intel-m10-bmc-sec-update.c
// reads its sysfs "security" group: the root entry hash of each image class (show_root_entry_hash:
// the prog word's magic says whether a hash is programmed, its size field 256 or 384 bits), the
// canceled code-signing key IDs (show_canceled_csk: 128 bits at prog + 0x34, a cleared bit is a
// canceled ID) and the flash update count (flash_count_show: 4096 bytes of inverted bit vector).
// The kernel reads no security version (SVN) from an N3000-class BMC, so none is reported.
import { DeviceError } from '../../errors.js';
import { fieldGet } from '../../util/bitfield.js';
import { hex } from '../../util/bytes.js';
import {
  CSK_BIT_LEN, CSK_VEC_OFFSET, FLASH_COUNT_ADDR, FLASH_COUNT_SIZE, REH_AREAS, REH_MAGIC, REH_SHA256_SIZE, REH_SHA384_SIZE, REH_SHA_NUM_BYTES,
} from '../../dfl/regs/max10-bmc.js';
import type { BmcTransport } from './transport.js';

export type SecurityArea = (typeof REH_AREAS)[number]['name'];

export interface BmcSecurity {
  /** {sr,bmc,pr}_root_entry_hash: lowercase hex, or undefined when "hash not programmed". */
  rootEntryHash: Record<SecurityArea, string | undefined>;
  /** {sr,bmc,pr}_canceled_csks: canceled code-signing key IDs, ascending. */
  canceledCsks: Record<SecurityArea, number[]>;
  /** flash_count: times the staging area was flashed (sysfs-driver-intel-m10-bmc-sec-update), at M10BMC_N3000_STAGING_FLASH_COUNT. */
  flashCount: number;
}

function rootEntryHash(t: BmcTransport, area: (typeof REH_AREAS)[number]): string | undefined {
  const magic = t.read32(area.prog);
  if (fieldGet(REH_MAGIC, magic) !== area.magic) return undefined;
  const bytes = fieldGet(REH_SHA_NUM_BYTES, magic) / 8;
  if (bytes !== REH_SHA256_SIZE && bytes !== REH_SHA384_SIZE) {
    throw new DeviceError('EBMC_REH_SIZE', `the BMC's ${area.name} root entry hash says it is ${bytes} bytes long (word ${hex(magic, 8)} at ${hex(area.prog)}); only 32 (SHA-256) or 48 (SHA-384) exist: the BMC's security data is corrupt (intel-m10-bmc-sec-update.c "bad sha num bytes")`, { area: area.name, word: hex(magic, 8) });
  }
  return Buffer.from(t.readBlock(area.reh, bytes)).toString('hex');
}

function canceledCsks(t: BmcTransport, area: (typeof REH_AREAS)[number]): number[] {
  const words = t.readBlock(area.prog + CSK_VEC_OFFSET, CSK_BIT_LEN / 8);
  const ids: number[] = [];
  for (let id = 0; id < CSK_BIT_LEN; id++) if ((words[id >> 3]! & (1 << (id & 7))) === 0) ids.push(id);
  return ids;
}

function flashCount(t: BmcTransport): number {
  const bits = t.readBlock(FLASH_COUNT_ADDR, FLASH_COUNT_SIZE);
  let set = 0;
  for (const b of bits) for (let v = b; v; v &= v - 1) set++;
  return FLASH_COUNT_SIZE * 8 - set;
}

export function readBmcSecurity(t: BmcTransport): BmcSecurity {
  const rootEntry = {} as Record<SecurityArea, string | undefined>;
  const canceled = {} as Record<SecurityArea, number[]>;
  for (const area of REH_AREAS) {
    rootEntry[area.name] = rootEntryHash(t, area);
    canceled[area.name] = canceledCsks(t, area);
  }
  return { rootEntryHash: rootEntry, canceledCsks: canceled, flashCount: flashCount(t) };
}
