// Fuzz target: the signed image parser (src/afu/image/signed-image.ts) and image info. Seeds are
// valid images of every type/subtype; mutations must give a parsed image or an ImageError.
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';
import { checkPayloadHashes, imageInfo, parseSignedImage } from '../../src/afu/image/signed-image.js';
import { subtypeNames } from '../../src/afu/image/layout.js';
import { FuzzFinding, Rng, mutate, newStats, runCase, type FuzzTarget } from './lib.js';

function seeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let type = 0; type < 4; type++) {
    for (let subtype = 0; subtype < 4; subtype++) {
      out.push(buildSignedImage({ contentType: type, subtype, payload: patternPayload(128 + type * 100 + subtype * 7, type + subtype), version: `t${type}s${subtype}` }));
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
        if (imageInfo(input) === undefined) throw new FuzzFinding('imageInfo gave no info for an image that parses');
      });
    }
    return stats;
  },
};
