// `vfiokit errors DEVICE [--clear] [--inject N] [--json]`: the card's FME and port errors from its
// own registers, as OPAE's `fpgainfo errors all [--clear]` shows them (dfl-fme-error.c,
// dfl-afu-error.c). `vfiokit errors --codes [CODE...]`: vfiokit's own error codes, from the one
// registry (src/error-codes.ts).
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { openDeviceArg, resolveDevice } from '../resolve-device.js';
import { table, shellQuote } from '../table.js';
import { Card } from '../../afu/card.js';
import { clearFmeErrors, injectFmeErrors, readFmeErrors, type FmeErrors } from '../../afu/fme-errors.js';
import type { ClearedPortErrors } from '../../afu/port.js';
import { codeSpec } from '../../error-lookup.js';
import { errorCodeTable, exitCodeOf, type CodeRow } from '../error-classes.js';

export const command: Command = {
  summary: 'show (and clear) the FME and port errors, as fpgainfo errors does',
  help: `usage: vfiokit errors DEVICE [--clear] [--inject N] [--json]
       vfiokit errors --codes [CODE...] [--json]

Reads the error registers of DEVICE (a PCI address, a device URL or a reservation id): the FME
global error feature (FME_ERROR, PCIe0/1 errors, RAS non-fatal and catastrophic/fatal errors,
first and next error, injected errors; drivers/fpga/dfl-fme-error.c) and each port's error
feature (PORT_ERROR, PORT_FIRST_ERROR; dfl-afu-error.c). The OPAE equivalent is
fpgainfo errors all.

--clear clears the latched errors the kernel's sequences way: FME_ERROR and PCIe0/1 errors with
all errors masked meanwhile, each port's errors with the port held in reset (RAS errors are read
only). --inject N sets RAS_ERROR_INJECT[2:0] (1 catastrophic, 2 fatal, 4 non-fatal, 0 stop) to
test error handling.

--codes lists vfiokit's own error codes (the "code" of every error it reports, in --json
output and to programs) with their class, the exit code they give, the errno the management API
returns for them and what to do; with CODEs, only those.

options:
  --codes      list vfiokit's error codes instead of reading a card
  --clear      clear the FME and port errors (after showing them)
  --inject N   set the FME's error injection bits (0..7)
  --json       { device, fme: {fmeErrors, ...}, ports: [{port, errors, firstError}], cleared? }

exit codes: 0 ok, 1 a register access failed, 2 bad arguments, 4 device unavailable

examples:
  vfiokit errors 0000:3b:00.0
  vfiokit errors sim:n3000 --clear --json
  vfiokit errors --codes EARG_IRQ_RANGE EDEVICE_NO_RESET`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { codes: { type: 'boolean' }, clear: { type: 'boolean' }, inject: { type: 'string' }, json: { type: 'boolean' } });
    if (values.codes) return listCodes(positionals, values.json === true);
    if (positionals.length !== 1) throw new UsageError('EUSAGE', `errors takes one DEVICE (got ${positionals.length} arguments); see vfiokit help errors`);
    const inject = values.inject === undefined ? undefined : Number(values.inject);
    if (inject !== undefined && !(Number.isInteger(inject) && inject >= 0 && inject <= 7)) throw new UsageError('EUSAGE', `--inject ${values.inject} is not 0..7 (1 catastrophic, 2 fatal, 4 non-fatal)`);
    const url = resolveDevice(positionals[0]);
    using device = await openDeviceArg(url);
    const card = Card.discover(device);
    if (!card.fme) throw new UsageError('EUSAGE', `${url} has no FME; errors are read from the FME's and ports' error features`);
    if (inject !== undefined) injectFmeErrors(card.fme, inject);
    const fme = readFmeErrors(card.fme);
    const ports = card.ports.map((p) => ({ port: p.number, ...p.readErrors() }));
    let cleared: { fme: Partial<FmeErrors>; ports: ({ port: number } & ClearedPortErrors)[] } | undefined;
    if (values.clear) cleared = { fme: clearFmeErrors(card.fme), ports: card.ports.map((p) => ({ port: p.number, ...p.clearErrors() })) };
    if (values.json) {
      printJson({ device: device.url, fme, ports, ...(cleared ? { cleared } : {}) });
      return ExitCode.OK;
    }
    const hex = (v: bigint): string => `0x${v.toString(16)}`;
    const lines = [`${shellQuote(device.url)}`, '//****** FME ERRORS ******//', table(['register', 'value'], [
      ['Errors', hex(fme.fmeErrors)], ['Next Error', hex(fme.nextError)], ['First Error', hex(fme.firstError)],
      ['PCIe0 Errors', hex(fme.pcie0Errors)], ['PCIe1 Errors', hex(fme.pcie1Errors)],
      ['Catfatal Errors', hex(fme.catFatalErrors)], ['Nonfatal Errors', hex(fme.nonFatalErrors)], ['Inject Errors', hex(fme.injectErrors)],
    ], { indent: '  ' })];
    for (const p of ports) {
      lines.push(`//****** PORT ${p.port} ERRORS ******//`, table(['register', 'value'], [['Errors', hex(p.errors)], ['First Error', hex(p.firstError)]], { indent: '  ' }));
    }
    if (cleared) lines.push(`cleared: FME ${hex(cleared.fme.fmeErrors ?? 0n)}, PCIe0 ${hex(cleared.fme.pcie0Errors ?? 0n)}, PCIe1 ${hex(cleared.fme.pcie1Errors ?? 0n)}${cleared.ports.map((p) => `, port ${p.port} ${hex(p.errors)}`).join('')}`);
    process.stdout.write(lines.join('\n') + '\n');
    return ExitCode.OK;
  },
};

/** `errors --codes [CODE...]`: the registry's rows (all, or the ones asked for). */
function listCodes(codes: string[], json: boolean): number {
  const all = errorCodeTable();
  const unknown = codes.filter((c) => !all.some((r) => r.code === c) && !codeSpec(c));
  if (unknown.length) throw new UsageError('EUSAGE', `unknown error code${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; vfiokit errors --codes lists them all`);
  const rows = codes.length === 0 ? all : codes.map((c) => all.find((r) => r.code === c) ?? resolvedRow(c));
  if (json) printJson(rows);
  else process.stdout.write(table(['code', 'class', 'exit', 'errno', 'what to do'], rows.map((r) => [r.code, r.class, String(r.exitCode), r.errno, r.advice])) + '\n');
  return ExitCode.OK;
}

/** The row of a family member (EVFIO_EBUSY, EACCES...). */
function resolvedRow(code: string): CodeRow {
  const s = codeSpec(code)!;
  return { code, class: s.class, exitCode: exitCodeOf(s.class, code), errno: s.errno, advice: s.advice };
}
