// vfiokit shim: 512-bit MMIO writes (OPAE fpgaWriteMMIO512). OPAE's plugins (libraries/plugins/
// xfpga/mmio.c, vfio/opae_vfio.c, uio/opae_uio.c: copy512) store the 64 bytes with one
// vmovdqu64 through zmm0, so the CPU issues one 64-byte write (one PCIe TLP on write-combining or
// uncached BARs that allow it); without AVX-512 they return FPGA_NOT_SUPPORTED. vfiokit falls back
// to eight 64-bit stores in ascending address order instead (eight TLPs: a device that needs the
// 64 bytes in one transaction sees the same data, but not atomically).
//
// The AVX-512 code is compiled through a target attribute, so this file builds without
// -mavx512f; the instruction only runs when the CPU says it has AVX-512F (__builtin_cpu_supports).
#include <stddef.h>
#include <stdint.h>

#define VK_EXPORT __attribute__((visibility("default")))

#if defined(__x86_64__)
#include <immintrin.h>

/* One 64-byte store: load the source (any alignment) into a zmm register, then a single
 * vmovdqu64 to the device address (64-byte aligned, checked by the caller). asm volatile so the
 * compiler can neither split, merge nor drop the store. */
__attribute__((target("avx512f"))) static void vk_store512(void *dst, const void *src) {
  __m512i v = _mm512_loadu_si512(src);
  __asm__ volatile("vmovdqu64 %1, (%0)" : : "r"(dst), "v"(v) : "memory");
}

static int vk_cpu_avx512(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") ? 1 : 0;
}
#else
static void vk_store512(void *dst, const void *src) { (void)dst; (void)src; }
static int vk_cpu_avx512(void) { return 0; }
#endif

/* 1 when this CPU can do the 64-byte store (AVX-512F), else 0. */
VK_EXPORT int vk_has_avx512(void) { return vk_cpu_avx512(); }

/*
 * Write 64 bytes from src to base+off (off a multiple of 64, checked by the caller). With
 * allow_avx512 and a CPU that has AVX-512F: one 512-bit store; else eight 64-bit volatile stores,
 * lowest address first. Returns 512 for the single store, 64 for the fallback.
 */
VK_EXPORT int vk_write512(void *base, size_t off, const void *src, int allow_avx512) {
  uint8_t *dst = (uint8_t *)base + off;
  if (allow_avx512 && vk_cpu_avx512()) {
    vk_store512(dst, src);
    return 512;
  }
  const uint8_t *s = (const uint8_t *)src;
  for (int i = 0; i < 8; i++) {
    uint64_t v;
    __builtin_memcpy(&v, s + i * 8, 8);
    *(volatile uint64_t *)(dst + i * 8) = v;
  }
  return 64;
}
