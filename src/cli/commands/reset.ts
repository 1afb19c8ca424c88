// `vfiokit reset DEVICE [--port N]`: reset one port (and its AFU) or the whole function (FLR).
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { openDeviceArg, resolveDevice } from '../resolve-device.js';
import { withReservation } from '../../lock/reservations.js';
import { Card } from '../../afu/card.js';
import { DeviceError } from '../../errors.js';

export const command: Command = {
  summary: 'reset a port and its AFU (--port N), or the whole device (function-level reset)',
  help: `usage: vfiokit reset DEVICE [--port N] [--force] [--json]

With --port N: resets port N and the AFU behind it the way the kernel's dfl-afu driver does
(port_reset: set PORT_CTRL[0] soft reset, wait for PORT_CTRL[4] ACK, clear it, wait for the ACK
to drop; a timeout names the register). Without --port: a function-level reset of the whole
device (VFIO_DEVICE_RESET, or the transport's equivalent).

DEVICE is a PCI address, a device URL or a reservation id. The reset holds the card's
reservation in state RESET for its duration: a card reserved by another live process is refused
(exit 4); one you reserved (from this shell) stays reserved; a free card is reserved just for
the reset. --force resets even a card someone else holds.

options:
  --port N   reset port N (0..3) and its AFU instead of the whole device
  --force    override another process's reservation
  --json     print { device, port | null, reset: 'port' | 'device' }

exit codes: 0 reset done, 1 the reset timed out or failed, 2 bad arguments, 4 device unavailable
or reserved by another process

examples:
  vfiokit reset sim:n3000 --port 0
  vfiokit reset 0000:3b:00.0
  vfiokit reset r-1a2b3c4d --port 0 --json`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { port: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } });
    if (positionals.length !== 1) throw new UsageError('EUSAGE', `reset takes exactly one DEVICE (got ${positionals.length}); see --help`);
    let port: number | undefined;
    if (values.port !== undefined) {
      if (!/^[0-3]$/.test(values.port)) throw new UsageError('EUSAGE', `--port must be a port number 0..3, got "${values.port}"`);
      port = Number(values.port);
    }
    const url = resolveDevice(positionals[0]);
    using device = await openDeviceArg(url);
    await withReservation(url, 'RESET', () => {
      if (port === undefined) {
        device.reset();
        return;
      }
      const card = Card.discover(device);
      const p = card.port(port);
      if (!p) {
        throw new DeviceError('ENODEV', `${url} has no port ${port}; it has port(s) ${card.ports.map((x) => x.number).join(', ') || 'none'} (see vfiokit walk ${positionals[0]})`, { device: url, port });
      }
      p.reset();
    }, { force: values.force === true });
    if (values.json) printJson({ device: url, port: port ?? null, reset: port === undefined ? 'device' : 'port' });
    else process.stdout.write(port === undefined ? `reset ${url} (function-level reset)\n` : `reset port ${port} of ${url}\n`);
    return ExitCode.OK;
  },
};
