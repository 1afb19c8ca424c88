// Secure update through the MAX10 BMC, written once against Device for the transport-parametrised
// sim suite: the host finds the BMC by walking the DFL (FME feature 0xE), reaches it over SPI-AVMM
// through BAR0, and runs the kernel's doorbell sequence (src/afu/bmc/secure-update.ts). Every
// assertion reads the card through the transport (DOORBELL, AUTH_RESULT, the staging area, the
// flash count), never the model, so it holds for a card in this process and for one served from
// another. A served card is shared by the suite's cases: counts are compared before and after.
import { expect, it } from 'vitest';
import type { Device } from '../../src/device/device.js';
import { openBmc } from '../../src/afu/bmc/bmc.js';
import { FlashError, type FlashProgress } from '../../src/afu/bmc/secure-update.js';
import { collectFlashProgress as collect, flashCancelledWhileReady } from '../bmc/helpers.js';
import { TimeoutError } from '../../src/errors.js';
import { AUTH_RESULT, DOORBELL, RsuProgress, RsuStatus, STAGING_BASE, WRITE_BLOCK_SIZE, rsuProgress, rsuStatus } from '../../src/afu/bmc/registers.js';
import type { BmcTransport } from '../../src/afu/bmc/transport.js';
import { readFlashStatus } from '../../src/afu/bmc/flash-status.js';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';
import { type Max10Fault } from '../../src/sim/bmc/max10-model.js';
import { FLASH_COUNT_ADDR } from '../../src/sim/bmc/max10-flash.js';
import type { DeviceFactory } from './factories.js';

const fpgaImage = (bytes: number, version: string, seed = 5): Uint8Array => buildSignedImage({ contentType: 0, payload: patternPayload(bytes, seed), version });

/** Staging flashes the card has counted: an inverted bit vector, one bit cleared per image written to staging (intel-m10-bmc.h, sysfs-driver-intel-m10-bmc-sec-update flash_count). */
function flashCount(t: BmcTransport): number {
  let n = 0;
  for (let word = 0; ; word++) {
    const v = t.read32(FLASH_COUNT_ADDR + word * 4);
    let zeros = 0;
    for (let b = 0; b < 32; b++) if ((v & (1 << b)) === 0) zeros++;
    n += zeros;
    if (zeros < 32) return n;
  }
}


/** The BMC is idle, and a further update goes through: the card is usable after whatever came before. */
async function expectIdleAndUsable(device: Device, transport: BmcTransport, flash: (image: Uint8Array) => Promise<unknown>): Promise<void> {
  expect([RsuProgress.IDLE, RsuProgress.RSU_DONE]).toContain(rsuProgress(transport.read32(DOORBELL)));
  const before = flashCount(transport);
  const image = fpgaImage(2000, 'after', 9);
  await flash(image);
  expect(rsuProgress(transport.read32(DOORBELL))).toBe(RsuProgress.RSU_DONE);
  expect(transport.read32(AUTH_RESULT)).toBe(0);
  expect(flashCount(transport)).toBe(before + 1);
  expect(readFlashStatus(device.url)).toMatchObject({ state: 'DONE', progress: 100 });
}

/** Secure update cases of the sim suite (a full update; a cancel while READY). */
/**
 * Over vfio-user the BMC path's ~40 trapped accesses per 4 bytes (one word per Avalon-MM write
 * transaction, regmap-spi-avmm MAX_WRITE_CNT 1, through the Nios indirect bus) travel as
 * REGION_BATCH messages of hundreds of words: a served flash of these images takes seconds, a
 * little longer than the 30 s default allows on a loaded machine (benchmarks/flash.ts measures it).
 */
const flashTimeout = (factory: DeviceFactory): number | undefined => (factory.remote ? 60_000 : undefined);

export function defineSecureUpdateCases(factory: DeviceFactory): void {
  it('runs a secure update through the BMC: PREPARING -> READY -> COPYING -> DONE, image staged and authenticated, status readable', async () => {
    using device = factory.open();
    using bmc = await openBmc(device);
    expect(bmc.location.kind).toBe('spi-avmm');
    const t = bmc.transport;
    // Two 16 KiB write blocks and a leftover word: small, so over vfio-user (every BMC word is a few
    // SPI-AVMM register round trips) the update takes about a second of writing plus the kernel's polls.
    // PACSign pads the payload to 128 bytes (reader.py), so 3 bytes after it give the partial last word.
    const image = Uint8Array.from([...fpgaImage(WRITE_BLOCK_SIZE + 4000, 'fpga-suite-1'), 1, 2, 3]);
    const before = flashCount(t);
    const c = collect();
    const result = await bmc.update.flash(image, { onProgress: c.onProgress });
    expect(c.states).toEqual(['PREPARING', 'READY', 'COPYING', 'DONE']);
    // READY: % written rises block by block (16 KiB) to 100.
    const ready = c.events.filter((e) => e.state === 'READY').map((e) => e.progress);
    expect(ready.length).toBe(2);
    expect(ready[ready.length - 1]).toBe(100);
    for (let i = 1; i < ready.length; i++) expect(ready[i]!).toBeGreaterThan(ready[i - 1]!);
    // COPYING: an estimate of % copied that never goes back and stays below 100 until DONE.
    const copying = c.events.filter((e) => e.state === 'COPYING').map((e) => e.progress);
    for (let i = 1; i < copying.length; i++) expect(copying[i]!).toBeGreaterThanOrEqual(copying[i - 1]!);
    expect(Math.max(...copying)).toBeLessThan(100);
    expect(result).toMatchObject({ state: 'DONE', image: { type: 0, subtype: 0, version: 'fpga-suite-1', length: image.length } });
    // The BMC reports RSU done with a normal status, authentication passed, and the image is in staging.
    const doorbell = t.read32(DOORBELL);
    expect(rsuProgress(doorbell)).toBe(RsuProgress.RSU_DONE);
    expect(rsuStatus(doorbell)).toBe(RsuStatus.NORMAL);
    expect(t.read32(AUTH_RESULT)).toBe(0);
    // Authentication passing means the BMC hashed the whole staged payload against block0; the
    // host reads back block0's header, the seam between the two write blocks, and the zero-padded tail.
    const expectStaged = (offset: number, length: number): void => {
      const want = new Uint8Array(length);
      want.set(image.subarray(offset, Math.min(image.length, offset + length)));
      expect(Buffer.compare(t.readBlock(STAGING_BASE + offset, length), want), `staging at +0x${offset.toString(16)}`).toBe(0);
    };
    expectStaged(0, 256);
    expectStaged(WRITE_BLOCK_SIZE - 64, 128);
    const tail = image.length & ~3;
    expectStaged(tail - 64, 68);
    expect(flashCount(t)).toBe(before + 1);
    // The status file other processes read (vfiokit status) says DONE.
    expect(readFlashStatus(device.url)).toMatchObject({ state: 'DONE', status: 0, progress: 100, pid: process.pid, image: { typeName: 'FPGA', version: 'fpga-suite-1' } });
  }, flashTimeout(factory));

  it('cancels a secure update while READY: ECANCELED, the BMC back at idle, nothing flashed, the card usable', async () => {
    using device = factory.open();
    using bmc = await openBmc(device);
    const t = bmc.transport;
    const before = flashCount(t);
    const su = bmc.update;
    const { asked, outcome: err } = await flashCancelledWhileReady(su, fpgaImage(3 * WRITE_BLOCK_SIZE - 1024, 'fpga-cancelled'));
    expect(asked).toBe(true);
    expect(err).toBeInstanceOf(FlashError);
    expect((err as FlashError).code).toBe('ECANCELED');
    await device.clock.sleep(200); // the NIOS takes the abort (handshake) and returns to idle
    expect(rsuProgress(t.read32(DOORBELL))).toBe(RsuProgress.IDLE);
    expect(flashCount(t)).toBe(before);
    expect(readFlashStatus(device.url)).toMatchObject({ state: 'IDLE', error: { code: 'ECANCELED' } });
    await expect(su.cancel()).rejects.toThrow(/idle|nothing to cancel/);
    await expectIdleAndUsable(device, t, (image) => su.flash(image));
  }, flashTimeout(factory));
}

/**
 * The URL's BMC faults, armed at power-up and taken one per update in order (the factory's URL
 * carries bmcFault=wearout,erase-fail,auth-fail): each update fails with its code, never reaches
 * DONE, leaves the status file IDLE with the error, and the next update runs.
 */
export const URL_FAULT_SEQUENCE: readonly (readonly [Max10Fault, typeof FlashError | typeof TimeoutError, string])[] = [
  ['wearout', FlashError, 'EFLASH_WEAROUT'],
  ['erase-fail', FlashError, 'EFLASH_ERASE'],
  ['auth-fail', FlashError, 'EFLASH_AUTH'],
];

export function defineBmcFaultCases(factory: DeviceFactory): void {
  it(`takes the URL's BMC faults one per update (${URL_FAULT_SEQUENCE.map(([f]) => f).join(', ')}), then flashes`, async () => {
    using device = factory.open();
    using bmc = await openBmc(device);
    const t = bmc.transport;
    const before = flashCount(t);
    for (const [fault, type, code] of URL_FAULT_SEQUENCE) {
      const c = collect();
      const err = await bmc.update.flash(fpgaImage(4000, `fpga-${fault}`), { onProgress: c.onProgress }).catch((e: unknown) => e);
      expect(err, fault).toBeInstanceOf(type);
      expect((err as FlashError).code, fault).toBe(code);
      expect((err as FlashError).message).toMatch(/DOORBELL 0x/);
      expect(c.states).not.toContain('DONE');
      expect(readFlashStatus(device.url)).toMatchObject({ state: 'IDLE', error: { code } });
      if (fault === 'auth-fail') expect(t.read32(AUTH_RESULT)).not.toBe(0);
    }
    // wearout and erase-fail stop before staging is written; the image that failed authentication was flashed into staging.
    expect(flashCount(t)).toBe(before + 1);
    await expectIdleAndUsable(device, t, (image) => bmc.update.flash(image));
  }, flashTimeout(factory));
}
