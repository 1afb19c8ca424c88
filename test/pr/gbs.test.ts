import { describe, expect, it } from 'vitest';
import { buildGbs, buildGbsFromJson, buildLegacyGbs, GBS_FILE_GUID, GBS_MAGIC_NO, GbsError, parseGbs } from '../../src/afu/pr/gbs.js';
import { FormatError } from '../../src/errors.js';
import { putLe32 } from '../../src/util/bytes.js';

const IFC = '1a422218-6dba-448e-b302-425cbcde1406';
const AFU = 'd8424dc4-a4a3-c413-f89e-433683f9040b';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GbsError);
    expect(err).toBeInstanceOf(FormatError);
    return (err as GbsError).code;
  }
  throw new Error('expected a GbsError');
}

function metaJson(overrides: Record<string, unknown> = {}, afuOverrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    version: 640,
    'afu-image': {
      'clock-frequency-high': 312,
      'clock-frequency-low': 156,
      power: 50,
      'interface-uuid': IFC,
      'magic-no': 488605312,
      'accelerator-clusters': [{ 'total-contexts': 1, name: 'nlb_400', 'accelerator-type-uuid': AFU }],
      ...afuOverrides,
    },
    'platform-name': 'MCP',
    ...overrides,
  });
}

describe('GBS parser, JSON metadata format', () => {
  it('parses an OPAE-style version 640 file and exposes the metadata', () => {
    const bits = Uint8Array.from({ length: 37 }, (_, i) => i);
    const file = buildGbsFromJson(metaJson(), bits);
    const gbs = parseGbs(file);
    expect(gbs.format).toBe('json');
    expect(gbs.interfaceUuid).toBe(IFC);
    expect(gbs.interfaceId).toEqual({ high: 0x1a4222186dba448en, low: 0xb302425cbcde1406n });
    expect(gbs.acceleratorUuid).toBe(AFU);
    const m = gbs.metadata!;
    expect(m.version).toBe(640);
    expect(m.platformName).toBe('MCP');
    expect(m.clockFrequencyHigh).toBe(312);
    expect(m.clockFrequencyLow).toBe(156);
    expect(m.power).toBe(50);
    expect(m.magicNo).toBe(GBS_MAGIC_NO);
    expect(m.acceleratorClusters).toEqual([{ name: 'nlb_400', totalContexts: 1, acceleratorTypeUuid: AFU }]);
    expect(gbs.bitstreamLength).toBe(37);
    expect(gbs.bitstreamOffset).toBe(file.length - 37);
    expect([...gbs.bitstream]).toEqual([...bits]);
  });

  it('returns the bitstream as a view into the input, not a copy', () => {
    const file = buildGbsFromJson(metaJson(), new Uint8Array(16).fill(0xab));
    const gbs = parseGbs(file);
    expect(gbs.bitstream.buffer).toBe(file.buffer);
    file[gbs.bitstreamOffset] = 0x11;
    expect(gbs.bitstream[0]).toBe(0x11);
  });

  it('accepts versions 1, 640 and 650 and refuses others', () => {
    for (const v of [1, 640, 650]) expect(parseGbs(buildGbsFromJson(metaJson({ version: v }), new Uint8Array(4))).metadata!.version).toBe(v);
    expect(codeOf(() => parseGbs(buildGbsFromJson(metaJson({ version: 2 }), new Uint8Array(4))))).toBe('EGBS_VERSION');
    expect(codeOf(() => parseGbs(buildGbsFromJson(metaJson({ version: '1' }), new Uint8Array(4))))).toBe('EGBS_VERSION');
    expect(codeOf(() => parseGbs(buildGbsFromJson(metaJson({ version: undefined }), new Uint8Array(4))))).toBe('EGBS_VERSION');
  });

  it('round-trips through the writer', () => {
    const bits = new Uint8Array([1, 2, 3, 4, 5]);
    const file = buildGbs(
      { interfaceUuid: IFC.toUpperCase(), platformName: 'n3000', power: 12.5, clockFrequencyHigh: 'auto', clockFrequencyLow: 'auto-200', acceleratorClusters: [{ name: 'a', acceleratorTypeUuid: AFU }, { acceleratorTypeUuid: IFC, totalContexts: 3 }] },
      bits,
    );
    const gbs = parseGbs(file, 'x.gbs');
    expect(gbs.interfaceUuid).toBe(IFC); // normalized to lower case
    expect(gbs.metadata!.version).toBe(1);
    expect(gbs.metadata!.platformName).toBe('n3000');
    expect(gbs.metadata!.power).toBe(12.5);
    expect(gbs.metadata!.clockFrequencyHigh).toBe('auto');
    expect(gbs.metadata!.clockFrequencyLow).toBe('auto-200');
    expect(gbs.metadata!.acceleratorClusters[1]).toEqual({ name: undefined, totalContexts: 3, acceleratorTypeUuid: IFC });
    expect([...gbs.bitstream]).toEqual([1, 2, 3, 4, 5]);
    expect(file.subarray(0, 16)).toEqual(GBS_FILE_GUID);
  });

  it('tolerates NUL/whitespace padding after the JSON', () => {
    const gbs = parseGbs(buildGbsFromJson(metaJson() + '\0\0 \n\0', new Uint8Array(8)));
    expect(gbs.interfaceUuid).toBe(IFC);
  });

  it('refuses each broken mandatory field with its own code and the field named', () => {
    const cases: [string, string, RegExp][] = [
      [metaJson({}, { 'magic-no': undefined }), 'EGBS_MAGIC_NO', /magic-no/],
      [metaJson({}, { 'magic-no': 12345 }), 'EGBS_MAGIC_NO', /0x1d1f8680/],
      [metaJson({}, { 'interface-uuid': undefined }), 'EGBS_INTERFACE_UUID', /interface-uuid/],
      [metaJson({}, { 'interface-uuid': 'not-a-uuid' }), 'EGBS_INTERFACE_UUID', /not a UUID/],
      [metaJson({}, { 'accelerator-clusters': [] }), 'EGBS_CLUSTERS', /accelerator-clusters/],
      [metaJson({}, { 'accelerator-clusters': [{ name: 'x' }] }), 'EGBS_CLUSTERS', /accelerator-type-uuid is missing/],
      [metaJson({}, { 'accelerator-clusters': [{ 'accelerator-type-uuid': AFU, 'total-contexts': -1 }] }), 'EGBS_CLUSTERS', /total-contexts/],
      [metaJson({}, { 'clock-frequency-high': 'fast' }), 'EGBS_FIELD', /clock-frequency-high/],
      [metaJson({}, { power: -3 }), 'EGBS_FIELD', /power/],
      [metaJson({ 'platform-name': 7 }), 'EGBS_FIELD', /platform-name/],
      [metaJson({ 'afu-image': 'x' }), 'EGBS_AFU_IMAGE', /afu-image/],
      ['[1,2]', 'EGBS_METADATA_JSON', /array/],
      ['{"version": 1,', 'EGBS_METADATA_JSON', /not valid JSON/],
    ];
    for (const [json, code, message] of cases) {
      let caught: GbsError | undefined;
      try {
        parseGbs(buildGbsFromJson(json, new Uint8Array(4)), 'bad.gbs');
      } catch (err) {
        caught = err as GbsError;
      }
      expect(caught, json).toBeInstanceOf(GbsError);
      expect(caught!.code, json).toBe(code);
      expect(caught!.message).toMatch(message);
      expect(caught!.message).toMatch(/^bad\.gbs: /);
      expect(caught!.details.path).toBe('bad.gbs');
    }
  });

  it('refuses bad lengths, bad UTF-8 and foreign files', () => {
    const good = buildGbsFromJson(metaJson(), new Uint8Array(4));
    expect(codeOf(() => parseGbs(good.subarray(0, 18)))).toBe('EGBS_TRUNCATED');
    const tooLong = new Uint8Array(good);
    putLe32(tooLong, 0x10, good.length);
    expect(codeOf(() => parseGbs(tooLong))).toBe('EGBS_METADATA_LENGTH');
    const empty = new Uint8Array(good);
    putLe32(empty, 0x10, 0);
    expect(codeOf(() => parseGbs(empty))).toBe('EGBS_NO_METADATA');
    const utf8 = new Uint8Array(good);
    utf8[0x15] = 0xff;
    expect(codeOf(() => parseGbs(utf8))).toBe('EGBS_METADATA_UTF8');
    expect(codeOf(() => parseGbs(new Uint8Array(100)))).toBe('EGBS_MAGIC');
    expect(codeOf(() => parseGbs(new Uint8Array(3)))).toBe('EGBS_TRUNCATED');
    expect(codeOf(() => parseGbs('text' as unknown as Uint8Array))).toBe('EGBS_INPUT');
  });
});

describe('GBS parser, legacy format', () => {
  it('reads the byte-reversed interface ID and the bitstream at offset 20', () => {
    const bits = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]);
    const file = buildLegacyGbs(IFC, bits);
    // The 16 bytes at +4 are the UUID's bytes in reverse order.
    expect(Buffer.from(file.subarray(4, 20)).reverse().toString('hex')).toBe(IFC.replace(/-/g, ''));
    const gbs = parseGbs(file);
    expect(gbs.format).toBe('legacy');
    expect(gbs.metadata).toBeUndefined();
    expect(gbs.acceleratorUuid).toBeUndefined();
    expect(gbs.interfaceUuid).toBe(IFC);
    expect(gbs.bitstreamOffset).toBe(20);
    expect([...gbs.bitstream]).toEqual([...bits]);
  });

  it('refuses a truncated legacy header', () => {
    expect(codeOf(() => parseGbs(buildLegacyGbs(IFC, new Uint8Array(0)).subarray(0, 12)))).toBe('EGBS_TRUNCATED');
  });
});
