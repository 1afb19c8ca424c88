import { describe, expect, it } from 'vitest';
import { target } from '../fuzz/config.fuzz.js';

describe('configuration parser fuzz (bounded)', () => {
  it('parses or rejects 4000 mutated configuration files with typed errors only', async () => {
    const stats = await target.fuzz({ cases: 4000, seed: 0xc0f1 });
    expect(stats.cases).toBe(4000);
    expect(stats.accepted + stats.typedErrors).toBe(4000);
    expect(stats.accepted).toBeGreaterThan(100);
    expect(stats.typedErrors).toBeGreaterThan(100);
    expect(stats.codes.ECONFIG_JSON).toBeGreaterThan(100);
    expect(stats.codes.ECONFIG_SHAPE).toBeGreaterThan(10);
  });
});
