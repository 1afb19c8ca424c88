// The signed image layout exactly as OPAE's PACSign writes it, built here from the field offsets in
// opae-sdk python/pacsign/pacsign/reader.py (make_block0, make_root_entry, make_csk_entry,
// make_block0_entry, make_block1, UPDATE_reader / CANCEL_reader / RHP_reader .run) and the magics in
// database.py, written out as numbers so the test does not share constants with the code it checks.
import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { buildSignedImage, cancellationPayload, rootKeyHashPayload } from '../../src/afu/image/image-writer.js';
import { parseSignedImage, rootKeyHashOf } from '../../src/afu/image/signed-image.js';
import { flashRefusal } from '../../src/afu/image/flashable.js';
import { contentTypePacsignNames, imageTypeNames } from '../../src/dfl/regs/signed-image-layout.js';

const le32 = (b: Uint8Array, at: number, v: number): void => { new DataView(b.buffer, b.byteOffset).setUint32(at, v >>> 0, true); };
const sha = (alg: string, ...parts: Uint8Array[]): Uint8Array => { const h = createHash(alg); for (const p of parts) h.update(p); return h.digest(); };

/** reader.py make_block0: magic, size, type, cert type, zeros to 0x10, SHA-256, SHA-384, zeros to 0x80. */
function block0(type: number, certType: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(128);
  le32(b, 0, 0xb6eafd19);
  le32(b, 4, payload.length);
  b[8] = type;
  b[9] = certType;
  b.set(sha('sha256', payload), 0x10);
  b.set(sha('sha384', payload), 0x30);
  return b;
}

/** make_root_entry with a zero key: magic, then curve 0xC7B88C74, 0xFFFFFFFF, 0xFFFFFFFF, X at body 0x0C, Y at 0x3C, to body 0x80. */
function rootBody(x = new Uint8Array(32), y = new Uint8Array(32)): Uint8Array {
  const body = new Uint8Array(0x80);
  le32(body, 0, 0xc7b88c74);
  le32(body, 4, 0xffffffff);
  le32(body, 8, 0xffffffff);
  body.set(x, 0x0c);
  body.set(y, 0x3c);
  return body;
}

function file(b0: Uint8Array, b1: Uint8Array, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(1024 + payload.length);
  out.set(b0, 0);
  out.set(b1, 128);
  out.set(payload, 1024);
  return out;
}

describe('signed images as PACSign writes them (opae-sdk python/pacsign/pacsign/reader.py)', () => {
  it('an unsigned-key UPDATE: block1 = magic, root entry at +0x10, CSK entry at +0x94, block0 entry at +0x17C; payload padded to 128', () => {
    const raw = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
    const payload = new Uint8Array(384);
    payload.set(raw);
    const b1 = new Uint8Array(896);
    le32(b1, 0, 0xf27f28d7);
    le32(b1, 0x10, 0xa757a046);
    b1.set(rootBody(), 0x14);
    const csk = 0x10 + 132; // 0x94 = 148
    le32(b1, csk, 0x14711c2f);
    le32(b1, csk + 4, 0xc7b88c74); // curve
    le32(b1, csk + 8, 0xffffffff); // UPDATE_reader pub_CSK_perm default
    le32(b1, csk + 12, 0); // pub_CSK_id default
    le32(b1, csk + 0x84, 0xde64437d); // sha magic after the 128-byte body
    const b0e = csk + 0xe8; // 380
    le32(b1, b0e, 0x15364367);
    le32(b1, b0e + 4, 0xde64437d);
    const expected = file(block0(0, 0, payload), b1, payload);
    expect(Buffer.from(buildSignedImage({ contentType: 0, payload: raw }))).toEqual(Buffer.from(expected));
    expect(b0e).toBe(380);
  });

  it('a CANCEL certificate: payload = the CSK ID padded to 128; block1 = root entry then block0 entry at +148', () => {
    const payload = new Uint8Array(128);
    le32(payload, 0, 5);
    const b1 = new Uint8Array(896);
    le32(b1, 0, 0xf27f28d7);
    le32(b1, 0x10, 0xa757a046);
    b1.set(rootBody(), 0x14);
    le32(b1, 148, 0x15364367);
    le32(b1, 152, 0xde64437d);
    const expected = file(block0(1, 1, payload), b1, payload);
    expect(Buffer.from(buildSignedImage({ contentType: 1, subtype: 1, payload: cancellationPayload(5) }))).toEqual(Buffer.from(expected));
  });

  for (const [type, name] of [[0, 'SR'], [1, 'BMC'], [2, 'PR']] as const) {
    for (const subtype of [2, 3]) {
      it(`RK_${subtype === 2 ? 256 : 384} for ${name}: block1 holds only its magic; payload = SHA-256(root body) in a 48-byte field${type === 2 ? ' + SHA-256(X|Y)' : ''}`, () => {
        const x = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
        const y = Uint8Array.from({ length: 32 }, (_, i) => 0xff - i);
        const payload = new Uint8Array(128);
        payload.set(sha('sha256', rootBody(x, y)), 0);
        if (type === 2) payload.set(sha('sha256', x, y), 48); // RHP_reader: CONTENT_PR adds s10_root_hash
        const b1 = new Uint8Array(896);
        le32(b1, 0, 0xf27f28d7); // make_block1() with no entries
        const expected = file(block0(type, subtype, payload), b1, payload);
        const built = buildSignedImage({ contentType: type, subtype, payload: rootKeyHashPayload(type, { x, y }) });
        expect(Buffer.from(built)).toEqual(Buffer.from(expected));
        // ...and it is read back (it used to be refused: "block1 root entry magic at offset 0x90 is 0").
        const parsed = parseSignedImage(expected);
        expect(parsed).toMatchObject({ contentType: type, subtype, rootEntry: undefined, cskEntry: undefined, block0Entry: undefined, irreversible: true, payloadLength: 128 });
        expect(rootKeyHashOf(parsed)).toBe(Buffer.from(sha('sha256', rootBody(x, y))).toString('hex'));
        expect(flashRefusal(type, subtype)).toBeUndefined();
      });
    }
  }

  it('content types 3 and 8-11 have PACSign\'s names (database.py CONTENT_*)', () => {
    expect(contentTypePacsignNames[3]).toBe('FACTORY');
    expect(contentTypePacsignNames.slice(8)).toEqual(['SR_TEST', 'BMC_FACTORY', 'PR_TEST', 'SR_CERT']);
    expect(imageTypeNames.slice(0, 4)).toEqual(['FPGA', 'BMC', 'GBS', 'FACTORY']);
    for (const t of [3, 8, 9, 10, 11]) expect(parseSignedImage(buildSignedImage({ contentType: t, payload: new Uint8Array(128) })).contentTypeName).not.toMatch(/unknown/);
  });

  it('says why an image cannot be flashed: PR-key updates, keys for types the BMC keeps no hash for, unknown types', () => {
    for (const t of [2, 6, 10]) expect(flashRefusal(t, 0)).toMatch(/PR key.*partial reconfiguration/);
    for (const t of [0, 1, 3, 4, 5, 8, 9, 11]) expect(flashRefusal(t, 0)).toBeUndefined();
    expect(flashRefusal(3, 2)).toMatch(/root key hash.*only for SR, BMC and PR/);
    expect(flashRefusal(9, 1)).toMatch(/key cancellation/);
    expect(flashRefusal(12, 0)).toMatch(/not one PACSign defines/);
  });
});

describe('image-info and flash on PACSign files (CLI)', () => {
  it('image-info reads an RK_256 image, shows the hash it programs, and flash refuses a PR update with exit 3 and the reason', async () => {
    const { main } = await import('../../src/cli/main.js');
    const { capture } = await import('../pr/helpers.js');
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'vfiokit-rk-'));
    try {
      const key = { x: new Uint8Array(32).fill(1), y: new Uint8Array(32).fill(2) };
      const rk = join(dir, 'rk.bin');
      writeFileSync(rk, buildSignedImage({ contentType: 1, subtype: 2, payload: rootKeyHashPayload(1, key) }));
      let io = capture();
      expect(await main(['image-info', rk])).toBe(0);
      expect(io.out()).toMatch(/action: +2 root key hash 256 \(cannot be undone\)/);
      expect(io.out()).toContain(`root key hash:   ${Buffer.from(sha('sha256', rootBody(key.x, key.y))).toString('hex')}`);
      expect(io.out()).toMatch(/vfiokit flash: +through the BMC secure update/);
      vi.restoreAllMocks();
      const pr = join(dir, 'pr.bin');
      writeFileSync(pr, buildSignedImage({ contentType: 10, payload: new Uint8Array(256) }));
      io = capture();
      expect(await main(['flash', 'sim:n3000', pr])).toBe(3);
      expect(io.err()).toMatch(/PR test \(PR_TEST\) image is signed with the PR key.*vfiokit pr/);
    } finally {
      vi.restoreAllMocks();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
