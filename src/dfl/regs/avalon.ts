// The byte codes of the SPI slave to Avalon-MM master bridge protocol inside the MAX10 BMC, written
// once for both ends: the host codec (src/afu/bmc/avalon.ts) and the bridge model (src/sim/bmc/
// avalon-bridge.ts). drivers/base/regmap/regmap-spi-avmm.c; reference/secure-update.md
// "Transport to the BMC". Three layers:
//   transaction: 8-byte request header {u8 code, u8 rsvd, be16 size, be32 address} + LE data;
//                a write answers a 4-byte header {code | 0x80, rsvd, be16 size}, a read answers data.
//   packet:      SOP, CHANNEL, channel 0, bytes, EOP placed before the LAST byte; SOP/EOP/CHANNEL/
//                ESC bytes escaped as ESC, byte ^ 0x20.
//   phy:         PHY_IDLE (0x4a) fills gaps and is dropped by the receiver; IDLE and PHY_ESC bytes
//                of the packet are escaped as PHY_ESC, byte ^ 0x20.

// Avalon-ST packet layer (regmap-spi-avmm.c PKT_SOP / PKT_EOP / PKT_CHANNEL / PKT_ESC).
export const PKT_SOP = 0x7a;
export const PKT_EOP = 0x7b;
export const PKT_CHANNEL = 0x7c;
export const PKT_ESC = 0x7d;
// Avalon-ST phy layer (PHY_IDLE / PHY_ESC).
export const PHY_IDLE = 0x4a;
export const PHY_ESC = 0x4d;
/** An escaped byte is sent as its escape code, then the byte XOR 0x20 (both layers). */
export const ESC_XOR = 0x20;

// Avalon-MM transaction codes (SPI_AVMM_XFER_*).
export const TRANS_CODE_WRITE = 0x00;
export const TRANS_CODE_SEQ_WRITE = 0x04;
export const TRANS_CODE_READ = 0x10;
export const TRANS_CODE_SEQ_READ = 0x14;
export const TRANS_CODE_NO_TRANS = 0x7f;
/** A response header carries the request code with this bit set. */
export const TRANS_RESP_FLAG = 0x80;

/** Request header: {code, rsvd, be16 size, be32 address}. */
export const TRANS_REQ_HEADER_SIZE = 8;
/** Write response header: {code | 0x80, rsvd, be16 size}. */
export const TRANS_RESP_HEADER_SIZE = 4;
/** At most 1,024 data bytes per transaction (regmap-spi-avmm: 256 words). */
export const MAX_TRANS_DATA = 1024;
/**
 * regmap-spi-avmm MAX_READ_CNT / MAX_WRITE_CNT: the slave takes at most 256 words per read and ONE
 * word per write transaction (max_raw_write = 4 bytes). The sim's bridge refuses longer writes.
 */
export const MAX_READ_WORDS = 256;
export const MAX_WRITE_WORDS = 1;
/** regmap-spi-avmm SPI_AVMM_XFER_TIMEOUT: the host gives up after 200 ms of idle words (plus one last try). */
export const SPI_AVMM_XFER_TIMEOUT_MS = 200;
