// The PR flow against the sim PR engine behind a TrappedRegion, with a port double that the
// engine consults (portInReset) - independent of the card model.
import { describe, expect, it } from 'vitest';
import { TrappedRegion } from '../../src/mmio/trapped-region.js';
import { VirtualClock } from '../../src/util/clock.js';
import { logger } from '../../src/util/log.js';
import type { SimContext } from '../../src/sim/feature-model.js';
import { PrEngine, createPrEngineFactory, type PrEngineOptions, type PrFault } from '../../src/sim/pr-engine.js';
import { buildGbs, buildLegacyGbs, parseGbs } from '../../src/afu/pr/gbs.js';
import { PrError, bitstreamWords, partialReconfigure, startPartialReconfiguration, type PrProgress, type PrTarget } from '../../src/afu/pr/partial-reconfiguration.js';
import { DeviceError } from '../../src/errors.js';
import { prError, simGbs } from './helpers.js';

const IFC = '9346116d-a52d-5ca8-b06a-a9a389ef7c8d';
const AFU = 'c000c966-0d82-4272-9aef-fe5f84570612';
const PR_BASE = 0x2000;

function rig(options: PrEngineOptions = {}, portCount = 2) {
  const clock = new VirtualClock();
  const events: string[] = [];
  const loaded: [number, string][] = [];
  const inReset = new Set<number>();
  const ctx: SimContext = {
    clock,
    log: logger('test:pr-flow'),
    loadAfu: (port, guid) => { loaded.push([port, guid]); events.push(`loadAfu ${port}`); },
    portInReset: (port) => inReset.has(port),
    raiseInterrupt: () => {},
    prInterfaceId: '00000000-0000-0000-0000-000000000000',
    variant: 'test',
  };
  const engine = createPrEngineFactory({ interfaceId: IFC, ...options })(ctx) as PrEngine;
  const inPr = (o: number) => o >= PR_BASE && o < PR_BASE + engine.size;
  const region = new TrappedRegion('sim BAR0', 0x8000, {
    read64: (o) => (inPr(o) ? engine.read64(o - PR_BASE) : 0n),
    write64: (o, v) => { if (inPr(o)) engine.write64(o - PR_BASE, v); },
    read32: () => 0,
    write32: () => {},
  }, { clock });
  const portState = { disableFails: false, enableFails: false };
  const ports = Array.from({ length: portCount }, (_, n) => ({
    clearErrors: () => { events.push(`clearErrors ${n}`); },
    disable: async () => {
      events.push(`disable ${n}`);
      inReset.add(n);
      if (portState.disableFails) throw new DeviceError('EPORT_DISABLE_TIMEOUT', `port ${n}: PORT_CTRL bit 4 not set after 1 ms`);
    },
    enable: () => {
      events.push(`enable ${n}`);
      if (portState.enableFails) throw new DeviceError('EPORT_ENABLE_TIMEOUT', `port ${n}: PORT_CTRL bit 4 still set after 1 ms`);
      inReset.delete(n);
    },
  }));
  const target: PrTarget = { pr: { region, offset: PR_BASE }, portCount, port: (n) => ports[n] };
  return { clock, engine, region, target, events, loaded, inReset, portState };
}

function gbsFor(payloadBytes: number, opts: { interfaceUuid?: string; afu?: string; imageInterface?: string } = {}) {
  const payload = Uint8Array.from({ length: payloadBytes }, (_, i) => (i * 13 + 1) & 0xff);
  const { gbs, image } = simGbs({ interfaceUuid: opts.interfaceUuid ?? IFC, imageInterfaceUuid: opts.imageInterface ?? opts.interfaceUuid ?? IFC, afuGuid: opts.afu ?? AFU, payload, name: 'test' });
  return { gbs, image };
}

describe('partial reconfiguration flow', () => {
  it('runs the kernel sequence: port errors, disable, PR, enable; the engine saw the image byte for byte', async () => {
    const { target, engine, events, loaded, inReset } = rig({ drainWordsPerUs: 8, fifoDepth: 128 });
    const { gbs, image } = gbsFor(100_003);
    const result = await partialReconfigure(target, gbs, { port: 1, chunkWords: 4096 });
    expect(events).toEqual(['clearErrors 1', 'disable 1', 'loadAfu 1', 'enable 1']);
    expect(loaded).toEqual([[1, AFU]]);
    expect(inReset.has(1)).toBe(false);
    const got = engine.receivedBytes();
    expect(got.length % 4).toBe(0);
    expect(got.length).toBe(Math.ceil(image.length / 4) * 4);
    expect(Buffer.from(got.subarray(0, image.length)).equals(Buffer.from(image))).toBe(true);
    expect([...got.subarray(image.length)].every((b) => b === 0)).toBe(true);
    expect(result).toMatchObject({ port: 1, dryRun: false, interfaceUuid: IFC, fmeInterfaceUuid: IFC, acceleratorUuid: AFU, bitstreamBytes: image.length, bytesWritten: got.length, staleErrors: [] });
    expect(result.status!.busy).toBe(false);
    // 25,017 words at 8 words/us of card time: credits gated the stream.
    expect(result.durationMs).toBeGreaterThan(3);
    expect(result.bytesPerSec).toBeGreaterThan(0);
  });

  it('pads a bitstream whose length is not a multiple of 4 with zero bytes', async () => {
    for (const extra of [1, 2, 3]) {
      const { target, engine } = rig();
      const { gbs, image } = gbsFor(40 + extra);
      expect(image.length % 4).toBe(extra);
      const r = await partialReconfigure(target, gbs);
      expect(r.bytesWritten).toBe(image.length + 4 - extra);
      const got = engine.receivedBytes();
      expect(got.length).toBe(image.length + 4 - extra);
      expect([...got.subarray(image.length)]).toEqual(new Array(4 - extra).fill(0));
    }
    const odd = new Uint8Array(8).subarray(1, 6);
    odd.set([1, 2, 3, 4, 5]);
    expect([...bitstreamWords(odd)]).toEqual([0x04030201, 0x05]);
  });

  it('refuses a mismatched interface UUID before any write: no port touched, no register written', async () => {
    const { target, engine, events } = rig();
    const { gbs } = gbsFor(64, { interfaceUuid: '11111111-2222-3333-4444-555555555555' });
    const err = await prError(partialReconfigure(target, gbs));
    expect(err.code).toBe('EPR_INTERFACE_MISMATCH');
    expect(err.message).toContain('11111111-2222-3333-4444-555555555555');
    expect(err.message).toContain(IFC);
    expect(err.message).toMatch(/PR_INTFC_ID_H/);
    expect(err.details).toMatchObject({ step: 'validate', expected: IFC, found: '11111111-2222-3333-4444-555555555555' });
    expect(engine.dataWrites).toBe(0);
    expect(engine.ctrlWrites).toBe(0);
    expect(events).toEqual([]);
  });

  it('with force, writes a mismatched GBS and the engine judges it (incompatible bitstream)', async () => {
    const { target, events } = rig();
    const { gbs } = gbsFor(64, { interfaceUuid: '11111111-2222-3333-4444-555555555555' });
    const err = await prError(partialReconfigure(target, gbs, { force: true }));
    expect(err.code).toBe('EPR_INCOMPATIBLE');
    expect(events.at(-1)).toBe('enable 0');
  });

  it('refuses a port index at or above the FME port count, and an unimplemented port', async () => {
    const { target, engine } = rig({}, 2);
    const { gbs } = gbsFor(8);
    const err = await prError(partialReconfigure(target, gbs, { port: 2 }));
    expect(err.code).toBe('EPR_PORT');
    expect(err.message).toMatch(/FME_CAP\[19:17\] reports 2 port\(s\); choose a port 0\.\.1/);
    expect((await prError(partialReconfigure(target, gbs, { port: -1 }))).code).toBe('EPR_PORT');
    const holes: PrTarget = { ...target, port: () => undefined };
    expect((await prError(partialReconfigure(holes, gbs, { port: 1 }))).code).toBe('EPR_PORT');
    expect(engine.ctrlWrites).toBe(0);
  });

  it('dry run validates and reads the status but writes nothing', async () => {
    const { target, engine, events } = rig();
    const { gbs } = gbsFor(64);
    const r = await partialReconfigure(target, gbs, { dryRun: true });
    expect(r).toMatchObject({ dryRun: true, bytesWritten: 0, fmeInterfaceUuid: IFC });
    expect(r.status).toMatchObject({ busy: false, credits: 256 });
    expect(engine.ctrlWrites + engine.dataWrites).toBe(0);
    expect(events).toEqual([]);
  });

  it.each<[PrFault, string, string]>([
    ['crc', 'EPR_CRC', 'bit 1 CRC error'],
    ['incompatible', 'EPR_INCOMPATIBLE', 'bit 2 incompatible bitstream'],
    ['protocol', 'EPR_PROTOCOL', 'bit 3 IP protocol error'],
    ['fifo-overflow', 'EPR_FIFO_OVERFLOW', 'bit 4 FIFO overflow'],
    ['timeout', 'EPR_HW_TIMEOUT', 'bit 5 timeout'],
    ['secure-load', 'EPR_SECURE_LOAD', 'bit 6 secure load error'],
    ['operation', 'EPR_OPERATION', 'bit 0 operation error'],
  ])('injected %s -> %s naming PR_ERR and the bit, port enabled again', async (fault, code, bitName) => {
    const { target, engine, inReset, events, loaded } = rig({ faults: [fault] });
    const { gbs } = gbsFor(256);
    const err = await prError(partialReconfigure(target, gbs));
    expect(err.code).toBe(code);
    expect(err.message).toContain('PR_ERR');
    expect(err.message).toContain(bitName);
    expect(err.details).toMatchObject({ step: 'check-errors', register: 'PR_ERR', errors: [bitName] });
    expect(inReset.has(0)).toBe(false);
    expect(events.at(-1)).toBe('enable 0');
    expect(loaded).toEqual([]);
    // Latched errors were cleared; a later PR reports them as stale, not as its own.
    engine.clearFaults();
    const ok = await partialReconfigure(target, gbs);
    expect(ok.staleErrors).toEqual([]);
  });

  it.each<[PrFault, string, string, string]>([
    ['reset-ack-never', 'EPR_RESET_ACK_TIMEOUT', 'pr-reset', 'PR_CTRL'],
    ['busy-stuck', 'EPR_BUSY_TIMEOUT', 'wait-idle', 'PR_STS'],
    ['credit-starvation', 'EPR_CREDIT_TIMEOUT', 'stream', 'PR_STS'],
    ['complete-hang', 'EPR_COMPLETE_TIMEOUT', 'wait-done', 'PR_CTRL'],
  ])('injected %s -> %s at step %s after the kernel\'s 8 s (card time), port enabled again', async (fault, code, step, register) => {
    const { target, inReset, events, clock } = rig({ faults: [fault] });
    const { gbs } = gbsFor(4096);
    const t0 = clock.now();
    const err = await prError(partialReconfigure(target, gbs));
    expect(err.code).toBe(code);
    expect(err.details).toMatchObject({ step, register, timeoutMs: 8000 });
    expect(err.message).toContain(register);
    expect(clock.now() - t0).toBeGreaterThanOrEqual(8000);
    expect(inReset.has(0)).toBe(false);
    expect(events.at(-1)).toBe('enable 0');
  });

  it('a bitstream cut short of its image (complete before the payload) is a protocol error', async () => {
    const { target } = rig();
    const { image } = gbsFor(400);
    const short = parseGbs(buildGbs({ interfaceUuid: IFC, acceleratorClusters: [{ acceleratorTypeUuid: AFU }] }, image.subarray(0, 200)));
    const err = await prError(partialReconfigure(target, short));
    expect(err.code).toBe('EPR_PROTOCOL');
  });

  it('clears errors latched before the operation and reports them as stale', async () => {
    const { target, region } = rig();
    region.write64(PR_BASE + 0x18, 1n); // a stray PR_DATA store: the engine latches a protocol error
    const { gbs } = gbsFor(64);
    const r = await partialReconfigure(target, gbs);
    expect(r.staleErrors).toEqual(['bit 3 IP protocol error']);
  });

  it('enables the port again when disable fails half way, and wraps the port error with the step', async () => {
    const { target, portState, events, engine } = rig();
    portState.disableFails = true;
    const err = await prError(partialReconfigure(target, gbsFor(8).gbs));
    expect(err.code).toBe('EPORT_DISABLE_TIMEOUT');
    expect(err.details).toMatchObject({ step: 'disable-port' });
    expect(err.cause).toBeInstanceOf(DeviceError);
    expect(events).toEqual(['clearErrors 0', 'disable 0', 'enable 0']);
    expect(engine.ctrlWrites).toBe(0);
  });

  it('reports a failed enable after success as EPR_PORT_ENABLE, and keeps the PR error when both fail', async () => {
    const a = rig();
    a.portState.enableFails = true;
    expect((await prError(partialReconfigure(a.target, gbsFor(8).gbs))).code).toBe('EPR_PORT_ENABLE');
    const b = rig({ faults: ['crc'] });
    b.portState.enableFails = true;
    expect((await prError(partialReconfigure(b.target, gbsFor(8).gbs))).code).toBe('EPR_CRC');
  });

  it('holds the reservation for the whole operation and releases it on failure', async () => {
    const calls: string[] = [];
    const reservation = { begin: async () => { calls.push('begin'); }, end: (i: { ok: boolean }) => { calls.push(`end ${i.ok}`); } };
    const a = rig();
    await partialReconfigure(a.target, gbsFor(8).gbs, { reservation });
    const b = rig({ faults: ['crc'] });
    await prError(partialReconfigure(b.target, gbsFor(8).gbs, { reservation }));
    expect(calls).toEqual(['begin', 'end true', 'begin', 'end false']);
    // A mismatch is refused before the reservation is taken.
    await prError(partialReconfigure(a.target, gbsFor(8, { interfaceUuid: '11111111-2222-3333-4444-555555555555' }).gbs, { reservation }));
    expect(calls.length).toBe(4);
  });

  it('reports progress: steps in kernel order, bytes monotonic up to the padded total', async () => {
    const { target } = rig();
    const { gbs } = gbsFor(50_001);
    const seen: PrProgress[] = [];
    await partialReconfigure(target, gbs, { chunkWords: 1000, onProgress: (p) => seen.push({ ...p }) });
    const steps = [...new Set(seen.map((p) => p.step))];
    expect(steps).toEqual(['validate', 'clear-port-errors', 'disable-port', 'pr-reset', 'wait-idle', 'clear-errors', 'set-region', 'start', 'stream', 'complete', 'wait-done', 'check-errors', 'enable-port', 'done']);
    const total = Math.ceil(gbs.bitstreamLength / 4) * 4;
    const stream = seen.filter((p) => p.step === 'stream');
    expect(stream.length).toBeGreaterThan(12);
    for (let i = 1; i < stream.length; i++) expect(stream[i]!.written).toBeGreaterThanOrEqual(stream[i - 1]!.written);
    expect(stream.at(-1)!.written).toBe(total);
    expect(seen.every((p) => p.total === total)).toBe(true);
  });

  it('offers progress as events and as an async iterator, and the result through done', async () => {
    const { target } = rig();
    const { gbs } = gbsFor(20_000);
    const job = startPartialReconfiguration(target, gbs, { chunkWords: 500 });
    let events = 0;
    const steps: string[] = [];
    job.on('progress', () => events++);
    job.on('step', (s: string) => steps.push(s));
    const iterated: PrProgress[] = [];
    for await (const p of job) iterated.push(p);
    const result = await job.done;
    expect(result.acceleratorUuid).toBe(AFU);
    expect(iterated.length).toBe(events);
    expect(iterated.at(-1)!.step).toBe('done');
    expect(steps[0]).toBe('validate');
    expect(steps).toContain('stream');
    expect(new Set(steps).size).toBe(steps.length);
  });

  it('the async iterator rethrows the failure at its end', async () => {
    const { target } = rig({ faults: ['crc'] });
    const job = startPartialReconfiguration(target, gbsFor(64).gbs);
    const steps: string[] = [];
    await expect((async () => { for await (const p of job) steps.push(p.step); })()).rejects.toBeInstanceOf(PrError);
    expect(steps).toContain('enable-port');
  });

  it('cancels between chunks through an AbortSignal and enables the port again', async () => {
    const { target, inReset } = rig();
    const ac = new AbortController();
    const err = await prError(partialReconfigure(target, gbsFor(40_000).gbs, { chunkWords: 1000, signal: ac.signal, onProgress: (p) => { if (p.step === 'stream' && p.written > 8000) ac.abort(); } }));
    expect(err.code).toBe('ECANCELED');
    expect(inReset.has(0)).toBe(false);
  });

  it('loads a legacy GBS (no accelerator UUID in the file; the engine reads it from the image)', async () => {
    const { target, loaded } = rig();
    const { image } = gbsFor(128);
    const r = await partialReconfigure(target, parseGbs(buildLegacyGbs(IFC, image)));
    expect(r.acceleratorUuid).toBeUndefined();
    expect(loaded).toEqual([[0, AFU]]);
  });

  it('refuses an empty bitstream', async () => {
    const { target } = rig();
    const empty = parseGbs(buildGbs({ interfaceUuid: IFC, acceleratorClusters: [{ acceleratorTypeUuid: AFU }] }, new Uint8Array(0)));
    expect((await prError(partialReconfigure(target, empty))).code).toBe('EPR_EMPTY');
  });
});
