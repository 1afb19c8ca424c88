// `vfiokit free DEVICE [--force]`: release a reservation (the owner), or clear any (--force).
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { resolveDevice } from '../resolve-device.js';
import { free, getReservation } from '../../lock/reservations.js';

export const command: Command = {
  summary: 'free a reserved card (--force: any state, stale or not yours)',
  help: `usage: vfiokit free DEVICE [--force] [--json]

Frees DEVICE (a PCI address, a device URL or a reservation id). Without --force only the owner
(the reserving process or a command started from it) may free it, and not while a bitstream is
being written (state PROGRAM). --force frees it in any state: the way to clear a stale
reservation whose owner died, or a corrupt lock file. Freeing a free device does nothing.

options:
  --force   free regardless of owner and state
  --json    print the resulting record as JSON

exit codes: 0 freed, 1 not allowed in this state (PROGRAM), 2 bad arguments, 4 reserved by
another process or stale (use --force)

examples:
  vfiokit free 0000:3b:00.0
  vfiokit free r-1a2b3c4d --force
  vfiokit free sim:n3000 --json`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { force: { type: 'boolean' }, json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('EUSAGE', `free takes exactly one DEVICE (got ${positionals.length}); see --help`);
    const device = resolveDevice(positionals[0]);
    let before: string | undefined;
    try {
      before = getReservation(device).state;
    } catch {
      before = undefined; // corrupt: --force replaces it
    }
    const r = free(device, { force: values.force === true });
    if (values.json) printJson(r);
    else process.stdout.write(before === 'FREE' ? `${r.device} was not reserved\n` : `freed ${r.device} (${r.id})${values.force ? ' (forced)' : ''}\n`);
    return ExitCode.OK;
  },
};
