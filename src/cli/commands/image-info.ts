// `vfiokit image-info FILE [--json]`: what a PACSign-signed image is (type, action, lengths,
// hashes, version) and whether its payload matches block0; `--create` writes a test image.
import { writeFileSync } from 'node:fs';
import { DeviceError } from '../../errors.js';
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { infoOf, rootKeyHashOf } from '../../afu/image/signed-image.js';
import { flashRefusal } from '../../afu/image/flashable.js';
import { readSignedImageFile } from '../input-file.js';
import { buildSignedImage, patternPayload } from '../../afu/image/image-writer.js';
import { MIN_IMAGE_SIZE, PAYLOAD_OFFSET, contentTypeNames } from '../../dfl/regs/signed-image-layout.js';
import { STAGING_SIZE } from '../../dfl/regs/max10-bmc.js';
import { errnoCode } from '../../error-lookup.js';

export const command: Command = {
  summary: 'show a signed flash image (PACSign): type, action, payload, hashes, version',
  help: `usage: vfiokit image-info FILE [--json]
       vfiokit image-info --create FILE [--type N] [--subtype N] [--size BYTES] [--image-version TEXT]

Parses FILE as a PACSign-signed image (block0 + block1 + payload): checks the magics of block0,
block1 and its root / code-signing key / block0 entries (a root-key-hash image has none: PACSign
writes only the block1 magic there), the payload length, and computes the payload's SHA-256 and
SHA-384 to compare with block0. Prints the image info as the management API reports it: type 0
FPGA, 1 BMC, 2 GBS, then PACSign's names 3 FACTORY, 4 PXE, 5 THERM_SR, 6 THERM_PR, 7 SDM,
8 SR_TEST, 9 BMC_FACTORY, 10 PR_TEST, 11 SR_CERT; action (subtype) 0 update, 1 key cancellation,
2 root key hash 256, 3 root key hash 384; for a root-key-hash image the hash it programs; and
whether vfiokit flash takes it (and why not). Root-key-hash and cancellation images cannot be
undone; vfiokit flash asks for --yes before sending them.

--create writes a structurally valid image with a pseudo-random payload for tests and demos
(its block1 carries no real signature: real cards reject it; the simulated card checks hashes).

options:
  --json                 machine-readable output
  --create FILE          write a test image instead of reading one
  --type N               content type for --create (default 0, FPGA static region)
  --subtype N            subtype for --create (default 0, update)
  --size BYTES           payload size for --create (default 65536)
  --image-version TEXT   version string for --create (at most 32 ASCII characters)

exit codes: 0 valid image, 1 payload hashes do not match block0, 2 bad arguments, 3 not a valid
signed image (the message says which check failed), 4 FILE cannot be read (or written)

examples:
  vfiokit image-info n3000_fpga_update.bin
  vfiokit image-info --create /tmp/fpga.bin --size 1048576 --image-version 2.0.1
  vfiokit image-info /tmp/fpga.bin --json | jq .type`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      json: { type: 'boolean' }, create: { type: 'string' }, type: { type: 'string' }, subtype: { type: 'string' },
      size: { type: 'string' }, 'image-version': { type: 'string' },
    });
    if (values.create !== undefined) {
      const num = (v: string | undefined, name: string, def: number): number => {
        if (v === undefined) return def;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new UsageError('EUSAGE', `--${name} ${v} is not a non-negative integer`);
        return n;
      };
      const size = num(values.size, 'size', 65536);
      // The signed image layout has a 128-byte minimum payload (signed-image.ts MIN_IMAGE_SIZE);
      // the writer would silently pad a shorter one.
      if (size < MIN_IMAGE_SIZE - PAYLOAD_OFFSET) throw new UsageError('EUSAGE', `--size ${size} is below the ${MIN_IMAGE_SIZE - PAYLOAD_OFFSET}-byte minimum payload of a signed image`);
      if (size > STAGING_SIZE - PAYLOAD_OFFSET) throw new UsageError('EUSAGE', `--size ${size} does not fit the ${STAGING_SIZE / 1048576} MiB staging area with the ${PAYLOAD_OFFSET}-byte header (at most ${STAGING_SIZE - PAYLOAD_OFFSET})`);
      const type = num(values.type, 'type', 0);
      if (type >= contentTypeNames.length) throw new UsageError('EUSAGE', `--type ${type} is not a known content type: ${contentTypeNames.map((n, i) => `${i} ${n}`).join(', ')}`);
      const image = buildSignedImage({ contentType: type, subtype: num(values.subtype, 'subtype', 0), payload: patternPayload(size, size), version: values['image-version'] ?? '' });
      try {
        writeFileSync(values.create, image);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        throw new DeviceError(errnoCode(e.code), `cannot write ${values.create}: ${e.message}; check that the directory exists and is writable`, { path: values.create });
      }
      if (values.json) printJson({ path: values.create, ...infoOf(readSignedImageFile(values.create)) });
      else process.stdout.write(`wrote ${values.create}: ${image.length} bytes\n`);
      return ExitCode.OK;
    }
    if (positionals.length !== 1) throw new UsageError('EUSAGE', positionals.length ? `expected one FILE, got ${positionals.length}; see --help` : 'missing FILE: give the path of a signed image');
    const path = positionals[0]!;
    const image = readSignedImageFile(path);
    const info = infoOf(image);
    const refusal = flashRefusal(image.contentType, image.subtype);
    const rootKeyHash = rootKeyHashOf(image);
    if (values.json) {
      printJson({ path, ...info, contentType: image.contentType, contentTypeName: image.contentTypeName, irreversible: image.irreversible, trailingBytes: image.trailingBytes, ...(rootKeyHash ? { rootKeyHash } : {}), flashable: refusal === undefined, ...(refusal ? { flashRefusal: refusal } : {}) });
    } else {
      process.stdout.write([
        `file:            ${path}`,
        `type:            ${info.type} ${info.typeName} (block0 content type: ${image.contentTypeName})`,
        `action:          ${info.subtype} ${info.subtypeName}${image.irreversible ? ' (cannot be undone)' : ''}`,
        `total length:    ${info.totalLength}`,
        `payload offset:  ${info.payloadOffset}`,
        `payload length:  ${info.payloadLength}`,
        `slot:            ${info.slot}`,
        `version:         ${info.version || '-'}`,
        `SHA-256:         ${info.sha256}`,
        `SHA-384:         ${info.sha384}`,
        `payload hashes:  ${info.hashesMatch ? 'match block0' : 'DO NOT match block0 (modified or corrupt payload)'}`,
        ...(rootKeyHash ? [`root key hash:   ${rootKeyHash}`] : []),
        `vfiokit flash:   ${refusal ? `refused: ${refusal}` : 'through the BMC secure update'}`,
      ].join('\n') + '\n');
    }
    return info.hashesMatch ? ExitCode.OK : ExitCode.FAILURE;
  },
};
