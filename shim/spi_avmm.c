// vfiokit shim: SPI-AVMM byte loops for the MAX10 BMC (src/afu/bmc/avalon.ts has the JS
// fallbacks with the same contracts; test/bmc/avalon-native.test.ts compares them).
//  - vk_avmm_packetize / vk_avmm_depacketize: Avalon-ST packet + phy layer encoding and decoding
//    (drivers/base/regmap/regmap-spi-avmm.c protocol).
//  - vk_avmm_transact: one whole transaction over a MAPPED FME feature 0xE: chip select, every
//    TX word through the Altera SPI master's indirect window (spi-altera-dfl.c), then RX words
//    decoded until the packet ends, chip select released. One FFI call per transaction.
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define VK_EXPORT __attribute__((visibility("default")))

#define PKT_SOP 0x7a
#define PKT_EOP 0x7b
#define PKT_CHANNEL 0x7c
#define PKT_ESC 0x7d
#define PHY_IDLE 0x4a
#define PHY_ESC 0x4d

#define DECODE_MORE (-1)
#define DECODE_BAD_SPECIAL (-2)
#define DECODE_BAD_CHANNEL (-3)
#define DECODE_OVERFLOW (-4)
#define XFER_INDIRECT_TIMEOUT (-5)
#define XFER_RRDY_TIMEOUT (-6)
#define XFER_IDLE_TIMEOUT (-7)
#define XFER_BAD_ARGS (-8)

#define F_STARTED 1
#define F_EOP 2
#define F_CHANNEL 4
#define F_ESC 8

/* Feature 0xE indirect window (spi-altera-dfl.c) and Altera SPI master registers (spi-altera-core.c). */
#define IND_ADDR 0x10
#define IND_RD_DATA 0x18
#define IND_WR_DATA 0x20
#define IND_WR (1ULL << 8)
#define IND_RD (1ULL << 9)
#define REG_RXDATA 0x0
#define REG_TXDATA 0x4
#define REG_STATUS 0x8
#define REG_CONTROL 0xc
#define REG_SLAVE_SEL 0x14
#define STATUS_RRDY 0x80
#define CONTROL_SSO 0x400
#define INDIRECT_TIMEOUT_POLLS 10000
#define RRDY_TIMEOUT_POLLS 10000
#define XFER_TIMEOUT_NS (200LL * 1000 * 1000) /* SPI_AVMM_XFER_TIMEOUT */

#define RD64(base, off) (*(volatile const uint64_t *)((const uint8_t *)(base) + (off)))
#define WR64(base, off, v) (*(volatile uint64_t *)((uint8_t *)(base) + (off)) = (uint64_t)(v))

static int special_kind(uint8_t b) {
  if (b == PKT_SOP || b == PKT_EOP || b == PKT_CHANNEL || b == PKT_ESC) return 1;
  if (b == PHY_IDLE || b == PHY_ESC) return 2;
  return 0;
}

VK_EXPORT int vk_avmm_packetize(const uint8_t *trans, int trans_len, uint8_t *phy, int cap, int word_len) {
  if (trans_len <= 0 || cap < 4) return -1;
  int p = 0, eop_at = -1;
  phy[p++] = PKT_SOP;
  phy[p++] = PKT_CHANNEL;
  phy[p++] = 0;
  for (int t = 0; t < trans_len; t++) {
    if (t == trans_len - 1) {
      if (p >= cap) return -1;
      eop_at = p;
      phy[p++] = PKT_EOP;
    }
    uint8_t b = trans[t];
    int kind = special_kind(b);
    if (kind) {
      if (p + 2 > cap) return -1;
      phy[p++] = kind == 1 ? PKT_ESC : PHY_ESC;
      phy[p++] = b ^ 0x20;
    } else {
      if (p >= cap) return -1;
      phy[p++] = b;
    }
  }
  if (word_len <= 1) return p;
  int aligned = (p + word_len - 1) / word_len * word_len;
  if (aligned > cap) return -1;
  if (aligned == p) return p;
  int move = p - eop_at;
  memmove(phy + aligned - move, phy + eop_at, (size_t)move);
  memset(phy + eop_at, PHY_IDLE, (size_t)(aligned - move - eop_at));
  return aligned;
}

VK_EXPORT int vk_avmm_depacketize(const uint8_t *phy, int len, int32_t *state, uint8_t *out, int cap, int32_t *consumed) {
  int n = state[0], flags = state[1], result = DECODE_MORE, i = 0;
  for (; i < len; i++) {
    uint8_t b = phy[i];
    if (!(flags & F_STARTED) && b != PKT_SOP) continue;
    if (b == PHY_IDLE) continue;
    if (flags & F_CHANNEL) {
      if (b != 0) { result = DECODE_BAD_CHANNEL; i++; break; }
      flags &= ~F_CHANNEL;
      continue;
    }
    if (b == PKT_SOP) { n = 0; flags = F_STARTED; continue; }
    if (b == PKT_EOP) {
      if (flags & (F_ESC | F_EOP)) { result = DECODE_BAD_SPECIAL; i++; break; }
      flags |= F_EOP;
      continue;
    }
    if (b == PKT_CHANNEL) {
      if (flags & (F_ESC | F_EOP)) { result = DECODE_BAD_SPECIAL; i++; break; }
      flags |= F_CHANNEL;
      continue;
    }
    if (b == PKT_ESC || b == PHY_ESC) {
      if (flags & F_ESC) { result = DECODE_BAD_SPECIAL; i++; break; }
      flags |= F_ESC;
      continue;
    }
    if (n >= cap) { result = DECODE_OVERFLOW; i++; break; }
    if (flags & F_ESC) { out[n++] = b ^ 0x20; flags &= ~F_ESC; }
    else out[n++] = b;
    if (flags & F_EOP) { result = n; i++; break; }
  }
  *consumed = i;
  if (result == DECODE_MORE) { state[0] = n; state[1] = flags; }
  else { state[0] = 0; state[1] = 0; }
  return result;
}

static int wait_indirect(volatile uint8_t *f, uint64_t bit) {
  for (int i = 0; i < INDIRECT_TIMEOUT_POLLS; i++)
    if (!(RD64(f, IND_ADDR) & bit)) return 0;
  return XFER_INDIRECT_TIMEOUT;
}

static int spi_write_reg(volatile uint8_t *f, uint32_t reg, uint32_t v) {
  WR64(f, IND_WR_DATA, v);
  WR64(f, IND_ADDR, (uint64_t)(reg >> 2) | IND_WR);
  return wait_indirect(f, IND_WR);
}

static int spi_read_reg(volatile uint8_t *f, uint32_t reg, uint32_t *v) {
  WR64(f, IND_ADDR, (uint64_t)(reg >> 2) | IND_RD);
  int r = wait_indirect(f, IND_RD);
  if (r) return r;
  *v = (uint32_t)RD64(f, IND_RD_DATA);
  return 0;
}

static int spi_txrx(volatile uint8_t *f, uint32_t tx, uint32_t *rx) {
  int r = spi_write_reg(f, REG_TXDATA, tx);
  if (r) return r;
  for (int i = 0; i < RRDY_TIMEOUT_POLLS; i++) {
    uint32_t st;
    if ((r = spi_read_reg(f, REG_STATUS, &st))) return r;
    if (st & STATUS_RRDY) return spi_read_reg(f, REG_RXDATA, rx);
  }
  return XFER_RRDY_TIMEOUT;
}

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * Transmit phy[0..phy_len) (a multiple of 4, first byte in [31:24] of each word) on chip select
 * `cs` of the SPI master whose feature header is at base + feat_off, then clock in words and
 * decode the answer into out[0..cap). Returns the answer's length, or a negative code above.
 * counters[0] += SPI words exchanged.
 */
VK_EXPORT int vk_avmm_transact(void *base, size_t feat_off, int cs, const uint8_t *phy, int phy_len, uint8_t *out, int cap, int max_idle_words, uint64_t *counters) {
  if (!base || phy_len <= 0 || (phy_len & 3) || cap <= 0) return XFER_BAD_ARGS;
  volatile uint8_t *f = (volatile uint8_t *)base + feat_off;
  int r, result;
  uint64_t words = 0;
  if ((r = spi_write_reg(f, REG_SLAVE_SEL, 1u << cs)) || (r = spi_write_reg(f, REG_CONTROL, CONTROL_SSO))) return r;
  for (int i = 0; i < phy_len; i += 4) {
    uint32_t w = ((uint32_t)phy[i] << 24) | ((uint32_t)phy[i + 1] << 16) | ((uint32_t)phy[i + 2] << 8) | phy[i + 3], rx;
    if ((r = spi_txrx(f, w, &rx))) { result = r; goto release; }
    words++;
  }
  {
    int32_t state[2] = { 0, 0 }, consumed = 0;
    int idle = 0;
    int64_t deadline = now_ns() + XFER_TIMEOUT_NS;
    for (;;) {
      uint32_t w;
      uint8_t b[4];
      if ((r = spi_txrx(f, 0, &w))) { result = r; goto release; }
      words++;
      b[0] = (uint8_t)(w >> 24); b[1] = (uint8_t)(w >> 16); b[2] = (uint8_t)(w >> 8); b[3] = (uint8_t)w;
      int32_t before = state[0] | state[1];
      r = vk_avmm_depacketize(b, 4, state, out, cap, &consumed);
      if (r != DECODE_MORE) { result = r; goto release; }
      if ((state[0] | state[1]) != before) { idle = 0; deadline = now_ns() + XFER_TIMEOUT_NS; continue; }
      if (++idle >= max_idle_words || now_ns() > deadline) { result = XFER_IDLE_TIMEOUT; goto release; }
    }
  }
release:
  r = spi_write_reg(f, REG_CONTROL, 0);
  if (!r) r = spi_write_reg(f, REG_SLAVE_SEL, 0);
  if (counters) counters[0] += words;
  return r && result >= 0 ? r : result;
}
