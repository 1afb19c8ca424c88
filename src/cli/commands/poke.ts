// `vfiokit poke DEVICE OFFSET VALUE`: write one register of a BAR.
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { openDeviceArg, resolveDevice } from '../resolve-device.js';
import { parseRegion, parseWidth, parseOffset, parseValue, hexWord } from '../register-args.js';
import { getReservation, ReservationError } from '../../lock/reservations.js';
import { isSelfOrAncestor } from '../../lock/process-info.js';

export const command: Command = {
  summary: 'write a device register (BAR offset, 32/64-bit)',
  help: `usage: vfiokit poke DEVICE OFFSET VALUE [-r REGION] [-a 32|64] [--force] [--json]

Writes VALUE (hex 0x.. or decimal) to the register at OFFSET of a BAR of DEVICE (a PCI address,
a device URL or a reservation id) with one full-width store. A card reserved by another live
process is refused (its owner may be programming it); --force writes anyway.

options:
  -r, --region R   BAR number 0..5 (or bar0..bar5), default 0
  -a, --access W   access width in bits: 64 (default) or 32
  --force          write even if another process holds a reservation on the card
  --json           print { device, region, width, offset, value }

exit codes: 0 ok, 1 access refused (outside the BAR, misaligned), 2 bad arguments or value too
wide, 4 device unavailable or reserved by another process

examples:
  vfiokit poke sim:n3000 0x40038 0x1               # port control (PORT_CTRL) of port 0
  vfiokit poke 0000:3b:00.0 0x100 0xdeadbeef -a 32
  vfiokit poke r-1a2b3c4d 0x18 0x5 -r 2`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      region: { type: 'string', short: 'r' },
      access: { type: 'string', short: 'a' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (positionals.length !== 3) throw new UsageError('EUSAGE', `poke takes DEVICE, OFFSET and VALUE (got ${positionals.length} arguments); see --help`);
    const width = parseWidth(values.access);
    const offset = parseOffset(positionals[1]);
    const value = parseValue(positionals[2], width);
    const url = resolveDevice(positionals[0]);
    const r = getReservation(url);
    if (!values.force && r.owner && !r.stale && !isSelfOrAncestor(r.owner.pid, r.owner.startTime)) {
      throw new ReservationError('ERESERVED', `${url} is ${r.state} by pid ${r.owner.pid} (${r.owner.command}, user ${r.owner.user}); writing its registers could break what it does: wait, or pass --force`, { device: url, owner: r.owner });
    }
    using device = await openDeviceArg(url);
    const index = parseRegion(values.region, device);
    const region = device.region(index);
    if (width === 64) region.write64(offset, value);
    else region.write32(offset, Number(value));
    if (values.json) printJson({ device: device.url, region: index, width, offset: '0x' + offset.toString(16), value: hexWord(value, width) });
    else process.stdout.write(`0x${offset.toString(16)} <- ${hexWord(value, width)}\n`);
    return ExitCode.OK;
  },
};
