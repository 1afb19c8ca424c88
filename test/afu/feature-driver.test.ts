// Feature drivers as seams: the card binds each private feature found by its walk to the driver
// listed for its key ('fme:0x5', 'port:0x10'), once per walk, as drivers/fpga/dfl.c
// dfl_fpga_dev_feature_init matches dfl_feature_driver id tables and runs dfl_feature_ops init,
// and releases them as dfl_fpga_dev_feature_uinit does.
import { describe, expect, it } from 'vitest';
import { createSimCard } from '../../src/sim/sim-device.js';
import { Card } from '../../src/afu/card.js';
import { FeatureDriverTable, type FeatureDriver } from '../../src/afu/feature-driver.js';
import type { FeatureRef } from '../../src/afu/feature-ref.js';
import { defaultFeatureDrivers } from '../../src/afu/default-drivers.js';
import { fmePrDriver } from '../../src/afu/pr/fme-pr.js';
import { fmeErrorDriver, readFmeErrors } from '../../src/afu/fme-errors.js';
import { bmcDriver } from '../../src/afu/bmc/bmc.js';
import { portErrorDriver } from '../../src/afu/port.js';
import { prTarget } from '../../src/afu/pr/card-pr.js';
import { featureKey } from '../../src/dfl/names.js';
import { FiuId } from '../../src/dfl/regs/dfh.js';
import { ArgumentError, DeviceError } from '../../src/errors.js';
import { SIM_PR_INTERFACE_ID } from '../../src/sim/identity.js';

/** A driver that records what the card does with it. */
function recorder(ids: string[], more: Partial<FeatureDriver<{ ref: FeatureRef; n: number }>> = {}) {
  const calls: string[] = [];
  let n = 0;
  const driver: FeatureDriver<{ ref: FeatureRef; n: number }> = {
    name: 'recorder',
    ids,
    init: (ref, fiu) => {
      calls.push(`init ${fiu.feature.name}:${ref.id.toString(16)}`);
      return { ref, n: ++n };
    },
    release: (i) => { calls.push(`release ${i.n}`); },
    ...more,
  };
  return { driver, calls };
}

describe('feature driver registry', () => {
  it('binds a driver registered for an id to the feature the walk found there, once, with its registers', () => {
    using dev = createSimCard('n3000');
    const { driver, calls } = recorder(['fme:0x1', 'port:0x12']);
    const card = Card.discover(dev, { drivers: [driver] });
    expect(calls).toEqual(['init fme:1', 'init port:12']);
    const thermal = card.binding('fme:0x1')!;
    expect(thermal.driver).toBe(driver);
    const sim = dev.sim.features.find((f) => f.key === 'fme:0x1')!;
    expect(thermal.ref).toMatchObject({ id: 0x1, bar: sim.bar, offset: sim.offset });
    expect(card.fme!.instance(driver)).toBe(thermal.instance);
    expect(card.ports[0]!.instance(driver)?.ref.id).toBe(0x12);
    // An FIU sees only its own features.
    expect(card.fme!.instances(driver)).toHaveLength(1);
  });

  it('binds the default drivers under the keys the sim plugs its feature models into', () => {
    for (const variant of ['n3000', 'n3000-dfh1', 'd5005'] as const) {
      using dev = createSimCard(variant);
      const card = Card.discover(dev);
      const keys = card.bindings.map((b) => b.key);
      const bmc = variant === 'd5005' ? 'fme:0xe' : 'fme:0xd';
      expect(keys.sort()).toEqual(['fme:0x1', 'fme:0x2', 'fme:0x4', 'fme:0x5', bmc, 'port:0x10'].sort());
      // Every bound key is a feature the sim card has, named the same way.
      const simKeys = dev.sim.features.map((f) => f.key);
      for (const k of keys) expect(simKeys).toContain(k);
      expect(card.driverErrors).toEqual([]);
      expect(card.fme!.instance(fmePrDriver)!.manager.ops.compatId()).toBe(SIM_PR_INTERFACE_ID);
      expect(card.fme!.instance(bmcDriver)).toMatchObject({ featureId: variant === 'd5005' ? 0xe : 0xd });
      expect(card.fme!.instance(fmeErrorDriver)!.id).toBe(0x4);
      expect(card.ports[0]!.instance(portErrorDriver)!.id).toBe(0x10);
    }
  });

  it('lets a driver for a key replace the default one; noDefaultDrivers binds only the given', () => {
    using dev = createSimCard('n3000');
    const { driver } = recorder(['fme:0x4']);
    const card = Card.discover(dev, { drivers: [driver] });
    expect(card.binding('fme:0x4')!.driver).toBe(driver);
    expect(card.fme!.instance(fmeErrorDriver)).toBeUndefined();
    expect(() => readFmeErrors(card.fme!)).toThrow(expect.objectContaining({ code: 'EFME_NO_ERROR_FEATURE' }));
    const bare = Card.discover(dev, { noDefaultDrivers: true });
    expect(bare.bindings).toEqual([]);
    expect(() => prTarget(bare)).toThrow(expect.objectContaining({ code: 'EPR_NO_PR_FEATURE' }));
  });

  it('leaves a feature unbound when probe declines it', () => {
    using dev = createSimCard('n3000');
    const { driver, calls } = recorder(['fme:0x1', 'fme:0x2'], { probe: (ref) => ref.id === 0x2 });
    const card = Card.discover(dev, { drivers: [driver] });
    expect(calls).toEqual(['init fme:2']);
    expect(card.binding('fme:0x1')).toBeUndefined();
  });

  it('records a typed refusal from init and goes on; an untyped one is a bug and propagates', () => {
    using dev = createSimCard('n3000');
    const refusing = recorder(['fme:0x1'], { init: () => { throw new DeviceError('ETHERMAL_REV' as never, 'thermal revision 9 is not known'); } });
    const card = Card.discover(dev, { drivers: [refusing.driver] });
    expect(card.driverErrors.map((e) => [e.key, e.driver, e.error.code])).toEqual([['fme:0x1', 'recorder', 'ETHERMAL_REV']]);
    expect(card.binding('fme:0x5')).toBeDefined();
    const broken = recorder(['fme:0x1'], { init: () => { throw new TypeError('bug'); } });
    expect(() => Card.discover(dev, { drivers: [broken.driver] })).toThrow(TypeError);
  });

  it('refuses a malformed key with a typed error naming the driver', () => {
    for (const key of ['fme:5', 'FME:0x5', 'afu:0x1', 'fme:0x5 ', 'port:0X10', 'fme:0x1000']) {
      const err = (() => { try { new FeatureDriverTable([{ name: 'bad', ids: [key], init: () => 0 }]); return undefined; } catch (e) { return e; } })();
      expect(err, key).toBeInstanceOf(ArgumentError);
      expect((err as ArgumentError).code).toBe('EARG_FEATURE_KEY');
      expect((err as ArgumentError).message).toContain('"bad"');
    }
    expect(featureKey(FiuId.FME, 0x12)).toBe('fme:0x12');
    expect(featureKey(FiuId.PORT, 0x10)).toBe('port:0x10');
    expect(new FeatureDriverTable(defaultFeatureDrivers()).keys.sort()).toEqual(['fme:0x1', 'fme:0x12', 'fme:0x2', 'fme:0x4', 'fme:0x5', 'fme:0xd', 'fme:0xe', 'port:0x10']);
  });
});

describe('one card per device', () => {
  it('discovering again walks the same Card: the drivers are released and bound afresh', () => {
    using dev = createSimCard('n3000');
    const { driver, calls } = recorder(['fme:0x1']);
    const card = Card.discover(dev, { drivers: [driver] });
    const first = card.fme!.instance(driver);
    expect(Card.discover(dev, { drivers: [driver] })).toBe(card);
    expect(calls).toEqual(['init fme:1', 'init fme:1', 'release 1']);
    expect(card.fme!.instance(driver)).not.toBe(first);
    card.release();
    expect(calls.at(-1)).toBe('release 2');
    expect(card.bindings).toEqual([]);
    // After release the device gets a new Card.
    expect(Card.discover(dev)).not.toBe(card);
  });

  it('keeps the port disable count on the card across a re-walk (dfl_feature_platform_data.disable_count)', () => {
    using dev = createSimCard('n3000');
    const card = Card.discover(dev);
    const before = card.ports[0]!;
    before.disable();
    card.rescan();
    const after = card.ports[0]!;
    expect(after).not.toBe(before);
    expect(after.disableCount).toBe(1);
    after.enable();
    expect(before.disableCount).toBe(0);
    expect(dev.sim.port.inReset).toBe(false);
  });

  it('gives another device its own card and counts', () => {
    using a = createSimCard('n3000');
    using b = createSimCard('n3000');
    Card.discover(a).ports[0]!.disable();
    expect(Card.discover(b)).not.toBe(Card.discover(a));
    expect(Card.discover(b).ports[0]!.disableCount).toBe(0);
    Card.discover(a).ports[0]!.enable();
  });
});
