// The shim's C under AddressSanitizer and UndefinedBehaviorSanitizer (scripts/sanitize-shim.sh):
// the shim sources compiled into this program with -fsanitize=address,undefined, driven with
// seeded random inputs into buffers allocated to their exact size, so any write or read past an
// end, and any undefined arithmetic, aborts the run. Prints one count line per group and
// "N passed, N failed" at the end.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../../shim/mmio.c"
#include "../../../shim/spi_avmm.c"
#include "../../../shim/guarded_copy.c"
#include "../../../shim/mmio512.c"

#define MAX_TRANS 1024 /* src/dfl/regs/avalon.ts MAX_TRANS_DATA */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)rng_state;
}
static const uint8_t specials[] = { 0x7a, 0x7b, 0x7c, 0x7d, 0x4a, 0x4d, 0x00 };
static uint8_t rnd_byte(void) { return (rnd() % 5 == 0) ? specials[rnd() % sizeof specials] : (uint8_t)rnd(); }

static int passed, failed;
static void check(int ok, const char *what, int n) {
  if (ok) passed++;
  else { failed++; fprintf(stderr, "FAIL %s (case %d)\n", what, n); }
}

/* Random phy streams (up to 3 KiB, past the 1 KiB answer limit) in chunks: the decoder never writes
 * past `out` (exactly MAX_TRANS bytes from malloc) and never reports more than it holds. */
static void depacketize_cases(int cases) {
  for (int c = 0; c < cases; c++) {
    int len = (int)(rnd() % 3072);
    uint8_t *phy = malloc(len ? (size_t)len : 1);
    for (int i = 0; i < len; i++) phy[i] = rnd_byte();
    if (len > 3 && rnd() % 2) { phy[0] = 0x7a; phy[1] = 0x7c; phy[2] = 0; } /* a plausible start */
    if (c % 4 == 0 && len > MAX_TRANS + 8) {
      /* An answer longer than the limit: plain data bytes from SOP to a late EOP. */
      for (int i = 3; i < len; i++) if (special_kind(phy[i])) phy[i] = 0x30;
      phy[len - 2] = 0x7b;
    }
    uint8_t *out = malloc(MAX_TRANS);
    int32_t state[2] = { 0, 0 }, consumed = 0;
    int at = 0, ok = 1;
    while (at < len) {
      int chunk = 1 + (int)(rnd() % 8);
      if (chunk > len - at) chunk = len - at;
      int r = vk_avmm_depacketize(phy + at, chunk, state, out, MAX_TRANS, &consumed);
      if (consumed <= 0 || consumed > chunk) { ok = 0; break; }
      at += consumed;
      if (r >= 0 && r > MAX_TRANS) { ok = 0; break; }
      if (r != -1 /* DECODE_MORE */) { state[0] = state[1] = 0; }
    }
    check(ok, "depacketize", c);
    free(out);
    free(phy);
  }
}

/* Random transactions through packetize (into a buffer of exactly the worst-case size) and back. */
static void roundtrip_cases(int cases) {
  for (int c = 0; c < cases; c++) {
    int len = 1 + (int)(rnd() % MAX_TRANS);
    uint8_t *trans = malloc((size_t)len);
    for (int i = 0; i < len; i++) trans[i] = rnd_byte();
    int cap = (2 * len + 3 + 4 + 3) & ~3;
    uint8_t *phy = malloc((size_t)cap);
    int n = vk_avmm_packetize(trans, len, phy, cap, 4);
    uint8_t *out = malloc(MAX_TRANS);
    int32_t state[2] = { 0, 0 }, consumed = 0;
    int r = n > 0 ? vk_avmm_depacketize(phy, n, state, out, MAX_TRANS, &consumed) : -99;
    check(n > 0 && n % 4 == 0 && r == len && memcmp(out, trans, (size_t)len) == 0, "packetize round trip", c);
    free(out);
    free(phy);
    free(trans);
  }
}

/* Block copies between a "BAR" and host memory, both allocated to their exact size. */
static void block_cases(int cases) {
  for (int c = 0; c < cases; c++) {
    size_t bar_len = 8 * (1 + rnd() % 512);
    uint64_t *bar = malloc(bar_len);
    memset(bar, 0x5a, bar_len);
    int width = rnd() % 2 ? 4 : 8;
    size_t off = (rnd() % (bar_len / width)) * width;
    size_t len = ((rnd() % ((bar_len - off) / width + 1))) * width;
    uint8_t *host = malloc(len ? len : 1);
    int ok = vk_read_block(bar, off, host, len, width) == 1;
    ok = ok && vk_write_block(bar, off, host, len, width) == 1;
    check(ok, "read/write block", c);
    free(host);
    free(bar);
  }
}

/* 512-bit writes into a 64-byte aligned "BAR" of exact size, from a source at any byte offset of
 * an exact-size buffer, both store paths: the 64 bytes land, nothing outside them is touched. */
static void write512_cases(int cases) {
  for (int c = 0; c < cases; c++) {
    size_t lines = 1 + rnd() % 64;
    uint8_t *bar = aligned_alloc(64, lines * 64);
    memset(bar, 0x5a, lines * 64);
    size_t off = (rnd() % lines) * 64;
    size_t skew = rnd() % 64;
    uint8_t *src = malloc(64 + skew);
    for (size_t i = 0; i < 64 + skew; i++) src[i] = (uint8_t)rnd();
    int allow = (int)(rnd() % 2);
    int r = vk_write512(bar, off, src + skew, allow);
    int ok = (r == 512 && allow && vk_has_avx512()) || (r == 64 && !(allow && vk_has_avx512()));
    ok = ok && memcmp(bar + off, src + skew, 64) == 0;
    for (size_t i = 0; ok && i < lines * 64; i++) if ((i < off || i >= off + 64) && bar[i] != 0x5a) ok = 0;
    check(ok, "write512", c);
    free(src);
    free(bar);
  }
}

/* The SIGBUS guard: a copy from a memfd truncated under its mapping fails instead of killing us. */
static void guarded_cases(void) {
  int fd = memfd_create("sanitize", 0);
  size_t size = 16384;
  check(fd >= 0 && ftruncate(fd, (off_t)size) == 0, "memfd", 0);
  uint8_t *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  uint8_t *dst = malloc(size);
  check(m != MAP_FAILED && vk_copy_guarded(dst, m, size) == (int64_t)size, "guarded copy", 0);
  check(ftruncate(fd, 0) == 0 && vk_copy_guarded(dst, m, size) == -1, "guarded copy after truncate", 1);
  check(vk_copy_guarded(dst, dst + 8192, 16) == 16, "guarded copy after a fault", 2);
  munmap(m, size);
  close(fd);
  free(dst);
}

int main(int argc, char **argv) {
  int cases = argc > 1 ? atoi(argv[1]) : 20000;
  if (argc > 2) rng_state ^= strtoull(argv[2], NULL, 0);
  depacketize_cases(cases);
  roundtrip_cases(cases / 10);
  block_cases(cases / 10);
  write512_cases(cases / 10);
  guarded_cases();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
