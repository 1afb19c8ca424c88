import { describe, expect, it } from 'vitest';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';
import { ImageError, checkPayloadHashes, imageInfo, parseSignedImage, verifySignedImage } from '../../src/afu/image/signed-image.js';
import { putLe32 } from '../../src/util/bytes.js';
import { BLOCK1_OFFSET, B1_CSK_ENTRY, MIN_IMAGE_SIZE, PAYLOAD_OFFSET } from '../../src/dfl/regs/signed-image-layout.js';
import { target } from '../fuzz/images.fuzz.js';

describe('signed image parser', () => {
  it('parses what the writer builds, with hashes that verify', () => {
    const payload = patternPayload(5000, 2);
    const img = buildSignedImage({ contentType: 1, slot: 1, version: 'BMC 2.0.12', payload });
    const parsed = parseSignedImage(img);
    expect(parsed).toMatchObject({ contentType: 1, contentTypeName: 'BMC', subtype: 0, subtypeName: 'update', slot: 1, payloadOffset: 1024, payloadLength: 5120, version: 'BMC 2.0.12', trailingBytes: 0, irreversible: false });
    expect(parsed.cskEntry).toBeDefined();
    expect(parsed.block0Entry?.offset).toBe(BLOCK1_OFFSET + 380);
    verifySignedImage(parsed);
    const check = checkPayloadHashes(parsed);
    expect(check.sha256).toBe(parsed.sha256);
    expect(check.sha384).toBe(parsed.sha384);
  });

  it('reports image info as the management API does', () => {
    const cases = [[0, 'FPGA'], [1, 'BMC'], [2, 'GBS'], [3, 'FACTORY']] as const;
    for (const [type, name] of cases) {
      for (let subtype = 0; subtype < 4; subtype++) {
        const info = imageInfo(buildSignedImage({ contentType: type, subtype, payload: new Uint8Array(300) }));
        expect(info).toMatchObject({ type, typeName: name, subtype, totalLength: 1024 + 384, payloadOffset: 1024, payloadLength: 384, hashesMatch: true });
      }
    }
    expect(imageInfo(new Uint8Array(2000))).toBeUndefined();
  });

  it('cancellation certificates carry the block0 entry in the CSK slot', () => {
    const parsed = parseSignedImage(buildSignedImage({ contentType: 0, subtype: 1, payload: new Uint8Array(128) }));
    expect(parsed.cskEntry).toBeUndefined();
    expect(parsed.block0Entry?.offset).toBe(BLOCK1_OFFSET + B1_CSK_ENTRY);
    expect(parsed.irreversible).toBe(true);
  });

  it('pads short payloads to the 128-byte minimum', () => {
    const img = buildSignedImage({ contentType: 0, payload: new Uint8Array([1, 2, 3]) });
    expect(img.length).toBe(MIN_IMAGE_SIZE);
    expect(parseSignedImage(img).payloadLength).toBe(128);
  });

  const good = buildSignedImage({ contentType: 0, payload: patternPayload(1000), version: 'v1' });
  const broken: [string, (b: Uint8Array) => Uint8Array, string][] = [
    ['truncated header', (b) => b.slice(0, 1000), 'EIMAGE_SIZE'],
    ['block0 magic', (b) => { b[0] ^= 1; return b; }, 'EIMAGE_BLOCK0_MAGIC'],
    ['payload length past the end', (b) => { putLe32(b, 4, 5000); return b; }, 'EIMAGE_PAYLOAD_LENGTH'],
    ['zero payload length', (b) => { putLe32(b, 4, 0); return b; }, 'EIMAGE_PAYLOAD_LENGTH'],
    ['unknown subtype', (b) => { b[9] = 7; return b; }, 'EIMAGE_SUBTYPE'],
    ['block1 magic', (b) => { b[BLOCK1_OFFSET] ^= 0x80; return b; }, 'EIMAGE_BLOCK1_MAGIC'],
    ['root entry magic', (b) => { b[BLOCK1_OFFSET + 16] ^= 1; return b; }, 'EIMAGE_ROOT_ENTRY'],
    ['CSK entry magic', (b) => { b[BLOCK1_OFFSET + 148] ^= 1; return b; }, 'EIMAGE_CSK_ENTRY'],
    ['block0 entry magic', (b) => { b[BLOCK1_OFFSET + 380] ^= 1; return b; }, 'EIMAGE_BLOCK0_ENTRY'],
  ];
  for (const [what, corrupt, code] of broken) {
    it(`rejects ${what} with ${code} and says where`, () => {
      const err = (() => { try { parseSignedImage(corrupt(good.slice())); return undefined; } catch (e) { return e; } })();
      expect(err).toBeInstanceOf(ImageError);
      expect((err as ImageError).code).toBe(code);
      expect((err as ImageError).message).toMatch(/signed image: /);
    });
  }

  it('flags a modified payload: parse succeeds, verification names the hash', () => {
    const img = good.slice();
    img[PAYLOAD_OFFSET + 10] ^= 1;
    const parsed = parseSignedImage(img);
    expect(imageInfo(img)?.hashesMatch).toBe(false);
    expect(() => verifySignedImage(parsed)).toThrow(/SHA-256 and SHA-384/);
  });

  it('survives a bounded fuzz run with typed errors only', async () => {
    const stats = await target.fuzz({ cases: 3000, seed: 1234 });
    expect(stats.cases).toBe(3000);
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.typedErrors).toBeGreaterThan(0);
  });
});
