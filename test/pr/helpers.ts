// Helpers shared by the PR tests: a GBS wrapping a sim PR image, the PrError a promise rejects
// with, and stdout/stderr capture for the CLI commands.
import { expect, vi } from 'vitest';
import { buildGbs, parseGbs, type GbsInput } from '../../src/afu/pr/gbs.js';
import { PrError } from '../../src/afu/pr/partial-reconfiguration.js';
import { buildSimImage } from '../../src/sim/pr-engine-image.js';

export interface SimGbsSpec {
  /** Interface UUID in the GBS metadata. */
  interfaceUuid: string;
  /** Interface UUID in the sim image header (default: interfaceUuid). */
  imageInterfaceUuid?: string;
  afuGuid: string;
  payload: Uint8Array;
  /** Accelerator cluster name (default 'sim_afu'). */
  name?: string;
  /** More metadata fields (platform name, clocks, power). */
  metadata?: Omit<GbsInput, 'interfaceUuid' | 'acceleratorClusters'>;
}

/** A GBS file around a sim PR image: the file bytes, the parsed GBS and the image (the bitstream). */
export function simGbs(spec: SimGbsSpec) {
  const image = buildSimImage({ interfaceUuid: spec.imageInterfaceUuid ?? spec.interfaceUuid, afuGuid: spec.afuGuid, payload: spec.payload });
  const file = buildGbs({ interfaceUuid: spec.interfaceUuid, ...spec.metadata, acceleratorClusters: [{ name: spec.name ?? 'sim_afu', acceleratorTypeUuid: spec.afuGuid }] }, image);
  return { file, gbs: parseGbs(file), image };
}

/** The PrError `p` rejects with (fails the test when it resolves or throws something else). */
export async function prError(p: Promise<unknown>): Promise<PrError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(PrError);
    return err as PrError;
  }
  throw new Error('expected a PrError');
}

/** Capture what a CLI command writes to stdout and stderr (restore with vi.restoreAllMocks()). */
export function capture() {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s) => { out += String(s); return true; });
  vi.spyOn(process.stderr, 'write').mockImplementation((s) => { err += String(s); return true; });
  return { out: () => out, err: () => err };
}
