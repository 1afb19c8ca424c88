// Fuzz target: the signed image parser (src/afu/image/signed-image.ts) and image info. Seeds are
// valid images of every PACSign content type (0..11) and subtype, root-key-hash images laid out as
// PACSign's RHP_reader writes them (block1 = magic only); mutations must give a parsed image or an
// ImageError, and what the CLI derives from a parsed image (root key hash, flash refusal) must not throw.
import { buildSignedImage, cancellationPayload, patternPayload, rootKeyHashPayload } from '../../src/afu/image/image-writer.js';
import { checkPayloadHashes, imageInfo, parseSignedImage, rootKeyHashOf } from '../../src/afu/image/signed-image.js';
import { flashRefusal } from '../../src/afu/image/flashable.js';
import { subtypeNames } from '../../src/dfl/regs/signed-image-layout.js';
import { FuzzFinding, Rng, mutate, newStats, runCase, type FuzzTarget } from './lib.js';

function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const key = { x: patternPayload(32, 1), y: patternPayload(32, 2) };
  for (let type = 0; type < 12; type++) {
    for (let subtype = 0; subtype < 4; subtype++) {
      const payload = subtype >= 2 ? rootKeyHashPayload(type, key) : subtype === 1 ? cancellationPayload(type) : patternPayload(128 + type * 100, type + subtype);
      out.push(buildSignedImage({ contentType: type, subtype, payload, ...(type < 4 ? { version: `t${type}s${subtype}` } : {}) }));
    }
  }
  return out;
}

export const target: FuzzTarget = {
  name: 'images',
  fuzz({ cases, seed }) {
    const rng = new Rng(seed);
    const stats = newStats('images');
    const pool = seeds();
    for (let i = 0; i < cases; i++) {
      const base = rng.pick(pool);
      // Mutate mostly the 1 KiB header where the parser looks; sometimes the whole file.
      const input = rng.bool(0.8) ? (() => { const head = mutate(rng, base.subarray(0, 1024)); const out = new Uint8Array(head.length + base.length - 1024); out.set(head); out.set(base.subarray(1024), head.length); return out; })() : mutate(rng, base);
      runCase(stats, input, () => {
        const image = parseSignedImage(input);
        if (image.payloadOffset + image.payloadLength > input.length) throw new FuzzFinding('payload runs past the end of the file');
        if (image.subtype >= subtypeNames.length || !subtypeNames.includes(image.subtypeName)) throw new FuzzFinding(`accepted an image of unknown subtype ${image.subtype} (${image.subtypeName})`);
        checkPayloadHashes(image);
        rootKeyHashOf(image);
        flashRefusal(image.contentType, image.subtype);
        if (imageInfo(input) === undefined) throw new FuzzFinding('imageInfo gave no info for an image that parses');
      });
    }
    return stats;
  },
};
