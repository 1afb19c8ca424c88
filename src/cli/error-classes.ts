// The error classes of src/error-codes.ts by name, resolved (the CLI is the one layer that sees
// them all), and the registry as the CLI shows it: each code with its class, its exit code (what
// exitCodeFor gives an error of that class and code), its errno and what to do.
import { ArgumentError, DeviceError, FormatError, RegionError, TimeoutError, VfiokitError } from '../errors.js';
import { AvalonError } from '../afu/bmc/avalon.js';
import { ConfigError } from '../device/config.js';
import { DeviceInUseError, PciError } from '../pci/errors.js';
import { DflError } from '../dfl/errors.js';
import { DmaError, IovaExhaustedError } from '../dma/errors.js';
import { DmaRequestError } from '../vfio-user/server-dma.js';
import { FlashError } from '../afu/errors.js';
import { GbsError } from '../afu/pr/gbs.js';
import { GroupNotViableError, VfioError } from '../vfio/errors.js';
import { ImageError } from '../afu/image/signed-image.js';
import { LockError } from '../lock/lock-file.js';
import { PluginError } from '../device/plugins.js';
import { PrError } from '../afu/pr/partial-reconfiguration.js';
import { ReservationError } from '../lock/reservations.js';
import { RpcError } from '../daemon/rpc-errors.js';
import { SysError } from '../sys/sys-error.js';
import { TransitionError } from '../lock/states.js';
import { UsageError } from './output.js';
import { VfioUserConnectionError, VfioUserFormatError, VfioUserRemoteError } from '../vfio-user/protocol.js';
import { ERROR_CODES, ERROR_CODE_FAMILIES, type ErrorClassName, type RegisteredCode } from '../error-codes.js';
import { exitCodeFor } from './output.js';

export const ERROR_CLASSES = {
  ArgumentError,
  AvalonError,
  ConfigError,
  DeviceError,
  DeviceInUseError,
  DflError,
  DmaError,
  DmaRequestError,
  FlashError,
  FormatError,
  GbsError,
  GroupNotViableError,
  ImageError,
  IovaExhaustedError,
  LockError,
  PciError,
  PluginError,
  PrError,
  RegionError,
  ReservationError,
  RpcError,
  SysError,
  TimeoutError,
  TransitionError,
  UsageError,
  VfioError,
  VfioUserConnectionError,
  VfioUserFormatError,
  VfioUserRemoteError,
  VfiokitError,
} as const satisfies Record<ErrorClassName, abstract new (...args: never[]) => VfiokitError>;

/** The CLI exit code of an error of `className` with `code` (as exitCodeFor decides it). */
export function exitCodeOf(className: ErrorClassName, code: string): number {
  const probe = Object.create(ERROR_CLASSES[className].prototype as object) as VfiokitError;
  Object.defineProperty(probe, 'code', { value: code });
  return exitCodeFor(probe);
}

export interface CodeRow {
  code: string;
  class: ErrorClassName;
  exitCode: number;
  errno: string;
  advice: string;
}

/** Every listed code, then the families (EVFIO_<errno>, EVFIO_OPEN_<errno>, <errno>), sorted by code. */
export function errorCodeTable(): CodeRow[] {
  const rows: CodeRow[] = (Object.keys(ERROR_CODES) as RegisteredCode[]).sort().map((code) => {
    const spec = ERROR_CODES[code];
    return { code, class: spec.class, exitCode: exitCodeOf(spec.class, code), errno: spec.errno, advice: spec.advice };
  });
  for (const f of ERROR_CODE_FAMILIES) rows.push({ code: f.pattern, class: f.class, exitCode: exitCodeOf(f.class, f.pattern), errno: '<errno>', advice: f.advice });
  return rows;
}

/** docs/error-codes.md: the table, generated (scripts/error-codes.mjs). */
export function renderErrorCodesMarkdown(): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from src/error-codes.ts by scripts/error-codes.mjs; do not edit. -->',
    '',
    'Every error vfiokit reports carries one of these codes (`err.code` in the library, `error.code`',
    'in `--json` output, `error.data.code` from the daemon). The exit code is the `vfiokit` command\'s',
    '(README "Exit codes"); errno is what the management API returns (negated) and the Python module',
    'maps to. `vfiokit errors --codes [CODE...]` prints the same table.',
    '',
    '| code | class | exit | errno | what to do |',
    '|---|---|---|---|---|',
    ...errorCodeTable().map((r) => `| \`${r.code}\` | ${r.class} | ${r.exitCode} | ${r.errno} | ${cell(r.advice)} |`),
    '',
  ];
  return lines.join('\n');
}

/** python/vfiokit/_codes.py: each listed code's errno name, generated (scripts/error-codes.mjs). */
export function renderPythonCodes(): string {
  const entries = (Object.keys(ERROR_CODES) as RegisteredCode[]).sort().map((c) => `    "${c}": "${ERROR_CODES[c].errno}",`);
  return [
    '"""The errno name of each vfiokit error code (generated from src/error-codes.ts by',
    'scripts/error-codes.mjs; do not edit). A code that is itself an errno name (EBUSY), or a',
    'VFIO ioctl\'s EVFIO_<errno> / EVFIO_OPEN_<errno>, means that errno."""',
    '',
    'CODE_ERRNO = {',
    ...entries,
    '}',
    '',
    '',
    'def errno_name(code):',
    '    """The errno name for a vfiokit error code (None when it is not one)."""',
    '    if code in CODE_ERRNO:',
    '        return CODE_ERRNO[code]',
    '    for prefix in ("EVFIO_OPEN_", "EVFIO_CHOWN_", "EVFIO_"):',
    '        if code.startswith(prefix):',
    '            return code[len(prefix):]',
    '    return code if code.startswith("E") else None',
    '',
  ].join('\n');
}
