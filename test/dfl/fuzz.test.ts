import { describe, expect, it } from 'vitest';
import { target } from '../fuzz/dfl.fuzz.js';

describe('DFL walker fuzz (bounded)', () => {
  it('walks 3000 mutated and random lists with only typed errors and no hang', async () => {
    const stats = await target.fuzz({ cases: 3000, seed: 0x5eed });
    expect(stats.cases).toBe(3000);
    expect(stats.accepted + stats.typedErrors).toBe(3000);
    // Both outcomes are exercised: valid walks and several distinct guard codes.
    expect(stats.accepted).toBeGreaterThan(100);
    expect(Object.keys(stats.codes).length).toBeGreaterThan(5);
  });
});
