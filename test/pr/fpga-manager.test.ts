// PR split the kernel's way: the FME's manager ops (dfl-fme-mgr.c fme_mgr_ops write_init / write /
// write_complete) stepped by the framework (fpga-mgr.c fpga_mgr_buf_load, whose mgr->state walks
// enum fpga_mgr_states), with the bridge (port disable/enable), reservation, progress and cancel
// around them in partial-reconfiguration.ts as fpga-region.c fpga_region_program_fpga does.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/util/clock.js';
import { DeviceError } from '../../src/errors.js';
import { FpgaManager, type FpgaManagerOps, type FpgaManagerState } from '../../src/afu/pr/fpga-manager.js';
import { partialReconfigure, type PrTarget } from '../../src/afu/pr/partial-reconfiguration.js';
import { decodePrSts } from '../../src/afu/pr/registers.js';
import { fmePrDriver } from '../../src/afu/pr/fme-pr.js';
import { reconfigureCard } from '../../src/afu/pr/card-pr.js';
import { Card } from '../../src/afu/card.js';
import { createSimCard } from '../../src/sim/sim-device.js';
import { prEngineOf, type PrFault } from '../../src/sim/pr-engine.js';
import { SIM_PR_INTERFACE_ID } from '../../src/sim/identity.js';
import { prError, simGbs } from './helpers.js';

const IFC = '9346116d-a52d-5ca8-b06a-a9a389ef7c8d';
const AFU = 'c000c966-0d82-4272-9aef-fe5f84570612';

type Failure = 'init' | 'write' | 'complete' | 'complete-untyped';

/** Ops that record their calls (and the manager's state at each) and fail where asked. */
function recordingOps(fail?: Failure) {
  const calls: string[] = [];
  let mgr: FpgaManager | undefined;
  const at = (what: string): void => { calls.push(`${what} [${mgr?.state}]`); };
  const status = decodePrSts(0x1ffn);
  const ops: FpgaManagerOps = {
    name: 'recording manager',
    clock: new VirtualClock(),
    compatIdRegister: 'test compat ID',
    compatId: () => IFC,
    status: () => status,
    async writeInit(info, ctx) {
      at(`writeInit region ${info.regionId}`);
      ctx.step('pr-reset');
      if (fail === 'init') throw ctx.fail('EPR_RESET_ACK_TIMEOUT', 'no ACK', { register: 'PR_CTRL' });
      ctx.step('set-region');
      return { staleErrors: ['bit 3 IP protocol error'] };
    },
    write(words, ctx) {
      at(`write ${words.length} words after ${ctx.written} of ${ctx.total}`);
      if (ctx.written === 0) ctx.step('stream');
      if (fail === 'write' && ctx.written > 0) throw ctx.fail('EPR_CREDIT_TIMEOUT', 'no credit', { register: 'PR_STS' });
    },
    async writeComplete(_info, ctx) {
      at('writeComplete');
      ctx.step('check-errors');
      if (fail === 'complete') throw ctx.fail('EPR_CRC', 'PR_ERR bit 1', { register: 'PR_ERR' });
      if (fail === 'complete-untyped') throw new DeviceError('EIO', 'the function dropped off the bus');
      return { status };
    },
  };
  mgr = new FpgaManager(ops);
  const ports = [{
    clearErrors: () => { calls.push('clearErrors'); },
    disable: () => { calls.push('disable'); },
    enable: () => { calls.push('enable'); },
  }];
  const target: PrTarget = { manager: mgr, portCount: 1, port: (n) => ports[n] };
  const reservation = { begin: () => { calls.push('reserve'); }, end: (i: { ok: boolean }) => { calls.push(`release ${i.ok}`); } };
  return { calls, mgr, target, reservation };
}

function gbs(bytes = 40) {
  return simGbs({ interfaceUuid: IFC, afuGuid: AFU, payload: new Uint8Array(bytes).fill(7) });
}

describe('FPGA manager ops', () => {
  it('calls write-init, write per chunk and write-complete in order, inside the reservation and the port disable', async () => {
    const { calls, mgr, target, reservation } = recordingOps();
    const { gbs: g, image } = gbs(100);
    const words = Math.ceil(image.length / 4);
    const steps: string[] = [];
    const r = await partialReconfigure(target, g, { chunkWords: 10, reservation, onProgress: (p) => steps.push(p.step) });
    const writes = Array.from({ length: Math.ceil(words / 10) }, (_, i) => `write ${Math.min(10, words - i * 10)} words after ${i * 40} of ${words * 4} [write]`);
    expect(calls).toEqual(['reserve', 'clearErrors', 'disable', 'writeInit region 0 [write-init]', ...writes, 'writeComplete [write-complete]', 'enable', 'release true']);
    expect(mgr.state).toBe('operating');
    expect(r).toMatchObject({ bytesWritten: words * 4, staleErrors: ['bit 3 IP protocol error'], status: { credits: 0x1ff } });
    expect([...new Set(steps)]).toEqual(['validate', 'reserve', 'clear-port-errors', 'disable-port', 'pr-reset', 'set-region', 'stream', 'check-errors', 'enable-port', 'done']);
  });

  it.each<[Failure, string, FpgaManagerState, string]>([
    ['init', 'EPR_RESET_ACK_TIMEOUT', 'write-init-error', 'pr-reset'],
    ['write', 'EPR_CREDIT_TIMEOUT', 'write-error', 'stream'],
    ['complete', 'EPR_CRC', 'write-complete-error', 'check-errors'],
    ['complete-untyped', 'EIO', 'write-complete-error', 'check-errors'],
  ])('a %s failure is %s, leaves the manager in %s, names step %s and still enables the port', async (fail, code, state, step) => {
    const { calls, mgr, target, reservation } = recordingOps(fail);
    const err = await prError(partialReconfigure(target, gbs(100).gbs, { chunkWords: 10, reservation }));
    expect(err.code).toBe(code);
    expect(mgr.state).toBe(state);
    expect(calls.slice(-2)).toEqual(['enable', 'release false']);
    if (fail === 'init') expect(calls.some((c) => c.startsWith('write '))).toBe(false);
    expect(err.details.step).toBe(step);
    if (fail === 'write') expect(calls).not.toContain('writeComplete [write-complete]');
    if (fail === 'complete-untyped') {
      // A typed failure from below is wrapped with the PR step, its cause kept.
      expect(err.message).toMatch(/^PR of port 0, step check-errors: the function dropped off the bus/);
      expect(err.cause).toBeInstanceOf(DeviceError);
    }
  });

  it('cancels between write calls: write-complete never runs and the manager stays in write-error', async () => {
    const { calls, mgr, target } = recordingOps();
    const ac = new AbortController();
    let writes = 0;
    const err = await prError(partialReconfigure(target, gbs(400).gbs, { chunkWords: 10, signal: ac.signal, onProgress: (p) => { if (p.written > 0 && ++writes === 2) ac.abort(); } }));
    expect(err.code).toBe('ECANCELED');
    expect(err.details).toMatchObject({ written: 80 });
    expect(calls.filter((c) => c.startsWith('write ')).length).toBe(2);
    expect(calls).not.toContain('writeComplete [write-complete]');
    expect(mgr.state).toBe('write-error');
    expect(calls.at(-1)).toBe('enable');
  });
});

describe('the FME manager ops on the sim PR engine (dfl-fme-mgr.c)', () => {
  it.each<[PrFault, string, FpgaManagerState]>([
    ['crc', 'EPR_CRC', 'write-complete-error'],
    ['reset-ack-never', 'EPR_RESET_ACK_TIMEOUT', 'write-init-error'],
  ])('fault %s -> %s; the card\'s manager (bound once by the walk) is left in %s', async (fault, code, state) => {
    using device = createSimCard('n3000');
    const card = Card.discover(device);
    const pr = card.fme!.instance(fmePrDriver)!;
    expect(pr.manager.state).toBe('unknown');
    prEngineOf(device.sim.context)!.inject(fault);
    const image = simGbs({ interfaceUuid: SIM_PR_INTERFACE_ID, afuGuid: AFU, payload: new Uint8Array(64) });
    expect((await prError(reconfigureCard(card, image.gbs))).code).toBe(code);
    expect(pr.manager.state).toBe(state);
    expect(card.port(0)!.disabled).toBe(false);
  });

  it('reaches operating on success, and the same manager serves the next load', async () => {
    using device = createSimCard('n3000');
    const card = Card.discover(device);
    const pr = card.fme!.instance(fmePrDriver)!;
    await reconfigureCard(card, simGbs({ interfaceUuid: SIM_PR_INTERFACE_ID, afuGuid: AFU, payload: new Uint8Array(64) }).gbs);
    expect(pr.manager.state).toBe('operating');
    expect(card.fme!.instance(fmePrDriver)).toBe(pr);
    // The write-complete status check reads PR_STS: idle after the load.
    expect(pr.manager.ops.status().busy).toBe(false);
  });
});
