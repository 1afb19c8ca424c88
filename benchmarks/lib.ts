// Common benchmark shape: every benchmark returns rows of {path, op, value} measured side by side
// in one run; --json prints {"benchmark": name, "rows": [...]}; the table shows ratios to a baseline.

export interface BenchRow {
  path: string;
  op: string;
  /** Nanoseconds per operation (lower is better), when the row is a latency. */
  nsPerOp?: number;
  /** Microseconds per operation, for slower operations. */
  usPerOp?: number;
  /** Throughput figures (higher is better). */
  bytesPerSec?: number;
  opsPerSec?: number;
  /** Why a path was skipped (e.g. python3 missing). */
  skipped?: string;
  /** This row's ratio is against this path (same op) instead of the report's baseline. */
  baseline?: string;
  /** Set by printReport for --json: value / baseline's (>1 = slower or less throughput). */
  ratio?: number;
  [extra: string]: unknown;
}

export interface BenchReport {
  benchmark: string;
  rows: BenchRow[];
  /** Path each op's ratio is computed against (e.g. 'c-loop'). */
  baseline?: string;
  notes?: string[];
}

export interface BenchmarkModule {
  run(options: { json: boolean; args: string[] }): Promise<BenchReport>;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median ns per iteration of `fn(iterations)` over `reps` repetitions (after one warm-up). */
export function measureNs(fn: (iterations: number) => void, iterations: number, reps = 7): number {
  fn(Math.min(iterations, 10_000));
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    fn(iterations);
    samples.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  return median(samples);
}

export async function measureNsAsync(fn: (iterations: number) => Promise<void>, iterations: number, reps = 5): Promise<number> {
  await fn(Math.max(1, Math.min(iterations, 100)));
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    await fn(iterations);
    samples.push(Number(process.hrtime.bigint() - t0) / iterations);
  }
  return median(samples);
}

function metric(row: BenchRow): { value: number; unit: string; higherIsBetter: boolean } | undefined {
  if (row.nsPerOp !== undefined) return { value: row.nsPerOp, unit: 'ns/op', higherIsBetter: false };
  if (row.usPerOp !== undefined) return { value: row.usPerOp, unit: 'us/op', higherIsBetter: false };
  if (row.bytesPerSec !== undefined) return { value: row.bytesPerSec / 1e6, unit: 'MB/s', higherIsBetter: true };
  if (row.opsPerSec !== undefined) return { value: row.opsPerSec, unit: 'ops/s', higherIsBetter: true };
  return undefined;
}

/** Print the report: JSON to stdout with --json, else a table with "x baseline" ratios. */
export function printReport(report: BenchReport, json: boolean): void {
  const ratioOf = (row: BenchRow): number | undefined => {
    const m = metric(row);
    const basePath = row.baseline ?? report.baseline;
    const base = basePath ? report.rows.find((r) => r.op === row.op && r.path === basePath) : undefined;
    const bm = base ? metric(base) : undefined;
    if (!m || !bm || bm.value <= 0 || m.value <= 0) return undefined;
    return m.higherIsBetter ? bm.value / m.value : m.value / bm.value;
  };
  if (json) {
    const rows = report.rows.map((r) => {
      const ratio = ratioOf(r);
      return ratio === undefined ? r : { ...r, ratio: Number(ratio.toFixed(3)) };
    });
    process.stdout.write(JSON.stringify({ benchmark: report.benchmark, rows, ...(report.notes ? { notes: report.notes } : {}) }) + '\n');
    return;
  }
  const out: string[] = [`benchmark: ${report.benchmark}${report.baseline ? ` (ratios against ${report.baseline})` : ''}`];
  const opWidth = Math.max(12, ...report.rows.map((r) => r.op.length + 2));
  const pathWidth = Math.max(16, ...report.rows.map((r) => r.path.length + 2));
  out.push(`${'op'.padEnd(opWidth)}${'path'.padEnd(pathWidth)}${'value'.padStart(14)}  unit      ratio`);
  for (const row of report.rows) {
    const m = metric(row);
    if (!m) {
      out.push(`${row.op.padEnd(opWidth)}${row.path.padEnd(pathWidth)}${'skipped'.padStart(14)}  ${row.skipped ?? ''}`);
      continue;
    }
    const r = ratioOf(row);
    const ratio = r === undefined ? '' : `${r.toFixed(2)}x${row.baseline && row.baseline !== report.baseline ? ` ${row.baseline}` : ''}`;
    out.push(`${row.op.padEnd(opWidth)}${row.path.padEnd(pathWidth)}${m.value.toFixed(m.value < 10 ? 2 : 1).padStart(14)}  ${m.unit.padEnd(9)} ${ratio}`);
  }
  for (const n of report.notes ?? []) out.push(`note: ${n}`);
  process.stdout.write(out.join('\n') + '\n');
}
