// vfiokit shim: the per-word loops over mapped device memory (reference/js-mmio.md, DESIGN.md
// "The shim"). Plain C exported functions, loaded through koffi from the .node file.
// Every device access is a volatile load or store of exactly 32 or 64 bits at an aligned address.
// Offsets are byte offsets from `base` (checked by the TypeScript caller against the region size).
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define VK_EXPORT __attribute__((visibility("default")))

/* Below this, an interval is spent busy-waiting (like the kernel's udelay); above, in nanosleep. */
#define VK_SPIN_BELOW_NS 100000LL

static inline int64_t vk_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void vk_delay_ns(int64_t ns) {
  if (ns <= 0) return;
  if (ns < VK_SPIN_BELOW_NS) {
    int64_t until = vk_now_ns() + ns;
    while (vk_now_ns() < until) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    return;
  }
  struct timespec ts = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
  nanosleep(&ts, NULL);
}

#define RD32(base, off) (*(volatile const uint32_t *)((const uint8_t *)(base) + (off)))
#define RD64(base, off) (*(volatile const uint64_t *)((const uint8_t *)(base) + (off)))
#define WR32(base, off, v) (*(volatile uint32_t *)((uint8_t *)(base) + (off)) = (uint32_t)(v))
#define WR64(base, off, v) (*(volatile uint64_t *)((uint8_t *)(base) + (off)) = (uint64_t)(v))

/* One access per call: the "ffi-call" path of the benchmark, and a reference for tests. */
VK_EXPORT uint32_t vk_read32(const void *base, size_t off) { return RD32(base, off); }
VK_EXPORT uint64_t vk_read64(const void *base, size_t off) { return RD64(base, off); }
VK_EXPORT void vk_write32(void *base, size_t off, uint32_t v) { WR32(base, off, v); }
VK_EXPORT void vk_write64(void *base, size_t off, uint64_t v) { WR64(base, off, v); }

/*
 * Poll until (value & mask) == expected or the deadline (CLOCK_MONOTONIC, now + timeout_ns)
 * passes. Same order as the JS loop: read, test, check the deadline, wait interval_ns.
 * Stores the last value read in *last. Returns 1 when matched, 0 on timeout.
 */
VK_EXPORT int vk_poll32(const void *base, size_t off, uint32_t mask, uint32_t expected,
                        int64_t timeout_ns, int64_t interval_ns, uint32_t *last) {
  int64_t deadline = vk_now_ns() + timeout_ns;
  for (;;) {
    uint32_t v = RD32(base, off);
    if ((v & mask) == expected) { *last = v; return 1; }
    if (vk_now_ns() >= deadline) { *last = v; return 0; }
    vk_delay_ns(interval_ns);
  }
}

VK_EXPORT int vk_poll64(const void *base, size_t off, uint64_t mask, uint64_t expected,
                        int64_t timeout_ns, int64_t interval_ns, uint64_t *last) {
  int64_t deadline = vk_now_ns() + timeout_ns;
  for (;;) {
    uint64_t v = RD64(base, off);
    if ((v & mask) == expected) { *last = v; return 1; }
    if (vk_now_ns() >= deadline) { *last = v; return 0; }
    vk_delay_ns(interval_ns);
  }
}

/* Write count 64-bit words, in order, all to the same register offset. */
VK_EXPORT void vk_stream64(void *base, size_t off, const uint64_t *words, size_t count) {
  for (size_t i = 0; i < count; i++) WR64(base, off, words[i]);
}

/*
 * The credit-gated PR feed (reference/pr.md step 2; kernel drivers/fpga/dfl-fme-mgr.c
 * fme_mgr_write): read the credit field (status & credit_mask, shifted down) from the status
 * register; for each 32-bit word: while credits <= 1 re-read status every interval_ns, giving up
 * when one wait lasts longer than timeout_ns; write the word as a 64-bit store ([31:0], upper half
 * zero) to the data register; decrement the local credit count.
 * out[0] = last status read, out[1] = 1 when timed out. Returns the words written.
 */
VK_EXPORT size_t vk_credit_stream(void *base, size_t data_off, size_t status_off, uint64_t credit_mask,
                                  const uint32_t *words, size_t count, int64_t timeout_ns,
                                  int64_t interval_ns, uint64_t *out) {
  unsigned shift = credit_mask ? (unsigned)__builtin_ctzll(credit_mask) : 0;
  uint64_t status = RD64(base, status_off);
  uint64_t credits = (status & credit_mask) >> shift;
  size_t i = 0;
  out[1] = 0;
  for (; i < count; i++) {
    if (credits <= 1) {
      int64_t deadline = vk_now_ns() + timeout_ns;
      while (credits <= 1) {
        if (vk_now_ns() >= deadline) {
          out[0] = status;
          out[1] = 1;
          return i;
        }
        vk_delay_ns(interval_ns);
        status = RD64(base, status_off);
        credits = (status & credit_mask) >> shift;
      }
    }
    WR64(base, data_off, (uint64_t)words[i]);
    credits--;
  }
  out[0] = status;
  return i;
}

/* Block copies with 32- or 64-bit accesses only (never bytes on the device side). 0 = bad width. */
VK_EXPORT int vk_read_block(const void *base, size_t off, void *dst, size_t len, int width) {
  if (width == 4) {
    uint32_t *d = (uint32_t *)dst;
    for (size_t i = 0; i < len / 4; i++) {
      uint32_t v = RD32(base, off + i * 4);
      __builtin_memcpy(d + i, &v, 4);
    }
    return 1;
  }
  if (width == 8) {
    uint64_t *d = (uint64_t *)dst;
    for (size_t i = 0; i < len / 8; i++) {
      uint64_t v = RD64(base, off + i * 8);
      __builtin_memcpy(d + i, &v, 8);
    }
    return 1;
  }
  return 0;
}

VK_EXPORT int vk_write_block(void *base, size_t off, const void *src, size_t len, int width) {
  if (width == 4) {
    const uint8_t *s = (const uint8_t *)src;
    for (size_t i = 0; i < len / 4; i++) {
      uint32_t v;
      __builtin_memcpy(&v, s + i * 4, 4);
      WR32(base, off + i * 4, v);
    }
    return 1;
  }
  if (width == 8) {
    const uint8_t *s = (const uint8_t *)src;
    for (size_t i = 0; i < len / 8; i++) {
      uint64_t v;
      __builtin_memcpy(&v, s + i * 8, 8);
      WR64(base, off + i * 8, v);
    }
    return 1;
  }
  return 0;
}

/* Benchmark loops (benchmarks/mmio.ts "c-loop"): n accesses at one offset; reads return a sum. */
VK_EXPORT uint64_t vk_bench_read32(const void *base, size_t off, size_t n) {
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) sum += RD32(base, off);
  return sum;
}
VK_EXPORT uint64_t vk_bench_read64(const void *base, size_t off, size_t n) {
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) sum += RD64(base, off);
  return sum;
}
VK_EXPORT void vk_bench_write32(void *base, size_t off, size_t n) {
  for (size_t i = 0; i < n; i++) WR32(base, off, (uint32_t)i);
}
VK_EXPORT void vk_bench_write64(void *base, size_t off, size_t n) {
  for (size_t i = 0; i < n; i++) WR64(base, off, (uint64_t)i);
}
