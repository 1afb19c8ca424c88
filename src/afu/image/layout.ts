// PACSign signed image layout (reference/secure-update.md "Signed image (PACSign) layout"; OPAE
// PACSign; DPDK drivers/raw/ifpga/base/ifpga_api opae_api.h OPAE_IMG_*). All fields little endian.

/** Block0: 128 bytes at offset 0. */
export const BLOCK0_OFFSET = 0;
export const BLOCK0_SIZE = 128;
export const BLOCK0_MAGIC = 0xb6eafd19;
export const B0_MAGIC = 0x00; // u32
export const B0_PAYLOAD_LENGTH = 0x04; // u32
export const B0_CONTENT_TYPE = 0x08; // u8
export const B0_SUBTYPE = 0x09; // u8
export const B0_SLOT = 0x0a; // u8
export const B0_SHA256 = 0x10; // 32 bytes
export const B0_SHA384 = 0x30; // 48 bytes
export const B0_VERSION = 0x60; // 32 bytes, zero padded
export const SHA256_BYTES = 32;
export const SHA384_BYTES = 48;
export const VERSION_BYTES = 32;

/** Block1: 896 bytes at 0x80 (signature chain). Entry offsets are relative to block1. */
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

/** The payload follows the two blocks. */
export const PAYLOAD_OFFSET = BLOCK0_SIZE + BLOCK1_SIZE; // 1024
/** DPDK OPAE_IMG_PL_MIN_SIZE: a payload is at least 128 bytes, so a file is at least 1,152. */
export const PAYLOAD_MIN_SIZE = 128;
export const MIN_IMAGE_SIZE = PAYLOAD_OFFSET + PAYLOAD_MIN_SIZE;

/** Block0 content type byte (PACSign). */
export const ContentType = {
  STATIC_REGION: 0,
  BMC: 1,
  PR: 2,
  FACTORY: 3,
  PXE: 4,
  THERMAL_SR: 5,
  THERMAL_PR: 6,
  SDM: 7,
} as const;

export const contentTypeNames: readonly string[] = ['static region (FPGA/BBS)', 'BMC', 'PR (GBS)', 'factory', 'PXE', 'thermal SR', 'thermal PR', 'SDM'];

/** Block0 subtype byte: what the image does. */
export const Subtype = {
  UPDATE: 0,
  CANCELLATION: 1,
  ROOT_KEY_HASH_256: 2,
  ROOT_KEY_HASH_384: 3,
} as const;

export const subtypeNames: readonly string[] = ['update', 'cancellation', 'root key hash 256', 'root key hash 384'];

/** Image type as the management API reports it (Cyborg-facing seed API: type 0 FPGA, 1 BMC, 2 GBS, 3 PR). */
export const imageTypeNames: readonly string[] = ['FPGA', 'BMC', 'GBS', 'PR'];
