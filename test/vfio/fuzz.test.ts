import { describe, expect, it } from 'vitest';
import { fuzzVfioInfo } from '../fuzz/vfio-info.fuzz.js';

describe('VFIO info parsers under fuzzing (bounded run)', () => {
  it('5000 mutated and random buffers: no untyped exception, invariants hold', () => {
    const stats = fuzzVfioInfo(5000, 1234);
    expect(stats.cases).toBe(5000);
    expect(stats.accepted + stats.typedErrors).toBe(5000);
  });
});
