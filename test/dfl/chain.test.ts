// walkDfhChain: one flat chain from any offset (opae-sdk binaries/opae.io/opae/io/utils.py
// dfh_walk: stop at EOL or next 0; drivers/fpga/dfl.c parse_feature_list stops at the same
// places), bounded: a chain that runs outside the BAR, misaligns or never ends is a DflError.
import { describe, expect, it } from 'vitest';
import { walkDfhChain } from '../../src/dfl/chain.js';
import { DflError } from '../../src/dfl/errors.js';
import { FakeDflDevice, dfh, put64, putFme, T } from './fake-device.js';

function bar0(build: (b: Uint8Array) => void, size = 0x4000): FakeDflDevice {
  const b = new Uint8Array(size);
  build(b);
  return new FakeDflDevice({ 0: b });
}

describe('walkDfhChain', () => {
  it('starts at a private feature with no FIU before it, stops at EOL, names by the last FIU seen', () => {
    const dev = bar0((b) => {
      put64(b, 0x1000, dfh({ type: T.PRIVATE, id: 0x4, next: 0x1000 }));
      putFme(b, 0x2000, { next: 0x1000, eol: false });
      put64(b, 0x3000, dfh({ type: T.PRIVATE, id: 0x4, next: 0, eol: true }));
    });
    const c = walkDfhChain(dev.region(0), 0, 0x1000, { guid: true });
    expect(c.end).toBe('eol');
    expect(c.entries.map((e) => [e.offset, e.type, e.name, e.guid])).toEqual([
      [0x1000, 'private', 'feature-0x4', undefined],
      [0x2000, 'fiu', 'fme', 'bfaf2ae9-4a52-46e3-82fe-38f0f9e17764'],
      [0x3000, 'private', 'global-error', undefined],
    ]);
  });

  it('next 0 without EOL ends the chain; count stops early; dump reads up to the next header', () => {
    const dev = bar0((b) => {
      put64(b, 0, dfh({ type: T.PRIVATE, id: 1, next: 0x20 }));
      put64(b, 0x8, 0x1111n);
      put64(b, 0x20, dfh({ type: 7, id: 2, next: 0 }));
    });
    const r = dev.region(0);
    const c = walkDfhChain(r, 0, 0, { dump: true });
    expect(c.end).toBe('next-zero');
    expect(c.entries[0]!.registers!.map((x) => x.offset)).toEqual([0x8, 0x10, 0x18]);
    expect(c.entries[0]!.registers![0]!.value).toBe(0x1111n);
    expect(c.entries[1]!.type).toBeUndefined();
    expect(c.entries[1]!.name).toBe('type7-0x2');
    expect(c.entries[1]!.registers!.length).toBe(0x1000 / 8 - 1);
    expect(walkDfhChain(r, 0, 0, { count: 1 })).toMatchObject({ end: 'count', entries: [{ offset: 0 }] });
  });

  it('refuses a start or next offset outside the BAR or misaligned, and a chain longer than the cap', () => {
    const out = bar0((b) => put64(b, 0, dfh({ type: T.PRIVATE, id: 1, next: 0x4000 })));
    const code = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(DflError);
        return (e as DflError).code;
      }
      return 'none';
    };
    expect(code(() => walkDfhChain(out.region(0), 0, 0))).toBe('EDFL_NEXT_OUTSIDE');
    expect(code(() => walkDfhChain(out.region(0), 0, 0x4000))).toBe('EDFL_OUTSIDE');
    expect(code(() => walkDfhChain(out.region(0), 0, 4))).toBe('EDFL_MISALIGNED');
    const odd = bar0((b) => put64(b, 0, dfh({ type: T.PRIVATE, id: 1, next: 0x14 })));
    expect(code(() => walkDfhChain(odd.region(0), 0, 0))).toBe('EDFL_MISALIGNED');
    const long = bar0((b) => {
      for (let o = 0; o < 0x1000; o += 8) put64(b, o, dfh({ type: T.PRIVATE, id: 1, next: 8, eol: o === 0x1000 - 8 }));
    });
    expect(walkDfhChain(long.region(0), 0, 0).entries.length).toBe(0x200);
    expect(code(() => walkDfhChain(long.region(0), 0, 0, { maxFeatures: 100 }))).toBe('EDFL_TOO_MANY');
  });
});
