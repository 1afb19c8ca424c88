// `vfiokit bench mmio DEVICE [--region R] [--offset O] [--write] [--ms N] [--json]`: MMIO read and
// write latency (p50/p99/p999) and throughput on any device, through the Region API, a C loop and
// one FFI call per access, side by side (measuring core: src/bench/mmio.ts).
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { openDeviceArg, resolveDevice } from '../resolve-device.js';
import { parseOffset, parseRegion } from '../register-args.js';
import { table, shellQuote } from '../table.js';
import { benchMmio, type LatencyStats, type MmioBenchRow } from '../../bench/mmio.js';

export const command: Command = {
  summary: 'measure MMIO latency (p50/p99/p999) and throughput on a device: Region API vs C loop vs FFI call',
  help: `usage: vfiokit bench mmio DEVICE [--region R] [--offset O] [--write] [--ms N] [--json]

Measures register accesses on DEVICE (a PCI address, a device URL or a reservation id) at
OFFSET of region R, through three paths in one run:
  region     the Region API (region.read32 ...), what a driver calls
  c-loop     a loop in the C shim over the mapped BAR (one call per batch of accesses)
  ffi-call   one call into the C shim per access
c-loop and ffi-call need a mapped BAR and the shim; on a trapped region (the simulated card's
registers, a vfio-user region without mmap) they are listed as skipped with the reason.
Each sample times a batch of accesses lasting at least 1 us; latencies are per access in wall
time (p50, p99, p999 over the samples), throughput is accesses per second of wall time. A
histogram per row (log2 buckets of per-access time) follows the table.

Reads only unless --write: then each path also writes the register (the Region and FFI paths
write back the value read; the C loop stores its counter), and the value read first is restored
at the end. Only use --write on a register that tolerates it (e.g. an AFU scratch register).

options:
  -r, --region R   BAR number 0..5 (or bar0..bar5), default 0
  --offset O       byte offset in the region, 8-byte aligned (default 0: the first DFH)
  --write          also measure writes (see above)
  --ms N           wall time per path and access kind, in ms (default 200)
  --json           {device, region, offset, rows: [{path, op, latency: {p50, p99, p999, mean,
                   min, max, samples, batch, histogram}, opsPerSec, bytesPerSec} | {path, op, skipped}]}

exit codes: 0 measured, 2 bad arguments, 4 device unavailable

examples:
  vfiokit bench mmio sim:n3000 --offset 0x60100 --write
  vfiokit bench mmio vfio-user:/run/card.sock --json
  vfiokit bench mmio 0000:3b:00.0 --region 0 --offset 0x0`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      region: { type: 'string', short: 'r' }, offset: { type: 'string' }, write: { type: 'boolean' }, ms: { type: 'string' }, json: { type: 'boolean' },
    });
    const [what, deviceArg, ...extra] = positionals;
    if (what !== 'mmio') throw new UsageError('EUSAGE', what === undefined ? 'missing what to measure: vfiokit bench mmio DEVICE' : `vfiokit bench measures mmio (vfiokit bench mmio DEVICE), not "${what}"; the development benchmarks are npm run bench -- NAME in a checkout`);
    if (extra.length) throw new UsageError('EUSAGE', `unexpected ${extra.join(' ')}; see vfiokit help bench`);
    const offset = values.offset === undefined ? 0 : parseOffset(values.offset, '--offset');
    const ms = values.ms === undefined ? 200 : parseOffset(values.ms, '--ms');
    if (ms < 1 || ms > 60_000) throw new UsageError('EUSAGE', `--ms ${ms} must be 1..60000`);
    const url = resolveDevice(deviceArg);
    using device = await openDeviceArg(url);
    const index = parseRegion(values.region, device);
    const region = device.region(index);
    const rows = benchMmio(region, { offset, writes: Boolean(values.write), durationMs: ms });
    if (values.json) {
      printJson({ device: device.url, region: index, regionKind: region.kind, offset, rows });
      return ExitCode.OK;
    }
    process.stdout.write(`${shellQuote(device.url)} region ${index} (${region.kind}) offset 0x${offset.toString(16)}: per-access wall time\n\n`);
    process.stdout.write(formatRows(rows) + '\n');
    return ExitCode.OK;
  },
};

const ns = (v: number): string => (v >= 1e6 ? `${(v / 1e6).toFixed(1)} ms` : v >= 10_000 ? `${(v / 1000).toFixed(1)} us` : v >= 100 ? `${v.toFixed(0)} ns` : `${v.toFixed(2)} ns`);
const rate = (v: number): string => (v >= 1e9 ? `${(v / 1e9).toFixed(2)} G/s` : v >= 1e6 ? `${(v / 1e6).toFixed(2)} M/s` : `${(v / 1e3).toFixed(1)} k/s`);
const bytes = (v: number): string => (v >= 1e9 ? `${(v / 1e9).toFixed(2)} GB/s` : v >= 1e6 ? `${(v / 1e6).toFixed(1)} MB/s` : `${(v / 1e3).toFixed(1)} kB/s`);

function histogram(l: LatencyStats, indent: string): string {
  const width = 40;
  return table(
    [{ header: 'per access', align: 'right' }, { header: 'share', align: 'right' }, ''],
    l.histogram.filter((b) => b.count / l.samples >= 0.001).map((b) => {
      const share = b.count / l.samples;
      return [`${ns(b.lowNs)}-${ns(b.lowNs * 2 || 1)}`, `${(share * 100).toFixed(1)}%`, '#'.repeat(Math.max(1, Math.round(share * width)))];
    }),
    { indent },
  );
}

export function formatRows(rows: readonly MmioBenchRow[]): string {
  const measured = rows.filter((r) => r.latency);
  const base = (op: string): number | undefined => rows.find((r) => r.op === op && r.path === 'c-loop')?.latency?.p50;
  const lines = [table(
    ['op', 'path', { header: 'p50', align: 'right' }, { header: 'p99', align: 'right' }, { header: 'p999', align: 'right' }, { header: 'throughput', align: 'right' }, { header: '', align: 'right' }, { header: 'vs c-loop', align: 'right' }],
    rows.map((r) => r.latency
      ? [r.op, r.path, ns(r.latency.p50), ns(r.latency.p99), ns(r.latency.p999), rate(r.opsPerSec!), bytes(r.bytesPerSec!), base(r.op) ? `${(r.latency.p50 / base(r.op)!).toFixed(1)}x` : '-']
      : [r.op, r.path, '-', '-', '-', '-', '-', `skipped`]),
  )];
  const skipped = [...new Set(rows.filter((r) => r.skipped).map((r) => `${r.path}: ${r.skipped}`))];
  if (skipped.length) lines.push('', ...skipped.map((s) => `skipped ${s}`));
  for (const r of measured) lines.push('', `${r.op} ${r.path} (${r.latency!.samples} samples of ${r.latency!.batch})`, histogram(r.latency!, '  '));
  return lines.join('\n');
}
