// `vfiokit reserve DEVICE [--owner PID]`: take a card for a process (by default the calling shell).
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { resolveDevice } from '../resolve-device.js';
import { reserve } from '../../lock/reservations.js';
import { processAlive, processCommandLine, processInfo } from '../../lock/process-info.js';

/** Launchers that sit between the shell and vfiokit (npm run, npx, tsx): the owner is their parent. */
const WRAPPER = /(^|\/)(npm|npx|tsx|pnpm|yarn)(\.js|\.cjs|\.mjs)?( |$)|\/(npm|npx)-cli\.js|\/tsx\/dist\/cli/;

/** The parent process, skipping launchers, so `npm run vfiokit reserve X` is owned by the shell. */
export function defaultOwner(): number {
  let pid = process.ppid;
  for (let i = 0; i < 8; i++) {
    const info = processInfo(pid);
    if (!info || info.ppid <= 1) break;
    const cmd = processCommandLine(pid);
    const launcher = WRAPPER.test(cmd) || (info.comm === 'sh' && /-c .*\b(npm|npx|tsx)\b/.test(cmd));
    if (!launcher) break;
    pid = info.ppid;
  }
  return pid;
}

export const command: Command = {
  summary: 'reserve a card for a process (default: the calling shell)',
  help: `usage: vfiokit reserve DEVICE [--owner PID] [--json]

Reserves DEVICE (a PCI address, a device URL or a reservation id) so no other process can program,
flash, reset or free it. The owner is a process: by default the parent of this command (the shell
you typed it in; launchers such as npm and npx are skipped), so the reservation lasts as long as
that shell and every command started from it acts as the owner. When the owner exits the
reservation turns stale: \`vfiokit reservations\` shows it and \`vfiokit free DEVICE --force\` clears it.

options:
  --owner PID   the owning process (must be running); e.g. --owner $$ for this shell
  --json        print the reservation as JSON

exit codes: 0 reserved, 2 bad arguments, 4 already reserved (or stale: free --force first)

examples:
  vfiokit reserve 0000:3b:00.0
  vfiokit reserve sim:n3000 --owner $$
  vfiokit reserve vfio-user:/run/vfiokit/card.sock --json`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { owner: { type: 'string' }, json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('EUSAGE', `reserve takes exactly one DEVICE (got ${positionals.length}); see --help`);
    const device = resolveDevice(positionals[0]);
    let owner: number;
    if (values.owner !== undefined) {
      owner = Number(values.owner);
      if (!/^\d+$/.test(values.owner) || owner <= 0) throw new UsageError('EUSAGE', `--owner must be a process id, got "${values.owner}"`);
      if (!processAlive(owner)) throw new UsageError('EUSAGE', `--owner ${owner} is not a running process; give the pid of a live process (e.g. $$ for this shell)`);
    } else {
      owner = defaultOwner();
    }
    const r = reserve(device, { owner });
    if (values.json) printJson(r);
    else process.stdout.write(`reserved ${r.device} (${r.id}) for pid ${r.owner!.pid} (${r.owner!.command}, user ${r.owner!.user})\n`);
    return ExitCode.OK;
  },
};
