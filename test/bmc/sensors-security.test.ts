// The BMC's sensors and security data read from the sim card as the kernel reads them:
// drivers/hwmon/intel-m10-bmc-hwmon.c (labels, channels, multipliers; 0xdeadbeef = -ENODATA;
// *_hyst = limit - hysteresis) and drivers/fpga/intel-m10-bmc-sec-update.c (root entry hashes,
// canceled CSKs at prog + 0x34 as cleared bits, flash_count as 4096 bytes of inverted bits).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSimCard } from '../../src/sim/sim-device.js';
import { simBmcFeature } from '../../src/sim/bmc/sim-bmc.js';
import { openBmc } from '../../src/afu/bmc/bmc.js';
import { buildSignedImage, cancellationPayload, patternPayload } from '../../src/afu/image/image-writer.js';
import { VirtualClock } from '../../src/util/clock.js';
import { thermalModelOf } from '../../src/sim/thermal-model.js';
import { openDevice } from '../../src/device/registry.js';
import { PROVISIONED_SECURITY } from '../../src/sim/bmc/max10-flash.js';

beforeAll(() => {
  process.env.VFIOKIT_STATE_DIR = mkdtempSync(join(tmpdir(), 'vfiokit-sensors-test-'));
});

describe('BMC sensors (intel-m10-bmc-hwmon.c)', () => {
  it('N3000: 8 temperatures, 8 voltages, 3 currents, 1 power, labelled, numbered and scaled as the kernel does', async () => {
    using dev = createSimCard('n3000');
    using bmc = await openBmc(dev);
    const sensors = bmc.sensors();
    expect(sensors.map((s) => s.channel)).toEqual([
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => `temp${n}`), ...[0, 1, 2, 3, 4, 5, 6, 7].map((n) => `in${n}`), 'curr1', 'curr2', 'curr3', 'power1',
    ]);
    const by = (label: string) => sensors.find((s) => s.label === label)!;
    // temp: raw 0.5 C units x 500 = millidegrees; only temp1 has a hysteresis register (0x10c).
    expect(by('Board Temperature')).toMatchObject({ value: 38, unit: 'Celsius', max: 90, crit: 100, maxHyst: 88, critHyst: 98, hwmon: { temp1_input: 38000, temp1_max_hyst: 88000 } });
    expect(by('FPGA Die Temperature').hwmon).toEqual({ temp2_input: 56000, temp2_max: 90000, temp2_crit: 100000 });
    expect(by('Retimer A Temperature').hwmon).toEqual({ temp5_input: 50000 });
    // The FPGA die sensor reads the die the FME thermal feature reads.
    thermalModelOf(dev.sim.context)!.setTemperature(88);
    expect(bmc.sensors().find((s) => s.label === 'FPGA Die Temperature')!.value).toBe(88);
    expect(by('FPGA Core Voltage')).toMatchObject({ value: 0.9, unit: 'Volts', hwmon: { in2_input: 900 } });
    expect(by('FPGA Core Current')).toMatchObject({ value: 18.5, unit: 'Amps', hwmon: { curr1_input: 18500 } });
    // power: raw mW x 1000 = microwatts.
    expect(by('Board Power')).toMatchObject({ value: 61, unit: 'Watts', hwmon: { power1_input: 61_000_000 } });
  });

  it('D5005 class: the d5005bmc tables, with voltage min/max/crit and current max where the kernel has them', async () => {
    using dev = createSimCard('d5005');
    using bmc = await openBmc(dev);
    const sensors = bmc.sensors();
    expect(sensors.filter((s) => s.type === 'temp')).toHaveLength(17);
    expect(sensors.filter((s) => s.type === 'in')).toHaveLength(10);
    expect(sensors.filter((s) => s.type === 'curr')).toHaveLength(8);
    expect(sensors.find((s) => s.label === '3.3v Voltage')!.hwmon).toEqual({ in3_input: 3300, in3_max: 3465, in3_crit: 3630 });
    expect(sensors.find((s) => s.label === '12v Backplane Voltage')!.hwmon).toEqual({ in8_input: 12000, in8_min: 10800 });
    expect(sensors.find((s) => s.label === '12v AUX Current')!.hwmon).toEqual({ curr8_input: 4000, curr8_max: 6000 });
  });

  it('a sensor the firmware reports invalid (0xdeadbeef, an empty QSFP cage) has no value, as -ENODATA', async () => {
    using dev = createSimCard('n3000', { featureModels: { 'fme:0xd': simBmcFeature({ invalidSensors: ['QSFP1 Temperature', 'QSFP1 Supply Voltage'] }) } });
    using bmc = await openBmc(dev);
    const qsfp1 = bmc.sensors().find((s) => s.label === 'QSFP1 Temperature')!;
    expect(qsfp1.value).toBeUndefined();
    expect(qsfp1.hwmon).toEqual({ temp4_max: 90000, temp4_crit: 100000 });
    expect(bmc.sensors().find((s) => s.label === 'QSFP1 Supply Voltage')!.value).toBeUndefined();
    expect(() => createSimCard('n3000', { featureModels: { 'fme:0xd': simBmcFeature({ invalidSensors: ['Nope'] }) } })).toThrow(/no sensor "Nope"/);
  });
});

describe('BMC security (intel-m10-bmc-sec-update.c)', () => {
  it('a fresh card: no hashes programmed, no canceled keys, flash count 0', async () => {
    using dev = createSimCard('n3000');
    using bmc = await openBmc(dev);
    expect(bmc.security()).toEqual({ rootEntryHash: { sr: undefined, bmc: undefined, pr: undefined }, canceledCsks: { sr: [], bmc: [], pr: [] }, flashCount: 0 });
  });

  it('shows what secure updates did: a programmed root key hash, canceled key IDs, counted staging flashes', async () => {
    using dev = createSimCard('n3000', { clock: new VirtualClock() });
    using bmc = await openBmc(dev);
    const hash = patternPayload(48, 3);
    await bmc.update.flash(buildSignedImage({ contentType: 2, subtype: 3, payload: hash }), { confirm: true });
    for (const id of [3, 97]) await bmc.update.flash(buildSignedImage({ contentType: 1, subtype: 1, payload: cancellationPayload(id) }), { confirm: true });
    await bmc.update.flash(buildSignedImage({ contentType: 0, payload: patternPayload(4096, 5), version: 'fim-1' }));
    const s = bmc.security();
    expect(s.rootEntryHash).toEqual({ sr: undefined, bmc: undefined, pr: Buffer.from(hash).toString('hex') });
    expect(s.canceledCsks).toEqual({ sr: [], bmc: [3, 97], pr: [] });
    // flash_count counts flashes of the staging area, not updates (sysfs-driver-intel-m10-bmc-sec-update): all four images.
    expect(s.flashCount).toBe(4);
  });

  it('bmcSecurity=provisioned: the BMC powers up with SR (SHA-384) and BMC (SHA-256) hashes, canceled keys and a flash count, on both card classes', async () => {
    const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : undefined);
    for (const variant of ['n3000', 'd5005']) {
      using dev = await openDevice(`sim:${variant}?bmcSecurity=provisioned`);
      using bmc = await openBmc(dev);
      const p = PROVISIONED_SECURITY;
      expect(bmc.security(), variant).toEqual({
        rootEntryHash: { sr: hex(p.rootEntryHash!.sr), bmc: hex(p.rootEntryHash!.bmc), pr: undefined },
        canceledCsks: { sr: [0, 2, 3, 31, 32], bmc: [], pr: [127] },
        flashCount: 7,
      });
      expect(bmc.security().rootEntryHash.sr).toHaveLength(96);
    }
    await expect(openDevice('sim:n3000?bmcSecurity=factory')).rejects.toMatchObject({ code: 'EDEVICE_URL', message: expect.stringMatching(/known: provisioned/) });
  });

  it('refuses security data no BMC can hold: a hash of another size, a CSK ID past 127, a count past the vector', () => {
    const card = (security: object) => () => createSimCard('n3000', { featureModels: { 'fme:0xd': simBmcFeature({ security }) } });
    expect(card({ rootEntryHash: { pr: new Uint8Array(20) } })).toThrow(expect.objectContaining({ code: 'EARG_BMC_SECURITY', message: expect.stringMatching(/20 bytes; only 32 .* or 48/) }));
    expect(card({ canceledCsks: { bmc: [128] } })).toThrow(/canceled CSK ID 128 \(bmc\) is not in 0..127/);
    expect(card({ flashCount: 4096 * 8 + 1 })).toThrow(/flashCount 32769/);
  });
});
