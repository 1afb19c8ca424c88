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

  it('writes and reads back staging in 1 KiB transactions, escaping special bytes', () => {
    const { host, bmc, clock } = bmcRig();
    host.write32(DOORBELL, 1);
    clock.advance(60_000);
    expect(rsuProgress(host.read32(DOORBELL))).toBe(RsuProgress.READY);
    const data = patternPayload(5000 & ~3, 7);
    data.fill(0x7d, 0, 64); // all escapes
    data.fill(0x4a, 64, 128); // all idles
    const before = host.transactions;
    host.writeBlock(STAGING_BASE + 4096, data);
    expect(host.transactions - before).toBe(Math.ceil(data.length / 1024));
    expect(host.readBlock(STAGING_BASE + 4096, data.length)).toEqual(data);
    expect(bmc.max10.stagingBytes(4096, data.length)).toEqual(data);
  });

  it('one register per transaction when configured DPDK style', () => {
    const { host, clock } = bmcRig({}, { maxTransactionBytes: 4 });
    host.write32(DOORBELL, 1);
    clock.advance(60_000);
    const data = patternPayload(256, 3);
    host.writeBlock(STAGING_BASE, data);
    expect(host.transactions).toBeGreaterThanOrEqual(64);
    expect(host.readBlock(STAGING_BASE, 256)).toEqual(data);
  });

  it('rejects unaligned addresses and lengths with a typed error', () => {
    const { host } = bmcRig();
    expect(() => host.read32(0x300802)).toThrow(ArgumentError);
    expect(() => host.writeBlock(STAGING_BASE, new Uint8Array(3))).toThrow(/multiple of 4/);
    expect(() => new (host.constructor as typeof import('../../src/afu/bmc/spi-avmm-transport.js').SpiAvmmTransport)(host.spi.region, host.spi.base, { maxTransactionBytes: 6 })).toThrow(/multiple of 4/);
  });
});
