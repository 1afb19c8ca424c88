// The one list of vfiokit's error codes, as Node's lib/internal/errors.js keeps its ERR_* codes:
// every code a VfiokitError carries is a key here (or one of the errno families below), with
//   class    the error class thrown with it (by name: the classes live in their layers' errors.ts;
//            src/cli/error-classes.ts resolves every name, and with it the CLI exit code),
//   errno    the errno that says the same thing (the management API's -errno, the Python module),
//   advice   what to do about it (`vfiokit errors --codes`, docs/error-codes.md),
//   message  for the codes of the shared checks (src/device/checks.ts, src/mmio/checks.ts): the
//            message template, with typed arguments (errorMessage / codeError).
// VfiokitErrorCode, the type of every `code`, is derived from this table, so a throw with a code
// that is not listed does not compile. docs/error-codes.md and python/vfiokit/_codes.py are
// generated from it (test/errors/error-codes.test.ts checks both, and every throw site's class).
// Looking codes up and building their errors: src/error-lookup.ts.
import { constants } from 'node:os';

/** An errno name Node knows (EINVAL, EBUSY, ...). */
export type ErrnoName = keyof typeof constants.errno;

/** The error classes codes are thrown with (each defined in its layer's errors.ts). */
export type ErrorClassName =
  | 'ArgumentError'
  | 'AvalonError'
  | 'ConfigError'
  | 'DeviceError'
  | 'DeviceInUseError'
  | 'DflError'
  | 'DmaError'
  | 'DmaRequestError'
  | 'FlashError'
  | 'FormatError'
  | 'GbsError'
  | 'GroupNotViableError'
  | 'ImageError'
  | 'IovaExhaustedError'
  | 'LockError'
  | 'PciError'
  | 'PluginError'
  | 'PrError'
  | 'RegionError'
  | 'ReservationError'
  | 'RpcError'
  | 'SysError'
  | 'TimeoutError'
  | 'TransitionError'
  | 'UsageError'
  | 'VfioError'
  | 'VfioUserConnectionError'
  | 'VfioUserFormatError'
  | 'VfioUserRemoteError'
  | 'VfiokitError';

export interface CodeSpec {
  readonly class: ErrorClassName;
  readonly errno: ErrnoName;
  readonly advice: string;
  readonly message?: (args: never) => string;
}

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;
/** "start..end" of a vector span as the caller gave it (numbers or not). */
const span = (start: unknown, count: unknown): string =>
  typeof start === 'number' && typeof count === 'number' ? `${start}..${start + count - 1}` : `${String(start)} (+${String(count)})`;

export const ERROR_CODES = {
  EAFU_BOUNDS: { class: 'RegionError', errno: 'EIO', advice: 'keep AFU register accesses inside its MMIO space' },
  EARG_ADDRESS: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_ALIGNMENT: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_BATCH: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the access batch the message names (offsets, widths and values of each step)' },
  EARG_BDF: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_BMC_FAULT: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_BMC_SECURITY: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_BMC_SENSOR: { class: 'ArgumentError', errno: 'EINVAL', advice: 'name a sensor of the card\'s BMC table (the message lists them)' },
  EARG_BMC_TIME_SCALE: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_BMC_TIMING: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_BUDGET: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_CHUNK: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_CONFIG: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_DATA512: { class: 'ArgumentError', errno: 'EINVAL', advice: 'pass 64 bytes for a 512-bit write, at a 64-byte aligned offset inside the region' },
  EARG_DMA_ACCESS: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the DMA call: a page-aligned bigint IOVA inside iovaRanges(), a positive size that is a multiple of the IOMMU page, read and/or write access' },
  EARG_DMA_ALIGN: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the DMA call: a page-aligned bigint IOVA inside iovaRanges(), a positive size that is a multiple of the IOMMU page, read and/or write access', message: (a: { device: string; iova: bigint; page: number }): string => `${a.device}: DMA IOVA ${hex(a.iova)} is not aligned to the ${a.page}-byte IOMMU page` },
  EARG_DMA_IOVA: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the DMA call: a page-aligned bigint IOVA inside iovaRanges(), a positive size that is a multiple of the IOMMU page, read and/or write access', message: (a: { device: string; iova: unknown }): string => `${a.device}: DMA IOVA ${String(a.iova)} is not a bigint in 0..2^64-1: pass it as a bigint, e.g. 0x100000n` },
  EARG_DMA_OFFSET: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the DMA call: a page-aligned bigint IOVA inside iovaRanges(), a positive size that is a multiple of the IOMMU page, read and/or write access' },
  EARG_DMA_SIZE: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the DMA call: a page-aligned bigint IOVA inside iovaRanges(), a positive size that is a multiple of the IOMMU page, read and/or write access', message: (a: { device: string; size: unknown; page: number }): string => `${a.device}: DMA map of ${String(a.size)} bytes: the size must be a positive multiple of the ${a.page}-byte IOMMU page` },
  EARG_DMA_TARGET: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the DMA call: a page-aligned bigint IOVA inside iovaRanges(), a positive size that is a multiple of the IOMMU page, read and/or write access' },
  EARG_DMA_UNMAP: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the DMA call: a page-aligned bigint IOVA inside iovaRanges(), a positive size that is a multiple of the IOMMU page, read and/or write access' },
  EARG_FD: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_FDS: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_FEATURE_KEY: { class: 'ArgumentError', errno: 'EINVAL', advice: 'register feature drivers under keys like \'fme:0x5\' or \'port:0x10\'' },
  EARG_GRANULE: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_HUGE_PAGES: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_INTERVAL: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_IOMMU: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_IOVA: { class: 'ArgumentError', errno: 'EINVAL', advice: 'pass IOVAs as bigints inside the mapper\'s iovaRanges(), aligned to its page size' },
  EARG_IOVA_ALIGN: { class: 'ArgumentError', errno: 'EINVAL', advice: 'pass IOVAs as bigints inside the mapper\'s iovaRanges(), aligned to its page size' },
  EARG_IOVA_LIMIT: { class: 'ArgumentError', errno: 'EINVAL', advice: 'pass IOVAs as bigints inside the mapper\'s iovaRanges(), aligned to its page size' },
  EARG_IOVA_RANGE: { class: 'ArgumentError', errno: 'EINVAL', advice: 'pass IOVAs as bigints inside the mapper\'s iovaRanges(), aligned to its page size' },
  EARG_IRQ_INDEX: { class: 'ArgumentError', errno: 'EINVAL', advice: 'ask irqInfo(index) for the index\'s vector count and arm vectors inside it', message: (a: { device: string; index: unknown; count: number }): string => `${a.device}: IRQ index ${String(a.index)} is not 0..${a.count - 1}` },
  EARG_IRQ_RANGE: { class: 'ArgumentError', errno: 'EINVAL', advice: 'ask irqInfo(index) for the index\'s vector count and arm vectors inside it', message: (a: { device: string; index: number; start: unknown; count: unknown; available: number }): string => `${a.device}: IRQ index ${a.index} has ${a.available} vector(s); vectors ${span(a.start, a.count)} do not exist${a.available > 0 ? `: arm vectors inside 0..${a.available - 1}` : ''}` },
  EARG_LENGTH: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_MASK: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_MODE: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_OFFSET: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_PAGE_SIZE: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_PATH: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_PR_TARGET: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the PR target the message names (the card\'s FME PR feature and port)' },
  EARG_REGION: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)', message: (a: { device: string; index: unknown; count: number }): string => `${a.device}: region index ${String(a.index)} is not 0..${a.count - 1}` },
  EARG_SIM_CONTROL: { class: 'ArgumentError', errno: 'EINVAL', advice: 'a simulated-card option or control is out of range: fix the value the message names (the sim URL options are listed in docs/cli.md)' },
  EARG_SIM_FAULT: { class: 'ArgumentError', errno: 'EINVAL', advice: 'a simulated-card option or control is out of range: fix the value the message names (the sim URL options are listed in docs/cli.md)' },
  EARG_SIM_MODEL: { class: 'ArgumentError', errno: 'EINVAL', advice: 'a simulated-card option or control is out of range: fix the value the message names (the sim URL options are listed in docs/cli.md)' },
  EARG_SIM_OPTION: { class: 'ArgumentError', errno: 'EINVAL', advice: 'a simulated-card option or control is out of range: fix the value the message names (the sim URL options are listed in docs/cli.md)' },
  EARG_SIM_PORT: { class: 'ArgumentError', errno: 'EINVAL', advice: 'a simulated-card option or control is out of range: fix the value the message names (the sim URL options are listed in docs/cli.md)' },
  EARG_SIM_POWER: { class: 'ArgumentError', errno: 'EINVAL', advice: 'a simulated-card option or control is out of range: fix the value the message names (the sim URL options are listed in docs/cli.md)' },
  EARG_SIM_THERMAL: { class: 'ArgumentError', errno: 'EINVAL', advice: 'a simulated-card option or control is out of range: fix the value the message names (the sim URL options are listed in docs/cli.md)' },
  EARG_SIM_VARIANT: { class: 'ArgumentError', errno: 'EINVAL', advice: 'a simulated-card option or control is out of range: fix the value the message names (the sim URL options are listed in docs/cli.md)' },
  EARG_SIM_VECTOR: { class: 'ArgumentError', errno: 'EINVAL', advice: 'a simulated-card option or control is out of range: fix the value the message names (the sim URL options are listed in docs/cli.md)' },
  EARG_SIZE: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_SPAN: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_TIMEOUT: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_URL: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_VALUE: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EARG_WORDS: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the argument the message names (a caller\'s mistake, not the device\'s)' },
  EAVALON_CHANNEL: { class: 'AvalonError', errno: 'EINVAL', advice: 'the BMC\'s SPI-Avalon bridge sent bytes that do not frame: retry; if it repeats, reboot the BMC' },
  EAVALON_ENCODE: { class: 'AvalonError', errno: 'EINVAL', advice: 'the BMC\'s SPI-Avalon bridge sent bytes that do not frame: retry; if it repeats, reboot the BMC' },
  EAVALON_FRAMING: { class: 'AvalonError', errno: 'EINVAL', advice: 'the BMC\'s SPI-Avalon bridge sent bytes that do not frame: retry; if it repeats, reboot the BMC' },
  EAVALON_OVERFLOW: { class: 'AvalonError', errno: 'EINVAL', advice: 'the BMC\'s SPI-Avalon bridge sent bytes that do not frame: retry; if it repeats, reboot the BMC' },
  EAVALON_RESPONSE: { class: 'AvalonError', errno: 'EINVAL', advice: 'the BMC\'s SPI-Avalon bridge sent bytes that do not frame: retry; if it repeats, reboot the BMC' },
  EBENCH_OFFSET: { class: 'ArgumentError', errno: 'EINVAL', advice: 'pick a benchmark offset inside the region' },
  EBMC_ADDRESS: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the BMC access the message names (address, length, batch)' },
  EBMC_ARGS: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the BMC access the message names (address, length, batch)' },
  EBMC_BATCH: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the BMC access the message names (address, length, batch)' },
  EBMC_BATCH_BUDGET: { class: 'TimeoutError', errno: 'ETIMEDOUT', advice: 'the BMC did not finish the batched SPI transactions in time: retry, then reboot the BMC' },
  EBMC_CLOSED: { class: 'ArgumentError', errno: 'EINVAL', advice: 'the BMC handle was closed: open the card\'s BMC again' },
  EBMC_LEGACY: { class: 'DeviceError', errno: 'ENODEV', advice: 'the card runs a legacy (non-secure) BMC: secure update and reload need the secure BMC firmware' },
  EBMC_LENGTH: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the BMC access the message names (address, length, batch)' },
  EBMC_NO_SENSORS: { class: 'DeviceError', errno: 'ENODEV', advice: 'this BMC\'s sensor table is not known (N3000 and D5005 are): read the sensors through the kernel\'s hwmon driver' },
  EBMC_REH_SIZE: { class: 'DeviceError', errno: 'EIO', advice: 'the BMC\'s security data is corrupt: reprogram the root entry hash or replace the BMC firmware' },
  EBMC_SPI_TIMEOUT: { class: 'TimeoutError', errno: 'ETIMEDOUT', advice: 'the BMC did not answer on SPI: retry, then reboot the BMC (vfiokit reboot --target bmc)' },
  ECONFIG_JSON: { class: 'ConfigError', errno: 'EINVAL', advice: 'fix the configuration file the message names (path and key)' },
  ECONFIG_MISSING: { class: 'ConfigError', errno: 'EINVAL', advice: 'fix the configuration file the message names (path and key)' },
  ECONFIG_READ: { class: 'ConfigError', errno: 'EINVAL', advice: 'fix the configuration file the message names (path and key)' },
  ECONFIG_SHAPE: { class: 'ConfigError', errno: 'EINVAL', advice: 'fix the configuration file the message names (path and key)' },
  ECONFIG_UNKNOWN: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the configuration file the message names (path and key)' },
  ECONFIRM: { class: 'ArgumentError', errno: 'EINVAL', advice: 'the image cannot be undone: confirm it (vfiokit flash --yes, or confirm: true)' },
  EDEVICE_BACKEND: { class: 'DeviceError', errno: 'ENODEV', advice: 'the backend for this device could not be used: see the message, then check the plugin or the kernel modules' },
  EDEVICE_CLOSE: { class: 'DeviceError', errno: 'ENODEV', advice: 'closing the device failed part way: the message names the step; the fd is closed anyway' },
  EDEVICE_CLOSED: { class: 'DeviceError', errno: 'ENODEV', advice: 'the device was closed: open it again', message: (a: { device: string; what: string }): string => `${a.what} on ${a.device}: the device is closed; open it again` },
  EDEVICE_NOT_FOUND: { class: 'DeviceError', errno: 'ENODEV', advice: 'check the device address (vfiokit ls lists the cards)' },
  EDEVICE_NO_REGION: { class: 'DeviceError', errno: 'ENODEV', advice: 'the device has no such region (size 0): check the BAR number (lspci -vv shows the device\'s BARs)', message: (a: { device: string; index: number }): string => `${a.device}: region ${a.index} does not exist on this device (size 0): check the BAR number (lspci -vv shows the device's BARs)` },
  EDEVICE_NO_RESET: { class: 'DeviceError', errno: 'EOPNOTSUPP', advice: 'the device offers no reset (no FLR, PM or bus reset): power-cycle it or reset the slot', message: (a: { device: string }): string => `${a.device} has no reset it can do (no FLR, PM or bus reset): power-cycle it or reset the slot` },
  EDEVICE_REGION: { class: 'DeviceError', errno: 'ENODEV', advice: 'use the access path the message names (config space through configRead/configWrite)' },
  EDEVICE_SCHEME: { class: 'DeviceError', errno: 'ENODEV', advice: 'use a known device scheme (vfiokit ls --backends lists them) or load the plugin that provides it' },
  EDEVICE_URL: { class: 'DeviceError', errno: 'EINVAL', advice: 'fix the device URL (a PCI address, sim:<variant>[?options], vfio-user:<socket>, or a reservation id)' },
  EDFL_AFU_SIZE: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_CYCLE: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_EXTCAP_LOOP: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_FEATURE_SIZE: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_HEADER_SHORT: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_MISALIGNED: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_NEXT_OUTSIDE: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_NO_LIST: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_ORPHAN: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_OUTSIDE: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_PARAM_NEXT: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_PARAM_OVERRUN: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_PORT_BAR: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_PORT_COUNT: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_PORT_OFFSET: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_TOO_MANY: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_VSEC_BAR: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_VSEC_COUNT: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_VSEC_DUP_BAR: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_VSEC_EMPTY: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_VSEC_OFFSET: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDFL_ZERO_SIZE: { class: 'DflError', errno: 'EINVAL', advice: 'the card\'s Device Feature List is malformed: check that the FPGA image (FIM) matches the card, and dump the list (vfiokit dfl DEVICE) for its vendor' },
  EDMA_HUGEPAGES_EXHAUSTED: { class: 'DmaError', errno: 'EIO', advice: 'reserve huge pages (/proc/sys/vm/nr_hugepages) or allocate without hugePages' },
  EDMA_HUGEPAGES_UNSUPPORTED: { class: 'DmaError', errno: 'EIO', advice: 'reserve huge pages (/proc/sys/vm/nr_hugepages) or allocate without hugePages' },
  EDMA_IOVA_BUSY: { class: 'IovaExhaustedError', errno: 'EIO', advice: 'free DMA buffers or map fewer, larger ones; pick an IOVA inside iovaRanges()' },
  EDMA_IOVA_SPACE: { class: 'IovaExhaustedError', errno: 'EIO', advice: 'free DMA buffers or map fewer, larger ones; pick an IOVA inside iovaRanges()' },
  EDMA_MAP: { class: 'DmaError', errno: 'EIO', advice: 'the DMA mapping could not be made or undone: the message names the IOVA and size; check them against the existing mappings' },
  EDMA_MAPPINGS: { class: 'IovaExhaustedError', errno: 'EIO', advice: 'unmap buffers you no longer need: the mapping budget is used up' },
  EDMA_MAP_EXISTS: { class: 'DmaError', errno: 'EIO', advice: 'the DMA mapping could not be made or undone: the message names the IOVA and size; check them against the existing mappings' },
  EDMA_MAP_RANGE: { class: 'DmaError', errno: 'EIO', advice: 'the DMA mapping could not be made or undone: the message names the IOVA and size; check them against the existing mappings' },
  EDMA_MEMFD: { class: 'DmaError', errno: 'EIO', advice: 'the DMA mapping could not be made or undone: the message names the IOVA and size; check them against the existing mappings' },
  EDMA_MMAP: { class: 'DmaError', errno: 'EIO', advice: 'the DMA mapping could not be made or undone: the message names the IOVA and size; check them against the existing mappings' },
  EDMA_NOT_ALLOCATED: { class: 'DmaError', errno: 'EIO', advice: 'the DMA mapping could not be made or undone: the message names the IOVA and size; check them against the existing mappings' },
  EDMA_UNAVAILABLE: { class: 'DmaError', errno: 'EIO', advice: 'this device cannot do DMA (e.g. VFIO no-IOMMU mode): use a system with an IOMMU' },
  EDMA_UNMAP: { class: 'DmaError', errno: 'EIO', advice: 'the DMA mapping could not be made or undone: the message names the IOVA and size; check them against the existing mappings' },
  EDMA_UNMAP_ARGS: { class: 'DmaError', errno: 'EIO', advice: 'the DMA mapping could not be made or undone: the message names the IOVA and size; check them against the existing mappings' },
  EDMA_UNMAP_NONE: { class: 'DmaError', errno: 'EIO', advice: 'the DMA mapping could not be made or undone: the message names the IOVA and size; check them against the existing mappings' },
  EDMA_UNMAP_SPLIT: { class: 'DmaError', errno: 'EIO', advice: 'the DMA mapping could not be made or undone: the message names the IOVA and size; check them against the existing mappings' },
  EEVENTS_TIMEOUT: { class: 'TimeoutError', errno: 'ETIMEDOUT', advice: 'fewer events came than asked for in the time given: wait longer, or check the card raises them' },
  EFLASH: { class: 'VfiokitError', errno: 'EIO', advice: 'retry; if the BMC keeps failing, reboot it (vfiokit reboot --target bmc) and contact the card\'s vendor' },
  EFLASH_ABANDONED: { class: 'FlashError', errno: 'EIO', advice: 'a killed flash left the BMC waiting: vfiokit cancel DEVICE, then flash again' },
  EFLASH_AUTH: { class: 'FlashError', errno: 'EIO', advice: 'the BMC rejected the image: check it with vfiokit image-info (corrupt, or signed with a key this card does not trust)' },
  EFLASH_BMC_TIMEOUT: { class: 'FlashError', errno: 'EIO', advice: 'retry; if the BMC keeps failing, reboot it (vfiokit reboot --target bmc) and contact the card\'s vendor' },
  EFLASH_CANCEL_STATE: { class: 'VfiokitError', errno: 'EBUSY', advice: 'an update can only be cancelled while the host writes the staging area (READY); wait for the BMC to finish (vfiokit status)' },
  EFLASH_DIR: { class: 'DeviceError', errno: 'ENODEV', advice: 'fix the owner or mode of the flash state directory ($VFIOKIT_STATE_DIR/flash), or point VFIOKIT_STATE_DIR elsewhere' },
  EFLASH_ERASE: { class: 'FlashError', errno: 'EIO', advice: 'retry; if the BMC keeps failing, reboot it (vfiokit reboot --target bmc) and contact the card\'s vendor' },
  EFLASH_HW: { class: 'FlashError', errno: 'EIO', advice: 'retry; if the BMC keeps failing, reboot it (vfiokit reboot --target bmc) and contact the card\'s vendor' },
  EFLASH_STOPPED: { class: 'FlashError', errno: 'EIO', advice: 'the flash stopped for another reason: vfiokit status shows its last error' },
  EFLASH_TOO_LATE: { class: 'FlashError', errno: 'EIO', advice: 'the update went past the point of no return: let it finish (vfiokit status)' },
  EFLASH_WEAROUT: { class: 'FlashError', errno: 'EIO', advice: 'the BMC throttles updates to protect its flash: wait and retry later' },
  EFME_NO_ERROR_FEATURE: { class: 'DeviceError', errno: 'ENODEV', advice: 'the card\'s FME has no global error feature: its FIM does not report errors' },
  EFME_NO_POWER: { class: 'DeviceError', errno: 'ENODEV', advice: 'the card\'s FME has no power management feature: read board power through the BMC sensors' },
  EFME_NO_THERMAL: { class: 'DeviceError', errno: 'ENODEV', advice: 'the card\'s FME has no thermal management feature: read the FPGA temperature through the BMC sensors' },
  EGBS_AFU_IMAGE: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_CLUSTERS: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_FIELD: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_FORMAT: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_INPUT: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_INTERFACE_UUID: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_MAGIC: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_MAGIC_NO: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_METADATA_DEPTH: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_METADATA_JSON: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_METADATA_LENGTH: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_METADATA_UTF8: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_NO_METADATA: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_SIGNATURE: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_TRUNCATED: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGBS_VERSION: { class: 'GbsError', errno: 'EINVAL', advice: 'the GBS file is not a valid AFU bitstream: rebuild it, or check it with vfiokit gbs-info' },
  EGUID: { class: 'ArgumentError', errno: 'EINVAL', advice: 'write the GUID as 32 hex digits, with or without dashes' },
  EIMAGE_BLOCK0_ENTRY: { class: 'ImageError', errno: 'EINVAL', advice: 'the signed image is not valid for this card: check it with vfiokit image-info' },
  EIMAGE_BLOCK0_MAGIC: { class: 'ImageError', errno: 'EINVAL', advice: 'the signed image is not valid for this card: check it with vfiokit image-info' },
  EIMAGE_BLOCK1_MAGIC: { class: 'ImageError', errno: 'EINVAL', advice: 'the signed image is not valid for this card: check it with vfiokit image-info' },
  EIMAGE_CSK_ENTRY: { class: 'ImageError', errno: 'EINVAL', advice: 'the signed image is not valid for this card: check it with vfiokit image-info' },
  EIMAGE_HASH: { class: 'ImageError', errno: 'EINVAL', advice: 'the signed image is not valid for this card: check it with vfiokit image-info' },
  EIMAGE_INPUT: { class: 'ImageError', errno: 'EINVAL', advice: 'the signed image is not valid for this card: check it with vfiokit image-info' },
  EIMAGE_PAYLOAD_LENGTH: { class: 'ImageError', errno: 'EINVAL', advice: 'the signed image is not valid for this card: check it with vfiokit image-info' },
  EIMAGE_READ: { class: 'ImageError', errno: 'EINVAL', advice: 'the signed image is not valid for this card: check it with vfiokit image-info' },
  EIMAGE_ROOT_ENTRY: { class: 'ImageError', errno: 'EINVAL', advice: 'the signed image is not valid for this card: check it with vfiokit image-info' },
  EIMAGE_SIZE: { class: 'ImageError', errno: 'EINVAL', advice: 'the signed image is not valid for this card: check it with vfiokit image-info' },
  EIMAGE_SPEC: { class: 'ArgumentError', errno: 'EINVAL', advice: 'the signed image is not valid for this card: check it with vfiokit image-info' },
  EIMAGE_SUBTYPE: { class: 'ImageError', errno: 'EINVAL', advice: 'the signed image is not valid for this card: check it with vfiokit image-info' },
  EIMAGE_TYPE: { class: 'ImageError', errno: 'EINVAL', advice: 'the signed image is not valid for this card: check it with vfiokit image-info' },
  EINPUT_CHANGED: { class: 'DeviceError', errno: 'EAGAIN', advice: 'pass a regular file of the size the message names, and do not change it while vfiokit reads it' },
  EINPUT_NOT_FILE: { class: 'DeviceError', errno: 'EINVAL', advice: 'pass a regular file of the size the message names, and do not change it while vfiokit reads it' },
  EINPUT_TOO_BIG: { class: 'FormatError', errno: 'EFBIG', advice: 'pass a regular file of the size the message names, and do not change it while vfiokit reads it' },
  EINTERNAL: { class: 'RpcError', errno: 'EIO', advice: 'a bug in vfiokit: run the daemon with DEBUG=vfiokit:* and report the log' },
  EIRQ_ABORTED: { class: 'DeviceError', errno: 'ENODEV', advice: 'the interrupt was closed, aborted or did not fire in time: check the device raised it (and that it is armed)' },
  EIRQ_CLOSED: { class: 'DeviceError', errno: 'ENODEV', advice: 'the interrupt was closed, aborted or did not fire in time: check the device raised it (and that it is armed)' },
  EIRQ_TIMEOUT: { class: 'TimeoutError', errno: 'ETIMEDOUT', advice: 'the interrupt was closed, aborted or did not fire in time: check the device raised it (and that it is armed)' },
  EJSON_DEPTH: { class: 'FormatError', errno: 'EINVAL', advice: 'fix the JSON the message names (nesting depth and syntax are limited)' },
  EJSON_SYNTAX: { class: 'FormatError', errno: 'EINVAL', advice: 'fix the JSON the message names (nesting depth and syntax are limited)' },
  ELOCK: { class: 'LockError', errno: 'ENODEV', advice: 'the reservation record is unreadable or not its owner\'s: remove it with vfiokit free DEVICE --force (as its user or root)' },
  ELOCK_CORRUPT: { class: 'LockError', errno: 'ENODEV', advice: 'the reservation record is unreadable or not its owner\'s: remove it with vfiokit free DEVICE --force (as its user or root)' },
  ELOCK_DIR: { class: 'LockError', errno: 'ENODEV', advice: 'fix the owner or mode of the lock directory, or point VFIOKIT_LOCK_DIR elsewhere' },
  ELOCK_FORGED: { class: 'LockError', errno: 'ENODEV', advice: 'the reservation record is unreadable or not its owner\'s: remove it with vfiokit free DEVICE --force (as its user or root)' },
  ELOCK_OPEN: { class: 'LockError', errno: 'ENODEV', advice: 'the reservation record is unreadable or not its owner\'s: remove it with vfiokit free DEVICE --force (as its user or root)' },
  ELOCK_READ: { class: 'LockError', errno: 'ENODEV', advice: 'the reservation record is unreadable or not its owner\'s: remove it with vfiokit free DEVICE --force (as its user or root)' },
  ELOCK_TIMEOUT: { class: 'LockError', errno: 'EBUSY', advice: 'another vfiokit process holds the lock: retry, or find it with vfiokit ls --reservations' },
  ELOCK_WRITE: { class: 'LockError', errno: 'ENODEV', advice: 'the reservation record is unreadable or not its owner\'s: remove it with vfiokit free DEVICE --force (as its user or root)' },
  ENIOS_INIT_TIMEOUT: { class: 'TimeoutError', errno: 'ETIMEDOUT', advice: 'the BMC\'s Nios did not finish its start-up handshake: retry, then power-cycle the card' },
  ENIOS_REGBUS_TIMEOUT: { class: 'TimeoutError', errno: 'ETIMEDOUT', advice: 'the BMC\'s Nios did not finish its start-up handshake: retry, then power-cycle the card' },
  ENOBMC: { class: 'DeviceError', errno: 'ENODEV', advice: 'this function has no BMC: use the card\'s PF (not a VF) of an N3000-class card' },
  ENOBMC_PMCI: { class: 'DeviceError', errno: 'ENODEV', advice: 'this function has no BMC: use the card\'s PF (not a VF) of an N3000-class card' },
  ENOTPROBED: { class: 'DeviceError', errno: 'ENODEV', advice: 'probe the card first (probe(id))' },
  ENOTRESERVED: { class: 'ReservationError', errno: 'EPERM', advice: 'reserve the card first (vfiokit reserve DEVICE)' },
  EOWNER: { class: 'ArgumentError', errno: 'EINVAL', advice: 'only the reservation\'s owner (or root) may do this' },
  EOWNER_GROUP: { class: 'ArgumentError', errno: 'EINVAL', advice: 'name a group that exists on this host (getent group)' },
  EOWNER_SPEC: { class: 'ArgumentError', errno: 'EINVAL', advice: 'give the owner as USER or USER:GROUP' },
  EOWNER_USER: { class: 'ArgumentError', errno: 'EINVAL', advice: 'name a user that exists on this host (getent passwd)' },
  EPARSE: { class: 'RpcError', errno: 'EINVAL', advice: 'send one JSON-RPC 2.0 request object per line' },
  EPCI_AER_RESTORE: { class: 'PciError', errno: 'ENODEV', advice: 'restore the AER masks by hand with setpci (the message gives the values)' },
  EPCI_BIND_FAILED: { class: 'PciError', errno: 'ENODEV', advice: 'check the PCI address (the enumerated PCI functions list it) and that sysfs is writable (root)' },
  EPCI_CONFIG: { class: 'PciError', errno: 'ENODEV', advice: 'check the PCI address (the enumerated PCI functions list it) and that sysfs is writable (root)' },
  EPCI_IN_USE: { class: 'DeviceInUseError', errno: 'ENODEV', advice: 'stop what uses the device (unmount, ifdown) or pass --force' },
  EPCI_NO_DEVICE: { class: 'PciError', errno: 'ENODEV', advice: 'check the PCI address (the enumerated PCI functions list it) and that sysfs is writable (root)' },
  EPCI_NO_DRIVER: { class: 'PciError', errno: 'ENODEV', advice: 'check the PCI address (the enumerated PCI functions list it) and that sysfs is writable (root)' },
  EPCI_RESTORE_FAILED: { class: 'PciError', errno: 'ENODEV', advice: 'check the PCI address (the enumerated PCI functions list it) and that sysfs is writable (root)' },
  EPCI_SYSFS: { class: 'PciError', errno: 'ENODEV', advice: 'check the PCI address (the enumerated PCI functions list it) and that sysfs is writable (root)' },
  EPLUGIN_INIT: { class: 'PluginError', errno: 'EIO', advice: 'fix the backend plugin the message names (its path, exports and init)' },
  EPLUGIN_LOAD: { class: 'PluginError', errno: 'EIO', advice: 'fix the backend plugin the message names (its path, exports and init)' },
  EPLUGIN_NOT_FOUND: { class: 'PluginError', errno: 'EIO', advice: 'fix the backend plugin the message names (its path, exports and init)' },
  EPLUGIN_OPEN: { class: 'PluginError', errno: 'EIO', advice: 'fix the backend plugin the message names (its path, exports and init)' },
  EPLUGIN_SHAPE: { class: 'PluginError', errno: 'EIO', advice: 'fix the backend plugin the message names (its path, exports and init)' },
  EPLUGIN_TIMEOUT: { class: 'PluginError', errno: 'EIO', advice: 'fix the backend plugin the message names (its path, exports and init)' },
  EPLUGIN_UNKNOWN: { class: 'PluginError', errno: 'EIO', advice: 'fix the backend plugin the message names (its path, exports and init)' },
  EPORT_DISABLE_TIMEOUT: { class: 'TimeoutError', errno: 'ETIMEDOUT', advice: 'the port did not acknowledge: reset the card (vfiokit reset) or reload the FPGA' },
  EPORT_ENABLE_TIMEOUT: { class: 'TimeoutError', errno: 'ETIMEDOUT', advice: 'the port did not acknowledge: reset the card (vfiokit reset) or reload the FPGA' },
  EPORT_NOT_DISABLED: { class: 'DeviceError', errno: 'ENODEV', advice: 'the port did not acknowledge: reset the card (vfiokit reset) or reload the FPGA' },
  EPORT_NO_ERROR_FEATURE: { class: 'DeviceError', errno: 'ENODEV', advice: 'the port has no error feature: its FIM does not report port errors' },
  EPR_BUSY_TIMEOUT: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_COMPLETE_TIMEOUT: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_CRC: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_CREDIT_TIMEOUT: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_CSR_ABSOLUTE: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_EMPTY: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_ERROR: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_FIFO_OVERFLOW: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_HW_TIMEOUT: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_INCOMPATIBLE: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_INTERFACE_MISMATCH: { class: 'PrError', errno: 'EIO', advice: 'the GBS was built for another FIM: use a GBS for this card\'s PR interface id (vfiokit info shows it), or --force' },
  EPR_NO_FME: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_NO_PR_FEATURE: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_OPERATION: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_PORT: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_PORT_ENABLE: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_PROTOCOL: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_RESET_ACK_TIMEOUT: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_SECURE_LOAD: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EPR_SIGNATURE: { class: 'PrError', errno: 'EIO', advice: 'partial reconfiguration failed: the message names the PR engine\'s status; retry, then reload the FPGA (vfiokit reboot)' },
  EREBOOT_DISABLED: { class: 'DeviceError', errno: 'ENODEV', advice: 'the BMC firmware does not allow a host-requested reboot: power-cycle the host' },
  EREGION_ALIGN: { class: 'RegionError', errno: 'EIO', advice: 'fix the register access: naturally aligned 32/64-bit offsets inside the region, values that fit', message: (a: { region: string; offset: number; width: number }): string => `${a.region}: offset ${hex(a.offset)} is not ${a.width}-byte aligned for a ${a.width * 8}-bit access` },
  EREGION_BOUNDS: { class: 'RegionError', errno: 'EIO', advice: 'fix the register access: naturally aligned 32/64-bit offsets inside the region, values that fit', message: (a: { region: string; offset: number; width?: number; length?: number; size: number }): string => a.length === undefined ? `${a.region}: ${(a.width ?? 4) * 8}-bit access at ${hex(a.offset)} is outside the region (size ${hex(a.size)})` : `${a.region}: ${a.length} bytes at ${hex(a.offset)} run past the end of the region (size ${hex(a.size)})` },
  EREGION_CLOSED: { class: 'RegionError', errno: 'EIO', advice: 'the region was closed: open the device again', message: (a: { region: string; offset?: number }): string => `${a.region}: region is closed; open the device again to access it` },
  EREGION_CONFIG: { class: 'RegionError', errno: 'EIO', advice: 'fix the register access: naturally aligned 32/64-bit offsets inside the region, values that fit' },
  EREGION_LENGTH: { class: 'RegionError', errno: 'EIO', advice: 'fix the register access: naturally aligned 32/64-bit offsets inside the region, values that fit' },
  EREGION_OFFSET: { class: 'RegionError', errno: 'EIO', advice: 'fix the register access: naturally aligned 32/64-bit offsets inside the region, values that fit', message: (a: { region: string; offset: number }): string => `${a.region}: offset ${String(a.offset)} is not a non-negative integer` },
  EREGION_VALUE: { class: 'RegionError', errno: 'EIO', advice: 'fix the register access: naturally aligned 32/64-bit offsets inside the region, values that fit' },
  EREGION_WIDTH: { class: 'RegionError', errno: 'EIO', advice: 'fix the register access: naturally aligned 32/64-bit offsets inside the region, values that fit', message: (a: { region: string; width: number }): string => `${a.region}: access width ${String(a.width)} is not 32 or 64` },
  EREQUEST_TIMEOUT: { class: 'RpcError', errno: 'ETIMEDOUT', advice: 'send shorter requests, and each line in one go' },
  EREQUEST_TOO_LARGE: { class: 'RpcError', errno: 'E2BIG', advice: 'send shorter requests, and each line in one go' },
  ERESERVED: { class: 'ReservationError', errno: 'EBUSY', advice: 'the card is reserved by another process: wait for it, or vfiokit free DEVICE --force as its user or root' },
  ESIM_MODEL: { class: 'DeviceError', errno: 'ENODEV', advice: 'fix the simulated-card model the message names' },
  ESPI_INDIRECT_TIMEOUT: { class: 'TimeoutError', errno: 'ETIMEDOUT', advice: 'the BMC\'s SPI master did not answer in time: retry, then reboot the BMC' },
  ESPI_PARAMS: { class: 'DeviceError', errno: 'ENODEV', advice: 'the BMC\'s SPI master did not answer in time: retry, then reboot the BMC' },
  ESPI_RRDY_TIMEOUT: { class: 'TimeoutError', errno: 'ETIMEDOUT', advice: 'the BMC\'s SPI master did not answer in time: retry, then reboot the BMC' },
  ESTATE_DIR: { class: 'DeviceError', errno: 'ENODEV', advice: 'fix the owner or mode of the state directory, or point VFIOKIT_STATE_DIR elsewhere' },
  ETRANSITION: { class: 'TransitionError', errno: 'EBUSY', advice: 'the reservation state machine forbids this step: vfiokit ls --reservations shows the state' },
  EUNEXPECTED: { class: 'VfiokitError', errno: 'EIO', advice: 'a bug in vfiokit: run again with DEBUG=vfiokit:* for the stack and report it' },
  EUSAGE: { class: 'ArgumentError', errno: 'EINVAL', advice: 'fix the command line; vfiokit help COMMAND shows the usage' },
  EVFIO_API_VERSION: { class: 'VfioError', errno: 'ENODEV', advice: 'the kernel\'s VFIO refused: the message names the ioctl and errno; see dmesg' },
  EVFIO_GROUP_NOT_VIABLE: { class: 'GroupNotViableError', errno: 'ENODEV', advice: 'bind every device in the IOMMU group to vfio-pci (or unbind them)' },
  EVFIO_IRQ_NO_EVENTFD: { class: 'VfioError', errno: 'ENODEV', advice: 'the kernel\'s VFIO refused: the message names the ioctl and errno; see dmesg' },
  EVFIO_NODE_TYPE: { class: 'VfioError', errno: 'ENODEV', advice: 'the VFIO path is not a character device: remove what is there and rebind the device' },
  EVFIO_NOIOMMU_DMA: { class: 'VfioError', errno: 'ENODEV', advice: 'VFIO no-IOMMU mode cannot map DMA: use a system with an IOMMU' },
  EVFIO_NOT_BOUND: { class: 'VfioError', errno: 'ENODEV', advice: 'bind the device to vfio-pci first (vfiokit bind DEVICE)' },
  EVFIO_NOT_PCI: { class: 'VfioError', errno: 'ENODEV', advice: 'the kernel\'s VFIO refused: the message names the ioctl and errno; see dmesg' },
  EVFIO_NO_CDEV: { class: 'VfioError', errno: 'ENODEV', advice: 'the kernel\'s VFIO refused: the message names the ioctl and errno; see dmesg' },
  EVFIO_NO_GROUP: { class: 'VfioError', errno: 'ENODEV', advice: 'the device has no IOMMU group: enable the IOMMU (intel_iommu=on / amd_iommu=on)' },
  EVFIO_NO_IOMMU_TYPE: { class: 'VfioError', errno: 'ENODEV', advice: 'the kernel\'s VFIO refused: the message names the ioctl and errno; see dmesg' },
  EVFIO_NO_NODE: { class: 'VfioError', errno: 'ENODEV', advice: 'bind the device to vfio-pci first (vfiokit bind DEVICE): then its /dev/vfio node exists' },
  EVFIO_RANGES: { class: 'VfioError', errno: 'ENODEV', advice: 'the kernel\'s VFIO refused: the message names the ioctl and errno; see dmesg' },
  EVFIO_SHORT_IO: { class: 'VfioError', errno: 'ENODEV', advice: 'the kernel\'s VFIO refused: the message names the ioctl and errno; see dmesg' },
  EVFIO_UNMAP_SIZE: { class: 'VfioError', errno: 'ENODEV', advice: 'the kernel\'s VFIO refused: the message names the ioctl and errno; see dmesg' },
  EVFIO_USER_CONNECT_TIMEOUT: { class: 'DeviceError', errno: 'ENODEV', advice: 'the vfio-user peer broke the protocol or went away: check the server is running and speaks vfio-user 0.x' },
  EVFIO_USER_DISCONNECTED: { class: 'VfioUserConnectionError', errno: 'ENODEV', advice: 'the vfio-user peer broke the protocol or went away: check the server is running and speaks vfio-user 0.x' },
  EVFIO_USER_DMA_ALIGN: { class: 'DmaRequestError', errno: 'EIO', advice: 'the client sent a DMA request this server refuses: the message names the field' },
  EVFIO_USER_DMA_DEVICE: { class: 'DmaRequestError', errno: 'EIO', advice: 'the client sent a DMA request this server refuses: the message names the field' },
  EVFIO_USER_DMA_FD: { class: 'DmaRequestError', errno: 'EIO', advice: 'the client sent a DMA request this server refuses: the message names the field' },
  EVFIO_USER_DMA_FLAGS: { class: 'DmaRequestError', errno: 'EIO', advice: 'the client sent a DMA request this server refuses: the message names the field' },
  EVFIO_USER_DMA_MMAP: { class: 'DmaRequestError', errno: 'EIO', advice: 'the client sent a DMA request this server refuses: the message names the field' },
  EVFIO_USER_DMA_RANGE: { class: 'DmaRequestError', errno: 'EIO', advice: 'the client sent a DMA request this server refuses: the message names the field' },
  EVFIO_USER_DMA_SPLIT: { class: 'DmaRequestError', errno: 'EIO', advice: 'the client sent a DMA request this server refuses: the message names the field' },
  EVFIO_USER_FDS_LOST: { class: 'VfioUserFormatError', errno: 'EINVAL', advice: 'the vfio-user peer broke the protocol or went away: check the server is running and speaks vfio-user 0.x' },
  EVFIO_USER_MALFORMED: { class: 'VfioUserFormatError', errno: 'EINVAL', advice: 'the vfio-user peer broke the protocol or went away: check the server is running and speaks vfio-user 0.x' },
  EVFIO_USER_NO_CONFIG: { class: 'DeviceError', errno: 'ENODEV', advice: 'the vfio-user peer broke the protocol or went away: check the server is running and speaks vfio-user 0.x' },
  EVFIO_USER_OVERSIZED: { class: 'VfioUserFormatError', errno: 'EINVAL', advice: 'the vfio-user peer broke the protocol or went away: check the server is running and speaks vfio-user 0.x' },
  EVFIO_USER_TIMEOUT: { class: 'VfioUserConnectionError', errno: 'ENODEV', advice: 'the vfio-user peer broke the protocol or went away: check the server is running and speaks vfio-user 0.x' },
  EVFIO_USER_TRUNCATED: { class: 'VfioUserFormatError', errno: 'EINVAL', advice: 'the vfio-user peer broke the protocol or went away: check the server is running and speaks vfio-user 0.x' },
  EVFIO_USER_VERSION: { class: 'DeviceError', errno: 'ENODEV', advice: 'the vfio-user peer broke the protocol or went away: check the server is running and speaks vfio-user 0.x' },
} as const satisfies Record<string, CodeSpec>;

/** A code listed in ERROR_CODES. */
export type RegisteredCode = keyof typeof ERROR_CODES;

/**
 * Every code a VfiokitError carries: a listed code, an errno name (a system call's or the
 * kernel's answer, passed on as it is), or a VFIO ioctl's / node open's errno (EVFIO_<errno>,
 * EVFIO_OPEN_<errno>: src/vfio/errors.ts).
 */
export type VfiokitErrorCode = RegisteredCode | ErrnoName | `EVFIO_${ErrnoName}` | `EVFIO_OPEN_${ErrnoName}` | `EVFIO_CHOWN_${ErrnoName}`;

/** The codes whose message is built from typed arguments. */
export type TemplatedCode = { [C in RegisteredCode]: (typeof ERROR_CODES)[C] extends { message: (a: never) => string } ? C : never }[RegisteredCode];

/** The arguments of a templated code's message. */
export type CodeArgs<C extends TemplatedCode> = (typeof ERROR_CODES)[C] extends { message: (a: infer A) => string } ? A : never;

/** The families of codes that are not listed one by one. */
export const ERROR_CODE_FAMILIES = [
  { pattern: 'EVFIO_<errno>', class: 'VfioError', advice: 'the kernel\'s VFIO refused an ioctl with that errno: the message names the ioctl and what the errno means there; see dmesg' },
  { pattern: 'EVFIO_OPEN_<errno>', class: 'VfioError', advice: 'opening a VFIO or IOMMUFD node failed with that errno: the message says how to fix ownership, modules or binding' },
  { pattern: 'EVFIO_CHOWN_<errno>', class: 'VfioError', advice: 'giving a VFIO node to a user failed with that errno: run as root (CAP_CHOWN, CAP_FOWNER)' },
  { pattern: '<errno>', class: 'VfiokitError', advice: 'a system call, the kernel or a peer answered with that errno: the message names the call and the object' },
] as const;
