// The FME thermal (0x1) and power (0x2) features, host and sim, as drivers/fpga/dfl-fme-main.c
// reads and writes them: thermal_hwmon_read / temp1_max_policy_show (read only; alarms while the
// temperature has reached an enabled threshold; only temp1_input without throttling support),
// power_hwmon_read / power_hwmon_write (a read-modify-write of one threshold field) and the
// xeon/fpga limit and ltr attributes.
import { describe, expect, it } from 'vitest';
import { createSimCard } from '../../src/sim/sim-device.js';
import { openDevice } from '../../src/device/registry.js';
import { Card } from '../../src/afu/card.js';
import { defaultFeatureDrivers } from '../../src/afu/default-drivers.js';
import { fmeThermalDriver } from '../../src/afu/thermal.js';
import { fmePowerDriver } from '../../src/afu/power.js';
import { FmeFeatureId } from '../../src/dfl/names.js';
import { createThermalModelFactory, thermalModelOf } from '../../src/sim/thermal-model.js';
import { createPowerModelFactory, powerModelOf } from '../../src/sim/power-model.js';
import { applySimControl } from '../../src/sim/control.js';
import { FME_THERM_THRESHOLD, FME_THERM_RDSENSOR_FMT1 } from '../../src/dfl/regs/fme-thermal.js';
import { FME_PWR_THRESHOLD, PWR_THRESHOLD1_STATUS } from '../../src/dfl/regs/fme-power.js';
import type { SimDevice } from '../../src/sim/sim-device.js';

describe('FME thermal management (feature 0x1)', () => {
  for (const variant of ['n3000', 'n3000-dfh1'] as const) {
    it(`${variant}: reads temperature, thresholds and policy as the kernel's hwmon attributes; alarms follow the temperature`, () => {
      using dev = createSimCard(variant);
      const fme = Card.discover(dev).fme!;
      expect(fme.findFeature(FmeFeatureId.THERMAL)!.version).toBe(variant === 'n3000-dfh1' ? 1 : 0);
      expect(fme.thermal().hwmon).toEqual({
        temp1_input: 56000, temp1_max: 90000, temp1_crit: 100000, temp1_emergency: 105000, temp1_max_alarm: 0, temp1_crit_alarm: 0, temp1_max_policy: 0,
      });
      const model = thermalModelOf(dev.sim.context)!;
      model.setTemperature(90);
      expect(fme.thermal().thresholds).toMatchObject({ maxAlarm: true, critAlarm: false, maxPolicy: 'AP2', maxEnabled: true, critEnabled: true });
      model.setTemperature(100);
      expect(fme.thermal().hwmon).toMatchObject({ temp1_input: 100000, temp1_max_alarm: 1, temp1_crit_alarm: 1 });
      model.setTemperature(89);
      expect(fme.thermal().thresholds).toMatchObject({ maxAlarm: false, critAlarm: false });
    });
  }

  it('is read-only to the host (the kernel never writes it) and keeps its reading over FLR', () => {
    using dev = createSimCard('n3000');
    const ref = Card.discover(dev).fme!.findFeature(FmeFeatureId.THERMAL)!;
    const before = ref.region.read64(ref.csrOffset + FME_THERM_THRESHOLD);
    ref.region.write64(ref.csrOffset + FME_THERM_THRESHOLD, 0n);
    ref.region.write64(ref.csrOffset + FME_THERM_RDSENSOR_FMT1, 0x7fn);
    expect(ref.region.read64(ref.csrOffset + FME_THERM_THRESHOLD)).toBe(before);
    thermalModelOf(dev.sim.context)!.setTemperature(70);
    dev.reset();
    expect(Card.discover(dev).fme!.thermal().temperatureC).toBe(70);
  });

  it('without throttling support (FME_THERM_CAP[0]) shows temp1_input only; policy AP1 reads 1', () => {
    using plain = createSimCard('n3000', { featureModels: { 'fme:0x1': createThermalModelFactory({ noThrottle: true, temperatureC: 61 }) } });
    expect(Card.discover(plain).fme!.thermal()).toEqual({ temperatureC: 61, throttleSupported: false, hwmon: { temp1_input: 61000 } });
    using ap1 = createSimCard('n3000', { featureModels: { 'fme:0x1': createThermalModelFactory({ policy: 'AP1' }) } });
    expect(Card.discover(ap1).fme!.thermal().hwmon.temp1_max_policy).toBe(1);
  });

  // The throttling the thresholds stand for (dfl-fme-main.c fme_thermal_mgmt_init's comment: threshold 1
  // -> 50% or 90% by temp1_max_policy, threshold 2 -> 100%) as the port shows it: PORT_STS[11:8] and
  // the latched AP1/AP2 events (dfl.h PORT_STS_*; dfl-afu-main.c power_state_show, ap1_event_store).
  it('the thermal thresholds throttle the port: power state AP2 (policy 0) / AP6, the AP2 event latches until cleared', () => {
    using dev = createSimCard('n3000');
    const card = Card.discover(dev);
    const port = card.ports[0]!;
    const model = thermalModelOf(dev.sim.context)!;
    expect(port.status).toMatchObject({ powerState: 0, ap1Event: false, ap2Event: false });
    model.setTemperature(95);
    expect(port.status).toMatchObject({ powerState: 2, ap1Event: false, ap2Event: true });
    model.setTemperature(101);
    expect(port.status).toMatchObject({ powerState: 6, ap2Event: true });
    expect(() => port.clearErrors()).toThrow(expect.objectContaining({ code: 'EBUSY' }));
    model.setTemperature(60);
    expect(port.status).toMatchObject({ powerState: 0, ap2Event: true });
    expect(port.clearPowerEvents({ ap1: true })).toMatchObject({ ap2Event: true });
    expect(port.clearPowerEvents()).toMatchObject({ powerState: 0, ap1Event: false, ap2Event: false });
  });

  it('policy AP1 throttles to AP1 and latches the AP1 event; without throttling support the port stays normal', () => {
    using ap1 = createSimCard('n3000', { featureModels: { 'fme:0x1': createThermalModelFactory({ policy: 'AP1', temperatureC: 92 }) } });
    const port = Card.discover(ap1).ports[0]!;
    expect(port.status).toMatchObject({ powerState: 1, ap1Event: true, ap2Event: false });
    thermalModelOf(ap1.sim.context)!.setTemperature(50);
    expect(port.clearPowerEvents()).toMatchObject({ powerState: 0, ap1Event: false });
    using plain = createSimCard('n3000', { featureModels: { 'fme:0x1': createThermalModelFactory({ noThrottle: true, temperatureC: 120 }) } });
    expect(Card.discover(plain).ports[0]!.status).toMatchObject({ powerState: 0, ap1Event: false, ap2Event: false });
  });

  it('refuses readings the 7-bit field cannot hold, from the model, the URL and control requests', async () => {
    expect(() => createSimCard('n3000', { featureModels: { 'fme:0x1': createThermalModelFactory({ temperatureC: 128 }) } })).toThrow(/0\.\.127/);
    await expect(openDevice('sim:n3000?fpgaTemp=hot')).rejects.toThrow(/fpgaTemp/);
    await expect(openDevice('sim:n3000?fpgaPower=300000')).rejects.toThrow(/fpgaPower/);
    using dev = createSimCard('n3000');
    expect(() => applySimControl(dev, { fpgaTemp: -1 })).toThrow(/0\.\.127/);
    expect(() => applySimControl(dev, { fpgaTemp: 50, fault: 'dma' })).toThrow(/exactly one/);
    expect(applySimControl(dev, { fpgaTemp: 97 })).toBe('fpga temperature 97 C');
    expect(Card.discover(dev).fme!.thermal().thresholds!.maxAlarm).toBe(true);
  });

  it('the sim URL sets the power-up readings', async () => {
    const dev = (await openDevice('sim:n3000?fpgaTemp=101&fpgaPower=75')) as SimDevice;
    try {
      const fme = Card.discover(dev).fme!;
      expect(fme.thermal().thresholds).toMatchObject({ maxAlarm: true, critAlarm: true });
      expect(fme.power()).toMatchObject({ consumedW: 75, maxAlarm: true, critAlarm: false });
    } finally {
      dev.close();
    }
  });

  it('a card without the feature says so with a typed error', () => {
    using bare = createSimCard('n3000');
    // A FIM without thermal and power management: the walk binds no driver for 0x1 and 0x2.
    const drivers = defaultFeatureDrivers().filter((d) => d !== fmeThermalDriver && d !== fmePowerDriver);
    const card = Card.discover(bare, { noDefaultDrivers: true, drivers });
    expect(() => card.fme!.thermal()).toThrow(expect.objectContaining({ code: 'EFME_NO_THERMAL' }));
    expect(() => card.fme!.power()).toThrow(expect.objectContaining({ code: 'EFME_NO_POWER' }));
  });
});

describe('FME power management (feature 0x2)', () => {
  it('reads consumption, thresholds, alarms, limits and ltr as the hwmon attributes', () => {
    using dev = createSimCard('n3000', { featureModels: { 'fme:0x2': createPowerModelFactory({ consumedW: 55, xeonLimitDeciW: 1255, latencyTolerance: true }) } });
    expect(Card.discover(dev).fme!.power().hwmon).toEqual({
      power1_input: 55_000_000, power1_max: 70_000_000, power1_crit: 90_000_000, power1_max_alarm: 0, power1_crit_alarm: 0,
      power1_xeon_limit: 125_500_000, power1_fpga_limit: 60_000_000, power1_ltr: 1,
    });
  });

  it('writes one threshold field at a time (power_hwmon_write); alarms follow the consumption; FLR restores the thresholds', () => {
    using dev = createSimCard('n3000-dfh1');
    const fme = Card.discover(dev).fme!;
    expect(fme.setPowerThresholds({ maxW: 40 })).toMatchObject({ maxW: 40, critW: 90, maxAlarm: true, critAlarm: false });
    expect(fme.setPowerThresholds({ critW: 45 })).toMatchObject({ maxW: 40, critW: 45, critAlarm: true });
    powerModelOf(dev.sim.context)!.setConsumption(30);
    expect(fme.power()).toMatchObject({ maxAlarm: false, critAlarm: false });
    // The status bits are the hardware's: writing them does nothing.
    const ref = fme.findFeature(FmeFeatureId.POWER)!;
    ref.region.write64(ref.csrOffset + FME_PWR_THRESHOLD, ref.region.read64(ref.csrOffset + FME_PWR_THRESHOLD) | PWR_THRESHOLD1_STATUS);
    expect(fme.power().maxAlarm).toBe(false);
    dev.reset();
    expect(fme.power()).toMatchObject({ maxW: 70, critW: 90 });
  });

  it('refuses thresholds the 7-bit fields cannot hold, touching nothing', () => {
    using dev = createSimCard('n3000');
    const fme = Card.discover(dev).fme!;
    for (const bad of [{ maxW: 128 }, { critW: -1 }, { maxW: 1.5 }, { maxW: 10, critW: Number.NaN }]) {
      expect(() => fme.setPowerThresholds(bad)).toThrow(expect.objectContaining({ code: 'EINVAL' }));
    }
    expect(fme.power()).toMatchObject({ maxW: 70, critW: 90 });
  });
});
