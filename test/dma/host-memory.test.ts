import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allocateHostMemory, BASE_PAGE_SIZE } from '../../src/dma/host-memory.js';
import { autoHugePageSize, hugePagePools, HUGE_PAGE_BYTES } from '../../src/dma/hugepages.js';
import { DmaError } from '../../src/dma/errors.js';
import { ArgumentError } from '../../src/errors.js';
import { fdIsOpen } from './fd.js';
import { shim } from '../../src/sys/shim.js';
import { skipUnlessCi } from '../helpers/skip-unless-ci.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vfiokit-hp-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function fakePool(root: string, kb: number, counts: Record<string, number>): void {
  const dir = path.join(root, 'kernel/mm/hugepages', `hugepages-${kb}kB`);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['nr_hugepages', 'free_hugepages', 'resv_hugepages', 'surplus_hugepages', 'nr_overcommit_hugepages']) {
    fs.writeFileSync(path.join(dir, f), `${counts[f] ?? 0}\n`);
  }
}

describe('allocateHostMemory', () => {
  it('maps a memfd: bytes written through the view are in the fd, size rounds to 4 KiB pages', () => {
    using mem = allocateHostMemory(5000, { name: 'vfiokit-test' });
    expect(mem.size).toBe(8192);
    expect(mem.requestedSize).toBe(5000);
    expect(mem.pageSize).toBe(BASE_PAGE_SIZE);
    expect(mem.hugePages).toBeUndefined();
    expect(mem.fdOffset).toBe(0);
    expect(mem.address % 4096n).toBe(0n);
    expect(mem.bytes.length).toBe(8192);
    mem.bytes.set([1, 2, 3, 4], 4096);
    const back = Buffer.alloc(4);
    fs.readSync(mem.fd, back, 0, 4, 4096);
    expect([...back]).toEqual([1, 2, 3, 4]);
    // And the other way: a write to the fd shows in the mapping (same pages, MAP_SHARED).
    fs.writeSync(mem.fd, Buffer.from([0xaa]), 0, 1, 8191);
    expect(mem.bytes[8191]).toBe(0xaa);
    expect(fs.readlinkSync(`/proc/self/fd/${mem.fd}`)).toContain('memfd:vfiokit-test');
  });

  it('close releases the fd, empties bytes, and a stale view reads zeroes instead of faulting', () => {
    const mem = allocateHostMemory(4096);
    const stale = mem.bytes;
    stale.fill(0x5a);
    const fd = mem.fd;
    mem.close();
    mem.close();
    expect(mem.closed).toBe(true);
    expect(mem.bytes.length).toBe(0);
    expect(fdIsOpen(fd)).toBe(false);
    expect(stale[0]).toBe(0);
    expect(stale[4095]).toBe(0);
  });

  it('rejects bad sizes with typed errors', () => {
    expect(() => allocateHostMemory(0)).toThrow(ArgumentError);
    expect(() => allocateHostMemory(-1)).toThrow(ArgumentError);
    expect(() => allocateHostMemory(1.5)).toThrow(ArgumentError);
    expect(() => allocateHostMemory(2 ** 40)).toThrow(/largest JS view/);
  });

  it('rejects a huge page size the kernel lacks, or a pool without free pages, saying what to write', () => {
    const root = path.join(tmp, 'nopool');
    fakePool(root, 2048, { nr_hugepages: 1, free_hugepages: 1 });
    expect(() => allocateHostMemory(4096, { hugePages: '1G', sysfsRoot: root })).toThrow(/no 1G huge page pool/);
    try {
      allocateHostMemory(3 * 1024 * 1024, { hugePages: '2M', sysfsRoot: root });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DmaError);
      expect((e as DmaError).code).toBe('EDMA_HUGEPAGES_EXHAUSTED');
      expect((e as Error).message).toContain(`echo 2 > ${root}/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages`);
    }
    expect(() => allocateHostMemory(4096, { hugePages: '4M' as '2M' })).toThrow(ArgumentError);
  });

  it("'auto' falls back to normal pages when no huge pages are free", () => {
    const root = path.join(tmp, 'empty');
    fakePool(root, 2048, {});
    using mem = allocateHostMemory(4 * 1024 * 1024, { hugePages: 'auto', sysfsRoot: root });
    expect(mem.hugePages).toBeUndefined();
    expect(mem.size).toBe(4 * 1024 * 1024);
  });
});

describe('huge page pools', () => {
  it('reads the pools and computes usable pages (free - reserved + overcommit headroom)', () => {
    const root = path.join(tmp, 'pools');
    fakePool(root, 2048, { nr_hugepages: 10, free_hugepages: 8, resv_hugepages: 3, nr_overcommit_hugepages: 4, surplus_hugepages: 1 });
    fakePool(root, 1048576, { nr_hugepages: 2, free_hugepages: 2 });
    const pools = hugePagePools(root);
    expect(pools.map((p) => [p.size, p.total, p.free, p.reserved, p.usable])).toEqual([['2M', 10, 8, 3, 8], ['1G', 2, 2, 0, 2]]);
  });

  it("'auto' never turns a 3 MiB request into a 1 GiB page, and picks 1 GiB only for whole gigabytes", () => {
    const pools = [
      { size: '2M' as const, bytes: HUGE_PAGE_BYTES['2M'], total: 4096, free: 4096, reserved: 0, usable: 4096, dir: '' },
      { size: '1G' as const, bytes: HUGE_PAGE_BYTES['1G'], total: 4, free: 4, reserved: 0, usable: 4, dir: '' },
    ];
    const MiB = 1024 * 1024;
    expect(autoHugePageSize(3 * MiB, pools)).toBeUndefined(); // 4 MiB would waste 25%
    expect(autoHugePageSize(15 * MiB, pools)).toBe('2M'); // 16 MiB wastes 1/16
    expect(autoHugePageSize(64 * MiB, pools)).toBe('2M');
    expect(autoHugePageSize(1024 * MiB, pools)).toBe('1G');
    expect(autoHugePageSize(1536 * MiB, pools)).toBe('2M');
    expect(autoHugePageSize(64 * 1024, pools)).toBeUndefined();
    expect(autoHugePageSize(64 * MiB, [{ ...pools[0]!, usable: 3 }])).toBeUndefined();
  });

  it('reads this machine without error', () => {
    for (const p of hugePagePools()) {
      expect(p.usable).toBeGreaterThanOrEqual(0);
      expect(p.bytes === HUGE_PAGE_BYTES['2M'] || p.bytes === HUGE_PAGE_BYTES['1G']).toBe(true);
    }
  });
});

// Real hugetlb memfds. Root may grow the 2 MiB pool for the test (and shrinks it back).
const pool2M = hugePagePools().find((p) => p.size === '2M');
const canGrow = pool2M !== undefined && process.getuid?.() === 0 && fs.existsSync(path.join(pool2M.dir, 'nr_hugepages'));
const skipHugetlb = skipUnlessCi(
  pool2M === undefined ? 'no 2 MiB hugetlb pool (/sys/kernel/mm/hugepages/hugepages-2048kB; a kernel without CONFIG_HUGETLBFS)'
    : !canGrow && pool2M.usable < 2 ? `${pool2M.usable} free 2 MiB huge pages and not root to grow the pool` : undefined,
  '.ci/run runs as root, so the test grows the pool itself',
);
describe.skipIf(skipHugetlb)('hugetlb memory (real 2 MiB pages)', () => {
  it('backs a 3 MiB request with two 2 MiB pages, mapped 2 MiB aligned', () => {
    const file = path.join(pool2M!.dir, 'nr_hugepages');
    const before = Number(fs.readFileSync(file, 'utf8'));
    let grown = false;
    if (pool2M!.usable < 2) {
      fs.writeFileSync(file, String(before + 2 - pool2M!.usable));
      grown = true;
    }
    try {
      if (hugePagePools().find((p) => p.size === '2M')!.usable < 2) return; // the kernel could not find the memory
      using mem = allocateHostMemory(3 * 1024 * 1024, { hugePages: '2M' });
      expect(mem.hugePages).toBe('2M');
      expect(mem.pageSize).toBe(2 * 1024 * 1024);
      expect(mem.size).toBe(4 * 1024 * 1024);
      expect(mem.address % (2n * 1024n * 1024n)).toBe(0n);
      mem.bytes[mem.size - 1] = 7;
      expect(mem.bytes[mem.size - 1]).toBe(7);
      expect(fs.readlinkSync(`/proc/self/fd/${mem.fd}`)).toContain('memfd:');
      const smaps = fs.readFileSync('/proc/self/smaps', 'utf8');
      const start = mem.address.toString(16);
      const entry = smaps.slice(smaps.indexOf(`${start}-`));
      expect(entry).toMatch(/KernelPageSize:\s+2048 kB/);
    } finally {
      if (grown) fs.writeFileSync(file, String(before));
    }
  });
});

describe('shared views', () => {
  it('with the C shim, bytes are a SharedArrayBuffer view a worker can write into', async () => {
    const { shim } = await import('../../src/sys/shim.js');
    using mem = allocateHostMemory(4096);
    if (!shim()) {
      expect(mem.sharedBuffer).toBeUndefined();
      return;
    }
    expect(mem.sharedBuffer).toBeInstanceOf(SharedArrayBuffer);
    expect(mem.bytes.buffer).toBe(mem.sharedBuffer);
    const { Worker } = await import('node:worker_threads');
    const w = new Worker('const { workerData, parentPort } = require("node:worker_threads"); new Uint8Array(workerData)[100] = 0x77; parentPort.postMessage(1);', { eval: true, workerData: mem.sharedBuffer });
    await new Promise((resolve) => w.once('message', resolve));
    await w.terminate();
    expect(mem.bytes[100]).toBe(0x77);
    // and the fd sees it too (same pages)
    const b = Buffer.alloc(1);
    fs.readSync(mem.fd, b, 0, 1, 100);
    expect(b[0]).toBe(0x77);
  });
});

describe('allocateHostMemory when the views cannot be built', () => {
  // The shim's SharedArrayBuffer wrap failing is below the syscall seam (a native call): provoked with a spy.
  it.skipIf(!shim())('releases the mapping and the memfd, and rethrows', async () => {
    const { vi } = await import('vitest');
    const s = shim()!;
    const spy = vi.spyOn(s, 'sharedBuffer').mockImplementationOnce(() => { throw new RangeError('external buffer refused'); });
    const mapsOf = (): number => fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('memfd:vfiokit-views-fail')).length;
    const before = fs.readdirSync('/proc/self/fd').length;
    try {
      expect(() => allocateHostMemory(8192, { name: 'vfiokit-views-fail' })).toThrow('external buffer refused');
    } finally {
      spy.mockRestore();
    }
    expect(fs.readdirSync('/proc/self/fd').length).toBe(before);
    expect(mapsOf()).toBe(0);
  });
});
