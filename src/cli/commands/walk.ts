// `vfiokit walk DEVICE`: print the card's Device Feature List tree; with --offset / -r, one DFH
// chain from an offset of a region, like `opae.io walk` (binaries/opae.io pymain.h walk_action).
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { openDeviceArg } from '../resolve-device.js';
import { walkDfl } from '../../dfl/walk.js';
import type { Feature } from '../../dfl/feature.js';
import { walkDfhChain, type DfhChain, type DfhChainEntry } from '../../dfl/chain.js';
import { hex } from '../../util/bytes.js';
import { parseOffset, parseRegion } from '../register-args.js';
import { table } from '../table.js';

export const command: Command = {
  summary: 'print the device feature list tree, or one DFH chain from an offset (opae.io walk)',
  help: `usage: vfiokit walk DEVICE [--json]
       vfiokit walk DEVICE [--offset OFFSET] [-r REGION] [-c N] [-u] [-D] [--json]

Finds the card's Device Feature Lists (the DFL VSEC, else the FME port table, else a Port at
BAR0 of a VF), follows every list to its end and each Port's NEXT_AFU, and prints one line per
feature: BAR and offset, type (fiu, private, afu, bbb), feature ID, name, revision, DFH
version, size, interrupt vectors and GUID. DEVICE is a PCI address, a device URL or a
reservation id. Walking only reads registers and needs no reservation.

With --offset or -r (as \`opae.io walk --offset\`), walks one chain of headers instead, flat,
from OFFSET of REGION: each DFH with its raw value, type, ID, revision, version, next offset
and EOL, until EOL or a next offset of 0. It starts anywhere (a private feature in the middle
of a list, an AFU's own chain) and needs no discovery.

options:
  --offset OFFSET    walk one chain from this offset (hex 0x.. or decimal, a multiple of 8); default 0
  -r, --region R     BAR number 0..5 (or bar0..bar5) of the chain; default 0
  -c, --count N      stop after N headers
  -u, --show-uuid    also print the GUID at +0x08/+0x10 of each header
  -D, --dump         also print the 64-bit registers after each header, up to the next
  --json   tree: {"device", "discovery", "lists", "features": [{"bar", "offset", "type", "id",
           "name", "revision", "version", "size", "guid", "irq", "params", "children": [...]}],
           "warnings"}; chain: {"device", "region", "offset", "end", "headers": [{"offset", "dfh",
           "type", "id", "name", "revision", "version", "next", "eol", "guid", "registers"}]}

exit codes: 0 ok, 2 bad arguments, 3 the feature list is malformed (the message names the BAR
            and offset), 4 device unavailable

examples:
  vfiokit walk sim:n3000
  vfiokit walk sim:n3000-dfh1 --json
  vfiokit walk 0000:3b:00.0
  vfiokit walk sim:n3000 --offset 0x1000 -u      # from the FME's first private feature
  vfiokit walk 0000:3b:00.0 -r 0 --offset 0x40000 --count 2 --dump`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      json: { type: 'boolean' },
      offset: { type: 'string' },
      region: { type: 'string', short: 'r' },
      count: { type: 'string', short: 'c' },
      'show-uuid': { type: 'boolean', short: 'u' },
      dump: { type: 'boolean', short: 'D' },
    });
    if (positionals.length !== 1) throw new UsageError('EUSAGE', `walk takes one DEVICE (got ${positionals.length} arguments); see --help`);
    const chain = values.offset !== undefined || values.region !== undefined || values.count !== undefined || values['show-uuid'] === true || values.dump === true;
    const start = values.offset === undefined ? 0 : parseOffset(values.offset, '--offset');
    const count = values.count === undefined ? undefined : parseOffset(values.count, '--count');
    if (count === 0) throw new UsageError('EUSAGE', '--count must be at least 1');
    using device = await openDeviceArg(positionals[0]);
    if (chain) {
      const bar = parseRegion(values.region, device);
      const walk = walkDfhChain(device.region(bar), bar, start, { count, guid: values['show-uuid'] === true, dump: values.dump === true });
      if (values.json) printJson({ device: device.url, region: bar, offset: start, end: walk.end, headers: walk.entries.map(chainJson) });
      else printChain(device.url, bar, start, walk, values['show-uuid'] === true);
      return ExitCode.OK;
    }
    const walk = walkDfl(device);
    if (values.json) {
      printJson({ device: device.url, discovery: walk.discovery, lists: walk.lists, features: walk.features.map(toJson), warnings: walk.warnings });
      return ExitCode.OK;
    }
    const how = walk.discovery === 'vsec' ? 'the DFL VSEC' : walk.discovery === 'fme-port-table' ? 'the FME port table' : 'a Port at BAR0';
    const rows: unknown[][] = [];
    const line = (f: Feature, depth: number): void => {
      const irq = f.irq ? (f.irq.count === 1 ? `${f.irq.firstVector}` : `${f.irq.firstVector}-${f.irq.firstVector + f.irq.count - 1}`) : '';
      rows.push([`${'  '.repeat(depth)}${f.bar}:${hex(f.offset, 5)}`, f.type, hex(f.id), f.name, f.revision, `v${f.version}`, hex(f.size), irq, f.guid ?? '']);
      for (const c of f.children) line(c, depth + 1);
    };
    for (const f of walk.features) line(f, 0);
    const out = [`${device.url}: ${walk.count} features in ${walk.lists.length} list(s), found through ${how}`];
    out.push(table(['offset', 'type', 'id', 'name', 'rev', 'dfh', 'size', 'irq', 'guid'], rows));
    for (const w of walk.warnings) out.push(`warning: ${w}`);
    process.stdout.write(out.join('\n') + '\n');
    return ExitCode.OK;
  },
};

const END = { eol: 'EOL', 'next-zero': 'a next offset of 0', count: '--count' } as const;

function printChain(url: string, bar: number, start: number, walk: DfhChain, guid: boolean): void {
  const rows = walk.entries.map((e) => [
    `${e.bar}:${hex(e.offset, 5)}`, hex(e.dfh.raw, 16), e.type ?? `type ${e.dfh.type}`, hex(e.dfh.id), e.name, e.dfh.revision, `v${e.dfh.version}`,
    hex(e.dfh.next), e.dfh.eol ? 'eol' : '', ...(guid ? [e.guid ?? '-'] : []),
  ]);
  const out = [`${url}: ${walk.entries.length} header(s) from BAR${bar}+${hex(start)}, ended by ${END[walk.end]}`];
  out.push(table(['offset', 'dfh', 'type', 'id', 'name', 'rev', 'ver', 'next', 'end', ...(guid ? ['guid'] : [])], rows));
  for (const e of walk.entries) {
    if (!e.registers?.length) continue;
    out.push('', `${e.name} at ${e.bar}:${hex(e.offset, 5)}:`, table([{ header: 'offset' }, 'value'], e.registers.map((r) => [hex(r.offset, 5), hex(r.value, 16)]), { indent: '  ' }));
  }
  process.stdout.write(out.join('\n') + '\n');
}

function chainJson(e: DfhChainEntry): Record<string, unknown> {
  return {
    offset: e.offset,
    dfh: e.dfh.raw,
    type: e.type ?? e.dfh.type,
    id: e.dfh.id,
    name: e.name,
    revision: e.dfh.revision,
    version: e.dfh.version,
    next: e.dfh.next,
    eol: e.dfh.eol,
    ...(e.guid !== undefined ? { guid: e.guid } : {}),
    ...(e.registers ? { registers: e.registers } : {}),
  };
}

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
