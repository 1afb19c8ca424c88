// The FME global error feature (0x4) as drivers/fpga/dfl-fme-error.c uses it: the masks hold what
// the driver writes at init (fme_err_mask), and errors/inject_errors writes RAS_ERROR_INJECT[2:0]
// and reads the register back (inject_errors_show), so the register must keep those bits. The card
// lane's kernel revealed that the sim dropped these writes (inject_errors read back 0).
import { describe, expect, it } from 'vitest';
import { createSimCard } from '../../src/sim/sim-device.js';
import { Card } from '../../src/afu/card.js';
import { FmeErrorReg, FME_ERROR_CAP, FME_RAS_CATFAT_INJECTED_CATAST, FME_RAS_CATFAT_INJECTED_FATAL, FME_RAS_NONFAT_INJECTED } from '../../src/dfl/regs/fiu.js';
import { SimVector } from '../../src/sim/sim-card.js';
import { FmeFeatureId } from '../../src/dfl/names.js';

describe('sim FME global error feature', () => {
  it('keeps RAS_ERROR_INJECT[2:0] and the masks; the error registers read 0; the capability is read-only', () => {
    using dev = createSimCard('n3000');
    const fme = Card.discover(dev).allFeatures().find((f) => f.type === 'private' && f.id === FmeFeatureId.GLOBAL_ERROR)!;
    const bar = dev.region(0);
    const at = (r: number): number => fme.offset + r;
    bar.write64(at(FmeErrorReg.RAS_ERROR_INJECT), 0xffn);
    expect(bar.read64(at(FmeErrorReg.RAS_ERROR_INJECT))).toBe(0x7n);
    bar.write64(at(FmeErrorReg.RAS_ERROR_INJECT), 0n);
    expect(bar.read64(at(FmeErrorReg.RAS_ERROR_INJECT))).toBe(0n);
    bar.write64(at(FmeErrorReg.PCIE0_ERROR_MASK), 0xffff_ffff_ffff_ffffn);
    expect(bar.read64(at(FmeErrorReg.PCIE0_ERROR_MASK))).toBe(0xffff_ffff_ffff_ffffn);
    bar.write64(at(FmeErrorReg.FME_ERROR), 0x40n);
    expect(bar.read64(at(FmeErrorReg.FME_ERROR))).toBe(0n);
    const cap = bar.read64(at(FME_ERROR_CAP.OFFSET));
    bar.write64(at(FME_ERROR_CAP.OFFSET), 0n);
    expect(bar.read64(at(FME_ERROR_CAP.OFFSET))).toBe(cap);
  });

  it('an injection shows as the injected RAS error bits while set and raises the error vector unless its RAS mask masks it (DPDK ifpga_defines.h)', () => {
    using dev = createSimCard('n3000');
    const fme = Card.discover(dev).allFeatures().find((f) => f.type === 'private' && f.id === FmeFeatureId.GLOBAL_ERROR)!;
    const bar = dev.region(0);
    const at = (r: number): number => fme.offset + r;
    const ras = (): [bigint, bigint] => [bar.read64(at(FmeErrorReg.RAS_CATFAT_ERROR)), bar.read64(at(FmeErrorReg.RAS_NONFAT_ERROR))];
    bar.write64(at(FmeErrorReg.RAS_ERROR_INJECT), 0b001n);
    expect(ras()).toEqual([FME_RAS_CATFAT_INJECTED_CATAST, 0n]);
    expect(dev.sim.raised[SimVector.FME_ERROR]).toBe(1);
    bar.write64(at(FmeErrorReg.RAS_ERROR_INJECT), 0b111n);
    expect(ras()).toEqual([FME_RAS_CATFAT_INJECTED_CATAST | FME_RAS_CATFAT_INJECTED_FATAL, FME_RAS_NONFAT_INJECTED]);
    expect(dev.sim.raised[SimVector.FME_ERROR]).toBe(2);
    bar.write64(at(FmeErrorReg.RAS_ERROR_INJECT), 0n);
    expect(ras()).toEqual([0n, 0n]);
    // Masked (as dfl-fme-error.c fme_err_mask(dev, true) leaves them at uinit): no interrupt.
    bar.write64(at(FmeErrorReg.RAS_CATFAT_ERROR_MASK), 0xffff_ffff_ffff_ffffn);
    bar.write64(at(FmeErrorReg.RAS_NONFAT_ERROR_MASK), 0xffff_ffff_ffff_ffffn);
    bar.write64(at(FmeErrorReg.RAS_ERROR_INJECT), 0b111n);
    expect(ras()).toEqual([FME_RAS_CATFAT_INJECTED_CATAST | FME_RAS_CATFAT_INJECTED_FATAL, FME_RAS_NONFAT_INJECTED]);
    expect(dev.sim.raised[SimVector.FME_ERROR]).toBe(2);
  });
});
