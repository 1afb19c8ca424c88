// The simulated PR engine driven through a TrappedRegion by a host that follows dfl-fme-mgr.c
// step by step (independent of vfiokit's own flow), plus the fault and protocol corner cases.
import { describe, expect, it } from 'vitest';
import { TrappedRegion } from '../../src/mmio/trapped-region.js';
import { VirtualClock } from '../../src/util/clock.js';
import { logger } from '../../src/util/log.js';
import type { SimContext } from '../../src/sim/feature-model.js';
import { PrEngine, PR_CTRL, PR_DATA, PR_ERR, PR_STS, PR_INTFC_ID_H, PR_INTFC_ID_L, type PrEngineOptions, type PrFault, createPrEngineFactory, prEngineOf } from '../../src/sim/pr-engine.js';
import { buildSimImage, crc32, decodeSimImageHeader } from '../../src/sim/pr-engine-image.js';

const IFC = '9346116d-a52d-5ca8-b06a-a9a389ef7c8d';
const AFU = 'c000c966-0d82-4272-9aef-fe5f84570612';
const PR_WAIT_TIMEOUT_US = 8_000_000;

function setup(options: PrEngineOptions = {}) {
  const clock = new VirtualClock();
  const loaded: [number, string][] = [];
  const inReset = new Set<number>([0, 1]);
  const ctx: SimContext = {
    clock,
    log: logger('test:pr-engine'),
    loadAfu: (port, guid) => {
      if (port > 1) throw new Error(`no port ${port}`);
      loaded.push([port, guid]);
    },
    portInReset: (port) => inReset.has(port),
    raiseInterrupt: () => {},
    prInterfaceId: '00000000-0000-0000-0000-000000000000',
    variant: 'test',
  };
  const engine = createPrEngineFactory({ interfaceId: IFC, ...options })(ctx) as PrEngine;
  const region = new TrappedRegion('pr', engine.size, {
    read64: (o) => (o === 0 ? 0x3000000010001005n : engine.read64(o)),
    write64: (o, v) => engine.write64(o, v),
    read32: () => 0,
    write32: () => {},
  }, { clock });
  return { clock, ctx, engine, region, loaded, inReset };
}

/** The kernel's host sequence, register for register (dfl-fme-mgr.c), returning 0 or -errno-ish strings. */
function kernelPr(region: TrappedRegion, image: Uint8Array, regionId: number): { result: string; prError: bigint } {
  const readq = (o: number) => region.read64(o);
  const writeq = (o: number, v: bigint) => region.write64(o, v);
  const poll = (o: number, done: (v: bigint) => boolean) => {
    for (let us = 0; us <= PR_WAIT_TIMEOUT_US; us++) {
      if (done(readq(o))) return true;
      region.clock.spin(0.001);
    }
    return false;
  };
  const errorHandle = () => {
    if (!(readq(PR_STS) & (1n << 16n))) return 0n;
    const e = readq(PR_ERR);
    writeq(PR_ERR, e);
    return e;
  };
  // write_init
  writeq(PR_CTRL, readq(PR_CTRL) | 1n);
  if (!poll(PR_CTRL, (v) => (v & 0x10n) !== 0n)) return { result: 'ETIMEDOUT reset ack', prError: 0n };
  writeq(PR_CTRL, readq(PR_CTRL) & ~1n);
  if (!poll(PR_STS, (v) => (v & (1n << 16n)) === 0n)) return { result: 'ETIMEDOUT status', prError: errorHandle() };
  errorHandle();
  writeq(PR_CTRL, (readq(PR_CTRL) & ~(7n << 7n)) | (BigInt(regionId) << 7n));
  // write
  writeq(PR_CTRL, readq(PR_CTRL) | (1n << 12n));
  let credit = Number(readq(PR_STS) & 0x1ffn);
  let delay = 0;
  const padded = new Uint8Array((image.length + 3) & ~3);
  padded.set(image);
  const words = new Uint32Array(padded.buffer);
  for (let i = 0; i < words.length; i++) {
    while (credit <= 1) {
      if (delay++ > PR_WAIT_TIMEOUT_US) return { result: 'ETIMEDOUT credit', prError: 0n };
      region.clock.spin(0.001);
      credit = Number(readq(PR_STS) & 0x1ffn);
    }
    writeq(PR_DATA, BigInt(words[i]!));
    credit--;
  }
  // write_complete
  writeq(PR_CTRL, readq(PR_CTRL) | (1n << 13n));
  if (!poll(PR_CTRL, (v) => (v & (1n << 12n)) === 0n)) return { result: 'ETIMEDOUT complete', prError: 0n };
  const prError = errorHandle();
  return { result: prError ? 'EIO' : 'ok', prError };
}

function image(payloadLength = 5000, interfaceUuid = IFC): Uint8Array {
  const payload = Uint8Array.from({ length: payloadLength }, (_, i) => (i * 7 + 3) & 0xff);
  return buildSimImage({ interfaceUuid, afuGuid: AFU, payload });
}

describe('sim PR image header', () => {
  it('encodes interface ID, AFU GUID, length and CRC-32 (zlib polynomial)', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const img = image(10);
    const h = decodeSimImageHeader(img)!;
    expect(h.interfaceIdHigh).toBe(0x9346116da52d5ca8n);
    expect(h.interfaceIdLow).toBe(0xb06aa9a389ef7c8dn);
    expect(h.afuGuidHigh).toBe(0xc000c9660d824272n);
    expect(h.payloadLength).toBe(10);
    expect(decodeSimImageHeader(img.subarray(1))).toBeUndefined();
  });
});

describe('sim PR engine against the kernel sequence', () => {
  it('serves the interface ID and idle status', () => {
    const { region } = setup();
    expect(region.read64(PR_INTFC_ID_H)).toBe(0x9346116da52d5ca8n);
    expect(region.read64(PR_INTFC_ID_L)).toBe(0xb06aa9a389ef7c8dn);
    const sts = region.read64(PR_STS);
    expect(sts & 0x1ffn).toBe(256n);
    expect(sts & (1n << 16n)).toBe(0n);
  });

  it('programs a region, records the bitstream byte for byte and loads the AFU', () => {
    const { region, engine, loaded, clock } = setup({ drainWordsPerUs: 4, fifoDepth: 64 });
    const img = image(4001); // not a multiple of 4: the kernel pads
    const t0 = clock.now();
    const { result, prError } = kernelPr(region, img, 1);
    expect(result).toBe('ok');
    expect(prError).toBe(0n);
    expect(loaded).toEqual([[1, AFU]]);
    const got = engine.receivedBytes();
    expect(got.length).toBe((img.length + 3) & ~3);
    expect(Buffer.from(got.subarray(0, img.length)).equals(Buffer.from(img))).toBe(true);
    // Credits gated the stream: 1017 words at 4 words/us take at least ~250 us of card time.
    expect(clock.now() - t0).toBeGreaterThan(0.2);
    expect(engine.operations.at(-1)).toMatchObject({ port: 1, errors: 0, afuGuid: AFU, aborted: false });
    expect(region.read64(PR_STS) & (1n << 16n)).toBe(0n);
  });

  it('reports an image for another interface as incompatible and keeps the AFU', () => {
    const { region, loaded } = setup();
    const { result, prError } = kernelPr(region, image(100, '11111111-2222-3333-4444-555555555555'), 0);
    expect(result).toBe('EIO');
    expect(prError).toBe(4n);
    expect(loaded).toEqual([]);
  });

  it('detects a corrupted payload by CRC and a header-less stream as incompatible', () => {
    const a = setup();
    const img = image(64);
    img[100] ^= 0x40;
    expect(kernelPr(a.region, img, 0).prError).toBe(2n);
    const b = setup();
    expect(kernelPr(b.region, new Uint8Array(256).fill(7), 0).prError).toBe(4n);
  });

  it('reports a short stream (complete before the payload) as a protocol error', () => {
    const { region } = setup();
    expect(kernelPr(region, image(400).subarray(0, 200), 0).prError).toBe(8n);
  });

  it('latches an operation error when the port is not held in reset', () => {
    const { region, inReset, loaded } = setup();
    inReset.delete(0);
    expect(kernelPr(region, image(40), 0).prError).toBe(1n);
    expect(loaded).toEqual([]);
  });

  it('latches an operation error when the region has no port to load', () => {
    const { region, ctx } = setup();
    (ctx as { portInReset: (p: number) => boolean }).portInReset = () => true;
    expect(kernelPr(region, image(40), 5).prError).toBe(1n);
    // A card whose portInReset throws for a region with no port: an operation error, not an exception.
    (ctx as { portInReset: (p: number) => boolean }).portInReset = (p) => { if (p !== 0) throw new Error(`no port ${p}`); return true; };
    expect(kernelPr(region, image(40), 3).prError).toBe(1n);
  });

  it('defaults its interface ID to the card\'s', () => {
    const clock = new VirtualClock();
    const ctx = { clock, log: logger('t'), loadAfu: () => {}, portInReset: () => true, raiseInterrupt: () => {}, prInterfaceId: AFU, variant: 't' };
    const engine = createPrEngineFactory()(ctx) as PrEngine;
    expect(engine.interfaceId).toBe(AFU);
    expect(engine.read64(PR_INTFC_ID_H)).toBe(0xc000c9660d824272n);
  });

  it.each<[PrFault, bigint]>([['crc', 2n], ['incompatible', 4n], ['protocol', 8n], ['fifo-overflow', 16n], ['timeout', 32n], ['secure-load', 64n], ['operation', 1n]])(
    'injected %s latches PR_ERR %d, PR_STS[16] stays set until PR reset, write-back clears',
    (fault, bits) => {
      const { region, engine, loaded } = setup({ faults: [fault] });
      const { result, prError } = kernelPr(region, image(40), 0);
      expect(result).toBe('EIO');
      expect(prError).toBe(bits);
      expect(loaded).toEqual([]);
      expect(region.read64(PR_ERR)).toBe(0n); // the kernel's handler wrote it back
      expect(region.read64(PR_STS) & (1n << 16n)).toBe(1n << 16n);
      engine.clearFaults();
      expect(kernelPr(region, image(40), 0).result).toBe('ok');
    },
  );

  it.each<[PrFault, string]>([['reset-ack-never', 'ETIMEDOUT reset ack'], ['busy-stuck', 'ETIMEDOUT status'], ['credit-starvation', 'ETIMEDOUT credit'], ['complete-hang', 'ETIMEDOUT complete']])(
    'injected %s makes the kernel sequence time out (%s) after 8 s of card time',
    (fault, expected) => {
      const { region, clock } = setup({ faults: [fault] });
      const t0 = clock.now();
      expect(kernelPr(region, image(4000), 0).result).toBe(expected);
      expect(clock.now() - t0).toBeGreaterThanOrEqual(8000);
    },
  );

  it('latches FIFO overflow when the host writes with no credit, and protocol error for data outside an operation', () => {
    const { region, engine } = setup({ fifoDepth: 8, faults: ['credit-starvation'] });
    region.write64(PR_DATA, 1n);
    expect(region.read64(PR_ERR)).toBe(8n);
    region.write64(PR_ERR, 8n);
    region.write64(PR_CTRL, 1n);
    region.clock.spin(0.01);
    region.write64(PR_CTRL, 0n);
    region.clock.spin(0.1);
    region.write64(PR_CTRL, 1n << 12n);
    for (let i = 0; i < 9; i++) region.write64(PR_DATA, BigInt(i));
    expect(region.read64(PR_STS) & 0x1ffn).toBe(0n);
    expect(region.read64(PR_ERR)).toBe(16n);
    expect(engine.wordsReceived).toBe(8);
    expect(engine.dataWrites).toBe(10);
  });

  it('PR reset aborts a running operation and latched errors survive it until written back', () => {
    const { region, engine } = setup();
    region.write64(PR_DATA, 1n); // protocol error
    region.write64(PR_CTRL, 1n);
    region.clock.spin(0.01);
    expect(region.read64(PR_CTRL) & 0x10n).toBe(0x10n);
    region.write64(PR_CTRL, 0n);
    expect(region.read64(PR_CTRL) & 0x10n).toBe(0n);
    expect(region.read64(PR_ERR)).toBe(8n);
    region.clock.spin(0.1);
    region.write64(PR_CTRL, 1n << 12n);
    region.write64(PR_DATA, 5n);
    region.write64(PR_CTRL, 1n); // abort
    expect(engine.operations.at(-1)).toMatchObject({ aborted: true, words: 1 });
    expect(region.read64(PR_CTRL) & (1n << 12n)).toBe(0n);
  });

  it('keeps config data and region ID as written', () => {
    const { region } = setup();
    region.write64(PR_CTRL, (0xabcdn << 32n) | (5n << 7n));
    expect(region.read64(PR_CTRL)).toBe((0xabcdn << 32n) | (5n << 7n));
  });

  it('is reachable from its SimContext for fault injection', () => {
    const { ctx, engine } = setup();
    expect(prEngineOf(ctx)).toBe(engine);
    expect(() => engine.inject('nope' as PrFault)).toThrow(/unknown PR fault/);
  });
});

describe('sim PR engine robustness', () => {
  it('takes any sequence of host register writes without throwing, and its fields stay in range', async () => {
    const { Rng } = await import('../fuzz/lib.js');
    const rng = new Rng(0xbeef);
    const offsets = [PR_CTRL, PR_STS, PR_DATA, PR_ERR, PR_INTFC_ID_L, PR_INTFC_ID_H, 0x28, 0xff8];
    const bad: string[] = [];
    for (let run = 0; run < 40; run++) {
      const { region, engine, clock } = setup({ fifoDepth: 2 + rng.int(510), drainWordsPerUs: 1 + rng.int(4), faults: rng.bool(0.3) ? [rng.pick(['crc', 'complete-hang', 'busy-stuck', 'reset-ack-never'] as PrFault[])] : [] });
      for (let i = 0; i < 2000; i++) {
        const off = rng.pick(offsets);
        const value = rng.bool(0.7) ? BigInt(rng.u32()) | (BigInt(rng.u32()) << 32n) : BigInt(rng.pick([1, 0x10, 0x1000, 0x2000, 0x3000, 0x1001, 0]));
        region.write64(off, value);
        if (rng.bool(0.2)) clock.advance(rng.int(50) / 1000);
        const credits = Number(region.read64(PR_STS) & 0x1ffn);
        const errors = region.read64(PR_ERR);
        if (credits > engine.fifoDepth || (errors & ~0x7fn) !== 0n) bad.push(`run ${run} op ${i}: credits ${credits}, PR_ERR ${errors}`);
      }
      // Whatever happened, the kernel sequence still works once the faults are gone.
      engine.clearFaults();
      expect(kernelPr(region, image(100), 0).result).toBe('ok');
    }
    expect(bad).toEqual([]);
  });
});
