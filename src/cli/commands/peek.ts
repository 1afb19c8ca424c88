// `vfiokit peek DEVICE OFFSET`: read registers of a BAR (32 or 64 bits, one or several).
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { openDeviceArg } from '../resolve-device.js';
import { parseRegion, parseWidth, parseOffset, hexWord } from '../register-args.js';

/** Upper bound on --count, so a typo does not dump megabytes to the terminal. */
const MAX_COUNT = 65536;

export const command: Command = {
  summary: 'read device registers (BAR offset, 32/64-bit, --count N)',
  help: `usage: vfiokit peek DEVICE OFFSET [-r REGION] [-a 32|64] [--count N] [--json]

Reads the register at OFFSET (hex 0x.. or decimal) of a BAR of DEVICE (a PCI address, a device
URL or a reservation id) with one full-width access, or N consecutive registers with --count.
Offsets must be aligned to the access width. Reading never needs a reservation.

options:
  -r, --region R   BAR number 0..5 (or bar0..bar5), default 0
  -a, --access W   access width in bits: 64 (default) or 32
  -n, --count N    read N consecutive registers (default 1, at most ${MAX_COUNT})
  --json           { device, region, width, registers: [{ offset, value }] } with hex strings

exit codes: 0 ok, 1 access refused (outside the BAR, misaligned), 2 bad arguments, 4 device unavailable

examples:
  vfiokit peek sim:n3000 0x0                 # FME DFH
  vfiokit peek 0000:3b:00.0 0x40000 -n 4     # port DFH and the three words after it
  vfiokit peek sim:n3000 0x8 -a 32 --json`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      region: { type: 'string', short: 'r' },
      access: { type: 'string', short: 'a' },
      count: { type: 'string', short: 'n' },
      json: { type: 'boolean' },
    });
    if (positionals.length !== 2) throw new UsageError('EUSAGE', `peek takes DEVICE and OFFSET (got ${positionals.length} arguments); see --help`);
    const width = parseWidth(values.access);
    const offset = parseOffset(positionals[1]);
    const count = values.count === undefined ? 1 : parseOffset(values.count, '--count');
    if (count < 1 || count > MAX_COUNT) throw new UsageError('EUSAGE', `--count must be 1..${MAX_COUNT}, got ${count}`);
    using device = await openDeviceArg(positionals[0]);
    const index = parseRegion(values.region, device);
    const region = device.region(index);
    const step = width / 8;
    const registers: { offset: string; value: string }[] = [];
    for (let i = 0; i < count; i++) {
      const at = offset + i * step;
      const value = width === 64 ? region.read64(at) : region.read32(at);
      registers.push({ offset: '0x' + at.toString(16), value: hexWord(value, width) });
    }
    if (values.json) printJson({ device: device.url, region: index, width, registers });
    else for (const r of registers) process.stdout.write(`${r.offset.padStart(10)}: ${r.value}\n`);
    return ExitCode.OK;
  },
};
