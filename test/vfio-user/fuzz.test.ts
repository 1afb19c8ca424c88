// Bounded run of the vfio-user fuzz target (the full run: npm run fuzz -- vfio-user --cases 100000).
import { describe, expect, it } from 'vitest';
import { fuzzDecoders, fuzzVfioUser } from '../fuzz/vfio-user.fuzz.js';

describe('vfio-user server fuzz (bounded)', () => {
  it('answers 3000 random and mutated messages with replies only, no crash, no fd leak', () => {
    const stats = fuzzVfioUser(3000, 1234);
    expect(stats.cases).toBe(3000);
    expect(stats.typedErrors).toBe(0);
  });
  it('with another seed', () => {
    expect(fuzzVfioUser(2000, 99).cases).toBe(2000);
  });
  it('decodes 5000 mutated server replies to a value or a typed error', () => {
    const stats = fuzzDecoders(5000, 7);
    expect(stats.cases).toBe(5000);
    expect(stats.typedErrors).toBeGreaterThan(0);
    expect(stats.accepted).toBeGreaterThan(0);
  });
});
