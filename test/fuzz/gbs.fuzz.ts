// Fuzz the GBS parser (outside bytes): mutated valid JSON-format and legacy files, mutated
// metadata text, PACSign-signed files (signature blocks after the JSON), and random bytes. Every input must parse or throw a typed error, quickly; an
// accepted file must satisfy the parser's invariants (bitstream inside the file, a UUID, ...).
import { buildGbs, buildGbsFromJson, buildLegacyGbs, buildSignedGbs, parseGbs } from '../../src/afu/pr/gbs.js';
import { isUuid } from '../../src/afu/pr/uuid.js';
import { FuzzFinding, mutate, newStats, Rng, runCase, type FuzzTarget } from './lib.js';

const IFC = '1a422218-6dba-448e-b302-425cbcde1406';
const AFU = 'd8424dc4-a4a3-c413-f89e-433683f9040b';

function seeds(rng: Rng): Uint8Array[] {
  const bits = rng.bytes(rng.int(64));
  const plain = buildGbs({ interfaceUuid: IFC, platformName: 'n3000', power: 50, clockFrequencyHigh: 312, clockFrequencyLow: 156, acceleratorClusters: [{ name: 'nlb', acceleratorTypeUuid: AFU }] }, bits);
  return [
    plain,
    buildSignedGbs(plain),
    buildGbs({ version: 640, interfaceUuid: IFC, acceleratorClusters: [{ acceleratorTypeUuid: AFU }, { acceleratorTypeUuid: IFC, totalContexts: 2 }] }, bits),
    buildLegacyGbs(IFC, bits),
  ];
}

const jsonTokens = ['{', '}', '[', ']', '"', ':', ',', 'null', 'true', '1e999', '-0', '"__proto__"', '"version"', '"afu-image"', '"magic-no"', '488605312', '"interface-uuid"', '"accelerator-clusters"', '\\u0000', '\uffff'];

/** Mutate the JSON text itself (keeps the container valid so the metadata validator is reached). */
function mutateMetadata(rng: Rng): Uint8Array {
  let text = JSON.stringify({
    version: rng.pick([1, 640, 650, 2, '1', null]),
    'platform-name': rng.pick(['x', 5, undefined]),
    'afu-image': {
      'magic-no': rng.pick([488605312, 488605313, '488605312']),
      'interface-uuid': rng.pick([IFC, IFC.toUpperCase(), 'x', 7]),
      power: rng.pick([0, -1, 1e308, 'w']),
      'clock-frequency-high': rng.pick([1, 'auto', 'auto-12.5', 'z', -1]),
      'accelerator-clusters': rng.pick([[{ 'accelerator-type-uuid': AFU }], [], [null], [{ name: 3 }], 'x']),
    },
  });
  const edits = rng.int(4);
  for (let i = 0; i < edits; i++) {
    const at = rng.int(text.length + 1);
    text = rng.bool() ? text.slice(0, at) + rng.pick(jsonTokens) + text.slice(at) : text.slice(0, at) + text.slice(at + 1 + rng.int(8));
  }
  return buildGbsFromJson(text, rng.bytes(rng.int(16)));
}

/** A GBS whose metadata-length field (0x10) claims 1..64 bytes past the end of the file. */
function lengthPastEnd(rng: Rng): Uint8Array {
  const base = seeds(rng)[rng.int(2)]!;
  const out = new Uint8Array(base);
  const view = new DataView(out.buffer);
  const metadata = view.getUint32(0x10, true);
  // Drop the bitstream so the JSON runs to the end of the file, then claim more than there is.
  const cut = out.slice(0, 0x14 + metadata);
  new DataView(cut.buffer).setUint32(0x10, metadata + 1 + rng.int(64), true);
  return cut;
}

function check(input: Uint8Array): void {
  const gbs = parseGbs(input);
  const end = gbs.bitstreamOffset + gbs.bitstreamLength;
  if (end !== input.length || gbs.bitstream.length !== gbs.bitstreamLength || gbs.bitstream.buffer !== input.buffer) {
    throw new FuzzFinding(`accepted GBS with an inconsistent bitstream view (offset ${gbs.bitstreamOffset}, length ${gbs.bitstreamLength}, file ${input.length})`);
  }
  if (!isUuid(gbs.interfaceUuid)) throw new FuzzFinding(`accepted GBS with interface UUID ${gbs.interfaceUuid}`);
  if (gbs.format === 'json' && (!gbs.metadata || gbs.metadata.acceleratorClusters.length === 0)) {
    throw new FuzzFinding('accepted a JSON GBS without accelerator clusters');
  }
  const sig = gbs.signature;
  if (sig && (sig.offset !== gbs.bitstreamOffset || sig.payloadOffset + sig.payloadLength > input.length)) {
    throw new FuzzFinding(`accepted a signed GBS whose signed payload (${sig.payloadOffset}+${sig.payloadLength}) lies outside the file (${input.length})`);
  }
}

export const target: FuzzTarget = {
  name: 'gbs',
  guided(rng) {
    return { seeds: [...seeds(rng), mutateMetadata(rng), lengthPastEnd(rng)], exec: check, mutateMore: (r) => (r.bool(0.3) ? lengthPastEnd(r) : mutateMetadata(r)) };
  },
  fuzz({ cases, seed }) {
    const rng = new Rng(seed);
    const stats = newStats('gbs');
    const corpus = seeds(rng);
    for (let i = 0; i < cases; i++) {
      const kind = rng.int(10);
      const input = kind < 5 ? mutate(rng, rng.pick(corpus)) : kind === 5 ? lengthPastEnd(rng) : kind < 9 ? mutateMetadata(rng) : rng.bytes(rng.int(64));
      try {
        runCase(stats, input, () => check(input));
      } catch (err) {
        if (err instanceof FuzzFinding) throw err;
        throw new FuzzFinding(String(err));
      }
    }
    return stats;
  },
};
