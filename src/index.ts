// vfiokit: a userspace VFIO driver framework for DFL-based PCIe FPGA cards.
//
// The main entry is what an AFU driver and a card-management program use: open a device, find the
// card's AFU, access its registers, DMA buffers and interrupts, load bitstreams, update the flash,
// and the errors all of these throw. Lower layers have their own entries (package.json exports):
//   vfiokit/dfl           the Device Feature List codec, walker and register maps
//   vfiokit/pci           sysfs: enumerate PCI functions, bind/unbind drivers, topology
//   vfiokit/backend       writing a backend plugin: Backend, MappedRegion, TrappedRegion, registry
//   vfiokit/reservations  sharing cards between users and processes
//   vfiokit/sim           the simulated N3000-class card and GBS files it accepts
//   vfiokit/manage        the Cyborg-style management API
// Layers (DESIGN.md): device -> mmio/dma -> dfl -> afu.

// Errors: every failure is a VfiokitError with a stable `code`, a message and `details`.
export { VfiokitError, RegionError, TimeoutError, ArgumentError, DeviceError, FormatError } from './errors.js';
export { SysError, isSysError, errnoName } from './sys/sys-error.js';
export { PciError, DeviceInUseError, type DeviceUse } from './pci/errors.js';
export { VfioError, GroupNotViableError } from './vfio/errors.js';
export { ConfigError } from './device/config.js';
export { PluginError } from './device/plugins.js';
export { DmaError, IovaExhaustedError } from './dma/errors.js';
export { DflError } from './dfl/errors.js';
export { PortResetError } from './afu/errors.js';
export { PrError } from './afu/pr/partial-reconfiguration.js';
export { GbsError } from './afu/pr/gbs.js';
export { ImageError } from './afu/image/signed-image.js';
export { FlashError } from './afu/bmc/secure-update.js';
export { ReservationError } from './lock/reservations.js';
export { LockError } from './lock/lock-file.js';

// Devices: open by URL (vfio:BDF, vfio-user:/socket, sim:n3000), enumerate, the Device interface.
export { RegionIndex, IrqIndex, type Device, type DeviceCapabilities, type RegionInfo, type IrqInfo, type PciIdentity } from './device/device.js';
export type { Interrupt } from './device/interrupt.js';
export type { DeviceFilter, DeviceToken, OpenOptions } from './device/backend.js';
export { openDevice, openToken, enumerateDevices, enumerateAll, type EnumerateOptions, type EnumerateResult } from './device/registry.js';
export { type Clock, realClock, VirtualClock } from './util/clock.js';

// Registers and DMA.
export type { Region, PollOptions, PollResult } from './mmio/region.js';
export { DEFAULT_POLL_TIMEOUT_MS, DEFAULT_POLL_INTERVAL_US } from './mmio/region.js';
export { poll32Async, poll64Async, type AsyncPollOptions } from './mmio/poll-async.js';
export type { DmaMemory, DmaAccess } from './dma/mapper.js';
export { DmaBuffer, allocateDma, type DmaOptions, type DmaDirection } from './dma/dma-buffer.js';
export { hugePagePools, type HugePageSize, type HugePagePool } from './dma/hugepages.js';

// The card: FME, ports, AFUs.
export { Card, Fme, Port, Afu, type CardOptions, type FmeCapabilities, type PortCapabilities, type PortStatus, type ClearedPortErrors, type FeatureRef } from './afu/card-model.js';
export { FeatureDriverTable, defaultFeatureDrivers, type FeatureDriver, type BoundFeature, type FeatureDriverError } from './afu/card-model.js';
export { readFmeErrors, clearFmeErrors, injectFmeErrors, fmeErrorDriver, type FmeErrors } from './afu/fme-errors.js';
export { readFmeThermal, fmeThermalDriver, type FmeThermal, type FmeThermalThresholds } from './afu/thermal.js';
export { readFmePower, setFmePowerThresholds, fmePowerDriver, type FmePower } from './afu/power.js';
export {
  CardEvents, watchCardEvents, type CardEvent, type CardEventOptions, type FmeErrorEvent, type PortErrorEvent, type PowerThermalEvent, type PowerThermalAlarm, type EventSource,
} from './afu/events.js';
export type { Feature, FeatureIrq, DflParam } from './dfl/feature.js';
export { formatGuid, parseGuid, isGuid } from './dfl/guid.js';

// Partial reconfiguration (GBS files).
export { parseGbs, buildGbs, buildGbsFromJson, type Gbs, type GbsMetadata, type GbsInput, type GbsClusterInput, type AcceleratorCluster } from './afu/pr/gbs.js';
export { reconfigureCard, startCardReconfiguration } from './afu/pr/card-pr.js';
export { fmePrDriver, type FmePr } from './afu/pr/fme-pr.js';
export { FpgaManager, type FpgaManagerOps, type FpgaManagerState, type FpgaManagerStatus, type FpgaImageInfo, type FpgaOpContext } from './afu/pr/fpga-manager.js';
export { PrJob, KERNEL_PR_TIMEOUTS, type PrOptions, type PrResult, type PrProgress, type PrStep, type PrTimeouts } from './afu/pr/partial-reconfiguration.js';

// Secure flash update, reboot and properties through the card's BMC.
export { flash, type FlashCardOptions } from './afu/flash.js';
export { parseSignedImage, readSignedImage, verifySignedImage, imageInfo, type SignedImage, type ImageInfo } from './afu/image/signed-image.js';
export { SecureUpdate, type FlashOptions, type FlashProgress, type FlashResult } from './afu/bmc/secure-update.js';
export { FlashState, readFlashStatus, type FlashStateName, type FlashStatus } from './afu/bmc/flash-status.js';
export { cancelFlash, rebootWithReload, requestCancel, type CancelFlashOptions, type CancelFlashResult, type RebootWithReloadOptions } from './afu/flash-coordination.js';
export { openBmc, Bmc, bmcDriver, type OpenBmcOptions, type BmcLocation } from './afu/bmc/bmc.js';
export { rebootCard, type RebootOptions, type RebootTarget, type BootPage } from './afu/bmc/reboot.js';
export { readBmcSensors, type BmcSensorReading } from './afu/bmc/sensors.js';
export { readBmcSecurity, type BmcSecurity, type SecurityArea } from './afu/bmc/security.js';
export { readCardProperties, getPhyInfo, PropertyMask, type CardProperties, type PciProperties, type FmeProperties, type PortProperties } from './afu/bmc/properties.js';

// The simulated card (more in vfiokit/sim).
export { createSimCard, SimDevice, SIM_AFU_GUID, SIM_PR_INTERFACE_ID } from './sim/index.js';
