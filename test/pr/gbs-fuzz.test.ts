import { describe, expect, it } from 'vitest';
import { target } from '../fuzz/gbs.fuzz.js';

describe('GBS parser fuzz (bounded)', () => {
  it('parses or rejects 5000 mutated files with typed errors only', async () => {
    const stats = await target.fuzz({ cases: 5000, seed: 0x5eed });
    expect(stats.cases).toBe(5000);
    expect(stats.accepted + stats.typedErrors).toBe(5000);
    // Both outcomes are exercised: the mutators keep many files valid and break many others.
    expect(stats.accepted).toBeGreaterThan(100);
    expect(stats.typedErrors).toBeGreaterThan(100);
    expect(Object.keys(stats.codes).length).toBeGreaterThan(5);
  });
});
