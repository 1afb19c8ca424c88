// Deeply nested JSON from outside (issue 14 item 2): a GBS's metadata and a vfio-user VERSION
// payload's capabilities nested 10,000 levels deep are typed format errors, not RangeErrors.
import { describe, expect, it } from 'vitest';
import { jsonDepth, parseBoundedJson, MAX_JSON_DEPTH } from '../../src/util/bounded-json.js';
import { buildGbsFromJson, parseGbs, GbsError } from '../../src/afu/pr/gbs.js';
import { decodeVersion } from '../../src/vfio-user/capabilities.js';
import { VfioUserFormatError } from '../../src/vfio-user/protocol.js';
import { FormatError } from '../../src/errors.js';

const LEVELS = 10_000;
const deepValue = '['.repeat(LEVELS) + ']'.repeat(LEVELS);

describe('bounded JSON', () => {
  it('measures nesting outside strings only', () => {
    expect(jsonDepth('{"a":[1,{"b":"[[[[{{"}]}')).toBe(3);
    expect(jsonDepth('"\\"[["')).toBe(0);
    expect(jsonDepth(deepValue, 10)).toBe(11); // stops counting past the limit
  });

  it('refuses nesting past the bound with a typed error, parses what is within it', () => {
    expect(parseBoundedJson('{"a":[1,2]}', 'x')).toEqual({ a: [1, 2] });
    const ok = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(() => parseBoundedJson(ok, 'x')).not.toThrow();
    expect(() => parseBoundedJson('[' + ok + ']', 'x')).toThrow(expect.objectContaining({ code: 'EJSON_DEPTH' }));
    expect(() => parseBoundedJson('{', 'x')).toThrow(FormatError);
  });

  it('a GBS whose metadata nests 10,000 levels is a GbsError, not a RangeError', () => {
    const file = buildGbsFromJson(`{"version":1,"afu-image":{"interface-uuid":${deepValue}}}`, new Uint8Array(64));
    let err: unknown;
    try { parseGbs(file, 'deep.gbs'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(GbsError);
    expect(err).toMatchObject({ code: 'EGBS_METADATA_DEPTH' });
    expect((err as Error).message).toMatch(/^deep\.gbs: GBS metadata nests deeper than 64 levels/);
  });

  it('a VERSION payload whose capabilities nest 10,000 levels is a malformed-message error (EINVAL)', () => {
    const json = Buffer.from(`{"capabilities":{"migration":${deepValue}}}\0`);
    const payload = new Uint8Array(4 + json.length);
    payload[0] = 0; payload[2] = 1;
    payload.set(json, 4);
    let err: unknown;
    try { decodeVersion(payload); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(VfioUserFormatError);
    expect((err as Error).message).toContain('nests deeper than 64 levels');
  });
});
