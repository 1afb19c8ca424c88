// One table helper for the CLI: columns sized to their widest cell plus two spaces, so they never
// run together however long a device URL or name is; numbers right-aligned.

export type Align = 'left' | 'right';

export interface Column {
  header: string;
  align?: Align;
}

/** Format rows under headers; the last column is not padded (no trailing spaces). */
export function table(columns: readonly (Column | string)[], rows: readonly (readonly unknown[])[], options: { indent?: string; gap?: number } = {}): string {
  const cols = columns.map((c) => (typeof c === 'string' ? { header: c } : c));
  const cells = [cols.map((c) => c.header), ...rows.map((r) => cols.map((_, i) => (r[i] === undefined || r[i] === null ? '-' : String(r[i]))))];
  const widths = cols.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const gap = ' '.repeat(options.gap ?? 2);
  return cells
    .map((r) => (options.indent ?? '') + r.map((cell, i) => {
      if (i === r.length - 1 && cols[i]!.align !== 'right') return cell;
      return cols[i]!.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!);
    }).join(gap).trimEnd())
    .join('\n');
}

/** A word safe to paste into a POSIX shell: as is when plain, else in single quotes. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
