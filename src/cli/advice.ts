// The CLI's advice for library errors, keyed by error code. Library messages say what to do in
// API terms (bindDriver, free(device, { force: true }), ...); when the CLI reports one, it adds the
// command that does it. One place for every `vfiokit ...` a library error should lead to.
import type { VfiokitError } from '../errors.js';
import { shellQuote } from './table.js';
import { contentTypeKeys, Subtype } from '../dfl/regs/signed-image-layout.js';

type Details = Readonly<Record<string, unknown>>;
type Advice = (d: Details) => string | undefined;

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const q = (v: unknown, fallback: string): string => (text(v) === undefined ? fallback : shellQuote(text(v)!));
/** The PCI address in a VFIO error's details (device "vfio:BDF") or a PCI error's (bdf). */
const bdf = (d: Details): string => q(text(d.bdf) ?? text(d.device)?.replace(/^vfio:/, ''), 'BDF');

const bind: Advice = (d) => `as root, run: vfiokit bind ${bdf(d)}`;
const rebootBmc: Advice = (d) => `run: vfiokit reboot ${q(d.device, 'DEVICE')} --target bmc`;
const backends: Advice = () => 'run: vfiokit backends';

const ADVICE: Record<string, Advice> = {
  EPCI_NO_DEVICE: () => 'run: vfiokit ls --all',
  EARG_BDF: () => 'list PCI addresses with: vfiokit ls --all',
  EPCI_RESTORE_FAILED: (d) => `run: vfiokit bind ${bdf(d)} --driver ${q(d.driver, 'DRIVER')}`,
  EVFIO_NOT_BOUND: bind,
  EVFIO_NO_NODE: bind,
  EVFIO_OPEN_ENOENT: (d) => (text(d.path)?.startsWith('/dev/iommu') ? undefined : bind(d)),
  EVFIO_GROUP_NOT_VIABLE: () => 'run for each member named: vfiokit bind BDF, or vfiokit unbind BDF',
  ESTALE: (d) => `run: vfiokit free ${q(d.device, 'DEVICE')} --force`,
  ELOCK_CORRUPT: (d) => (text(d.device) ? `run: vfiokit free ${q(d.device, 'DEVICE')} --force` : undefined),
  ENOTRESERVED: (d) => `run: vfiokit reserve ${q(d.device, 'DEVICE')}`,
  ECONFIRM: () => 'in the CLI: add --yes',
  // flashable.ts: an update signed with the PR key is a PR-region bitstream, not a flash image.
  EIMAGE_TYPE: (d) => (contentTypeKeys[d.contentType as number] === 'PR' && d.subtype === Subtype.UPDATE ? 'load it with: vfiokit pr DEVICE FILE.gbs' : undefined),
  // afu/thermal.ts, afu/power.ts: no FME feature; the BMC's sensors have the figures.
  EFME_NO_THERMAL: () => 'run: vfiokit info DEVICE bmc',
  EFME_NO_POWER: () => 'run: vfiokit info DEVICE bmc',
  EFLASH_AUTH: () => 'run: vfiokit image-info IMAGE',
  ERESERVED: () => 'run: vfiokit reservations',
  EFLASH_ABANDONED: (d) => `run: vfiokit cancel ${q(d.device, 'DEVICE')}`,
  EFLASH_STOPPED: (d) => `run: vfiokit status ${q(d.device, 'DEVICE')}`,
  EFLASH_TOO_LATE: (d) => `run: vfiokit status ${q(d.device, 'DEVICE')}`,
  EFLASH_HW: rebootBmc,
  EFLASH_BMC_TIMEOUT: rebootBmc,
  EDEVICE_BACKEND: backends,
  EDEVICE_SCHEME: backends,
  // vfio-user connect (vfio-user/client.ts): nothing listens on the socket.
  ENOENT: (d) => vfioUserServer(d),
  ECONNREFUSED: (d) => vfioUserServer(d),
};

function vfioUserServer(d: Details): string | undefined {
  return d.server === 'vfio-user' ? `e.g. run: vfiokit serve sim:n3000 --socket ${q(d.path, 'PATH')}` : undefined;
}

/** The command that helps with `err`, or undefined. */
export function cliAdvice(err: VfiokitError): string | undefined {
  return ADVICE[err.code]?.(err.details);
}
