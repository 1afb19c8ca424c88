// `vfiokit events DEVICE [--count N] [--timeout S] [--poll-ms MS] [--no-interrupts] [--json]`:
// watch a card's error and power/thermal events (card.events(), src/afu/events.ts), as OPAE's
// fpgaRegisterEvent(ERROR / POWER_THERMAL) samples do, until SIGINT/SIGTERM, N events or S seconds.
import type { Command } from '../command.js';
import { parseCommandLine, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { openDeviceArg, resolveDevice } from '../resolve-device.js';
import { shellQuote } from '../table.js';
import { Card } from '../../afu/card.js';
import type { CardEvent } from '../../afu/events.js';
import { TimeoutError } from '../../errors.js';

const hex = (v: bigint): string => `0x${v.toString(16)}`;

function describeEvent(e: CardEvent): string {
  if (e.type === 'power-thermal') {
    const unit = e.alarm.startsWith('temp') ? 'C' : 'W';
    return `power-thermal  ${e.alarm} ${e.tripped ? 'TRIPPED' : 'cleared'}: ${e.value} ${unit} (threshold ${e.threshold} ${unit})`;
  }
  if (e.source === 'port') return `error  port ${e.port}: PORT_ERROR ${hex(e.errors)}, first ${hex(e.firstError)} (${e.via})`;
  const x = e.errors;
  return `error  FME: FME_ERROR ${hex(x.fmeErrors)}, PCIe0 ${hex(x.pcie0Errors)}, PCIe1 ${hex(x.pcie1Errors)}, nonfatal ${hex(x.nonFatalErrors)}, catfatal ${hex(x.catFatalErrors)}, first ${hex(x.firstError)} (${e.via})`;
}

export const command: Command = {
  summary: 'watch a card\'s error and power/thermal events (fpgaRegisterEvent ERROR / POWER_THERMAL)',
  help: `usage: vfiokit events DEVICE [--count N] [--timeout S] [--poll-ms MS] [--no-interrupts] [--json]

Watches DEVICE (a PCI address, a device URL or a reservation id) and prints one line per event:
  error          the FME's global errors or a port's errors, decoded; noticed on the error
                 features' MSI-X vectors when the card has them, else by polling the registers
  power-thermal  an FME thermal alarm (temp-max, temp-crit) or power alarm (power-max,
                 power-crit) tripped or cleared; polled (the FME's thermal and power features
                 have no interrupt)
Alarms already tripped when watching starts are reported first. Runs until SIGINT/SIGTERM,
--count events or --timeout seconds.

options:
  --count N        stop after N events
  --timeout S      stop after S seconds (with --count: fail if fewer than N events came)
  --poll-ms MS     poll period of the alarms (and of errors without an interrupt), default 1000
  --no-interrupts  poll the error registers even when the card has error vectors
  --json           one JSON document per line per event: {type, source|alarm, ...}

exit codes: 0 ok, 1 --count events did not come within --timeout, 2 bad arguments, 4 device unavailable

examples:
  vfiokit events 0000:3b:00.0
  vfiokit events sim:n3000 --count 1 --timeout 10 --json`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, {
      count: { type: 'string' }, timeout: { type: 'string' }, 'poll-ms': { type: 'string' }, 'no-interrupts': { type: 'boolean' }, json: { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError('EUSAGE', `events takes one DEVICE (got ${positionals.length} arguments); see vfiokit help events`);
    const number = (name: string, text: string | undefined, min: number): number | undefined => {
      if (text === undefined) return undefined;
      const n = Number(text);
      if (!(text.trim() !== '' && Number.isFinite(n) && n >= min)) throw new UsageError('EUSAGE', `--${name} ${text} is not a number >= ${min}`);
      return n;
    };
    const count = number('count', values.count, 1);
    if (count !== undefined && !Number.isInteger(count)) throw new UsageError('EUSAGE', `--count ${values.count} is not a whole number`);
    const timeoutS = number('timeout', values.timeout, 0);
    const pollMs = number('poll-ms', values['poll-ms'], 1);
    const url = resolveDevice(positionals[0]);
    using device = await openDeviceArg(url);
    const card = Card.discover(device);
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    let timedOut = false;
    const timer = timeoutS === undefined ? undefined : setTimeout(() => { timedOut = true; stop.abort(); }, timeoutS * 1000);
    let seen = 0;
    try {
      using events = card.events({ pollMs, interrupts: !values['no-interrupts'], signal: stop.signal });
      if (!values.json) process.stdout.write(`${shellQuote(url)}: watching ${Object.entries(events.sources).map(([k, v]) => `${k} (${v})`).join(', ') || 'nothing: the card has no error, thermal or power feature'}\n`);
      for await (const e of events) {
        seen++;
        process.stdout.write(values.json ? `${JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? hex(v) : v))}\n` : `${describeEvent(e)}\n`);
        if (count !== undefined && seen >= count) break;
      }
    } finally {
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    if (count !== undefined && seen < count && timedOut) {
      throw new TimeoutError('EEVENTS_TIMEOUT', `${seen} of ${count} events came within ${timeoutS} s`, { seen, count, timeoutS });
    }
    return ExitCode.OK;
  },
};
