// `vfiokit gbs-info --create FILE`: write a GBS the simulated card's PR engine accepts (a sim
// image inside an ordinary JSON-metadata GBS, src/sim-gbs.ts), so the documented flows
// (`vfiokit pr sim:n3000 demo.gbs`) can be followed without a packager. Kept apart from
// gbs-info.ts, which parses.
import { randomUUID } from 'node:crypto';
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { buildSimGbs } from '../sim-gbs.js';
import { parseGbs } from '../afu/pr/gbs.js';
import { isUuid, normalizeUuid } from '../afu/pr/uuid.js';
import { SIM_PR_INTERFACE_ID } from '../sim/identity.js';
import { UsageError } from './output.js';
import { DeviceError } from '../errors.js';
import type { Gbs } from '../afu/pr/gbs.js';
import { errnoCode } from '../error-lookup.js';

export const GBS_CREATE_OPTIONS = {
  create: { type: 'string' },
  'afu-guid': { type: 'string' },
  'interface-id': { type: 'string' },
  size: { type: 'string' },
  name: { type: 'string' },
  force: { type: 'boolean' },
} as const;

export const GBS_CREATE_HELP = `--create FILE writes a GBS for the simulated card (sim:n3000): a JSON-metadata GBS whose
bitstream is the sim PR engine's image (header with the interface ID, AFU GUID, length and CRC-32
of a generated payload). vfiokit pr sim:n3000 FILE then loads it and the port shows the new AFU.
It refuses to replace an existing FILE unless --force.

create options:
  --create FILE          write a GBS instead of reading one
  --afu-guid UUID        the AFU GUID after PR (default: a random UUID)
  --interface-id UUID    the PR interface ID it is built for (default the sim card's,
                         ${SIM_PR_INTERFACE_ID})
  --size BYTES           payload bytes after the 64-byte image header (default 1048576)
  --name TEXT            the accelerator cluster's name in the metadata (default sim_afu)
  --force                replace FILE if it exists`;

export interface CreateValues {
  create?: string | undefined;
  'afu-guid'?: string | undefined;
  'interface-id'?: string | undefined;
  size?: string | undefined;
  name?: string | undefined;
  force?: boolean | undefined;
}

function uuidOption(value: string | undefined, option: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (!isUuid(value)) throw new UsageError('EUSAGE', `--${option} ${value} is not a UUID (8-4-4-4-12 hex digits, e.g. ${SIM_PR_INTERFACE_ID})`);
  return normalizeUuid(value)!;
}

/** Build and write the GBS; returns it parsed back (what gbs-info then prints). */
export function createSimGbsFile(values: CreateValues): { path: string; gbs: Gbs; bytes: number } {
  const path = values.create!;
  const size = values.size === undefined ? 1 << 20 : Number(values.size);
  if (!Number.isInteger(size) || size < 0 || size > 256 << 20) throw new UsageError('EUSAGE', `--size ${values.size} is not a byte count from 0 to 268435456`);
  const bytes = buildSimGbs({
    afuGuid: uuidOption(values['afu-guid'], 'afu-guid', randomUUID()),
    interfaceUuid: uuidOption(values['interface-id'], 'interface-id', SIM_PR_INTERFACE_ID),
    payloadBytes: size,
    ...(values.name !== undefined ? { name: values.name } : {}),
  });
  // O_NOFOLLOW: never write through a planted link; O_EXCL unless --force.
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | (values.force ? constants.O_TRUNC : constants.O_EXCL);
  let fd: number;
  try {
    fd = openSync(path, flags, 0o644);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EEXIST' ? 'it exists; add --force to replace it' : e.code === 'ELOOP' ? 'it is a symbolic link; give the real path' : 'check that the directory exists and is writable';
    throw new DeviceError(errnoCode(e.code), `cannot write ${path}: ${why}`, { path });
  }
  try {
    writeSync(fd, bytes);
  } finally {
    closeSync(fd);
  }
  return { path, gbs: parseGbs(bytes, path), bytes: bytes.length };
}
