// Where vfiokit keeps per-device state shared between processes: reservations, flash status.
// VFIOKIT_STATE_DIR, else /run/vfiokit (root), else $XDG_RUNTIME_DIR/vfiokit, else /tmp/vfiokit-<uid>.
import { mkdirSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

function usable(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The state directory (created if missing), optionally a subdirectory of it. */
export function stateDir(sub?: string): string {
  const candidates = process.env.VFIOKIT_STATE_DIR
    ? [process.env.VFIOKIT_STATE_DIR]
    : ['/run/vfiokit', ...(process.env.XDG_RUNTIME_DIR ? [join(process.env.XDG_RUNTIME_DIR, 'vfiokit')] : []), join(tmpdir(), `vfiokit-${process.getuid?.() ?? 0}`)];
  for (const base of candidates) {
    const dir = sub ? join(base, sub) : base;
    if (usable(dir)) return dir;
  }
  return sub ? join(candidates[0]!, sub) : candidates[0]!;
}

/** A file-name-safe key for a device URL or BDF ("vfio:0000:3b:00.0" -> "vfio_0000_3b_00.0"). */
export function deviceKey(url: string): string {
  return url.replace(/^vfio:/, 'vfio:').replace(/[^A-Za-z0-9._-]+/g, '_');
}
