// End to end against the simulated card: the BMC found by walking the DFL (FME feature 0xD, the
// N3000 Nios, dfl-n3000-nios.c), reached through BAR0 of a sim Device after the Nios handshake,
// flashed, rebooted, and its properties read.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSimCard } from '../../src/sim/sim-device.js';
import { simBmcFeature, type SimBmc } from '../../src/sim/bmc/sim-bmc.js';
import { openBmc } from '../../src/afu/bmc/bmc.js';
import { readCardProperties, getPhyInfo, PropertyMask } from '../../src/afu/bmc/properties.js';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';
import { readFlashStatus } from '../../src/afu/bmc/flash-status.js';
import { VirtualClock } from '../../src/util/clock.js';

beforeAll(() => {
  process.env.VFIOKIT_STATE_DIR = mkdtempSync(join(tmpdir(), 'vfiokit-card-test-'));
});

function card() {
  let model: SimBmc | undefined;
  const clock = new VirtualClock();
  const device = createSimCard('n3000', { clock, featureModels: { 'fme:0xd': simBmcFeature({ onCreate: (m) => { model = m; } }) } });
  return { device, clock, model: () => model! };
}

describe('BMC on the sim card', () => {
  it('flashes a BMC image end to end with the status sequence, then reboots the BMC', async () => {
    const { device, model } = card();
    using bmc = await openBmc(device);
    expect(bmc.location.kind).toBe('spi-avmm');
    const states: string[] = [];
    const image = buildSignedImage({ contentType: 1, payload: patternPayload(64 * 1024, 11), version: 'bmc-2.0.13' });
    await bmc.update.flash(image, { onProgress: (p) => { if (states[states.length - 1] !== p.state) states.push(p.state); } });
    expect(states).toEqual(['PREPARING', 'READY', 'COPYING', 'DONE']);
    expect(model().max10.lastUpdate?.version).toBe('bmc-2.0.13');
    expect(readFlashStatus(device.url).state).toBe('DONE');
    await bmc.reboot({ target: 'bmc', page: 'factory' });
    await device.clock.sleep(5000);
    expect(bmc.info().bmcBootPage).toBe('factory');
    expect(model().max10.counters.bmcReboots).toBe(1);
    expect(readFlashStatus(device.url).state).toBe('IDLE');
    await bmc.reboot({ target: 'fpga', page: 'factory' });
    expect(model().max10.counters.fpgaReloads).toBe(1);
    expect(bmc.info().fpgaBootPage).toBe('factory');
    await bmc.reboot({ target: 'fpga', page: 'user' });
    expect(bmc.info().fpgaBootPage).toBe('user');
  });

  it('refuses a reboot while an update runs', async () => {
    const { device, model } = card();
    using bmc = await openBmc(device);
    model().max10.injectFault('busy');
    await expect(bmc.reboot({ target: 'fpga', page: 'user' })).rejects.toThrow(/an update must finish/);
  });

  it('reads properties by mask and PHY info', async () => {
    const { device, model } = card();
    const all = await readCardProperties(device, 0);
    expect(all.pci).toMatchObject({ vendor: '0x8086', transport: 'sim' });
    expect(all.fme?.ports).toBeGreaterThanOrEqual(1);
    expect(all.fme?.bitstreamVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(all.fme?.prInterfaceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(all.ports?.[0]).toMatchObject({ index: 0, state: 'enabled' });
    expect(all.ports?.[0]?.afuId).toMatch(/^[0-9a-f-]{36}$/);
    expect(all.bmc).toMatchObject({ secure: true, fpgaBootPage: 'user', bmcBootPage: 'user', mac: '64:4c:36:00:2f:a0', macCount: 2 });
    expect(all.bmc?.bmcVersion.text).toBe('D.2.1.5');
    expect(all.fme?.bootPage).toBe('user');
    const pciOnly = await readCardProperties(device, PropertyMask.PCI);
    expect(Object.keys(pciOnly)).toEqual(['pci']);
    await expect(readCardProperties(device, 16)).rejects.toThrow(/mask/);
    const phy = await getPhyInfo(device);
    expect(phy).toMatchObject({ retimers: 2, linkStatus: model().max10.linkStatus, linksUp: 8, pkvlPreloadGood: true });
  });
});
