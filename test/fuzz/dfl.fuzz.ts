// Fuzz the DFL walker (outside bytes: BAR contents and config space come from the card). Inputs:
// compact valid cards (v0 and v1, VSEC and port table) mutated at their header words or anywhere,
// random DFH chains, and mutated VSEC config space. Every input must walk or throw a typed error,
// quickly; an accepted walk must satisfy the walker's invariants.
import { walkDfl, MAX_FEATURES, type DflWalk } from '../../src/dfl/walk.js';
import { DflError } from '../../src/dfl/errors.js';
import { flattenFeatures } from '../../src/dfl/feature.js';
import { encodeMsixParam, encodeParamHeader, encodeV1Csr } from '../../src/dfl/dfh.js';
import { ParamId } from '../../src/dfl/regs/dfh.js';
import { FakeDflDevice, put64, dfh, T, vsecConfig, putFme, putPort, portOffsetWord } from '../dfl/fake-device.js';
import { FuzzFinding, mutate, newStats, Rng, runCase, type FuzzTarget } from './lib.js';

const BAR_SIZE = 0x8000;

interface Seed {
  bars: Record<number, Uint8Array<ArrayBufferLike>>;
  config: Uint8Array<ArrayBufferLike>;
  /** Offsets of header words worth mutating, per BAR. */
  hot: [number, number][];
}

function v1Feature(bar: Uint8Array, at: number, id: number, next: number, eol: boolean, params: boolean): void {
  put64(bar, at, dfh({ type: T.PRIVATE, id, next, eol, version: 1 }));
  put64(bar, at + 8, 0x1111n * BigInt(id));
  put64(bar, at + 0x10, 0x2222n * BigInt(id));
  const csr = encodeV1Csr({ address: 0x40n, size: 0x100, hasParams: params });
  put64(bar, at + 0x18, csr.csrAddr);
  put64(bar, at + 0x20, csr.sizeGroup);
  if (params) {
    put64(bar, at + 0x28, encodeParamHeader({ id: 9, nextWords: 2 }));
    put64(bar, at + 0x30, 0xdeadn);
    put64(bar, at + 0x38, encodeParamHeader({ id: ParamId.MSI_X, nextWords: 2, eop: true }));
    put64(bar, at + 0x40, encodeMsixParam(2, 4));
  }
}

/** A small valid card: FME + 3 features, Port + 2 features + AFU (with a BBB), in BAR0 (and BAR2). */
/**
 * `kernelQuirks`: the FME list ends with next 0 and no EOL (dfl.c parse_feature_list ends it), and
 * the port table has a VF-only entry and a BAR 7 entry (dfl-pci.c find_dfls_by_default).
 */
function seedCard(v1: boolean, vsec: boolean, split: boolean, kernelQuirks = false): Seed {
  const bar0 = new Uint8Array(BAR_SIZE);
  const bar2 = new Uint8Array(BAR_SIZE);
  const portBar = split ? bar2 : bar0;
  const portBarIndex = split ? 2 : 0;
  const portAt = split ? 0 : 0x4000;
  const ports = [portOffsetWord(portBarIndex, portAt)];
  if (kernelQuirks) ports.push(portOffsetWord(7, 0x1000), portOffsetWord(portBarIndex, portAt, { vfOnly: true }));
  putFme(bar0, 0, { next: 0x1000, eol: false, ports });
  if (v1) v1Feature(bar0, 0x1000, 0x1, 0x1000, false, false);
  else put64(bar0, 0x1000, dfh({ type: T.PRIVATE, id: 0x1, next: 0x1000 }));
  put64(bar0, 0x2000, dfh({ type: T.PRIVATE, id: 0x4, next: 0x1000 }));
  put64(bar0, 0x2070, 0x3n);
  const chain = vsec && !split;
  put64(bar0, 0x3000, dfh({ type: T.PRIVATE, id: 0x5, next: chain ? 0x1000 : 0, eol: !chain && !kernelQuirks }));
  putPort(portBar, portAt, { next: 0x1000, eol: false, nextAfu: 0x2000, mmioKiB: 8 });
  if (v1) v1Feature(portBar, portAt + 0x1000, 0x10, 0x1000, true, true);
  else {
    put64(portBar, portAt + 0x1000, dfh({ type: T.PRIVATE, id: 0x12, eol: true }));
    put64(portBar, portAt + 0x1008, (2n << 12n) | 4n);
  }
  put64(portBar, portAt + 0x2000, dfh({ type: T.AFU, id: 0, next: 0x100, version: v1 ? 1 : 0 }));
  put64(portBar, portAt + 0x2008, 0x9abcn);
  put64(portBar, portAt + 0x2010, 0x5678n);
  if (v1) {
    const csr = encodeV1Csr({ address: 0n, size: 0x2000, hasParams: true });
    put64(portBar, portAt + 0x2018, csr.csrAddr);
    put64(portBar, portAt + 0x2020, csr.sizeGroup);
    put64(portBar, portAt + 0x2028, encodeParamHeader({ id: ParamId.MSI_X, nextWords: 2, eop: true }));
  }
  put64(portBar, portAt + 0x2100, dfh({ type: T.BBB, id: 7, eol: true }));
  const entries = split ? [0, 2] : [0];
  const hot: [number, number][] = [];
  for (const o of [0, 0x1000, 0x2000, 0x3000]) for (let w = 0; w < 0x48; w += 8) hot.push([0, o + w]);
  for (const o of [0, 0x1000, 0x2000, 0x2100]) for (let w = 0; w < 0x48; w += 8) hot.push([portBarIndex, portAt + o + w]);
  return { bars: split ? { 0: bar0, 2: bar2 } : { 0: bar0 }, config: vsec ? vsecConfig(entries) : new Uint8Array(4096), hot };
}

/** Random chains: DFH words with small next offsets, random types, versions and parameters. */
function randomCard(rng: Rng): Seed {
  const bar0 = new Uint8Array(0x1000 * (1 + rng.int(8)));
  const hot: [number, number][] = [];
  let at = 0;
  let first = true;
  while (at + 8 <= bar0.length) {
    const next = rng.pick([0, 8, 0x10, 0x40, 0x100, 0x1000, rng.int(0x2000) & ~7]);
    const type = first ? T.FIU : rng.pick([1, 2, 3, 4, 0, 15]);
    put64(bar0, at, dfh({ type, id: rng.int(3) === 0 ? rng.int(0x1000) : rng.int(0x14), next, eol: rng.bool(0.1), version: rng.pick([0, 0, 1, 2]) }));
    for (let w = 8; w < 0x48 && at + w + 8 <= bar0.length; w += 8) {
      hot.push([0, at + w]);
      const v = rng.bool(0.3) ? encodeParamHeader({ id: rng.int(4), nextWords: rng.int(6), eop: rng.bool(0.3) }) : BigInt(rng.u32()) | (BigInt(rng.u32()) << 32n);
      put64(bar0, at + w, v);
    }
    hot.push([0, at]);
    first = false;
    if (next === 0) break;
    at += next;
  }
  const config = rng.bool() ? vsecConfig(rng.bool(0.8) ? [0] : [rng.u32()], rng.bool(0.9) ? undefined : rng.int(10)) : new Uint8Array(4096);
  return { bars: { 0: bar0 }, config, hot };
}

function mutateSeed(rng: Rng, seed: Seed): Seed {
  const bars: Record<number, Uint8Array<ArrayBufferLike>> = {};
  for (const [k, v] of Object.entries(seed.bars)) bars[Number(k)] = v;
  let config = seed.config;
  switch (rng.int(4)) {
    case 0: {
      // Header words: flip bits, set interesting values.
      const n = 1 + rng.int(3);
      for (let i = 0; i < n; i++) {
        const [bar, off] = rng.pick(seed.hot);
        const b = (bars[bar] = new Uint8Array(bars[bar]!));
        if (rng.bool()) b[off + rng.int(8)]! ^= 1 << rng.int(8);
        else put64(b, off, rng.pick([0n, 0xffff_ffff_ffff_ffffn, BigInt(rng.u32()) << BigInt(rng.int(40)), dfh({ type: rng.int(16), id: rng.int(0x20), next: rng.int(0x10000) & ~7, eol: rng.bool() })]));
      }
      break;
    }
    case 1: {
      // Anywhere in a BAR, including truncation and extension.
      const keys = Object.keys(bars).map(Number);
      const k = rng.pick(keys);
      const m = mutate(rng, bars[k]!);
      bars[k] = m.subarray(0, m.length & ~7);
      break;
    }
    case 2: {
      // The extended capability area of config space (VSEC header, count, entries, next pointers).
      config = new Uint8Array(config);
      const window = mutate(rng, config.subarray(0x100, 0x140));
      config.set(window.subarray(0, Math.min(window.length, 0x40)), 0x100);
      break;
    }
    default: {
      // A second BAR appears or vanishes.
      if (rng.bool() && bars[2]) delete bars[2];
      else bars[rng.pick([1, 2, 5])] = mutate(rng, bars[0]!).slice(0, 0x1000);
    }
  }
  return { bars, config, hot: seed.hot };
}

function check(dev: FakeDflDevice): void {
  let w: DflWalk;
  try {
    w = walkDfl(dev);
  } catch (err) {
    // The fake device never fails an access itself: every rejection must be the walker's own
    // DflError (naming BAR and offset), not a region error from a read it should not have made.
    if (err instanceof DflError) {
      // A list too long for its BARs to hold that many distinct headers went round in a circle:
      // that is a cycle, and must be named one (the walker's visited set), not "too many".
      if (err.code === 'EDFL_TOO_MANY') {
        let slots = 0;
        for (let b = 0; b < 6; b++) slots += Math.floor((dev.regionInfo(b).size ?? 0) / 8);
        if (slots < MAX_FEATURES) throw new FuzzFinding(`walk reported EDFL_TOO_MANY (${MAX_FEATURES}) over BARs with only ${slots} header slots: a cycle went undetected`);
      }
      throw err;
    }
    throw new FuzzFinding(`walker failed with ${(err as Error)?.name}: ${(err as Error)?.stack ?? String(err)}`);
  }
  const all = flattenFeatures(w.features);
  // The count includes headers skipped with a warning; the tree never has more nodes than it.
  if (all.length > w.count) throw new FuzzFinding(`tree has ${all.length} nodes but the walk counted ${w.count}`);
  if (w.count > MAX_FEATURES) throw new FuzzFinding(`walk accepted ${w.count} features, over the cap`);
  const places = new Set(all.map((f) => `${f.bar}:${f.offset}`));
  if (places.size !== all.length) throw new FuzzFinding(`walk accepted the same feature header twice (${all.length} features at ${places.size} places): a cycle`);
  for (const f of all) {
    const size = dev.regionInfo(f.bar).size;
    if (f.offset < 0 || f.offset + 8 > size) throw new FuzzFinding(`feature at BAR${f.bar}+${f.offset} outside the BAR (${size})`);
    if (f.type === 'afu' && f.offset + f.size > size) throw new FuzzFinding(`AFU at ${f.offset} (+${f.size}) runs past BAR${f.bar} (${size})`);
    for (const p of f.params ?? []) {
      if (p.offset + 8 * (p.data.length + 1) > f.size) throw new FuzzFinding(`parameter at +${p.offset} runs past its feature (${f.size})`);
    }
  }
}

/**
 * A fresh generator per case, seeded by a murmur3-style mix of (seed, case): the shared Rng
 * repeats after a few thousand outputs for some seeds, so one long stream would replay inputs.
 */
function caseRng(seed: number, i: number): Rng {
  let h = (seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return new Rng((h ^ (h >>> 16)) >>> 0);
}

export const target: FuzzTarget = {
  name: 'dfl',
  fuzz({ cases, seed }) {
    const stats = newStats('dfl');
    const corpus: Seed[] = [];
    for (const v1 of [false, true]) for (const vsec of [false, true]) for (const split of [false, true]) corpus.push(seedCard(v1, vsec, split));
    corpus.push(seedCard(false, false, false, true), seedCard(true, false, true, true));
    // The seeds themselves must walk.
    for (const s of corpus) check(new FakeDflDevice(s.bars, s.config));
    for (let i = 0; i < cases; i++) {
      const rng = caseRng(seed, i);
      const input = rng.int(5) === 0 ? randomCard(rng) : mutateSeed(rng, rng.pick(corpus));
      const dev = new FakeDflDevice(input.bars, input.config, rng.int(50) === 0 ? 0x1c2c : 0x8086);
      runCase(stats, input.bars[0] ?? new Uint8Array(0), () => check(dev), 2000);
    }
    return stats;
  },
};
