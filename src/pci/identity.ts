// The PCI identity of a function: the IDs in its config space header (PCI Local Bus spec,
// "Configuration Space Header"; sysfs vendor/device/subsystem_*/class/revision). Every place that
// knows a function by its IDs uses this one shape: sysfs enumeration, the Device interface, the
// sim's config space.

/** PCI identity from config space (or sysfs). */
export interface PciIdentity {
  vendor: number;
  device: number;
  subsystemVendor: number;
  subsystemDevice: number;
  /** 24-bit class code: base class << 16 | subclass << 8 | prog-if. */
  classCode: number;
  revision: number;
}
