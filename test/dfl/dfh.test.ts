import { describe, expect, it } from 'vitest';
import {
  decodeDfh, encodeDfh, decodeV1Csr, encodeV1Csr, decodeParamHeader, encodeParamHeader, decodeMsixParam, encodeMsixParam,
  featureTypeOf,
} from '../../src/dfl/dfh.js';
import { DfhType } from '../../src/dfl/regs/dfh.js';
import { formatGuid, parseGuid, FME_GUID, PORT_GUID } from '../../src/dfl/guid.js';
import { fiuName, privateFeatureName, FmeFeatureId, PortFeatureId } from '../../src/dfl/names.js';
import { ArgumentError } from '../../src/errors.js';

describe('DFH codec', () => {
  it('decodes every field at its bit position (dfl.h masks)', () => {
    // type 3 [63:60], version 1 [59:52], minor 2 [51:48], EOL [40], next 0x123456 [39:16], rev 5 [15:12], id 0xabc [11:0]
    const raw = (3n << 60n) | (1n << 52n) | (2n << 48n) | (1n << 40n) | (0x123456n << 16n) | (5n << 12n) | 0xabcn;
    const d = decodeDfh(raw);
    expect(d).toEqual({ raw, id: 0xabc, revision: 5, next: 0x123456, eol: true, minorRevision: 2, version: 1, type: 3 });
  });

  it('round-trips through encodeDfh and keeps reserved bits zero', () => {
    const f = { id: 0x12, type: DfhType.PRIVATE, revision: 1, next: 0x1000, eol: false, minorRevision: 0, version: 0 };
    const raw = encodeDfh(f);
    expect(raw).toBe(0x3000_0000_1000_1012n);
    expect(decodeDfh(raw)).toMatchObject(f);
    expect(encodeDfh({ id: 0, type: DfhType.FIU, next: 0xffffff, eol: true })).toBe(0x4000_01ff_ffff_0000n);
  });

  it('maps DFH types to node types', () => {
    expect([1, 2, 3, 4].map(featureTypeOf)).toEqual(['afu', 'bbb', 'private', 'fiu']);
    expect(featureTypeOf(0)).toBeUndefined();
    expect(featureTypeOf(15)).toBeUndefined();
  });
});

describe('DFH v1', () => {
  it('decodes a relative CSR address as the kernel does (FIELD_GET of [63:1])', () => {
    const c = decodeV1Csr(0x80n, (0xfc0n << 32n) | (1n << 31n) | (3n << 16n) | 7n);
    expect(c).toEqual({ absolute: false, address: 0x40n, instanceId: 7, groupingId: 3, hasParams: true, size: 0xfc0 });
  });

  it('decodes an absolute CSR address with bit 0 cleared', () => {
    const c = decodeV1Csr(0xfee0_0001n, 0x1000n << 32n);
    expect(c.absolute).toBe(true);
    expect(c.address).toBe(0xfee0_0000n);
    expect(c.hasParams).toBe(false);
    expect(c.size).toBe(0x1000);
  });

  it('round-trips the CSR registers', () => {
    const regs = encodeV1Csr({ address: 0x40n, size: 0x800, hasParams: true, instanceId: 2, groupingId: 9 });
    expect(decodeV1Csr(regs.csrAddr, regs.sizeGroup)).toEqual({ absolute: false, address: 0x40n, instanceId: 2, groupingId: 9, hasParams: true, size: 0x800 });
  });

  it('encodes and decodes parameter headers (next offset in 8-byte words at [63:35])', () => {
    const raw = encodeParamHeader({ id: 1, version: 2, eop: true, nextWords: 3 });
    expect(raw).toBe((3n << 35n) | (1n << 32n) | (2n << 16n) | 1n);
    expect(decodeParamHeader(raw)).toEqual({ id: 1, version: 2, eop: true, nextWords: 3 });
  });

  it('decodes the MSI-X parameter: [31:0] first vector, [63:32] count', () => {
    expect(decodeMsixParam(encodeMsixParam(6, 4))).toEqual({ firstVector: 6, count: 4 });
    expect(encodeMsixParam(6, 4)).toBe(0x4_0000_0006n);
  });
});

describe('GUIDs and names', () => {
  it('prints GUID_H:GUID_L big-endian in 8-4-4-4-12 form', () => {
    expect(formatGuid(0xbfaf2ae94a5246e3n, 0x82fe38f0f9e17764n)).toBe(FME_GUID);
    expect(formatGuid(0x3ab49893138d42ebn, 0x9642b06c6b355b87n)).toBe(PORT_GUID);
    expect(formatGuid(0n, 1n)).toBe('00000000-0000-0000-0000-000000000001');
  });

  it('parses GUIDs back into halves and rejects malformed ones with a typed error', () => {
    expect(parseGuid(FME_GUID.toUpperCase())).toEqual({ high: 0xbfaf2ae94a5246e3n, low: 0x82fe38f0f9e17764n });
    expect(() => parseGuid('bfaf2ae9-4a52-46e3-82fe')).toThrow(ArgumentError);
    expect(() => parseGuid('zfaf2ae9-4a52-46e3-82fe-38f0f9e17764')).toThrow(/8-4-4-4-12/);
  });

  it('names features by (FIU type, feature ID), including every ID in dfl.md', () => {
    expect(fiuName(0)).toBe('fme');
    expect(fiuName(1)).toBe('port');
    expect(fiuName(7)).toBe('fiu-0x7');
    const fme = Object.values(FmeFeatureId).map((id) => privateFeatureName(0, id));
    expect(fme).toEqual(['thermal', 'power', 'global-perf', 'global-error', 'pr', 'hssi', 'global-dperf', 'qspi-flash', 'emif', 'nios-spi', 'max10-spi', 'i2c-master', 'ethernet-group', 'pmci']);
    const port = Object.values(PortFeatureId).map((id) => privateFeatureName(1, id));
    expect(port).toEqual(['port-error', 'umsg', 'uint', 'stp', 'user-clock']);
    // Same ID, different FIU: 0x10 is the Ethernet group under the FME and the error feature under a Port.
    expect(privateFeatureName(0, 0x10)).toBe('ethernet-group');
    expect(privateFeatureName(1, 0x10)).toBe('port-error');
    expect(privateFeatureName(1, 0x5)).toBe('feature-0x5');
  });
});
