// `vfiokit reservations`: who holds which card, in which state, for how long, stale or not.
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { listReservations, type Reservation } from '../../lock/reservations.js';
import { lockDir } from '../../lock/lock-file.js';
import { table } from '../table.js';

function age(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(seconds / 86400)}d${Math.floor((seconds % 86400) / 3600)}h`;
}

function row(r: Reservation): unknown[] {
  const owner = r.owner ? `${r.owner.pid} ${r.owner.user} (${r.owner.command})` : '-';
  return [r.id, r.device, r.state, owner, r.owner ? age(r.ageSeconds) : '-', r.stale ? 'STALE' : '', r.bitstream?.signature ?? '-'];
}

export const command: Command = {
  summary: 'list reservations: state, owner, age, stale or not',
  help: `usage: vfiokit reservations [--all] [--json]

Lists the reserved cards from the lock directory ($VFIOKIT_LOCK_DIR, default /run/vfiokit/locks
for root): reservation id, device, state (RESERVED, PROGRAM, INACTIVE, ACTIVE, RESET), owner
(pid, user, command), age, whether the owner is gone (STALE: clear with vfiokit free DEVICE
--force), and the signature of the last bitstream loaded.

options:
  --all    include FREE devices (they remember their last bitstream)
  --json   machine-readable output: { lockDir, reservations: [...], corrupt: [...] }

exit codes: 0 listed (also when there are none; corrupt lock files are reported on stderr),
2 bad arguments

examples:
  vfiokit reservations
  vfiokit reservations --all --json
  vfiokit reservations --json | jq -r '.reservations[] | select(.stale) | .id'`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { all: { type: 'boolean' }, json: { type: 'boolean' } });
    if (positionals.length) throw new UsageError('EUSAGE', `unexpected argument "${positionals[0]}"; see --help`);
    const { reservations, corrupt } = listReservations();
    const shown = values.all ? reservations : reservations.filter((r) => r.state !== 'FREE');
    if (values.json) {
      printJson({ lockDir: lockDir(), reservations: shown, corrupt });
      return ExitCode.OK;
    }
    if (!shown.length) process.stdout.write(`no reservations${values.all ? '' : ' (--all shows free devices too)'}\n`);
    else {
      process.stdout.write(table(['ID', 'DEVICE', 'STATE', 'OWNER', 'AGE', '', 'BITSTREAM'], shown.map(row)) + '\n');
    }
    for (const c of corrupt) process.stderr.write(`vfiokit reservations: ${c.message}\n`);
    return ExitCode.OK;
  },
};
