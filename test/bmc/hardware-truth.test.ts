// The BMC path as the kernel and DPDK drive it, host and sim side by side. Each test names the
// file it follows.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../../src/sim/backend.js';
import type { SimDevice } from '../../src/sim/sim-device.js';
import type { SimBmc } from '../../src/sim/bmc/sim-bmc.js';
import { openBmc } from '../../src/afu/bmc/bmc.js';
import { getPhyInfo } from '../../src/afu/bmc/properties.js';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';
import { bmcRig, bmcWindow } from './helpers.js';
import { NiosRegBus, niosInitDoneCheck } from '../../src/afu/bmc/nios-regbus.js';
import { SPI_WORD_MS } from '../../src/afu/bmc/spi-avmm-transport.js';
import {
  DOORBELL, DRBL_CONFIG_SEL, FPGA_RECONF_COUNTDOWN_START, FPGA_RECONF_PAGE, FPGA_RECONF_REQUEST, M10BMC_SYS_BASE, STAGING_BASE,
  SYS_FPGA_RECONF, PKVL_UPG_STATUS_GOOD, SYS_PKVL_POLLING_CTRL, RsuProgress, rsuProgress,
} from '../../src/afu/bmc/registers.js';
import { FecMode, NIOS_INIT_DONE, NIOS_INIT_START, NS_CTRL, NS_CTRL_CMD_RD, NS_CTRL_CMD_WR, NS_STAT, NS_STAT_RW_VAL, fecModeAll, nsCtrl } from '../../src/dfl/regs/n3000-nios.js';
import { encodeRequest, packetizeJs, TRANS_CODE_SEQ_WRITE, PHY_IDLE } from '../../src/afu/bmc/avalon.js';
import { FmeFeatureId } from '../../src/dfl/names.js';
import { fieldPrep } from '../../src/util/bitfield.js';
import { DeviceError, TimeoutError } from '../../src/errors.js';

beforeAll(() => {
  process.env.VFIOKIT_STATE_DIR = mkdtempSync(join(tmpdir(), 'vfiokit-hw-truth-'));
});

function open(url: string): { device: SimDevice; model: () => SimBmc } {
  const device = backend.open(url) as SimDevice;
  return { device, model: () => device.sim.features.find((f) => f.key === 'fme:0xd' || f.key === 'fme:0xe')!.model as SimBmc };
}

describe('which feature carries the BMC (dfl-n3000-nios.c, spi-altera-dfl.c, intel-m10-bmc-spi.c)', () => {
  for (const variant of ['n3000', 'n3000-dfh1', 'n3000-no-vsec']) {
    it(`sim:${variant}: FME feature 0xD "N3000 Nios", SPI device m10-n3000, reached after the Nios handshake`, async () => {
      const { device } = open(`sim:${variant}`);
      using _d = device;
      expect(device.sim.features.some((f) => f.key === 'fme:0xe')).toBe(false);
      using bmc = await openBmc(device);
      expect(bmc.location).toMatchObject({ featureId: FmeFeatureId.NIOS_SPI, device: 'm10-n3000' });
      expect(bmc.nios).toMatchObject({ fwVersionText: '3.0.0', started: true, retimerError: false });
      expect(bmc.info().secure).toBe(true);
      // dfl.c: a DFH v1 feature's registers are its CSR block, not the DFH.
      if (variant === 'n3000-dfh1') {
        expect(bmc.location.feature.version).toBe(1);
        expect(Number(bmc.location.feature.csr!.address)).toBeGreaterThan(0);
      }
    });
  }

  it('sim:d5005: FME feature 0xE (spi-altera-dfl.c), SPI device m10-d5005, no Nios; PCI device 0x0b2b (dfl-pci.c)', async () => {
    const { device } = open('sim:d5005');
    using _d = device;
    expect(device.identity.device).toBe(0x0b2b);
    using bmc = await openBmc(device);
    expect(bmc.location).toMatchObject({ featureId: FmeFeatureId.MAX10_SPI, device: 'm10-d5005' });
    expect(bmc.nios).toBeUndefined();
    expect(bmc.transport.read32(M10BMC_SYS_BASE + 0x100)).toBe(60); // inlet air 30 C in 0.5 C units (d5005bmc_temp_tbl)
  });
});

describe('SPI controller parameters (dfl-n3000-nios.c create_altera_spi_controller, spi-altera-dfl.c, regmap-spi-avmm.c)', () => {
  // regmap-spi-avmm.c sets spi->mode = SPI_MODE_1, and the kernel builds the controller's
  // mode_bits from CLK_POL [14] / CLK_PHASE [15] of this register: without CPHA spi_setup() fails
  // with "unsupported mode bits 1" (found by the card lane's dfl guest, Linux 6.12).
  for (const [variant, key] of [['n3000', 'fme:0xd'], ['d5005', 'fme:0xe']] as const) {
    it(`sim:${variant}: +0x08 parameter has CPHA, 32-bit words, one chip select`, async () => {
      const { device } = open(`sim:${variant}`);
      using _d = device;
      using bmc = await openBmc(device);
      expect(device.sim.features.some((f) => f.key === key)).toBe(true);
      const v = device.region(0).read64(bmc.location.feature.offset + 0x08);
      expect((v >> 15n) & 1n).toBe(1n); // CLK_PHASE
      expect((v >> 14n) & 1n).toBe(0n); // CLK_POL
      expect((v >> 2n) & 0x3fn).toBe(32n); // DATA_WIDTH
      expect((v >> 8n) & 0x3fn).toBe(1n); // NUM_CS
    });
  }
});

describe('Nios indirect bus fields (dfl-n3000-nios.c N3000_NS_CTRL / N3000_NS_STAT)', () => {
  it('CTRL: [63:62] command (1 read, 2 write), [44:32] address, [31:0] data; STAT: [32] RW_VAL, [31:0] data', () => {
    expect(nsCtrl(NS_CTRL_CMD_WR, 0x1004, 0xdeadbeef)).toBe((2n << 62n) | (0x1004n << 32n) | 0xdeadbeefn);
    expect(nsCtrl(NS_CTRL_CMD_RD, 0x14)).toBe((1n << 62n) | (0x14n << 32n));
    expect(nsCtrl(NS_CTRL_CMD_RD, 0x3fff) >> 32n & 0x3fffn).toBe(0x1fffn); // 13 address bits
    const { bmc } = bmcWindow();
    bmc.write64(NS_CTRL, nsCtrl(NS_CTRL_CMD_RD, 0x1004));
    expect(bmc.read64(NS_STAT)).toBe(NS_STAT_RW_VAL | 0x3000_0000n);
  });
});

describe('Nios handshake (dfl-n3000-nios.c n3000_nios_init_done_check)', () => {
  it('firmware >= 3: INIT shows neither DONE nor START, so the host writes START with RS FEC on all links and polls DONE every 100 ms', async () => {
    const { clock, bmc, bus } = bmcWindow({ nios: { initDone: false, initMs: 2000 } });
    const t0 = clock.now();
    const r = await niosInitDoneCheck(bus as NiosRegBus, clock);
    expect(r.started).toBe(true);
    expect(bmc.nios!.counters.starts).toBe(1);
    expect(r.init & (NIOS_INIT_DONE | NIOS_INIT_START)).toBe(NIOS_INIT_DONE | NIOS_INIT_START);
    expect(r.init & fecModeAll(3)).toBe(fecModeAll(FecMode.RS));
    const waited = clock.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(2000);
    expect(waited).toBeLessThan(2100 + 50); // one 100 ms interval past DONE at most (plus SPI time)
    // A second open finds START set and does not write it again.
    const again = await niosInitDoneCheck(bus as NiosRegBus, clock);
    expect(again.started).toBe(false);
    expect(bmc.nios!.counters.starts).toBe(1);
  });

  it('firmware before 3.0.0: no START write; the Nios initialises on its own and the host waits for DONE', async () => {
    const { clock, bmc, bus } = bmcWindow({ nios: { initDone: false, fwVersion: 0x2100_0000, initMs: 700 } });
    const r = await niosInitDoneCheck(bus as NiosRegBus, clock);
    expect(r).toMatchObject({ started: false, fwVersionText: '2.1.0' });
    expect(bmc.nios!.counters.starts).toBe(0);
    expect(clock.now()).toBeGreaterThanOrEqual(700);
  });

  it('FW_VERSION 0 (no Nios firmware): skips the check and carries on, as the kernel does', async () => {
    const { clock, bus } = bmcWindow({ nios: { initDone: false, fwVersion: 0 } });
    const r = await niosInitDoneCheck(bus as NiosRegBus, clock);
    expect(r.noFirmware).toBe(true);
    expect(clock.now()).toBeLessThan(1);
  });

  it('DONE never comes: a typed timeout after 10 s naming INIT and the PKVL mode status (the kernel fails the probe)', async () => {
    const { device } = open('sim:n3000?bmcFault=nios-init-never');
    using _d = device;
    const t0 = device.clock.now();
    const err = await openBmc(device).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe('ENIOS_INIT_TIMEOUT');
    expect((err as Error).message).toMatch(/INIT \(0x1000\).*PKVL_A_MODE_STS/);
    expect(device.clock.now() - t0).toBeGreaterThanOrEqual(10_000);
  });

  it('retimer init error: DONE with a PKVL group that is not OK is reported and tolerated (the BMC stays reachable)', async () => {
    const { device } = open('sim:n3000?bmcFault=nios-retimer-error');
    using _d = device;
    using bmc = await openBmc(device);
    expect(bmc.nios?.retimerError).toBe(true);
    expect(bmc.info().secure).toBe(true);
  });
});

describe('FPGA reload (DPDK ifpga_sec_mgr.c n3000_reload_fpga)', () => {
  it('the sim reloads only on the full sequence: RP_LOAD 0, RP_LOAD 1 + page, COUNTDOWN_START 0, 1', () => {
    const { host, bmc } = bmcRig();
    const reconf = M10BMC_SYS_BASE + SYS_FPGA_RECONF;
    host.write32(reconf, 0);
    host.write32(reconf, FPGA_RECONF_REQUEST | fieldPrep(FPGA_RECONF_PAGE, 0));
    expect(bmc.max10.counters.fpgaReloads).toBe(0); // [23] alone is not a reload
    host.write32(reconf, FPGA_RECONF_REQUEST);
    host.write32(reconf, FPGA_RECONF_REQUEST | FPGA_RECONF_COUNTDOWN_START);
    expect(bmc.max10.counters.fpgaReloads).toBe(1);
    expect(bmc.max10.fpgaPage).toBe(0);
    // Countdown without a fresh RP_LOAD edge does nothing.
    host.write32(reconf, FPGA_RECONF_REQUEST);
    host.write32(reconf, FPGA_RECONF_REQUEST | FPGA_RECONF_COUNTDOWN_START);
    expect(bmc.max10.counters.fpgaReloads).toBe(1);
  });

  it('the host writes that sequence (reboot --target fpga)', async () => {
    const { device, model } = open('sim:n3000');
    using _d = device;
    using bmc = await openBmc(device);
    await bmc.reboot({ target: 'fpga', page: 'factory' });
    expect(model().max10.counters.fpgaReloads).toBe(1);
    expect(bmc.info().fpgaBootPage).toBe('factory');
  });
});

describe('boot pages per card (DPDK n3000_reload; linux-dfl intel-m10-bmc-sec-update.c image_load handlers)', () => {
  it('N3000: BMC factory page is DOORBELL config select 1', async () => {
    const { device } = open('sim:n3000');
    using _d = device;
    using bmc = await openBmc(device);
    await bmc.reboot({ target: 'bmc', page: 'factory' });
    expect((bmc.transport.read32(DOORBELL) & DRBL_CONFIG_SEL) !== 0).toBe(true);
    await device.clock.sleep(5000);
    expect(bmc.info().bmcBootPage).toBe('factory');
  });

  it('D5005: BMC factory page is config select 0; an FPGA reload is refused (the D5005 handlers offer BMC pages only)', async () => {
    const { device, model } = open('sim:d5005');
    using _d = device;
    using bmc = await openBmc(device);
    await bmc.reboot({ target: 'bmc', page: 'factory' });
    expect(bmc.transport.read32(DOORBELL) & DRBL_CONFIG_SEL).toBe(0);
    await device.clock.sleep(5000);
    expect(model().max10.bmcPage).toBe(0);
    expect(bmc.info().bmcBootPage).toBe('factory');
    await bmc.reboot({ target: 'bmc', page: 'user' });
    expect((bmc.transport.read32(DOORBELL) & DRBL_CONFIG_SEL) !== 0).toBe(true);
    await expect(bmc.reboot({ target: 'fpga', page: 'user' })).rejects.toMatchObject({ code: 'ENOTSUP' });
  });
});

describe('write size and receive timeout (regmap-spi-avmm.c)', () => {
  it('the bridge refuses a write of more than one word (MAX_WRITE_CNT 1): size-0 write response, nothing written', () => {
    const { host, bmc, clock } = bmcRig();
    host.write32(DOORBELL, 1);
    clock.advance(60_000);
    expect(rsuProgress(host.read32(DOORBELL))).toBe(RsuProgress.READY);
    const trans = new Uint8Array(16);
    const len = encodeRequest(trans, TRANS_CODE_SEQ_WRITE, STAGING_BASE, 8, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    const phy = new Uint8Array(64);
    const n = packetizeJs(trans, len, phy, 1);
    for (let i = 0; i < n; i++) bmc.bridge.exchange(phy[i]!);
    const answer: number[] = [];
    for (let i = 0; i < 16; i++) answer.push(bmc.bridge.exchange(PHY_IDLE));
    // SOP, CHANNEL, 0, code | 0x80, 0, 0, EOP, 0 (size 0 = no bytes written)
    expect(answer.slice(0, 8)).toEqual([0x7a, 0x7c, 0x00, TRANS_CODE_SEQ_WRITE | 0x80, 0x00, 0x00, 0x7b, 0x00]);
    expect(bmc.bridge.stats.refusedWrites).toBe(1);
    expect(bmc.max10.stagingBytes(0, 8)).toEqual(new Uint8Array(8).fill(0xff));
  });

  it('gives up after 200 ms of idle words on the device clock plus one last try, not after a count of words', () => {
    const spiHz = 100_000; // 320 us per word: the test clocks ~626 idle words, not ~78,000
    const { host, bmc, clock } = bmcRig({ spiHz });
    bmc.bridge.exchange = () => PHY_IDLE; // the BMC never answers (rebooting)
    const t0 = clock.now();
    let err: unknown;
    try { host.read32(DOORBELL); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).code).toBe('EBMC_SPI_TIMEOUT');
    const waited = clock.now() - t0;
    const wordMs = (32 / spiHz) * 1000;
    expect(waited).toBeGreaterThan(200);
    expect(waited).toBeLessThan(200 + 20 * wordMs); // the request words + the last try
    expect((err as TimeoutError).details.idleWords as number).toBeGreaterThan(200 / wordMs);
  });

  it('the SPI clock costs device time: staging writes take 32 bits / 12.5 MHz per word', () => {
    const { host, bmc, clock } = bmcRig();
    host.write32(DOORBELL, 1);
    clock.advance(60_000);
    const words0 = bmc.core.words;
    const t0 = clock.now();
    host.writeBlock(STAGING_BASE, patternPayload(4096, 5));
    const words = bmc.core.words - words0;
    expect(clock.now() - t0).toBeCloseTo(words * SPI_WORD_MS, 6);
    expect(words).toBeGreaterThan(1024 * 5); // >= 5 SPI words per 4-byte write transaction
  });
});

describe('legacy BMC (intel-m10-bmc-spi.c check_m10bmc_version)', () => {
  it('LEGACY_BUILD_VER not 0xffffffff: info says not secure; flash and reboot are refused with EBMC_LEGACY', async () => {
    const { device, model } = open('sim:n3000?bmcLegacy=01050201');
    using _d = device;
    using bmc = await openBmc(device);
    expect(bmc.info().secure).toBe(false);
    const image = buildSignedImage({ contentType: 1, payload: patternPayload(4096, 1), version: 'x' });
    const err = await bmc.update.flash(image).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as DeviceError).code).toBe('EBMC_LEGACY');
    expect((err as Error).message).toMatch(/LEGACY_BUILD_VER \(0x300468\) reads 0x01050201/);
    await expect(bmc.reboot({ target: 'bmc', page: 'user' })).rejects.toMatchObject({ code: 'EBMC_LEGACY' });
    expect(model().max10.counters.rsuRequests + model().max10.counters.bmcReboots).toBe(0);
  });
});

describe('retimer preload (intel-m10-bmc.h M10BMC_PKVL_*)', () => {
  it('PKVL_POLL_CTRL reports A and B preload done with good header checksums (UPG_STATUS_GOOD)', async () => {
    const { host } = bmcRig();
    expect(host.read32(M10BMC_SYS_BASE + SYS_PKVL_POLLING_CTRL)).toBe(PKVL_UPG_STATUS_GOOD);
    expect(PKVL_UPG_STATUS_GOOD).toBe(0x1111_0000);
    const { device } = open('sim:n3000');
    using _d = device;
    expect((await getPhyInfo(device)).pkvlPreloadGood).toBe(true);
  });
});

describe('sensors the hwmon driver reads (intel-m10-bmc-hwmon.c n3000bmc tables)', () => {
  it('board temperature with limits, voltages, currents, power', () => {
    const { host } = bmcRig();
    const sys = (off: number): number => host.read32(M10BMC_SYS_BASE + off);
    expect(sys(0x100)).toBe(76); // 38 C in 0.5 C
    expect([sys(0x104), sys(0x108), sys(0x10c)]).toEqual([180, 200, 4]);
    expect(sys(0x13c)).toBe(900); // FPGA core mV
    expect(sys(0x160)).toBe(61000); // board power mW
  });
});

