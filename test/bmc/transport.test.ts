import { describe, expect, it } from 'vitest';
import { bmcRig } from './helpers.js';
import { STAGING_BASE, M10BMC_SYS_BASE, SYS_TEST, SYS_BUILD_VER, DOORBELL, RsuProgress, rsuProgress } from '../../src/afu/bmc/registers.js';
import { patternPayload } from '../../src/afu/image/image-writer.js';
import { ArgumentError } from '../../src/errors.js';

describe('SPI-AVMM transport against the sim BMC', () => {
  it('reads the build version and round-trips the test register', () => {
    const { host, bmc } = bmcRig();
    expect(host.read32(M10BMC_SYS_BASE + SYS_BUILD_VER)).toBe(bmc.max10.buildVersion);
    for (const v of [0, 0xffffffff, 0x7a7b7c7d, 0x4a4d4a4d, 0x12345678]) {
      host.write32(M10BMC_SYS_BASE + SYS_TEST, v);
      expect(host.read32(M10BMC_SYS_BASE + SYS_TEST)).toBe(v);
    }
    expect(bmc.bridge.stats.dropped).toBe(0);
  });

  it('writes staging one word per transaction (regmap-spi-avmm MAX_WRITE_CNT 1), reads it back in 1 KiB transactions, escaping special bytes', () => {
    const { host, bmc, clock } = bmcRig();
    host.write32(DOORBELL, 1);
    clock.advance(60_000);
    expect(rsuProgress(host.read32(DOORBELL))).toBe(RsuProgress.READY);
    const data = patternPayload(5000 & ~3, 7);
    data.fill(0x7d, 0, 64); // all escapes
    data.fill(0x4a, 64, 128); // all idles
    const before = host.transactions;
    host.writeBlock(STAGING_BASE + 4096, data);
    expect(host.transactions - before).toBe(data.length / 4);
    const mid = host.transactions;
    expect(host.readBlock(STAGING_BASE + 4096, data.length)).toEqual(data);
    expect(host.transactions - mid).toBe(Math.ceil(data.length / 1024));
    expect(bmc.bridge.stats.refusedWrites).toBe(0);
    expect(bmc.max10.stagingBytes(4096, data.length)).toEqual(data);
  });

  it('reads one register per transaction when configured so', () => {
    const { host, clock } = bmcRig({}, { maxReadBytes: 4 });
    host.write32(DOORBELL, 1);
    clock.advance(60_000);
    const data = patternPayload(256, 3);
    host.writeBlock(STAGING_BASE, data);
    const before = host.transactions;
    expect(host.readBlock(STAGING_BASE, 256)).toEqual(data);
    expect(host.transactions - before).toBe(64);
  });

  it('runs the same over the D5005 window (FME feature 0xE, spi-altera-dfl.c)', () => {
    const { host, bmc } = bmcRig({ board: 'd5005' });
    expect(host.spi.bus.kind).toBe('dfl-indirect');
    host.write32(M10BMC_SYS_BASE + SYS_TEST, 0x7a7b7c7d);
    expect(host.read32(M10BMC_SYS_BASE + SYS_TEST)).toBe(0x7a7b7c7d);
    expect(host.read32(M10BMC_SYS_BASE + SYS_BUILD_VER)).toBe(bmc.max10.buildVersion);
  });

  it('rejects unaligned addresses and lengths with a typed error', () => {
    const { host } = bmcRig();
    expect(() => host.read32(0x300802)).toThrow(ArgumentError);
    expect(() => host.writeBlock(STAGING_BASE, new Uint8Array(3))).toThrow(/multiple of 4/);
    expect(() => new (host.constructor as typeof import('../../src/afu/bmc/spi-avmm-transport.js').SpiAvmmTransport)(host.spi.bus, { maxReadBytes: 6 })).toThrow(/multiple of 4/);
  });
});
