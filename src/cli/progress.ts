// Progress bar for long operations (PR, flash): percent, rate, ETA. Draws on a TTY (redrawn every
// 250 ms, so the elapsed time keeps moving during a wait with no new bytes), prints a line every
// 10% or phase otherwise (logs, CI), and nothing with --json. Nothing is drawn before the first
// update, so a command refused before it starts prints no progress line. The rate is bytes per
// second of wall time in the phase, shown only while bytes move; complete() draws the final state
// at 100%.

export interface ProgressBar {
  update(done: number, total: number, label?: string): void;
  /** The operation succeeded: draw 100% with `label` (default "done") and end the line. */
  complete(label?: string): void;
  /** End the bar where it stands (a failure or cancel): the last state stays visible. */
  finish(message?: string): void;
}

const units = ['B', 'KiB', 'MiB', 'GiB'];
export function formatBytes(n: number): string {
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
  const start = performance.now();
  let phaseStart = start;
  let phaseLabel: string | undefined;
  let phaseDone = 0;
  let lastDecile = -1;
  let lastLabel = '';
  let state: { done: number; total: number; label: string } | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let ended = false;

  const text = (final: boolean): string => {
    const { done, total, label } = state!;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const now = performance.now();
    const phaseSeconds = (now - phaseStart) / 1000;
    const moved = done - phaseDone;
    const rate = phaseSeconds > 0 && moved > 0 ? moved / phaseSeconds : 0;
    const pct = (frac * 100).toFixed(1).padStart(5);
    const timing = final
      ? `in ${formatDuration((now - start) / 1000)}`
      : rate > 0 ? `${formatBytes(rate)}/s wall ETA ${formatDuration((total - done) / rate)}` : `${formatDuration(phaseSeconds)} elapsed`;
    const line = `${title}${label ? ` ${label}` : ''} ${pct}% ${formatBytes(done)}/${formatBytes(total)} ${timing}`;
    if (!tty) return line;
    const width = 24;
    const filled = Math.round(frac * width);
    return `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line}\x1b[K`;
  };
  const draw = (): void => {
    if (!state || ended) return;
    if (tty) {
      stream.write(text(false));
      return;
    }
    const decile = Math.floor((state.total > 0 ? Math.min(1, state.done / state.total) : 0) * 10);
    if (decile !== lastDecile || state.label !== lastLabel) {
      lastDecile = decile;
      lastLabel = state.label;
      stream.write(text(false) + '\n');
    }
  };
  const end = (): void => {
    ended = true;
    if (ticker) clearInterval(ticker);
  };

  return {
    update(done, total, label = '') {
      if (options.quiet || ended) return;
      if (label !== phaseLabel) {
        // A new phase (PR: disabling, writing, ...; flash: preparing, writing, copying) counts
        // from here, so its rate and ETA are its own and not diluted by the phase before.
        phaseLabel = label;
        phaseStart = performance.now();
        phaseDone = done;
      }
      state = { done, total, label };
      if (tty && !ticker) {
        ticker = setInterval(draw, 250);
        ticker.unref();
      }
      draw();
    },
    complete(label = 'done') {
      if (options.quiet || ended || !state) return end();
      state = { done: state.total, total: state.total, label };
      stream.write(text(true) + '\n');
      end();
    },
    finish(message) {
      if (options.quiet || ended) return end();
      if (tty && state) stream.write('\n');
      if (message) stream.write(message + '\n');
      end();
    },
  };
}
