// The MMIO benchmark core (src/bench/mmio.ts) and `vfiokit bench mmio`: all three paths on a
// mapped region, the shim paths skipped with the reason on a trapped one, percentiles and
// histograms consistent, a register left as found after --write.
import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { memfdRegion } from '../mmio/helpers.js';
import { benchMmio, latencyStats } from '../../src/bench/mmio.js';
import { TrappedRegion } from '../../src/mmio/trapped-region.js';
import { shim } from '../../src/sys/shim.js';

const root = resolve(__dirname, '../..');
const live: { dispose(): void }[] = [];
afterEach(() => {
  while (live.length) live.pop()!.dispose();
});

describe('benchMmio', () => {
  it('measures region, c-loop and ffi-call on a mapping and leaves the register as it was', () => {
    const m = memfdRegion('bench BAR', 4096);
    live.push(m);
    m.region.write64(0x40, 0x1122334455667788n);
    const rows = benchMmio(m.region, { offset: 0x40, writes: true, durationMs: 10 });
    expect(rows.map((r) => `${r.op}/${r.path}`)).toEqual(['read32', 'read64', 'write32', 'write64'].flatMap((op) => ['region', 'c-loop', 'ffi-call'].map((p) => `${op}/${p}`)));
    for (const r of rows) {
      if (r.path !== 'region' && !shim()) {
        expect(r.skipped).toMatch(/shim is not built/);
        continue;
      }
      const l = r.latency!;
      expect(l.p50).toBeGreaterThan(0);
      expect(l.p50).toBeLessThanOrEqual(l.p99);
      expect(l.p99).toBeLessThanOrEqual(l.p999);
      expect(l.min).toBeLessThanOrEqual(l.p50);
      expect(l.histogram.reduce((n, b) => n + b.count, 0)).toBe(l.samples);
      expect(r.bytesPerSec).toBeCloseTo(r.opsPerSec! * (r.op.endsWith('64') ? 8 : 4), 0);
    }
    expect(m.region.read64(0x40)).toBe(0x1122334455667788n);
  });

  it('skips the shim paths on a trapped region, saying why, and refuses a bad offset', () => {
    let reads = 0;
    const region = new TrappedRegion('model BAR', 4096, { read32: () => ++reads, read64: () => BigInt(++reads), write32: () => {}, write64: () => {} });
    const rows = benchMmio(region, { durationMs: 5 });
    expect(rows.filter((r) => r.latency).map((r) => r.path)).toEqual(['region', 'region']);
    expect(rows.find((r) => r.path === 'c-loop')!.skipped).toMatch(/model BAR is trapped/);
    expect(reads).toBeGreaterThan(100);
    expect(() => benchMmio(region, { offset: 4 })).toThrow(expect.objectContaining({ code: 'EBENCH_OFFSET' }) as Error);
    expect(() => benchMmio(region, { offset: 4096 })).toThrow(/inside the region/);
  });

  it('computes percentiles over the samples and log2 histogram buckets', () => {
    const s = latencyStats(Float64Array.from({ length: 1000 }, (_, i) => (i === 999 ? 5000 : 100 + (i % 10))), 4);
    expect(s).toMatchObject({ p50: 105, p99: 109, p999: 5000, min: 100, max: 5000, samples: 1000, batch: 4 });
    expect(s.histogram).toEqual([{ lowNs: 64, count: 999 }, { lowNs: 4096, count: 1 }]);
  });
});

describe('vfiokit bench mmio (spawned)', () => {
  it('prints JSON rows for the sim, and a table with a histogram', () => {
    const vfiokit = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/vfiokit.js'), ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, DEBUG: '' }, timeout: 60_000 });
    const run = (args: string[]) => vfiokit(['bench', 'mmio', ...args]);
    const json = run(['sim:n3000', '--offset', '0x60100', '--write', '--ms', '5', '--json']);
    expect(json.stderr).toBe('');
    const out = JSON.parse(json.stdout) as { device: string; regionKind: string; rows: { path: string; op: string; latency?: { p50: number } }[] };
    expect(out).toMatchObject({ device: 'sim:n3000', regionKind: 'trapped' });
    expect(out.rows.filter((r) => r.latency).map((r) => r.op)).toEqual(['read32', 'read64', 'write32', 'write64']);
    const text = run(['sim:n3000', '--ms', '5']);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^op +path +p50 +p99 +p999 +throughput/m);
    expect(text.stdout).toMatch(/read64 region \(\d+ samples of \d+\)\n +per access +share/);
    expect(run(['sim:n3000', '--offset', '0x3']).status).toBe(2);
    expect(vfiokit(['bench', 'pr', 'sim:n3000']).stderr).toMatch(/not "pr"; the development benchmarks are npm run bench/);
  });
});
