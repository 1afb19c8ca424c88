// A deterministic pseudo-random byte pattern (xorshift32), so a payload that went through a flow
// (PR bitstream, staged flash image, DMA copy) can be compared byte for byte. Tests, benchmarks,
// the demo and the sim's fixture builders share it.

/** `length` bytes of the xorshift32 stream seeded by `seed` (the same seed gives the same bytes). */
export function patternPayload(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 0x9e3779b1) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
