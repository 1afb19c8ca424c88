// The SPI-AVMM transport on a region that runs access batches (as a vfio-user region with
// REGION_BATCH does) must make exactly the register accesses of the one-at-a-time path, in the
// same order, and fail with the same errors at the same place: the Nios window
// (dfl-n3000-nios.c n3000_nios_reg_read/write, NS_STAT RW_VAL polled N3000_NIOS_REGBUS_RETRY_COUNT
// times), the Altera SPI master (spi-altera-core.c, STATUS.RRDY polled per word) and the SPI-AVMM
// receive loop (regmap-spi-avmm.c br_do_rx_and_pkt_phy_parse, which reads until the packet ends).
// Here the batches run in this process on the sim's register window, every access logged.
import { describe, expect, it } from 'vitest';
import createDebug from 'debug';
import { TrappedRegion } from '../../src/mmio/trapped-region.js';
import { AccessBatch, BatchFormatProblem, BatchStop, parseAccessBatch, runAccessBatch, type AccessBatchRunner } from '../../src/mmio/access-batch.js';
import { VirtualClock } from '../../src/util/clock.js';
import { SimBmc, type SimBmcOptions } from '../../src/sim/bmc/sim-bmc.js';
import { SpiAvmmTransport } from '../../src/afu/bmc/spi-avmm-transport.js';
import { NiosRegBus } from '../../src/afu/bmc/nios-regbus.js';
import { DflIndirectRegBus } from '../../src/afu/bmc/spi-regbus.js';
import { DOORBELL, STAGING_BASE } from '../../src/afu/bmc/registers.js';
import { FEATURE_OFFSET } from './helpers.js';
import { NS_CTRL_CMD_RD, nsCtrl } from '../../src/dfl/regs/n3000-nios.js';
import { ALTERA_SPI_STATUS, STATUS_RRDY } from '../../src/dfl/regs/max10-bmc.js';

type Access = [op: 'r' | 'w', offset: number, value: bigint];

/** A TrappedRegion that runs batches itself, like a vfio-user server would (parse, then run in order). */
class BatchingRegion extends TrappedRegion {
  readonly accessBatch: AccessBatchRunner;
  batches = 0;
  constructor(name: string, size: number, access: ConstructorParameters<typeof TrappedRegion>[2], clock: VirtualClock, maxEntries: number) {
    super(name, size, access, { clock });
    this.accessBatch = {
      maxEntries,
      maxBytes: 1 << 20,
      run: (batch: AccessBatch) => {
        this.batches++;
        const parsed = parseAccessBatch(batch.bytes, batch.entries, this.size, maxEntries);
        if (parsed instanceof BatchFormatProblem) throw new Error(parsed.problem);
        return runAccessBatch(parsed, this, 1 << 22);
      },
    };
  }
}

/** Sees access number `n` first; may replace a read's value (`lastWrite`: the last value written). */
type Hook = (n: number, bmc: SimBmc, read?: { value: bigint; lastWrite: bigint }) => bigint | void;

/** The sim BMC behind a logged window; `batched` adds a batch runner; `hook` sees every access first. */
function rig(batched: boolean, options: SimBmcOptions & { maxEntries?: number } = {}, hook?: Hook) {
  const clock = new VirtualClock();
  const bmc = new SimBmc({ clock, log: createDebug('vfiokit:test:bmc') }, { ...options, nios: { initDone: true, ...options.nios } });
  const log: Access[] = [];
  let lastWrite = 0n;
  const inWindow = (off: number): boolean => off > FEATURE_OFFSET && off < FEATURE_OFFSET + bmc.size;
  const access = {
    read32: () => 0,
    write32: () => {},
    read64: (off: number): bigint => {
      hook?.(log.length, bmc);
      let v = inWindow(off) ? bmc.read64(off - FEATURE_OFFSET) : 0n;
      v = hook?.(log.length, bmc, { value: v, lastWrite }) ?? v;
      log.push(['r', off, v]);
      return v;
    },
    write64: (off: number, v: bigint): void => {
      hook?.(log.length, bmc);
      log.push(['w', off, v]);
      lastWrite = v;
      if (inWindow(off)) bmc.write64(off - FEATURE_OFFSET, v);
    },
  };
  const region = batched ? new BatchingRegion('test BAR0', 0x10000, access, clock, options.maxEntries ?? 16384) : new TrappedRegion('test BAR0', 0x10000, access, { clock });
  const bus = bmc.board === 'n3000' ? new NiosRegBus(region, FEATURE_OFFSET) : new DflIndirectRegBus(region, FEATURE_OFFSET);
  const host = new SpiAvmmTransport(bus);
  return { clock, bmc, region, host, log };
}

const words = (n: number): Uint8Array => Uint8Array.from({ length: 4 * n }, (_, i) => (i * 37 + 0x7a) & 0xff); // 0x7a..0x7d escape

/** Run `flow` on both paths; returns both access logs and outcomes. */
function both(flow: (host: SpiAvmmTransport) => unknown, options: SimBmcOptions & { maxEntries?: number } = {}, hook?: Hook) {
  const run = (batched: boolean) => {
    const r = rig(batched, options, hook);
    r.host.write32(DOORBELL, 1); // RSU request: staging opens after the erase
    r.clock.advance(60_000);
    r.log.length = 0;
    let outcome: unknown;
    try {
      outcome = flow(r.host);
    } catch (err) {
      outcome = err;
    }
    return { ...r, outcome };
  };
  return { one: run(false), batched: run(true) };
}

describe('SPI-AVMM transport on a batching region', () => {
  it.each([
    ['N3000 (0xD Nios)', {}],
    ['D5005 (0xE window)', { board: 'd5005' as const }],
    ['N3000, Nios RW_VAL after 2 polls', { indirectLatency: 2 }],
  ])('%s: staging writes, reads and status reads make the same accesses in the same order as one at a time', (_name, options) => {
    const data = words(40);
    const { one, batched } = both((h) => {
      h.writeBlock(STAGING_BASE, data);
      h.write32(STAGING_BASE + 0x400, 0x7b7c7d4a);
      return [h.read32(DOORBELL), [...h.readBlock(STAGING_BASE, 160)], h.read32(STAGING_BASE + 0x400)];
    }, options);
    expect(batched.outcome).toEqual(one.outcome);
    expect((batched.outcome as unknown[])[1]).toEqual([...data]);
    expect((batched.outcome as unknown[])[2]).toBe(0x7b7c7d4a);
    expect(batched.log.length).toBeGreaterThan(40 * 40);
    expect(batched.log).toEqual(one.log);
    // 41 single-word writes in 2 batches; each read: chip select, request and the answer's
    // minimum words in one, then a batch per further word (escapes), then chip select off.
    expect((batched.region as BatchingRegion).batches).toBeLessThanOrEqual(16);
    expect(batched.host.transactions).toBe(one.host.transactions);
    expect(batched.host.spiWords).toBe(one.host.spiWords);
  });

  it('a bridge that answers after idle words: the batch stops where the answer differs from the prediction, the host reads on as one at a time', () => {
    const data = words(8);
    const { one, batched } = both((h) => {
      h.writeBlock(STAGING_BASE, data);
      return [...h.readBlock(STAGING_BASE, 32)];
    }, { onCreate: (b) => { b.bridge.idleBeforeAnswer = 6; } });
    expect(batched.outcome).toEqual([...data]);
    expect(batched.log).toEqual(one.log);
  });

  it('small batches (the server takes few entries): still the same accesses', () => {
    const { one, batched } = both((h) => h.writeBlock(STAGING_BASE, words(12)), { maxEntries: 120 });
    expect(batched.log).toEqual(one.log);
    expect((batched.region as BatchingRegion).batches).toBeGreaterThanOrEqual(6);
  });

  it.each([200, 1234, 2500])('the Nios bus hangs at access %d: the same ENIOS_REGBUS_TIMEOUT after the same accesses (NIOS_REGBUS_RETRY_COUNT polls, then chip select off tried)', (at) => {
    const hang: Hook = (n, bmc) => { if (n === at) bmc.nios!.indirectLatency = 1e9; };
    const { one, batched } = both((h) => h.writeBlock(STAGING_BASE, words(64)), {}, hang);
    expect(one.outcome).toMatchObject({ code: 'ENIOS_REGBUS_TIMEOUT' });
    expect(batched.outcome).toMatchObject({ code: 'ENIOS_REGBUS_TIMEOUT', message: (one.outcome as Error).message });
    expect(batched.log).toEqual(one.log);
  });

  it('the SPI link stops shifting (RRDY never set): the same ESPI_RRDY_TIMEOUT after RRDY_TIMEOUT_POLLS STATUS reads', () => {
    // From access 300 on, every STATUS read through the Nios (NS_CTRL read command of indirect 0x8) shows RRDY clear.
    const statusRead = nsCtrl(NS_CTRL_CMD_RD, ALTERA_SPI_STATUS);
    const stuck: Hook = (n, _bmc, read) => (read && n >= 300 && read.lastWrite === statusRead ? read.value & ~BigInt(STATUS_RRDY) : undefined);
    const { one, batched } = both((h) => h.writeBlock(STAGING_BASE, words(16)), {}, stuck);
    expect(one.outcome).toMatchObject({ code: 'ESPI_RRDY_TIMEOUT' });
    expect(batched.outcome).toMatchObject({ code: 'ESPI_RRDY_TIMEOUT', message: (one.outcome as Error).message });
    expect(batched.log).toEqual(one.log);
  });
});

describe('access batches', () => {
  const regs = () => {
    const r = new Map<number, bigint>();
    const log: string[] = [];
    const target = {
      read32: (o: number) => { log.push(`r32 ${o}`); return Number(r.get(o) ?? 0n); },
      read64: (o: number) => { log.push(`r ${o}`); const v = r.get(o) ?? 0n; if (o === 0x10) r.set(o, v + 1n); return v; },
      write32: (o: number, v: number) => { log.push(`w32 ${o}`); r.set(o, BigInt(v)); },
      write64: (o: number, v: bigint) => { log.push(`w ${o}`); r.set(o, v); },
    };
    return { r, log, target };
  };
  const run = (b: AccessBatch, target: Parameters<typeof runAccessBatch>[1], budget = 1000) => {
    const parsed = parseAccessBatch(b.bytes, b.entries, 0x100, 64);
    if (parsed instanceof BatchFormatProblem) throw new Error(parsed.problem);
    return runAccessBatch(parsed, target, budget);
  };

  it('runs writes and polls in order, a poll that never matches stops with POLL_TIMEOUT after maxReads reads', () => {
    const { log, target } = regs();
    const b = new AccessBatch();
    b.write(8, 0x8, 5n);
    const s = b.poll(8, 0x8, 0xffn, 5n, 3);
    b.write(4, 0x20, 7n);
    b.poll(8, 0x10, 0xffn, 0x40n, 3); // a counter: 0, 1, 2
    b.write(8, 0x28, 1n);
    const r = run(b, target);
    expect(r).toMatchObject({ completed: 3, stop: BatchStop.POLL_TIMEOUT, accesses: 6 });
    expect(r.values[s]).toBe(5n);
    expect(r.values[1]).toBe(2n);
    expect(log).toEqual(['w 8', 'r 8', 'w32 32', 'r 16', 'r 16', 'r 16']);
  });

  it('a check loops back up to maxRetries, restarts its count once it passes, then stops with CHECK_FAILED', () => {
    const { log, target } = regs();
    const b = new AccessBatch();
    const loop = b.mark();
    b.write(8, 0x8, 1n);
    b.poll(8, 0x10, 0n, 0n, 1);
    b.check(0xffn, 3n, { retryFrom: loop, maxRetries: 5 }); // passes at the 4th counter read
    const loop2 = b.mark();
    b.poll(8, 0x10, 0n, 0n, 1);
    b.check(0xffn, 9n, { retryFrom: loop2, maxRetries: 1 });
    const r = run(b, target);
    expect(r).toMatchObject({ stop: BatchStop.CHECK_FAILED, completed: 4 });
    expect(r.values[1]).toBe(5n);
    expect(log).toEqual([...Array<string[]>(4).fill(['w 8', 'r 16']).flat(), 'r 16', 'r 16']);
  });

  it('a batch out of budget stops with BUDGET, not a stall', () => {
    const { target } = regs();
    const b = new AccessBatch();
    b.poll(8, 0x8, 1n, 1n, 1 << 20);
    expect(run(b, target, 500)).toMatchObject({ stop: BatchStop.BUDGET, completed: 0, accesses: 500 });
  });
});
