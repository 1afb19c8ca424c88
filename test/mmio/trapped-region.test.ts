// TrappedRegion: the callbacks see exactly the accesses a device would (offset and width).
import { describe, expect, it } from 'vitest';
import { TrappedRegion } from '../../src/mmio/trapped-region.js';
import { VirtualClock } from '../../src/util/clock.js';

type Access = [op: string, offset: number, value?: number | bigint];

function recorder(clock?: VirtualClock) {
  const log: Access[] = [];
  const mem = new Uint8Array(4096);
  const dv = new Uint32Array(mem.buffer);
  const d64 = new BigUint64Array(mem.buffer);
  const region = new TrappedRegion('trap BAR', 4096, {
    read32: (o) => (log.push(['r32', o]), dv[o / 4]!),
    read64: (o) => (log.push(['r64', o]), d64[o / 8]!),
    write32: (o, v) => (log.push(['w32', o, v]), void (dv[o / 4] = v)),
    write64: (o, v) => (log.push(['w64', o, v]), void (d64[o / 8] = v)),
  }, { clock });
  return { log, region };
}

describe('TrappedRegion access widths and offsets', () => {
  it('single accesses reach the callback with their width and offset', () => {
    const { log, region } = recorder();
    region.write32(0x10, 0xcafef00d);
    region.write64(0x18, 0x1122334455667788n);
    expect(region.read32(0x10)).toBe(0xcafef00d);
    expect(region.read64(0x18)).toBe(0x1122334455667788n);
    expect(log).toEqual([['w32', 0x10, 0xcafef00d], ['w64', 0x18, 0x1122334455667788n], ['r32', 0x10], ['r64', 0x18]]);
  });

  it('blocks become one access per word of the chosen width, in order', () => {
    const { log, region } = recorder();
    const data = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    region.writeBlock(0x100, data, 32);
    expect(log.map(([op, o]) => `${op}@${o.toString(16)}`)).toEqual(['w32@100', 'w32@104', 'w32@108', 'w32@10c']);
    expect(log[0]![2]).toBe(0x04030201);
    log.length = 0;
    region.writeBlock(0x200, data, 64);
    expect(log.map(([op, o]) => `${op}@${o.toString(16)}`)).toEqual(['w64@200', 'w64@208']);
    expect(log[0]![2]).toBe(0x0807060504030201n);
    log.length = 0;
    expect(Array.from(region.readBlock(0x100, 16, 64))).toEqual(Array.from(data));
    expect(log.map(([op, o]) => `${op}@${o.toString(16)}`)).toEqual(['r64@100', 'r64@108']);
    log.length = 0;
    expect(Array.from(region.readBlock(0x200, 8, 32))).toEqual(Array.from(data.subarray(0, 8)));
    expect(log.map(([op, o]) => `${op}@${o.toString(16)}`)).toEqual(['r32@200', 'r32@204']);
  });

  it('writeStream64 is one 64-bit write per word at the same offset', () => {
    const { log, region } = recorder();
    region.writeStream64(0x18, BigUint64Array.from([1n, 2n, 3n]));
    expect(log).toEqual([['w64', 0x18, 1n], ['w64', 0x18, 2n], ['w64', 0x18, 3n]]);
  });

  it('polls read at the poll width on the device clock and time out on it', () => {
    const clock = new VirtualClock();
    const { log, region } = recorder(clock);
    const r = region.poll32(0x20, 1, 1, { timeoutMs: 10, intervalUs: 1000 });
    expect(r).toEqual({ value: 0, timedOut: true });
    expect(clock.now()).toBeGreaterThanOrEqual(10);
    expect(log.every(([op, o]) => op === 'r32' && o === 0x20)).toBe(true);
    expect(log.length).toBeGreaterThanOrEqual(10);
    log.length = 0;
    clock.at(5, () => region.write64(0x28, 0x100n));
    const p = region.poll64(0x28, 0x100n, 0x100n, { timeoutMs: 100, intervalUs: 1000 });
    expect(p).toEqual({ value: 0x100n, timedOut: false });
    expect(log.filter(([op]) => op === 'r64').every(([, o]) => o === 0x28)).toBe(true);
  });
});
