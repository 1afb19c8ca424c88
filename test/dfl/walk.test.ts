import { describe, expect, it } from 'vitest';
import { walkDfl, locateDfls } from '../../src/dfl/walk.js';
import { DflError } from '../../src/dfl/errors.js';
import { csrOffsetOf, flattenFeatures, type Feature } from '../../src/dfl/feature.js';
import { findDflVsec, readDflVsec } from '../../src/dfl/vsec.js';
import { encodeParamHeader, encodeMsixParam, encodeV1Csr } from '../../src/dfl/dfh.js';
import { ParamId } from '../../src/dfl/regs/dfh.js';
import { FME_GUID, PORT_GUID } from '../../src/dfl/guid.js';
import { FormatError } from '../../src/errors.js';
import { putLe32 } from '../../src/util/bytes.js';
import { createSimCard } from '../../src/sim/sim-device.js';
import { SIM_AFU_GUID } from '../../src/sim/identity.js';
import { FakeDflDevice, put64, dfh, T, vsecConfig, putFme, putPort, portOffsetWord } from './fake-device.js';

const shape = (fs: Feature[]): unknown[] => fs.map((f) => [f.type, f.name, f.offset, shape(f.children)]);

function expectDflError(fn: () => unknown, code: string, bar: number, offset: number): DflError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(DflError);
  expect(caught).toBeInstanceOf(FormatError);
  const e = caught as DflError;
  expect(e.code).toBe(code);
  expect(e.details.bar).toBe(bar);
  expect(e.details.offset).toBe(offset);
  expect(e.message).toContain(`BAR${bar}+0x${offset.toString(16)}`);
  return e;
}

describe('walking the simulated card', () => {
  const tree = [
    // The N3000's BMC window is the Nios feature 0xD (dfl-n3000-nios.c).
    ['fiu', 'fme', 0, [['private', 'thermal', 0x1000, []], ['private', 'power', 0x2000, []], ['private', 'global-error', 0x3000, []], ['private', 'pr', 0x4000, []], ['private', 'nios-spi', 0x5000, []]]],
    ['fiu', 'port', 0x40000, [['private', 'port-error', 0x41000, []], ['private', 'uint', 0x42000, []], ['afu', 'afu', 0x60000, []]]],
  ];

  it('n3000: one list found through the VSEC, FME then Port with its AFU', () => {
    using dev = createSimCard('n3000');
    const w = walkDfl(dev);
    expect(w.discovery).toBe('vsec');
    expect(w.lists).toEqual([{ bar: 0, offset: 0, source: 'vsec' }]);
    expect(shape(w.features)).toEqual(tree);
    expect(w.count).toBe(10);
    expect(w.warnings).toEqual([]);
    const [fme, port] = w.features;
    expect(fme!.guid).toBe(FME_GUID);
    expect(port!.guid).toBe(PORT_GUID);
    const afu = port!.children.find((c) => c.type === 'afu')!;
    expect(afu.guid).toBe(SIM_AFU_GUID);
    expect(afu.size).toBe(0x20000);
    const all = flattenFeatures(w.features);
    expect(all.every((f) => f.version === 0)).toBe(true);
    // v0 interrupt capability registers
    expect(all.find((f) => f.name === 'global-error')!.irq).toEqual({ firstVector: 0, count: 1, source: 'fme-error-cap' });
    expect(all.find((f) => f.name === 'port-error')!.irq).toEqual({ firstVector: 1, count: 1, source: 'port-error-cap' });
    expect(all.find((f) => f.name === 'uint')!.irq).toEqual({ firstVector: 2, count: 4, source: 'port-uint-cap' });
  });

  it('n3000-dfh1: v1 headers with CSR blocks and MSI-X parameters', () => {
    using dev = createSimCard('n3000-dfh1');
    const w = walkDfl(dev);
    expect(shape(w.features)).toEqual(tree);
    const all = flattenFeatures(w.features);
    const byName = (n: string): Feature => all.find((f) => f.name === n)!;
    expect(byName('fme').version).toBe(0);
    for (const n of ['thermal', 'power', 'global-error', 'pr', 'nios-spi', 'port-error', 'uint', 'afu']) expect(byName(n).version).toBe(1);
    // The BMC window's and PR's registers are their CSR blocks (dfl.c: the kernel maps the CSR block for a v1 feature).
    expect(byName('nios-spi').csr).toMatchObject({ absolute: false, address: 0x40n, hasParams: false });
    // PR is v1 too: its registers are in the CSR block (dfl.c create_feature_instance), at DFH + 0x40.
    expect(csrOffsetOf(byName('pr'))).toBe(byName('pr').offset + 0x40);
    expect(byName('port-error').csr).toMatchObject({ absolute: false, address: 0x40n, hasParams: true, size: 0xfc0 });
    expect(byName('port-error').params).toEqual([{ id: ParamId.MSI_X, version: 0, offset: 0x28, data: [encodeMsixParam(1, 1)] }]);
    expect(byName('uint').irq).toEqual({ firstVector: 2, count: 4, source: 'msix-param' });
    expect(byName('afu').irq).toEqual({ firstVector: 2, count: 4, source: 'msix-param' });
    expect(byName('thermal').params).toBeUndefined();
    expect(byName('thermal').guid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('n3000-no-vsec: FME list then the Port through PORT_OFFSET(0)', () => {
    using dev = createSimCard('n3000-no-vsec');
    expect(findDflVsec(dev)).toBe(0);
    const w = walkDfl(dev);
    expect(w.discovery).toBe('fme-port-table');
    expect(w.lists).toEqual([{ bar: 0, offset: 0, source: 'fme' }, { bar: 0, offset: 0x40000, source: 'port-table', port: 0 }]);
    expect(shape(w.features)).toEqual(tree);
  });

  it('finds the VSEC behind another extended capability', () => {
    using dev = createSimCard('n3000');
    const at = findDflVsec(dev);
    expect(at).toBeGreaterThan(0x100);
    expect(dev.configRead(0x100, 2)).toBe(0x0001); // AER first
    expect(readDflVsec(dev)).toEqual([{ bar: 0, offset: 0 }]);
  });
});

describe('walking hand-built lists', () => {
  it('walks lists across BARs and follows NEXT_AFU', () => {
    const bar0 = new Uint8Array(0x4000);
    const bar2 = new Uint8Array(0x8000);
    putFme(bar0, 0, { next: 0x1000, eol: false });
    put64(bar0, 0x1000, dfh({ type: T.PRIVATE, id: 0x5, eol: true }));
    putPort(bar2, 0, { next: 0x1000, eol: false, nextAfu: 0x4000, mmioKiB: 16, number: 0 });
    put64(bar2, 0x1000, dfh({ type: T.PRIVATE, id: 0x10, eol: true }));
    put64(bar2, 0x4000, dfh({ type: T.AFU, id: 0, eol: true }));
    const dev = new FakeDflDevice({ 0: bar0, 2: bar2 }, vsecConfig([0x0 | 0, 0x0 | 2]));
    const w = walkDfl(dev);
    expect(w.lists.map((l) => [l.bar, l.offset])).toEqual([[0, 0], [2, 0]]);
    expect(shape(w.features)).toEqual([
      ['fiu', 'fme', 0, [['private', 'pr', 0x1000, []]]],
      ['fiu', 'port', 0, [['private', 'port-error', 0x1000, []], ['afu', 'afu', 0x4000, []]]],
    ]);
    expect(w.features[1]!.children[1]!.bar).toBe(2);
    expect(w.features[1]!.children[1]!.size).toBe(0x4000);
  });

  it('takes a Port at BAR0 as a VF', () => {
    const bar0 = new Uint8Array(0x2000);
    putPort(bar0, 0, { eol: true, nextAfu: 0x1000, mmioKiB: 4 });
    put64(bar0, 0x1000, dfh({ type: T.AFU, id: 0, eol: true }));
    const w = walkDfl(new FakeDflDevice({ 0: bar0 }));
    expect(w.discovery).toBe('port');
    expect(shape(w.features)).toEqual([['fiu', 'port', 0, [['afu', 'afu', 0x1000, []]]]]);
  });

  it('skips unimplemented ports and BAR 7, and lists VF-only ports on the PF too (dfl-pci.c find_dfls_by_default)', () => {
    const bar0 = new Uint8Array(0x8000);
    putFme(bar0, 0, { ports: [portOffsetWord(0, 0x1000, { implemented: false }), portOffsetWord(7, 0x2000), portOffsetWord(0, 0x3000, { vfOnly: true }), portOffsetWord(0, 0x4000)] });
    putPort(bar0, 0x3000, { eol: true, number: 2 });
    putPort(bar0, 0x4000, { eol: true, number: 3 });
    const dev = new FakeDflDevice({ 0: bar0 });
    // The kernel reads only IMP [60] and the BAR [34:32]; the access bit [55] is for SR-IOV later.
    expect(locateDfls(dev).lists).toEqual([
      { bar: 0, offset: 0, source: 'fme' },
      { bar: 0, offset: 0x3000, source: 'port-table', port: 2, vfOnly: true },
      { bar: 0, offset: 0x4000, source: 'port-table', port: 3 },
    ]);
  });

  it('refuses a port table BAR of 6 as dfl-pci.c find_dfls_by_default does ("bad BAR"), after skipping unimplemented entries', () => {
    const bar0 = new Uint8Array(0x2000);
    putFme(bar0, 0, { ports: [portOffsetWord(6, 0x1000, { implemented: false }), portOffsetWord(6, 0x1000)] });
    const e = expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_PORT_BAR', 0, 0x40);
    expect(e.message).toMatch(/bad BAR 6 for port 1/);
  });

  it('walks an AFU\'s own chain of BBBs inside its MMIO', () => {
    const bar0 = new Uint8Array(0x4000);
    putPort(bar0, 0, { eol: true, nextAfu: 0x1000, mmioKiB: 8 });
    put64(bar0, 0x1000, dfh({ type: T.AFU, id: 0, next: 0x100 }));
    put64(bar0, 0x1100, dfh({ type: T.BBB, id: 0x7, eol: true }));
    put64(bar0, 0x1108, 0x2222n);
    put64(bar0, 0x1110, 0x1111n);
    const w = walkDfl(new FakeDflDevice({ 0: bar0 }));
    const afu = w.features[0]!.children[0]!;
    expect(afu.children.map((c) => [c.type, c.name, c.offset, c.guid])).toEqual([['bbb', 'bbb-0x7', 0x1100, '00000000-0000-1111-0000-000000002222']]);
  });

  it('keeps a malformed AFU chain as a warning (the kernel does not walk it)', () => {
    const bar0 = new Uint8Array(0x4000);
    putPort(bar0, 0, { eol: true, nextAfu: 0x1000, mmioKiB: 4 });
    put64(bar0, 0x1000, dfh({ type: T.AFU, id: 0, next: 0x2000 }));
    const w = walkDfl(new FakeDflDevice({ 0: bar0 }));
    expect(w.features[0]!.children[0]!.children).toEqual([]);
    expect(w.warnings.join()).toMatch(/AFU chain next offset/);
  });

  it('skips undefined DFH types with a warning, as the kernel does', () => {
    const bar0 = new Uint8Array(0x3000);
    putFme(bar0, 0, { next: 0x1000, eol: false });
    put64(bar0, 0x1000, dfh({ type: 9, id: 1, next: 0x1000 }));
    put64(bar0, 0x2000, dfh({ type: T.PRIVATE, id: 1, eol: true }));
    const w = walkDfl(new FakeDflDevice({ 0: bar0 }));
    expect(shape(w.features)).toEqual([['fiu', 'fme', 0, [['private', 'thermal', 0x2000, []]]]]);
    expect(w.warnings).toHaveLength(1);
  });
});

describe('guards: every malformed list is a DflError naming the BAR and offset', () => {
  it('a next offset outside the BAR', () => {
    const bar0 = new Uint8Array(0x2000);
    putFme(bar0, 0, { next: 0x1000, eol: false });
    put64(bar0, 0x1000, dfh({ type: T.PRIVATE, id: 1, next: 0x1000 }));
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_NEXT_OUTSIDE', 0, 0x1000);
  });

  it('a NEXT_AFU outside the BAR', () => {
    const bar0 = new Uint8Array(0x2000);
    putPort(bar0, 0, { eol: true, nextAfu: 0x10000, mmioKiB: 4 });
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_NEXT_OUTSIDE', 0, 0);
  });

  it('an AFU whose MMIO runs past the BAR', () => {
    const bar0 = new Uint8Array(0x2000);
    putPort(bar0, 0, { eol: true, nextAfu: 0x1000, mmioKiB: 64 });
    put64(bar0, 0x1000, dfh({ type: T.AFU, id: 0, eol: true }));
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_AFU_SIZE', 0, 0x1000);
  });

  it('a next offset or NEXT_AFU that is not 64-bit aligned', () => {
    const bar0 = new Uint8Array(0x3000);
    putFme(bar0, 0, { next: 0x1004, eol: false });
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_MISALIGNED', 0, 0);
    const bar1 = new Uint8Array(0x3000);
    putPort(bar1, 0, { eol: true, nextAfu: 0x1002, mmioKiB: 4 });
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar1 })), 'EDFL_MISALIGNED', 0, 0);
  });

  it('next offset 0 without EOL ends the list with a 4 KiB feature (dfl.c parse_feature_list, feature_size)', () => {
    const bar0 = new Uint8Array(0x3000);
    putFme(bar0, 0, { next: 0x1000, eol: false });
    put64(bar0, 0x1000, dfh({ type: T.PRIVATE, id: 2, next: 0 }));
    put64(bar0, 0x2000, dfh({ type: T.PRIVATE, id: 3, eol: true })); // never reached
    const w = walkDfl(new FakeDflDevice({ 0: bar0 }));
    expect(shape(w.features)).toEqual([['fiu', 'fme', 0, [['private', 'power', 0x1000, []]]]]);
    expect(w.features[0]!.children[0]!.size).toBe(0x1000);
    expect(w.warnings.join('\n')).toMatch(/next offset 0 without EOL; the list ends here/);
  });

  it('a next-0 feature whose default 4 KiB runs past the BAR is refused, as create_feature_instance refuses it', () => {
    const bar0 = new Uint8Array(0x1800);
    putFme(bar0, 0, { next: 0x1000, eol: false });
    put64(bar0, 0x1000, dfh({ type: T.PRIVATE, id: 2, eol: true }));
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_FEATURE_SIZE', 0, 0x1000);
  });

  it('a cycle: a Port whose NEXT_AFU points at a feature of its own list', () => {
    const bar0 = new Uint8Array(0x3000);
    putPort(bar0, 0, { next: 0x1000, eol: false, nextAfu: 0x1000, mmioKiB: 4 });
    put64(bar0, 0x1000, dfh({ type: T.PRIVATE, id: 0x10, eol: true }));
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_CYCLE', 0, 0x1000);
  });

  it('a cycle: a port table entry that leads into the FME list', () => {
    const bar0 = new Uint8Array(0x3000);
    putFme(bar0, 0, { next: 0x1000, eol: false, ports: [portOffsetWord(0, 0x800)] });
    put64(bar0, 0x1000, dfh({ type: T.PRIVATE, id: 1, eol: true }));
    putPort(bar0, 0x800, { next: 0x800, eol: false });
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_CYCLE', 0, 0x1000);
  });

  it('too many features', () => {
    const bar0 = new Uint8Array(0x20000);
    putFme(bar0, 0, { next: 0x40, eol: false });
    for (let o = 0x40; o < 0x20000 - 0x40; o += 0x40) put64(bar0, o, dfh({ type: T.PRIVATE, id: 1, next: 0x40 }));
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_TOO_MANY', 0, 1024 * 0x40);
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 }), { maxFeatures: 10 }), 'EDFL_TOO_MANY', 0, 10 * 0x40);
  });

  it('a DFL count above 6 in the VSEC', () => {
    const bar0 = new Uint8Array(0x1000);
    putFme(bar0, 0, {});
    let caught: unknown;
    try {
      walkDfl(new FakeDflDevice({ 0: bar0 }, vsecConfig([0], 7)));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DflError);
    expect((caught as DflError).code).toBe('EDFL_VSEC_COUNT');
    expect((caught as DflError).message).toMatch(/7 DFLs/);
  });

  it('a port count above 4 in FME_CAP', () => {
    const bar0 = new Uint8Array(0x1000);
    putFme(bar0, 0, { portCount: 5 });
    const e = expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_PORT_COUNT', 0, 0x30);
    expect(e.details.register).toBe('FME_CAP');
  });

  it('a port table entry with a missing BAR or an offset outside it', () => {
    const bar0 = new Uint8Array(0x1000);
    putFme(bar0, 0, { ports: [portOffsetWord(3, 0)] });
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_PORT_BAR', 0, 0x38);
    putFme(bar0, 0, { ports: [portOffsetWord(0, 0x2000)] });
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_PORT_OFFSET', 0, 0x38);
  });

  it('a v1 parameter list running past its feature', () => {
    const bar0 = new Uint8Array(0x3000);
    putFme(bar0, 0, { next: 0x1000, eol: false });
    const csr = encodeV1Csr({ address: 0n, size: 0x100, hasParams: true });
    put64(bar0, 0x1000, dfh({ type: T.PRIVATE, id: 1, next: 0x100, version: 1 }));
    put64(bar0, 0x1018, csr.csrAddr);
    put64(bar0, 0x1020, csr.sizeGroup);
    put64(bar0, 0x1028, encodeParamHeader({ id: ParamId.MSI_X, nextWords: 0x40, eop: true }));
    put64(bar0, 0x1100, dfh({ type: T.PRIVATE, id: 2, eol: true }));
    const e = expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_PARAM_OVERRUN', 0, 0x1000);
    expect(e.message).toMatch(/past the end of the feature/);
    // No end-of-parameters bit before the feature ends.
    for (let o = 0x1028; o < 0x1100; o += 8) put64(bar0, o, encodeParamHeader({ id: 9, nextWords: 1 }));
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_PARAM_OVERRUN', 0, 0x1000);
    // A parameter with next offset 0 (dfl.c dfh_get_param_size: -EINVAL).
    put64(bar0, 0x1028, encodeParamHeader({ id: ParamId.MSI_X, nextWords: 0, eop: true }));
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_PARAM_NEXT', 0, 0x1000);
  });

  it('VSEC entries naming a BAR out of range, an offset outside the BAR, or a BAR twice', () => {
    const bar0 = new Uint8Array(0x1000);
    putFme(bar0, 0, {});
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 }, vsecConfig([6]))), 'EDFL_VSEC_BAR', 6, 0);
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 }, vsecConfig([0x10 | 2]))), 'EDFL_VSEC_BAR', 2, 0x10);
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 }, vsecConfig([0x1000]))), 'EDFL_VSEC_OFFSET', 0, 0x1000);
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 }, vsecConfig([0, 0x800]))), 'EDFL_VSEC_DUP_BAR', 0, 0x800);
  });

  it('a private feature before any FIU', () => {
    const bar0 = new Uint8Array(0x1000);
    put64(bar0, 0, dfh({ type: T.PRIVATE, id: 1, eol: true }));
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 }, vsecConfig([0]))), 'EDFL_ORPHAN', 0, 0);
  });

  it('no list at all', () => {
    const bar0 = new Uint8Array(0x1000);
    expectDflError(() => walkDfl(new FakeDflDevice({ 0: bar0 })), 'EDFL_NO_LIST', 0, 0);
    expect(() => walkDfl(new FakeDflDevice({}))).toThrow(/BAR0 is absent/);
  });

  it('an extended capability list that loops', () => {
    const cfg = new Uint8Array(4096);
    putLe32(cfg, 0x100, 0x0001 | (0x100 << 20)); // AER pointing at itself
    const bar0 = new Uint8Array(0x1000);
    putFme(bar0, 0, {});
    let caught: unknown;
    try {
      walkDfl(new FakeDflDevice({ 0: bar0 }, cfg));
    } catch (err) {
      caught = err;
    }
    expect((caught as DflError).code).toBe('EDFL_EXTCAP_LOOP');
  });

  it('ignores a VSEC on a non-Intel function (dfl-pci.c checks the vendor)', () => {
    const bar0 = new Uint8Array(0x1000);
    putFme(bar0, 0, {});
    const w = walkDfl(new FakeDflDevice({ 0: bar0 }, vsecConfig([6]), 0x1c2c));
    expect(w.discovery).toBe('fme-port-table');
  });
});

describe('CSR base of a feature (dfl.c create_feature_instance)', () => {
  const base = { bar: 0, offset: 0x1000, type: 'private' as const, id: 5, name: 'pr', revision: 0, minorRevision: 0, size: 0x1000, children: [] };
  it('is the DFH in v0, DFH + CSR address when relative, none when absolute', () => {
    expect(csrOffsetOf({ ...base, version: 0 })).toBe(0x1000);
    expect(csrOffsetOf({ ...base, version: 1, csr: { absolute: false, address: 0x40n, instanceId: 0, groupingId: 0, hasParams: false, size: 0x100 } })).toBe(0x1040);
    expect(csrOffsetOf({ ...base, version: 1, csr: { absolute: true, address: 0xfee00000n, instanceId: 0, groupingId: 0, hasParams: false, size: 0x100 } })).toBeUndefined();
  });
});
