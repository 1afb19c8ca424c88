// PACSign-signed GBS files (opae-sdk python/pacsign/pacsign/reader.py UPDATE_reader.run: GBS
// header + JSON with a "signature" object, then block0 + block1, then the bitstream padded to 128
// bytes). OPAE's fpgaconf (libraries/plugins/xfpga/reconf.c xfpga_fpgaReconfigureSlot) skips only
// the GBS header and JSON (bitstream.c get_bitstream_header_len) and passes the rest to the
// kernel's DFL_FPGA_FME_PORT_PR, which writes all of it to PR_DATA (drivers/fpga/dfl-fme-pr.c
// fme_pr): the signature blocks reach the PR engine first, and so they do here.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { main } from '../../src/cli/main.js';
import { GbsError, buildSignedGbs, parseGbs } from '../../src/afu/pr/gbs.js';
import { openDevice } from '../../src/device/registry.js';
import { Card } from '../../src/afu/card.js';
import { reconfigureCard } from '../../src/afu/pr/card-pr.js';
import { capture, prError, simGbs } from './helpers.js';
import { SIM_PR_INTERFACE_ID } from '../../src/sim/identity.js';

const AFU = 'c000c966-0d82-4272-9aef-fe5f84570612';
const dir = mkdtempSync(join(tmpdir(), 'vfiokit-sgbs-'));
afterEach(() => vi.restoreAllMocks());
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function signed(ifc = SIM_PR_INTERFACE_ID, contentType?: number) {
  const { file, image } = simGbs({ interfaceUuid: ifc, afuGuid: AFU, payload: Uint8Array.from({ length: 5001 }, (_, i) => i & 0xff) });
  const bytes = buildSignedGbs(file, contentType);
  return { bytes, image, gbs: parseGbs(bytes) };
}

describe('PACSign-signed GBS', () => {
  it('is read as signed: 1 KiB of blocks at the end of the JSON, then the bitstream padded to 128 bytes', () => {
    const { bytes, image, gbs } = signed();
    const sig = gbs.signature!;
    expect(sig).toMatchObject({ offset: gbs.bitstreamOffset, length: 1024, contentType: 2, subtype: 0, payloadOffset: gbs.bitstreamOffset + 1024, payloadLength: Math.ceil(image.length / 128) * 128, hashesMatch: true });
    expect(sig.metadata).toEqual({ root_key: null, CSK: null });
    // The bitstream fed to PR_DATA is everything after the JSON, blocks included (reconf.c).
    expect(gbs.bitstreamLength).toBe(bytes.length - gbs.bitstreamOffset);
    expect(Buffer.from(bytes.subarray(sig.payloadOffset, sig.payloadOffset + image.length)).equals(Buffer.from(image))).toBe(true);
    const b0 = new DataView(bytes.buffer, bytes.byteOffset + sig.offset);
    expect(b0.getUint32(0, true)).toBe(0xb6eafd19);
    expect(b0.getUint32(0x80, true)).toBe(0xf27f28d7);
    expect(Buffer.from(bytes.subarray(sig.offset + 0x10, sig.offset + 0x30)).toString('hex')).toBe(createHash('sha256').update(bytes.subarray(sig.payloadOffset)).digest('hex'));
    expect(parseGbs(simGbs({ interfaceUuid: SIM_PR_INTERFACE_ID, afuGuid: AFU, payload: new Uint8Array(8) }).file).signature).toBeUndefined();
  });

  it('refuses a bitstream that starts with block0\'s magic but whose blocks are malformed', () => {
    const { bytes, gbs } = signed();
    const bad = bytes.slice();
    bad[gbs.bitstreamOffset + 0x80] ^= 1; // block1 magic
    expect(() => parseGbs(bad)).toThrow(GbsError);
    expect(() => parseGbs(bad)).toThrow(/EGBS_SIGNATURE|block0 magic but its signature blocks are malformed/);
  });

  it('gbs-info says it is signed and separates the blocks from the bitstream', async () => {
    const { bytes, gbs } = signed();
    const path = join(dir, 'signed.gbs');
    writeFileSync(path, bytes);
    let io = capture();
    expect(await main(['gbs-info', path])).toBe(0);
    expect(io.out()).toMatch(/signed: +yes, PACSign \(root key none, CSK none\): PR \(GBS\) update/);
    expect(io.out()).toContain(`signature blocks:   1024 bytes at offset 0x${gbs.bitstreamOffset.toString(16)}`);
    expect(io.out()).toMatch(/signed bitstream: +\d+ bytes at offset 0x[0-9a-f]+; hashes match block0/);
    vi.restoreAllMocks();
    io = capture();
    expect(await main(['gbs-info', path, '--json'])).toBe(0);
    expect(JSON.parse(io.out())).toMatchObject({ signed: true, signature: { length: 1024, contentType: 2, hashesMatch: true } });
  });

  it('pr sends blocks and bitstream to the sim PR engine as fpgaconf does; the engine checks the blocks and loads the AFU', async () => {
    const { gbs } = signed();
    using device = await openDevice('sim:n3000');
    const card = Card.discover(device);
    const result = await reconfigureCard(card, gbs, { port: 0 });
    expect(result).toMatchObject({ signed: true, bytesWritten: Math.ceil(gbs.bitstreamLength / 4) * 4 });
    expect(Card.discover(device).afu(0)?.guid).toBe(AFU);
  });

  it('refuses before touching the port a signed payload changed after signing, or one not signed as PR content; with force the engine latches secure load error', async () => {
    const { bytes, gbs } = signed();
    const tampered = bytes.slice();
    tampered[gbs.signature!.payloadOffset + 100] ^= 1;
    using device = await openDevice('sim:n3000');
    const card = Card.discover(device);
    const e1 = await prError(reconfigureCard(card, parseGbs(tampered), { port: 0 }));
    expect(e1.code).toBe('EPR_SIGNATURE');
    expect(e1.message).toMatch(/does not match the hashes in its block0/);
    const e2 = await prError(reconfigureCard(card, signed(SIM_PR_INTERFACE_ID, 0).gbs, { port: 0 }));
    expect(e2.message).toMatch(/signed as a static region.*not a PR-key update/);
    const e3 = await prError(reconfigureCard(card, parseGbs(tampered), { port: 0, force: true }));
    expect(e3.message).toMatch(/secure load/i);
  });
});
