// Progress bar for long operations (PR, flash): percent, rate, ETA. Draws on a TTY, prints
// a line every 10% otherwise (logs, CI), and nothing with --json.

export interface ProgressBar {
  update(done: number, total: number, label?: string): void;
  finish(message?: string): void;
}

const units = ['B', 'KiB', 'MiB', 'GiB'];
function formatBytes(n: number): string {
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

export function progressBar(title: string, options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  let phaseStart = performance.now();
  let phaseLabel: string | undefined;
  let phaseDone = 0;
  let lastDecile = -1;
  let lastLabel = '';
  return {
    update(done, total, label = '') {
      if (options.quiet) return;
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      if (label !== phaseLabel) {
        // A new phase (PR: disabling, writing, ...; flash: preparing, writing, copying) counts
        // from here, so its rate and ETA are its own and not diluted by the phase before.
        phaseLabel = label;
        phaseStart = performance.now();
        phaseDone = done;
      }
      const elapsed = (performance.now() - phaseStart) / 1000;
      const rate = elapsed > 0 ? (done - phaseDone) / elapsed : 0;
      const eta = rate > 0 ? (total - done) / rate : Infinity;
      const pct = (frac * 100).toFixed(1).padStart(5);
      const text = `${title}${label ? ` ${label}` : ''} ${pct}% ${formatBytes(done)}/${formatBytes(total)} ${formatBytes(rate)}/s ETA ${formatDuration(eta)}`;
      if (tty) {
        const width = 24;
        const filled = Math.round(frac * width);
        stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      } else {
        const decile = Math.floor(frac * 10);
        if (decile !== lastDecile || label !== lastLabel) {
          lastDecile = decile;
          lastLabel = label;
          stream.write(text + '\n');
        }
      }
    },
    finish(message) {
      if (options.quiet) return;
      if (tty) stream.write('\n');
      if (message) stream.write(message + '\n');
    },
  };
}
