import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { bmcRig } from './helpers.js';
import { SecureUpdate, FlashError, type FlashProgress } from '../../src/afu/bmc/secure-update.js';
import { collectFlashProgress as collect, flashCancelledWhileReady } from './helpers.js';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';
import { ImageError } from '../../src/afu/image/signed-image.js';
import { ArgumentError, TimeoutError } from '../../src/errors.js';
import { DOORBELL, RsuProgress, rsuProgress, AUTH_RESULT } from '../../src/afu/bmc/registers.js';
import { readFlashStatus } from '../../src/afu/bmc/flash-status.js';
import { AuthResult, REH_AREAS } from '../../src/sim/bmc/max10-flash.js';
import { DEFAULT_TIMING } from '../../src/sim/bmc/max10-timing.js';

beforeAll(() => {
  process.env.VFIOKIT_STATE_DIR = mkdtempSync(join(tmpdir(), 'vfiokit-flash-test-'));
});

const fpgaImage = (bytes = 100_000, version = 'fpga-2.0.1') => buildSignedImage({ contentType: 0, payload: patternPayload(bytes, 5), version });


async function expectIdleAndUsable(rig: ReturnType<typeof bmcRig>): Promise<void> {
  const { host, bmc } = rig;
  expect([RsuProgress.IDLE, RsuProgress.RSU_DONE]).toContain(rsuProgress(host.read32(DOORBELL)));
  const done = bmc.max10.counters.updatesDone;
  await new SecureUpdate(host).flash(fpgaImage(2000, 'after'));
  expect(bmc.max10.counters.updatesDone).toBe(done + 1);
  expect(bmc.max10.lastUpdate?.version).toBe('after');
}

describe('secure update against the sim BMC', () => {
  it('runs a full update with the status sequence and kernel timings', async () => {
    const rig = bmcRig();
    const { host, bmc, clock } = rig;
    const c = collect();
    const url = 'sim:test-full';
    const result = await new SecureUpdate(host, { device: url }).flash(fpgaImage(), { onProgress: c.onProgress });
    expect(c.states).toEqual(['PREPARING', 'READY', 'COPYING', 'DONE']);
    const ready = c.events.filter((e) => e.state === 'READY').map((e) => e.progress);
    expect(ready[ready.length - 1]).toBe(100);
    for (let i = 1; i < ready.length; i++) expect(ready[i]!).toBeGreaterThan(ready[i - 1]!);
    const copying = c.events.filter((e) => e.state === 'COPYING').map((e) => e.progress);
    expect(Math.max(...copying)).toBeGreaterThan(0);
    expect(result.state).toBe('DONE');
    expect(bmc.max10.lastUpdate).toMatchObject({ contentType: 0, subtype: 0, version: 'fpga-2.0.1' });
    expect(bmc.max10.flashCount).toBe(1);
    // erase (15 s) + auth (5 s) + copy (100 KB at 42.7 KB/s) on the virtual clock
    expect(clock.now()).toBeGreaterThan(DEFAULT_TIMING.eraseMs + DEFAULT_TIMING.authMs);
    expect(readFlashStatus(url)).toMatchObject({ state: 'DONE', status: 0, progress: 100, pid: process.pid });
    // the flash count is readable through the transport (inverted bit vector)
    expect(host.read32(0x17ffb000)).toBe(0xfffffffe);
  });

  const faults = [
    ['wearout', FlashError, 'EFLASH_WEAROUT'],
    ['erase-fail', FlashError, 'EFLASH_ERASE'],
    ['auth-fail', FlashError, 'EFLASH_AUTH'],
    ['prepare-timeout', TimeoutError, 'ETIMEDOUT'],
    ['copy-timeout', TimeoutError, 'ETIMEDOUT'],
  ] as const;
  for (const [fault, type, code] of faults) {
    it(`fault ${fault} -> ${code}, never DONE, BMC back at idle, card usable`, async () => {
      const rig = bmcRig();
      rig.bmc.max10.injectFault(fault);
      const c = collect();
      const url = `sim:test-${fault}`;
      const err = await new SecureUpdate(rig.host, { device: url }).flash(fpgaImage(20_000), { onProgress: c.onProgress }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(type);
      expect((err as FlashError).code).toBe(code);
      expect((err as FlashError).message).toMatch(/DOORBELL 0x/);
      expect(c.states).not.toContain('DONE');
      expect(readFlashStatus(url)).toMatchObject({ state: 'IDLE', error: { code } });
      rig.clock.advance(DEFAULT_TIMING.stuckMs); // a stuck BMC phase gives up on its own
      await expectIdleAndUsable(rig);
    });
  }

  it('busy at start -> EBUSY without touching the doorbell request', async () => {
    const rig = bmcRig();
    rig.bmc.max10.injectFault('busy');
    const err = await new SecureUpdate(rig.host).flash(fpgaImage(2000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlashError);
    expect((err as FlashError).code).toBe('EBUSY');
    expect(rig.bmc.max10.counters.rsuRequests).toBe(0);
    rig.clock.advance(DEFAULT_TIMING.busyMs);
    await expectIdleAndUsable(rig);
  });

  it('cancel while READY aborts; the BMC returns to idle', async () => {
    const rig = bmcRig();
    const su = new SecureUpdate(rig.host, { device: 'sim:test-cancel' });
    const { asked, outcome: err } = await flashCancelledWhileReady(su, fpgaImage(200_000));
    expect(asked).toBe(true);
    expect((err as FlashError).code).toBe('ECANCELED');
    rig.clock.advance(1000);
    expect(rsuProgress(rig.bmc.max10.doorbell)).toBe(RsuProgress.IDLE);
    expect(rig.bmc.max10.counters.cancels).toBe(1);
    expect(rig.bmc.max10.counters.updatesDone).toBe(0);
    await expectIdleAndUsable(rig);
  });

  it('an AbortSignal cancels while READY', async () => {
    const rig = bmcRig();
    const ac = new AbortController();
    const err = await new SecureUpdate(rig.host).flash(fpgaImage(100_000), { signal: ac.signal, onProgress: (p) => { if (p.state === 'READY') ac.abort(); } }).catch((e: unknown) => e);
    expect((err as FlashError).code).toBe('ECANCELED');
  });

  it('cancel is refused after READY, naming the state, and the update completes', async () => {
    const rig = bmcRig();
    const su = new SecureUpdate(rig.host);
    let refusal: unknown;
    const result = await su.flash(fpgaImage(50_000), {
      onProgress: (p) => {
        if (p.state === 'COPYING' && !refusal) su.cancel().catch((e: unknown) => { refusal = e; });
      },
    });
    expect(result.state).toBe('DONE');
    expect(refusal).toBeInstanceOf(FlashError);
    expect((refusal as FlashError).code).toBe('EFLASH_CANCEL_STATE');
    expect((refusal as FlashError).message).toMatch(/authenticating|copying/);
    await expect(su.cancel()).rejects.toThrow(/RSU done|idle/);
  });

  it('a payload whose hash does not match block0 is rejected by the host, or by the card', async () => {
    const image = fpgaImage(10_000);
    image[2000] ^= 0xff;
    const rig = bmcRig();
    await expect(new SecureUpdate(rig.host).flash(image)).rejects.toThrow(ImageError);
    expect(rig.bmc.max10.counters.rsuRequests).toBe(0);
    const err = await new SecureUpdate(rig.host).flash(image, { verifyHashes: false }).catch((e: unknown) => e);
    expect((err as FlashError).code).toBe('EFLASH_AUTH');
    expect(rig.host.read32(AUTH_RESULT)).toBe(AuthResult.SHA256);
    expect((err as FlashError).details.authResult).toBe('0x00000004');
    await expectIdleAndUsable(rig);
  });

  it('root-key-hash and cancellation images need confirmation', async () => {
    const rig = bmcRig();
    const hash = patternPayload(32, 9);
    const reh = buildSignedImage({ contentType: 0, subtype: 2, payload: hash });
    const err = await new SecureUpdate(rig.host).flash(reh).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArgumentError);
    expect((err as ArgumentError).code).toBe('ECONFIRM');
    expect(rig.bmc.max10.counters.rsuRequests).toBe(0);
    const cancelCert = buildSignedImage({ contentType: 1, subtype: 1, payload: new Uint8Array(128) });
    await expect(new SecureUpdate(rig.host).flash(cancelCert)).rejects.toThrow(/cannot be undone/);
    const c = collect();
    await new SecureUpdate(rig.host).flash(reh, { confirm: true, onProgress: c.onProgress });
    expect(c.states).toEqual(['PREPARING', 'READY', 'COPYING', 'DONE']);
    const sr = REH_AREAS[0];
    expect(rig.host.read32(sr.prog)).toBe(((256 << 16) | sr.magic) >>> 0);
    expect(rig.host.readBlock(sr.prog + 4, 32)).toEqual(hash);
  });

  it('refuses GBS update images (they go through partial reconfiguration)', async () => {
    const rig = bmcRig();
    await expect(new SecureUpdate(rig.host).flash(buildSignedImage({ contentType: 2, payload: new Uint8Array(256) }))).rejects.toThrow(/partial reconfiguration/);
  });
});
