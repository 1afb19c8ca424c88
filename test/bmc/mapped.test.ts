// The SPI master on real mapped memory that is not a device: the indirect command bit never
// clears, so both the JS path and the shim's whole-transaction loop must give up, bounded, with a
// typed error (never hang or touch memory outside the feature).
import { describe, expect, it } from 'vitest';
import { mmap, munmap } from '../../src/sys/libc.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../src/sys/constants.js';
import { MappedRegion } from '../../src/mmio/mapped-region.js';
import { DflIndirectRegBus } from '../../src/afu/bmc/spi-regbus.js';
import { AlteraSpiMaster } from '../../src/afu/bmc/spi-master.js';
import { nativeTransact } from '../../src/afu/bmc/avalon-codec.js';
import { TimeoutError } from '../../src/errors.js';

const SIZE = 0x4000;
const OFFSET = 0x1000;

describe('SPI master over mapped memory without a device behind it', () => {
  it('JS path: ESPI_INDIRECT_TIMEOUT naming the register', () => {
    const address = mmap(null, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const region = new MappedRegion('anon', address, SIZE, { onClose: () => munmap(address, SIZE) });
    try {
      region.write64(OFFSET + 0x08, (32n << 2n) | (1n << 8n)); // a plausible SPI_CORE_PARAMETER
      let err: unknown;
      try { new AlteraSpiMaster(new DflIndirectRegBus(region, OFFSET)); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as TimeoutError).code).toBe('ESPI_INDIRECT_TIMEOUT');
      expect((err as TimeoutError).message).toMatch(/INDIRECT_ADDR/);
    } finally {
      region.close();
    }
  });

  it.skipIf(!nativeTransact())('shim loop: returns the indirect-timeout code', () => {
    const address = mmap(null, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    try {
      const phy = Uint8Array.from([0x7a, 0x7c, 0x00, 0x10, 0x00, 0x00, 0x04, 0x00, 0x30, 0x08, 0x7b, 0x68]);
      const out = new Uint8Array(1024);
      const counters = new BigUint64Array(1);
      expect(nativeTransact()!(address, OFFSET, 0, phy, phy.length, out, out.length, 16, counters)).toBe(-5);
      expect(nativeTransact()!(address, OFFSET, 0, phy, 3, out, out.length, 16, counters)).toBe(-8);
    } finally {
      munmap(address, SIZE);
    }
  });
});
