// Partial reconfiguration end to end on the simulated N3000-class card: open by URL, walk the DFL,
// load a GBS into port 0 through the FME PR feature, walk again and find the new AFU.
import { describe, expect, it } from 'vitest';
import { openDevice } from '../../src/device/registry.js';
import { createSimCard, type SimDevice } from '../../src/sim/sim-device.js';
import { SIM_AFU_GUID, SIM_PR_INTERFACE_ID } from '../../src/sim/identity.js';
import { prEngineOf, type PrFault } from '../../src/sim/pr-engine.js';
import { Card } from '../../src/afu/card.js';
import { parseGbs } from '../../src/afu/pr/gbs.js';
import { prTarget, reconfigureCard, startCardReconfiguration } from '../../src/afu/pr/card-pr.js';
import { fmePrDriver } from '../../src/afu/pr/fme-pr.js';
import type { FeatureRef } from '../../src/afu/feature-ref.js';
import { simGbs as simGbsFile, prError } from './helpers.js';

const NEW_AFU = '6f4e5d3c-2b1a-4c9d-8e7f-0a1b2c3d4e5f';

function simGbs(interfaceUuid: string, afuGuid = NEW_AFU, payloadBytes = 12_345) {
  const payload = Uint8Array.from({ length: payloadBytes }, (_, i) => (i * 31 + 7) & 0xff);
  const { gbs, image } = simGbsFile({ interfaceUuid, afuGuid, payload, metadata: { platformName: 'sim n3000', power: 10, clockFrequencyHigh: 400, clockFrequencyLow: 200 } });
  return { gbs, image };
}

function engineOf(device: SimDevice) {
  const engine = prEngineOf(device.sim.context);
  if (!engine) throw new Error('the sim card has no PR engine model');
  return engine;
}

describe('PR on the sim card', () => {
  it.each(['n3000', 'n3000-dfh1', 'n3000-no-vsec'])('opens sim:%s, loads a GBS into port 0 and the walk shows the new AFU GUID', async (variant) => {
    using device = (await openDevice(`sim:${variant}`)) as SimDevice;
    const before = Card.discover(device);
    expect(before.afu(0)!.guid).toBe(SIM_AFU_GUID);
    expect(before.fme!.prInterfaceId).toBe(SIM_PR_INTERFACE_ID);
    const { gbs, image } = simGbs(before.fme!.prInterfaceId!);
    const result = await reconfigureCard(before, gbs, { port: 0 });
    expect(result).toMatchObject({ port: 0, acceleratorUuid: NEW_AFU, fmeInterfaceUuid: SIM_PR_INTERFACE_ID, bytesWritten: Math.ceil(image.length / 4) * 4 });
    const got = engineOf(device).receivedBytes();
    expect(Buffer.from(got.subarray(0, image.length)).equals(Buffer.from(image))).toBe(true);
    const after = Card.discover(device);
    expect(after.afu(0)!.guid).toBe(NEW_AFU);
    expect(after.port(0)!.disabled).toBe(false);
    expect(after.port(0)!.control.softReset).toBe(false);
  });

  it('loads twice in a row (the second PR resets the engine first) and reports progress', async () => {
    using device = createSimCard('n3000');
    const card = Card.discover(device);
    await reconfigureCard(card, simGbs(SIM_PR_INTERFACE_ID, NEW_AFU).gbs);
    const second = '0badc0de-0000-4000-8000-000000000001';
    const job = startCardReconfiguration(card, simGbs(SIM_PR_INTERFACE_ID, second, 300_000).gbs, { chunkWords: 8192 });
    const written: number[] = [];
    for await (const p of job) if (p.step === 'stream') written.push(p.written);
    await job.done;
    expect(written.length).toBeGreaterThan(5);
    expect(written.at(-1)).toBe(Math.ceil((300_000 + 64) / 4) * 4);
    expect(Card.discover(device).afu(0)!.guid).toBe(second);
    expect(engineOf(device).operations.map((o) => o.afuGuid)).toEqual([NEW_AFU, second]);
  });

  it('refuses a GBS for another FIM before writing anything: no PR register, no port touched', async () => {
    using device = createSimCard('n3000');
    const card = Card.discover(device);
    const engine = engineOf(device);
    const err = await prError(reconfigureCard(card, simGbs('11111111-2222-3333-4444-555555555555').gbs));
    expect(err.code).toBe('EPR_INTERFACE_MISMATCH');
    expect(engine.dataWrites).toBe(0);
    expect(engine.ctrlWrites).toBe(0);
    expect(engine.wordsReceived).toBe(0);
    expect(card.port(0)!.control.softReset).toBe(false);
    expect(Card.discover(device).afu(0)!.guid).toBe(SIM_AFU_GUID);
  });

  it('refuses port 1 on a one-port card (FME_CAP port count)', async () => {
    using device = createSimCard('n3000');
    const card = Card.discover(device);
    const err = await prError(reconfigureCard(card, simGbs(SIM_PR_INTERFACE_ID).gbs, { port: 1 }));
    expect(err.code).toBe('EPR_PORT');
    expect(engineOf(device).ctrlWrites).toBe(0);
  });

  it.each<[PrFault, string]>([
    ['crc', 'EPR_CRC'],
    ['incompatible', 'EPR_INCOMPATIBLE'],
    ['protocol', 'EPR_PROTOCOL'],
    ['fifo-overflow', 'EPR_FIFO_OVERFLOW'],
    ['timeout', 'EPR_HW_TIMEOUT'],
    ['secure-load', 'EPR_SECURE_LOAD'],
    ['operation', 'EPR_OPERATION'],
    ['reset-ack-never', 'EPR_RESET_ACK_TIMEOUT'],
    ['busy-stuck', 'EPR_BUSY_TIMEOUT'],
    ['credit-starvation', 'EPR_CREDIT_TIMEOUT'],
    ['complete-hang', 'EPR_COMPLETE_TIMEOUT'],
  ])('fault %s -> %s, the port is enabled again and the old AFU stays', async (fault, code) => {
    using device = createSimCard('n3000');
    const card = Card.discover(device);
    engineOf(device).inject(fault);
    const err = await prError(reconfigureCard(card, simGbs(SIM_PR_INTERFACE_ID).gbs));
    expect(err.code).toBe(code);
    expect(err.details.register).toMatch(/^PR_(CTRL|STS|ERR)$/);
    const port = card.port(0)!;
    expect(port.disabled).toBe(false);
    expect(port.control.softReset).toBe(false);
    expect(device.sim.port.inReset).toBe(false);
    expect(Card.discover(device).afu(0)!.guid).toBe(SIM_AFU_GUID);
  });

  it('a port whose reset is never acknowledged: the PR stops before any PR register write and the port is released', async () => {
    using device = createSimCard('n3000', { faults: ['reset-ack'] });
    const card = Card.discover(device);
    const err = await prError(reconfigureCard(card, simGbs(SIM_PR_INTERFACE_ID).gbs));
    // Port.clearErrors holds the port in reset itself (dfl-afu-error.c), so that is the step that fails.
    expect(err.details.step).toBe('clear-port-errors');
    expect(err.code).toBe('EPORT_DISABLE_TIMEOUT');
    expect(card.port(0)!.disabled).toBe(false);
    expect(device.sim.port.inReset).toBe(false);
    expect(engineOf(device).ctrlWrites).toBe(0);
  });

  it('runs on the real clock too (sim:n3000?clock=real)', async () => {
    using device = (await openDevice('sim:n3000?clock=real')) as SimDevice;
    const card = Card.discover(device);
    const r = await reconfigureCard(card, simGbs(SIM_PR_INTERFACE_ID, NEW_AFU, 40_000).gbs);
    expect(r.durationMs).toBeGreaterThan(0);
    expect(Card.discover(device).afu(0)!.guid).toBe(NEW_AFU);
  });
});

describe('buildSimGbs (demo helper)', () => {
  it('builds a GBS the sim card loads, with metadata naming the same UUIDs', async () => {
    const { buildSimGbs } = await import('../../src/sim-gbs.js');
    const bytes = buildSimGbs({ afuGuid: NEW_AFU, payloadBytes: 5000, name: 'demo', power: 25 });
    const gbs = parseGbs(bytes);
    expect(gbs.interfaceUuid).toBe(SIM_PR_INTERFACE_ID);
    expect(gbs.acceleratorUuid).toBe(NEW_AFU);
    expect(gbs.metadata!.acceleratorClusters[0]!.name).toBe('demo');
    expect(gbs.bitstreamLength).toBe(5064);
    using device = createSimCard('n3000');
    await reconfigureCard(Card.discover(device), gbs);
    expect(Card.discover(device).afu(0)!.guid).toBe(NEW_AFU);
  });
});

describe('PR feature in DFH v1 (dfl.c create_feature_instance: the CSR block is the feature\'s MMIO)', () => {
  it('the host drives the PR registers in the CSR block, not at the DFH, on sim:n3000-dfh1', async () => {
    using device = (await openDevice('sim:n3000-dfh1')) as SimDevice;
    const card = Card.discover(device);
    const pr = card.fme!.findFeature(0x5)!;
    expect(pr.version).toBe(1);
    expect(pr.feature.csr).toMatchObject({ absolute: false });
    const target = prTarget(card);
    expect(target.pr.offset).toBe(pr.offset + Number(pr.feature.csr!.address));
    expect(target.pr.offset).not.toBe(pr.offset);
    // At the DFH, +0xA8/+0xB0 are not the interface ID; in the CSR block they are.
    expect(card.fme!.prInterfaceId).toBe(SIM_PR_INTERFACE_ID);
  });

  it('refuses a PR feature whose v1 CSR address is absolute (not reachable through a BAR)', async () => {
    using device = (await openDevice('sim:n3000-dfh1')) as SimDevice;
    // The sim has no absolute CSR address: the PR driver is handed one as the walk binds it.
    const absoluteOf = (ref: FeatureRef): FeatureRef => ({ ...ref, feature: { ...ref.feature, csr: { ...ref.feature.csr!, absolute: true, address: 0xfee0_0000n } } });
    const card = Card.discover(device, { drivers: [{ ...fmePrDriver, init: (ref, fiu) => fmePrDriver.init(absoluteOf(ref), fiu) }] });
    // The driver refuses the feature at bind time (recorded), PR reports it when asked.
    expect(card.driverErrors.map((e) => [e.key, e.error.code])).toEqual([['fme:0x5', 'EPR_CSR_ABSOLUTE']]);
    expect(card.fme!.prInterfaceId).toBeUndefined();
    expect(() => prTarget(card)).toThrow(/absolute CSR address 0xfee00000/);
  });
});
