// Async polls (src/mmio/poll-async.ts) let the event loop run while they wait: a timer that
// writes the awaited value fires during the wait (a synchronous poll would time out first), on a
// real mmap (the shim's loop in slices) and on a trapped region; virtual time advances only by the
// poll's own slices; timeouts resolve, aborts reject, AFU offsets are checked.
import { describe, it, expect, afterEach } from 'vitest';
import { memfdRegion } from './helpers.js';
import { TrappedRegion } from '../../src/mmio/trapped-region.js';
import { poll32Async, poll64Async } from '../../src/mmio/poll-async.js';
import { VirtualClock } from '../../src/util/clock.js';
import { createSimCard } from '../../src/sim/sim-device.js';
import { Card } from '../../src/afu/card.js';

const live: { dispose(): void }[] = [];
afterEach(() => {
  while (live.length) live.pop()!.dispose();
});

describe('poll64Async / poll32Async', () => {
  it('sees a value a timer writes during the wait on a mapped region, with the event loop ticking', async () => {
    const m = memfdRegion('poll BAR', 4096);
    live.push(m);
    const region = m.region;
    region.write64(0x10, 0n);
    let ticks = 0;
    const ticker = setInterval(() => { ticks++; }, 1);
    setTimeout(() => region.write64(0x10, 0x5a00n), 30);
    const t0 = performance.now();
    const r = await poll64Async(region, 0x10, 0xff00n, 0x5a00n, { timeoutMs: 2000, intervalUs: 10 });
    clearInterval(ticker);
    expect(r).toEqual({ value: 0x5a00n, timedOut: false });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    expect(ticks).toBeGreaterThan(0); // the interval fired while the poll waited (a synchronous poll allows none)

    region.write32(0x20, 1);
    const late = await poll32Async(region, 0x20, 0x2, 0x2, { timeoutMs: 20 });
    expect(late).toEqual({ value: 1, timedOut: true });
  });

  it('resolves timedOut after the timeout and rejects when aborted', async () => {
    const mem = new Map<number, bigint>();
    const region = new TrappedRegion('trap', 4096, { read32: () => 0, read64: (o) => mem.get(o) ?? 0n, write32: () => {}, write64: (o, v) => void mem.set(o, v) });
    const t0 = performance.now();
    const r = await poll64Async(region, 0, 1n, 1n, { timeoutMs: 15 });
    expect(r.timedOut).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(14);
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('stop waiting')), 10);
    await expect(poll64Async(region, 0, 1n, 1n, { timeoutMs: 5000, signal: abort.signal })).rejects.toThrow('stop waiting');
  });

  it('on a virtual clock, a value the model sets at 5 ms is seen at 5 ms of device time', async () => {
    const clock = new VirtualClock();
    let value = 0n;
    clock.at(5, () => { value = 3n; });
    const region = new TrappedRegion('virtual', 4096, { read32: () => 0, read64: () => value, write32: () => {}, write64: () => {} }, { clock });
    const r = await poll64Async(region, 0, 3n, 3n, { timeoutMs: 8000, intervalUs: 100, sliceMs: 1 });
    expect(r.timedOut).toBe(false);
    expect(clock.now()).toBeGreaterThanOrEqual(5);
    expect(clock.now()).toBeLessThan(6.2);
  });

  it('Afu.poll64Async polls inside the AFU window and rejects outside it', async () => {
    using device = createSimCard();
    const afu = Card.discover(device).afu(0)!;
    afu.write64(0x100, 0x1234n);
    await expect(afu.poll64Async(0x100, 0xffffn, 0x1234n)).resolves.toEqual({ value: 0x1234n, timedOut: false });
    expect(afu.poll64(0x100, 0xffffn, 0x1234n).timedOut).toBe(false);
    await expect(afu.poll64Async(afu.size, 1n, 1n)).rejects.toMatchObject({ code: 'EAFU_BOUNDS' });
  });
});
