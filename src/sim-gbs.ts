// A GBS file the simulated card's PR engine accepts, for the demo, tests and benchmarks: a sim
// image (src/sim/pr-engine-image.ts: header with interface ID, AFU GUID, length, CRC + payload)
// wrapped in an ordinary JSON-metadata GBS naming the same interface UUID and
// accelerator-type-uuid, as a packager would write it.
// It sits above both layers, beside the entry points (exported as `vfiokit/sim`, used by
// `vfiokit gbs-info --create`): the GBS container is the host's file format (src/afu/pr/gbs.ts)
// and the image inside is the sim engine's; src/sim, a device model beside the transports, must
// not import from src/afu (DESIGN.md).
import { buildGbs } from './afu/pr/gbs.js';
import { buildSimImage } from './sim/pr-engine-image.js';
import { SIM_PR_INTERFACE_ID } from './sim/identity.js';
import { patternPayload } from './util/pattern.js';

export interface SimGbsOptions {
  /** The AFU GUID the port shows after PR. */
  afuGuid: string;
  /** PR interface UUID (default: the sim card's, SIM_PR_INTERFACE_ID). */
  interfaceUuid?: string;
  /** Payload ("fabric configuration") bytes after the 64-byte image header (default 1 MiB). */
  payloadBytes?: number;
  /** Payload bytes to use instead of the generated pattern. */
  payload?: Uint8Array;
  /** Metadata: AFU name (default "sim_afu"), platform name, clocks (MHz), power (W). */
  name?: string;
  platformName?: string;
  clockFrequencyHigh?: number;
  clockFrequencyLow?: number;
  power?: number;
}

/** Deterministic payload pattern (so a received bitstream can be compared byte for byte). */
export const simPayload = patternPayload;

/** Build the GBS bytes. */
export function buildSimGbs(options: SimGbsOptions): Uint8Array {
  const interfaceUuid = options.interfaceUuid ?? SIM_PR_INTERFACE_ID;
  const payload = options.payload ?? simPayload(options.payloadBytes ?? 1 << 20);
  const image = buildSimImage({ interfaceUuid, afuGuid: options.afuGuid, payload });
  return buildGbs(
    {
      interfaceUuid,
      platformName: options.platformName ?? 'vfiokit sim n3000',
      ...(options.clockFrequencyHigh !== undefined ? { clockFrequencyHigh: options.clockFrequencyHigh } : {}),
      ...(options.clockFrequencyLow !== undefined ? { clockFrequencyLow: options.clockFrequencyLow } : {}),
      ...(options.power !== undefined ? { power: options.power } : {}),
      acceleratorClusters: [{ name: options.name ?? 'sim_afu', totalContexts: 1, acceleratorTypeUuid: options.afuGuid }],
    },
    image,
  );
}
