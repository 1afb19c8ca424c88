// `vfiokit walk DEVICE`: print the card's Device Feature List tree, like `opae.io walk`.
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { openDeviceArg } from '../resolve-device.js';
import { walkDfl } from '../../dfl/walk.js';
import type { Feature } from '../../dfl/feature.js';
import { hex } from '../../util/bytes.js';

export const command: Command = {
  summary: 'print the device feature list tree (FME, ports, private features, AFUs)',
  help: `usage: vfiokit walk DEVICE [--json]

Finds the card's Device Feature Lists (the DFL VSEC, else the FME port table, else a Port at
BAR0 of a VF), follows every list to its end and each Port's NEXT_AFU, and prints one line per
feature: BAR and offset, type (fiu, private, afu, bbb), feature ID, name, revision, DFH
version, size, interrupt vectors and GUID. DEVICE is a PCI address, a device URL or a
reservation id. Walking only reads registers and needs no reservation.

options:
  --json   {"device", "discovery", "lists", "features": [{"bar", "offset", "type", "id", "name",
           "revision", "version", "size", "guid", "irq", "params", "children": [...]}], "warnings"}

exit codes: 0 ok, 3 the feature list is malformed (the message names the BAR and offset),
            4 device unavailable

examples:
  vfiokit walk sim:n3000
  vfiokit walk sim:n3000-dfh1 --json
  vfiokit walk 0000:3b:00.0`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('EUSAGE', `walk takes one DEVICE (got ${positionals.length} arguments); see --help`);
    using device = await openDeviceArg(positionals[0]);
    const walk = walkDfl(device);
    if (values.json) {
      printJson({ device: device.url, discovery: walk.discovery, lists: walk.lists, features: walk.features.map(toJson), warnings: walk.warnings });
      return ExitCode.OK;
    }
    const how = walk.discovery === 'vsec' ? 'the DFL VSEC' : walk.discovery === 'fme-port-table' ? 'the FME port table' : 'a Port at BAR0';
    const out: string[] = [`${device.url}: ${walk.count} features in ${walk.lists.length} list(s), found through ${how}`];
    out.push(`${'offset'.padEnd(16)}${'type'.padEnd(9)}${'id'.padEnd(7)}${'name'.padEnd(16)}rev  dfh  ${'size'.padEnd(9)}${'irq'.padEnd(8)}guid`);
    const line = (f: Feature, depth: number): void => {
      const at = `${'  '.repeat(depth)}${f.bar}:${hex(f.offset, 5)}`;
      const irq = f.irq ? (f.irq.count === 1 ? `${f.irq.firstVector}` : `${f.irq.firstVector}-${f.irq.firstVector + f.irq.count - 1}`) : '';
      out.push(`${at.padEnd(16)}${f.type.padEnd(9)}${hex(f.id).padEnd(7)}${f.name.padEnd(16)}${String(f.revision).padEnd(5)}v${String(f.version).padEnd(4)}${hex(f.size).padEnd(9)}${irq.padEnd(8)}${f.guid ?? ''}`);
      for (const c of f.children) line(c, depth + 1);
    };
    for (const f of walk.features) line(f, 0);
    for (const w of walk.warnings) out.push(`warning: ${w}`);
    process.stdout.write(out.join('\n') + '\n');
    return ExitCode.OK;
  },
};

function toJson(f: Feature): Record<string, unknown> {
  return {
    bar: f.bar,
    offset: f.offset,
    type: f.type,
    id: f.id,
    name: f.name,
    revision: f.revision,
    version: f.version,
    ...(f.version === 1 ? { minorRevision: f.minorRevision } : {}),
    size: f.size,
    ...(f.guid !== undefined ? { guid: f.guid } : {}),
    ...(f.irq ? { irq: f.irq } : {}),
    ...(f.csr ? { csr: { absolute: f.csr.absolute, address: f.csr.address, size: f.csr.size, instanceId: f.csr.instanceId, groupingId: f.csr.groupingId } } : {}),
    ...(f.params ? { params: f.params.map((p) => ({ id: p.id, version: p.version, offset: p.offset, data: p.data })) } : {}),
    children: f.children.map(toJson),
  };
}
