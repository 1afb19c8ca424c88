// Reads are full width in optimized code: a hot loop of (r.read32(0) & 0xff) against a memfd
// region, with the other bytes changing every iteration, stays right once TurboFan has optimized
// it; the optimized code reaches the register through Atomics.load (the AtomicsLoad builtin, a
// full 32-bit load) and contains no narrowed (8/16-bit) indexed load. reference/js-mmio.md.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MappedRegion } from '../../src/mmio/mapped-region.js';

const fixture = fileURLToPath(new URL('./fixtures/full-width-hot.ts', import.meta.url));

/** The optimized-code listings (one string per TurboFan compilation) of the function `name`. */
function listings(out: string, name: string): string[] {
  const blocks = out.split('--- Optimized code ---').slice(1);
  return blocks.filter((b) => new RegExp(`^name = ${name}$`, 'm').test(b) && /^kind = TURBOFAN$/m.test(b));
}

describe('full-width reads in optimized code', () => {
  it('MappedRegion.read32/read64 use Atomics.load and plain stores (no DataView, no Atomics.store)', () => {
    const src = MappedRegion.toString();
    expect(MappedRegion.prototype.read32.toString()).toMatch(/Atomics\.load\(/);
    expect(MappedRegion.prototype.read64.toString()).toMatch(/Atomics\.load\(/);
    expect(src).not.toMatch(/Atomics\.store|DataView/);
  });

  it('a hot (read32 & 0xff) loop stays right and compiles to a full-width load', () => {
    // Tiering runs concurrently, so which function gets optimized in a given run varies: retry a
    // few runs until TurboFan code for the loop (or for read32 itself) is printed.
    let atomicsSeen = false;
    for (let attempt = 0; attempt < 3 && !atomicsSeen; attempt++) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--print-opt-code', fixture], {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        timeout: 60_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
      expect(line).toBeDefined();
      const result = JSON.parse(line!.slice(7)) as { wrongRegion: number; wrongPlain: number; full: number };
      expect(result.wrongRegion).toBe(0);
      expect(result.wrongPlain).toBe(0);
      expect(result.full).toBe(0x44332211);

      // read32 is inlined into the loop or optimized on its own; either way the register load is
      // the AtomicsLoad builtin (a full-width load).
      const code = [...listings(r.stdout, 'hotRegion'), ...listings(r.stdout, 'read32')];
      atomicsSeen = code.some((c) => /\(AtomicsLoad\)/.test(c));
      // No 8/16-bit load with an index register anywhere in that optimized code (what a narrowed
      // `u32[i] & 0xff` compiles to: testb [base+index*4],0xff or movzxbl reg,[...]).
      const narrowed = code.flatMap((c) => c.split('\n')).filter((l) => /\b(movzx[bw][lq]|movsx[bw][lq]|testb|testw|cmpb|cmpw)\s+[^;]*\[[^\]]*\*[1248]/.test(l));
      expect(narrowed).toEqual([]);
    }
    expect(atomicsSeen, 'TurboFan code of the loop or of read32 calls AtomicsLoad').toBe(true);
  }, 90_000);
});
