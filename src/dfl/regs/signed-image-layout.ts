// PACSign signed image layout (reference/secure-update.md "Signed image (PACSign) layout"; OPAE
// opae-sdk python/pacsign/pacsign/reader.py make_block0 / make_root_entry / make_csk_entry /
// make_block0_entry / make_block1, database.py for the magics and enums; DPDK
// drivers/raw/ifpga/base/ifpga_api opae_api.h OPAE_IMG_*). All fields little endian.
// A file format, not a register map, but part of the same hardware description: the card's BMC
// reads it from the staging area and the secure PR block from the PR stream, so the host's parser
// and writer (src/afu/image) and the sim's BMC and PR engine (src/sim) share these offsets.

/** Block0: 128 bytes at offset 0. */
export const BLOCK0_OFFSET = 0;
export const BLOCK0_SIZE = 128;
export const BLOCK0_MAGIC = 0xb6eafd19;
export const B0_MAGIC = 0x00; // u32
export const B0_PAYLOAD_LENGTH = 0x04; // u32
export const B0_CONTENT_TYPE = 0x08; // u8
export const B0_SUBTYPE = 0x09; // u8
/** Not a PACSign field: reader.py make_block0 writes 0x0A-0x0F as reserved zeros. */
export const B0_SLOT = 0x0a; // u8
export const B0_SHA256 = 0x10; // 32 bytes
export const B0_SHA384 = 0x30; // 48 bytes
/** Not a PACSign field: make_block0 writes 0x60-0x7F as reserved zeros (vfiokit's writer may put a tag here). */
export const B0_VERSION = 0x60; // 32 bytes, zero padded
export const SHA256_BYTES = 32;
export const SHA384_BYTES = 48;
export const VERSION_BYTES = 32;

/**
 * Block1: 896 bytes at 0x80 (signature chain). Entry offsets are relative to block1. make_block1
 * writes the magic, zeros to +0x10, then the entries it is given back to back, then zeros: an
 * update has root, CSK and block0 entries; a cancellation root and block0 entries; a root-key-hash
 * image (RHP_reader) none at all, only the magic.
 */
export const BLOCK1_OFFSET = 0x80;
export const BLOCK1_SIZE = 896;
export const BLOCK1_MAGIC = 0xf27f28d7;
export const B1_ROOT_ENTRY = 16;
export const ROOT_ENTRY_MAGIC = 0xa757a046;
export const B1_CSK_ENTRY = 148;
export const CSK_ENTRY_MAGIC = 0x14711c2f;
/** Block0 entry: after the CSK entry, or in the CSK's place in cancellation certificates. */
export const B1_BLOCK0_ENTRY = 380;
export const B1_BLOCK0_ENTRY_CANCEL = 148;
export const BLOCK0_ENTRY_MAGIC = 0x15364367;

/** Root entry (make_root_entry): magic, then a 128-byte body hashed for the root key hash. */
export const ROOT_ENTRY_SIZE = 4 + 128;
/** Offsets inside the root or CSK entry: curve magic, permissions, key ID, X, Y (entry-relative). */
export const KEY_ENTRY_CURVE = 4;
export const KEY_ENTRY_PERMISSION = 8;
export const KEY_ENTRY_ID = 12;
export const KEY_ENTRY_X = 16;
export const KEY_ENTRY_Y = 16 + 0x30;
/** CSK entry (make_csk_entry): magic, 128-byte body, signature magic at +0x84, R at +0x88, S at +0xB8, to 0xE8. */
export const CSK_ENTRY_SIZE = 0xe8;
export const CSK_ENTRY_SIG_MAGIC = 0x84;
/** Block0 entry (make_block0_entry): magic, signature magic at +4, R at +8, S at +0x38, to 0x68. */
export const BLOCK0_ENTRY_SIZE = 0x68;
export const BLOCK0_ENTRY_SIG_MAGIC = 4;
/** database.py CURVE_INFO secp256r1: the curve magic and signature (SHA) magic PACSign writes. */
export const CURVE_MAGIC_SECP256R1 = 0xc7b88c74;
export const SIG_MAGIC_SECP256R1 = 0xde64437d;
/** Root key permissions and ID are always 0xFFFFFFFF (make_root_entry asserts it). */
export const ROOT_KEY_PERMISSION = 0xffffffff;
export const ROOT_KEY_ID = 0xffffffff;
/** A root-key-hash payload (RHP_reader.run): SHA-256 of the root entry body, zero padded to 48 bytes; PR adds the SHA-256 of the public key X|Y. */
export const RK_HASH_FIELD = 48;
/** Payloads are padded to a multiple of 128 bytes (every reader's run()). */
export const PAYLOAD_ALIGN = 128;

/** The payload follows the two blocks. */
export const PAYLOAD_OFFSET = BLOCK0_SIZE + BLOCK1_SIZE; // 1024
/** DPDK OPAE_IMG_PL_MIN_SIZE: a payload is at least 128 bytes, so a file is at least 1,152. */
export const PAYLOAD_MIN_SIZE = 128;
export const MIN_IMAGE_SIZE = PAYLOAD_OFFSET + PAYLOAD_MIN_SIZE;

/** Block0 content type byte (PACSign database.py CONTENT_*). */
export const ContentType = {
  STATIC_REGION: 0,
  BMC: 1,
  PR: 2,
  FACTORY: 3,
  PXE: 4,
  THERMAL_SR: 5,
  THERMAL_PR: 6,
  SDM: 7,
  SR_TEST: 8,
  BMC_FACTORY: 9,
  PR_TEST: 10,
  SR_CERT: 11,
} as const;

export const contentTypeNames: readonly string[] = [
  'static region (FPGA/BBS)', 'BMC', 'PR (GBS)', 'factory (SR)', 'PXE', 'thermal SR', 'thermal PR', 'SDM',
  'SR test', 'BMC factory', 'PR test', 'SR certificate',
];

/** PACSign's command name per content type (database.py FAMILY_LIST "PAC_CARD"; the first alias). */
export const contentTypePacsignNames: readonly string[] = ['SR', 'BMC', 'PR', 'FACTORY', 'PXE', 'THERM_SR', 'THERM_PR', 'SDM', 'SR_TEST', 'BMC_FACTORY', 'PR_TEST', 'SR_CERT'];

/** The key a content type is signed with (database.py SIGN_SR / SIGN_BMC / SIGN_PR / SIGN_SDM permissions). */
export const contentTypeKeys: readonly ('SR' | 'BMC' | 'PR' | 'SDM')[] = ['SR', 'BMC', 'PR', 'SR', 'SR', 'SR', 'PR', 'SDM', 'SR', 'BMC', 'PR', 'SR'];

/** Block0 subtype byte: what the image does. */
export const Subtype = {
  UPDATE: 0,
  CANCELLATION: 1,
  ROOT_KEY_HASH_256: 2,
  ROOT_KEY_HASH_384: 3,
} as const;

export const subtypeNames: readonly string[] = ['update', 'cancellation', 'root key hash 256', 'root key hash 384'];

/**
 * Image type as the management API reports it: the block0 content type byte, named 0 FPGA, 1 BMC,
 * 2 GBS as the Cyborg-facing API (DPDK opae_api.h OPAE_IMG_TYPE_BBS/BMC/GBS) and from 3 on by
 * PACSign's names (database.py): 3 is FACTORY, not "PR" as an earlier reading of that API had it.
 */
export const imageTypeNames: readonly string[] = ['FPGA', 'BMC', 'GBS', ...contentTypePacsignNames.slice(3)];
