// `vfiokit gbs-info FILE [--json]`: show a GBS file's metadata and where its bitstream lies.
import { readGbsFile } from '../input-file.js';
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { parseGbs, type Gbs } from '../../afu/pr/gbs.js';
import { contentTypeKeys } from '../../dfl/regs/signed-image-layout.js';
import { createSimGbsFile, GBS_CREATE_OPTIONS, GBS_CREATE_HELP } from '../gbs-create.js';

export const command: Command = {
  summary: 'show a GBS (AFU bitstream) file: interface UUID, AFU UUIDs, clocks, power, bitstream span',
  help: `usage: vfiokit gbs-info FILE [--json]
       vfiokit gbs-info --create FILE [--afu-guid UUID] [--interface-id UUID] [--size BYTES] [--name TEXT] [--force] [--json]

Parses FILE as a GBS (green bitstream) file, JSON metadata format (versions 1, 640, 650) or the
legacy pre-6.4 format, checks its magic, lengths and mandatory fields, and prints its metadata:
the PR interface UUID it was built for (it must equal the card's, see vfiokit pr), the
accelerator clusters (name, contexts, accelerator-type-uuid = the AFU GUID after PR), user clock
frequencies (MHz), power (W), platform name, and the offset and length of the raw bitstream.
A GBS signed with PACSign is shown as signed: its 1,024 bytes of signature blocks (block0 +
block1: content type, action, whether the payload hashes match) and the signed bitstream after
them. vfiokit pr sends blocks and bitstream to the PR engine together, as OPAE's fpgaconf does.

options:
  --json   machine-readable output (the metadata JSON as found is under "json")

${GBS_CREATE_HELP}

exit codes: 0 valid GBS, 2 bad arguments, 3 not a valid GBS (the message says which rule failed),
4 file cannot be read

examples:
  vfiokit gbs-info nlb_mode_0.gbs
  vfiokit gbs-info hello_afu.gbs --json | jq .interfaceUuid
  vfiokit gbs-info --create demo.gbs && vfiokit pr sim:n3000 demo.gbs`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { json: { type: 'boolean' }, ...GBS_CREATE_OPTIONS });
    if (values.create !== undefined) {
      if (positionals.length) throw new UsageError('EUSAGE', `--create takes the FILE to write as its value; unexpected ${positionals.join(' ')}`);
      const { path, gbs, bytes } = createSimGbsFile(values);
      if (values.json) printJson(gbsSummary(gbs, path));
      else process.stdout.write(`wrote ${path}: ${bytes} bytes, AFU ${gbs.acceleratorUuid} for interface ${gbs.interfaceUuid}\n`);
      return ExitCode.OK;
    }
    if (positionals.length !== 1) throw new UsageError('EUSAGE', positionals.length ? `expected one FILE, got ${positionals.length}; see --help` : 'missing FILE: give the path of a .gbs file');
    const path = positionals[0]!;
    const bytes = readGbsFile(path);
    const gbs = parseGbs(bytes, path);
    if (values.json) {
      printJson(gbsSummary(gbs, path));
      return ExitCode.OK;
    }
    process.stdout.write(formatGbs(gbs, path) + '\n');
    return ExitCode.OK;
  },
};

/** The --json shape: every field, no bitstream bytes. */
export function gbsSummary(gbs: Gbs, path: string): Record<string, unknown> {
  const m = gbs.metadata;
  return {
    path,
    format: gbs.format,
    version: m?.version,
    platformName: m?.platformName,
    interfaceUuid: gbs.interfaceUuid,
    acceleratorUuid: gbs.acceleratorUuid,
    acceleratorClusters: m?.acceleratorClusters ?? [],
    clockFrequencyHighMHz: m?.clockFrequencyHigh,
    clockFrequencyLowMHz: m?.clockFrequencyLow,
    powerW: m?.power,
    magicNo: m?.magicNo,
    metadataLength: gbs.metadataLength,
    bitstreamOffset: gbs.bitstreamOffset,
    bitstreamLength: gbs.bitstreamLength,
    signed: gbs.signature !== undefined,
    signature: gbs.signature,
    json: m?.json,
  };
}

export function formatGbs(gbs: Gbs, path: string): string {
  const m = gbs.metadata;
  const show = (v: unknown, unit = ''): string => (v === undefined ? '-' : `${String(v)}${typeof v === 'number' ? unit : ''}`);
  const lines = [
    `file:               ${path}`,
    `format:             ${gbs.format === 'json' ? `JSON metadata, version ${m!.version}` : 'legacy (pre-BBS 6.4, no metadata)'}`,
    `interface UUID:     ${gbs.interfaceUuid}`,
  ];
  if (m) {
    lines.push(`platform:           ${show(m.platformName)}`);
    lines.push(`clock high / low:   ${show(m.clockFrequencyHigh, ' MHz')} / ${show(m.clockFrequencyLow, ' MHz')}`);
    lines.push(`power:              ${show(m.power, ' W')}`);
    lines.push('accelerator clusters:');
    for (const c of m.acceleratorClusters) lines.push(`  ${c.acceleratorTypeUuid}  ${c.name ?? '(unnamed)'}  contexts ${c.totalContexts}`);
  }
  lines.push(`metadata:           ${gbs.metadataLength} bytes`);
  const sig = gbs.signature;
  if (sig) {
    const keys = sig.metadata ? ` (root key ${String(sig.metadata['root_key'] ?? 'none')}, CSK ${String(sig.metadata['CSK'] ?? 'none')})` : '';
    lines.push(`signed:             yes, PACSign${keys}: ${sig.contentTypeName} ${sig.subtypeName}${contentTypeKeys[sig.contentType] === 'PR' ? '' : ' (NOT signed as PR content: the PR engine will refuse it)'}`);
    lines.push(`signature blocks:   ${sig.length} bytes at offset 0x${sig.offset.toString(16)} (block0 + block1)`);
    lines.push(`signed bitstream:   ${sig.payloadLength} bytes at offset 0x${sig.payloadOffset.toString(16)}; hashes ${sig.hashesMatch ? 'match block0' : 'DO NOT match block0 (modified or corrupt)'}`);
    lines.push(`sent to PR engine:  ${gbs.bitstreamLength} bytes from offset 0x${gbs.bitstreamOffset.toString(16)} (signature blocks + bitstream, as fpgaconf sends them)`);
  } else {
    lines.push(`signed:             no`);
    lines.push(`bitstream:          ${gbs.bitstreamLength} bytes at offset 0x${gbs.bitstreamOffset.toString(16)}${gbs.bitstreamLength % 4 ? ' (padded to a multiple of 4 when loaded)' : ''}`);
  }
  return lines.join('\n');
}
