// The sim URL's BMC options (bmcTiming, bmcTimeScale, bmcFault) and the model options behind them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend, parseSimUrl } from '../../src/sim/backend.js';
import { Max10Model, type Max10Fault } from '../../src/sim/bmc/max10-model.js';
import { DEFAULT_TIMING, MAX10_TIMING_PRESETS, scaleTiming } from '../../src/sim/bmc/max10-timing.js';
import { simBmcFeature, type SimBmc } from '../../src/sim/bmc/sim-bmc.js';
import { openBmc } from '../../src/afu/bmc/bmc.js';
import { FlashError } from '../../src/afu/bmc/secure-update.js';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';
import { ArgumentError, DeviceError } from '../../src/errors.js';
import { VirtualClock } from '../../src/util/clock.js';
import type { SimDevice } from '../../src/sim/sim-device.js';
import { bmcRig } from './helpers.js';

beforeAll(() => {
  process.env.VFIOKIT_STATE_DIR = mkdtempSync(join(tmpdir(), 'vfiokit-sim-url-test-'));
});

const image = () => buildSignedImage({ contentType: 0, payload: patternPayload(100_000, 3), version: 'url' });

/** Flash on an in-process card opened by URL; returns the virtual ms the update took. */
async function flashMs(url: string): Promise<number> {
  using device = backend.open(url) as SimDevice;
  using bmc = await openBmc(device);
  const result = await bmc.update.flash(image());
  return result.ms;
}

describe('sim URL: BMC options', () => {
  it('keeps the real card\'s timings by default, and bmcTiming=realistic says so explicitly', async () => {
    expect(parseSimUrl('sim:n3000').bmc).toBeUndefined();
    expect(parseSimUrl('sim:n3000').options.featureModels).toBeUndefined();
    expect(parseSimUrl('sim:n3000?bmcTiming=realistic').bmc?.timing).toEqual(DEFAULT_TIMING);
    const ms = await flashMs('sim:n3000');
    // erase 15 s + authentication 5 s + copy of 100 KB at 42.7 KB/s, seen through the kernel's poll intervals
    expect(ms).toBeGreaterThan(DEFAULT_TIMING.eraseMs + DEFAULT_TIMING.authMs + DEFAULT_TIMING.copyMinMs);
  });

  it('bmcTiming=fast runs normal operation 100x faster; failure horizons stay', async () => {
    const fast = parseSimUrl('sim:n3000?bmcTiming=fast').bmc!.timing!;
    expect(fast).toEqual(MAX10_TIMING_PRESETS.fast);
    expect(fast).toMatchObject({ eraseMs: 150, authMs: 50, copyMinMs: 20, copyBytesPerSec: 4_270_000, stuckMs: DEFAULT_TIMING.stuckMs, readyWatchdogMs: DEFAULT_TIMING.readyWatchdogMs });
    const ms = await flashMs('sim:n3000?bmcTiming=fast');
    // handshake + prepare polls (100 ms) and one completion poll (1 s): the kernel's intervals now dominate
    expect(ms).toBeLessThan(2000);
    expect(ms).toBeGreaterThanOrEqual(1000);
  });

  it('bmcTimeScale scales the preset it is given with (default realistic)', () => {
    expect(parseSimUrl('sim:n3000?bmcTimeScale=0.5').bmc!.timing).toMatchObject({ eraseMs: 7500, authMs: 2500, copyBytesPerSec: 85_400 });
    expect(parseSimUrl('sim:n3000?bmcTimeScale=2').bmc!.timing).toMatchObject({ eraseMs: 30_000, rebootMs: 6000 });
    expect(parseSimUrl('sim:n3000?bmcTiming=fast&bmcTimeScale=0.1').bmc!.timing!.eraseMs).toBeCloseTo(15);
  });

  it('refuses unknown or bad values with a typed error listing the valid ones', () => {
    const refuse = (url: string, re: RegExp) => {
      const err = (() => { try { parseSimUrl(url); } catch (e) { return e; } return undefined; })();
      expect(err, url).toBeInstanceOf(DeviceError);
      expect((err as DeviceError).code).toBe('EDEVICE_URL');
      expect((err as DeviceError).message).toMatch(re);
    };
    refuse('sim:n3000?bmcTiming=turbo', /bmcTiming "turbo" is not a BMC timing preset; known: realistic, fast/);
    refuse('sim:n3000?bmcTiming=fast&bmcTiming=realistic', /given twice/);
    for (const v of ['0', '-1', 'abc', '', 'Infinity', 'NaN']) refuse(`sim:n3000?bmcTimeScale=${v}`, /bmcTimeScale ".*" is not a positive number/);
    refuse('sim:n3000?bmcFault=melt', /unknown BMC fault "melt"; known: wearout, erase-fail, auth-fail, prepare-timeout, copy-timeout, busy/);
    refuse('sim:n3000?bmcFault=auth-fail,', /unknown BMC fault ""/);
    refuse('sim:n3000?bmcColour=red', /unknown option "bmcColour"; known: .*bmcTiming, bmcTimeScale, bmcFault/);
  });

  it('bmcFault arms faults at power-up, taken one per update in order; the card flashes afterwards', async () => {
    const parsed = parseSimUrl('sim:n3000?bmcFault=erase-fail&bmcFault=auth-fail');
    expect(parsed.bmc?.faults).toEqual(['erase-fail', 'auth-fail']);
    expect(parsed.bmc?.timing).toBeUndefined();
    using device = backend.open('sim:n3000?bmcFault=erase-fail&bmcFault=auth-fail') as SimDevice;
    using bmc = await openBmc(device);
    const codes: string[] = [];
    for (let i = 0; i < 2; i++) codes.push(await bmc.update.flash(image()).then(() => 'DONE', (e: FlashError) => e.code));
    expect(codes).toEqual(['EFLASH_ERASE', 'EFLASH_AUTH']);
    expect((await bmc.update.flash(image())).state).toBe('DONE');
  });

  it('bmcFault=busy: the card powers up with another update running', async () => {
    using device = backend.open('sim:n3000?bmcFault=busy') as SimDevice;
    using bmc = await openBmc(device);
    const err = await bmc.update.flash(image()).catch((e: unknown) => e);
    expect((err as FlashError).code).toBe('EBUSY');
    await device.clock.sleep(DEFAULT_TIMING.busyMs);
    expect((await bmc.update.flash(image())).state).toBe('DONE');
  });

  it('a programmatic BMC model replaces the URL\'s', () => {
    let model: SimBmc | undefined;
    const url = 'sim:n3000?bmcTiming=fast';
    using mine = backend.open(url, { featureModels: { 'fme:0xd': simBmcFeature({ onCreate: (m) => { model = m; } }) } }) as SimDevice;
    expect(model!.max10.timing).toEqual(DEFAULT_TIMING);
    expect(mine.url).toBe(url);
  });
});

describe('Max10Model timing and fault options', () => {
  it('scaleTiming refuses a scale that is not a positive number', () => {
    for (const s of [0, -1, NaN, Infinity]) expect(() => scaleTiming(DEFAULT_TIMING, s)).toThrow(ArgumentError);
  });

  it('refuses negative or non-finite timings and a zero copy rate, naming the field', () => {
    expect(() => new Max10Model(new VirtualClock(), { timing: { eraseMs: -1 } })).toThrow(/eraseMs = -1/);
    expect(() => new Max10Model(new VirtualClock(), { timing: { authMs: NaN } })).toThrow(/authMs = NaN/);
    expect(() => new Max10Model(new VirtualClock(), { timing: { copyBytesPerSec: 0 } })).toThrow(/copyBytesPerSec = 0 is not a positive/);
  });

  it('refuses an unknown fault, listing the known ones', () => {
    expect(() => new Max10Model(new VirtualClock(), { faults: ['melt' as Max10Fault] })).toThrow(/unknown BMC fault "melt"; known: wearout/);
    const rig = bmcRig();
    expect(() => rig.bmc.max10.injectFault('melt' as Max10Fault)).toThrow(ArgumentError);
  });

  it('faults given as options act like injectFault', async () => {
    const rig = bmcRig({ faults: ['wearout'] });
    const { SecureUpdate } = await import('../../src/afu/bmc/secure-update.js');
    const err = await new SecureUpdate(rig.host).flash(image()).catch((e: unknown) => e);
    expect((err as FlashError).code).toBe('EFLASH_WEAROUT');
    expect((await new SecureUpdate(rig.host).flash(image())).state).toBe('DONE');
  });
});
