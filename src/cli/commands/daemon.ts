// `vfiokit daemon --socket PATH`: own the cards and serve the management API over JSON-RPC.
import { readFileSync } from 'node:fs';
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { untilSignal } from '../until-signal.js';
import { parseMode } from './serve.js';
import { Daemon } from '../../daemon/server.js';
import { ManagementApi } from '../../manage/api.js';

/** A group name (from /etc/group) or number -> gid. */
function parseGroup(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d+$/.test(text)) return Number(text);
  const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.split(':')[0] === text);
  if (!line) throw new UsageError('EUSAGE', `--group "${text}" is not a group in /etc/group (give a name or a gid)`);
  return Number(line.split(':')[2]);
}

export const command: Command = {
  summary: 'own the cards and serve the management API (JSON-RPC 2.0) on a UNIX socket, for Python and Cyborg',
  help: `usage: vfiokit daemon --socket PATH [--group GROUP] [--mode MODE] [--probe DEVICE]... [--max-clients N] [--json]

Runs until SIGINT/SIGTERM as the one process that owns the cards (the DPDK "primary"), serving
the management API (vfiokit/manage: enumerate, probe, get_property, pr, flash, cancel,
get_status, reboot, ...) under the seed "opae" module's names as JSON-RPC 2.0, one JSON object
per line, on the UNIX socket PATH (docs/daemon.md has the protocol). The Python package
(python/: \`from vfiokit import fpga\`) and the Cyborg driver talk to it.

The socket is 0600 (only the daemon's user) unless --group lets a group in (0660). Each client
is identified by SO_PEERCRED; every call is logged with its uid/gid/pid (DEBUG=vfiokit:daemon).
Files named in calls are read only when the caller could read them. Flash status is kept in the
state directory, so a restarted daemon still answers get_status.

options:
  --socket PATH      socket file to create (a stale socket nobody listens on is replaced)
  --group GROUP      group (name or gid) allowed to connect; the socket becomes 0660
  --mode MODE        octal socket mode (default 0600, or 0660 with --group)
  --probe DEVICE     probe DEVICE at start (repeatable), e.g. 'sim:n3000?clock=real&bmcTiming=fast'
  --max-clients N    clients at once (default 64)
  --json             print {"socket", "pid"} once listening

exit codes: 0 stopped by a signal, 2 bad arguments, 4 socket path unavailable (in use, not a socket)

examples:
  vfiokit daemon --socket /run/vfiokit/daemon.sock --group cyborg
  DEBUG=vfiokit:daemon vfiokit daemon --socket /tmp/v.sock --probe 'sim:n3000?clock=real&bmcTiming=fast'`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      socket: { type: 'string', short: 's' },
      group: { type: 'string' },
      mode: { type: 'string' },
      probe: { type: 'string', multiple: true },
      'max-clients': { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length) throw new UsageError('EUSAGE', `daemon takes no positional arguments (got ${positionals.join(' ')}); see --help`);
    if (!values.socket) throw new UsageError('EUSAGE', 'daemon needs --socket PATH (where clients connect)');
    const gid = parseGroup(values.group);
    const maxClients = values['max-clients'] === undefined ? undefined : Number(values['max-clients']);
    if (maxClients !== undefined && (!Number.isInteger(maxClients) || maxClients < 1 || maxClients > 4096)) throw new UsageError('EUSAGE', `--max-clients "${values['max-clients']}" is not an integer 1..4096`);
    // Backends first, so a client never finds the daemon uninitialised.
    const api = new ManagementApi();
    if ((await api.initEal()) < 0) process.stderr.write(`vfiokit daemon: ${api.lastError()?.message}\n`);
    const daemon = await Daemon.listen(values.socket, {
      api,
      ...(values.mode !== undefined ? { mode: parseMode(values.mode) } : {}),
      ...(gid !== undefined ? { gid } : {}),
      ...(maxClients !== undefined ? { maxClients } : {}),
    });
    for (const device of values.probe ?? []) {
      if ((await daemon.api.probe(device)) < 0) process.stderr.write(`vfiokit daemon: probe ${device}: ${daemon.api.lastError()?.message}\n`);
    }
    if (values.json) printJson({ socket: values.socket, pid: process.pid });
    else process.stdout.write(`vfiokit daemon serving on ${values.socket} (pid ${process.pid}); SIGTERM to stop\n`);
    await untilSignal();
    await daemon.close();
    return ExitCode.OK;
  },
};
