// Fixed identity of the simulated N3000-class card. The README documents these values; tests and
// examples may rely on them.
import type { PciIdentity } from '../pci/identity.js';

/** PCI identity (Intel PAC N3000: 8086:0b30, class 0x120000 processing accelerator). */
export const SIM_PCI_VENDOR = 0x8086;
export const SIM_PCI_DEVICE = 0x0b30;
export const SIM_PCI_SUBSYSTEM_VENDOR = 0x8086;
export const SIM_PCI_SUBSYSTEM_DEVICE = 0x0000;
export const SIM_PCI_CLASS = 0x12_0000;
export const SIM_PCI_REVISION = 0x02;
/** The same IDs as one PciIdentity (the Device's identity and the config space header). */
export const SIM_PCI_IDENTITY: Readonly<PciIdentity> = Object.freeze({
  vendor: SIM_PCI_VENDOR,
  device: SIM_PCI_DEVICE,
  subsystemVendor: SIM_PCI_SUBSYSTEM_VENDOR,
  subsystemDevice: SIM_PCI_SUBSYSTEM_DEVICE,
  classCode: SIM_PCI_CLASS,
  revision: SIM_PCI_REVISION,
});

/** GUID of the AFU the card powers up with (the sim's "native loopback + DMA" AFU). */
export const SIM_AFU_GUID = 'a5d1b2c3-7e4f-4b8a-9c6d-1f2e3d4c5b6a';

/** The FIM's PR interface ID (PR_INTFC_ID_H:PR_INTFC_ID_L, pr.md); GBS files must match it. */
export const SIM_PR_INTERFACE_ID = '9346116d-a52d-5ca8-b06a-a9a389ef7c8d';

/**
 * FME BITSTREAM_ID: version 2.3.1 in [59:48] (dfl.md: major (>>56)&0xf, minor (>>52)&0xf,
 * patch (>>48)&0xf), the rest a build hash.
 */
export const SIM_BITSTREAM_ID = 0x0231_0000_5eed_0c0dn;
/** FME BITSTREAM_MD: build date 2026-11-22 as BCD digits (yyyymmdd) in [31:0]. */
export const SIM_BITSTREAM_MD = 0x0000_0000_2026_1122n;

/** The card's variants (url sim:<variant>). */
export const SIM_VARIANTS = ['n3000', 'n3000-dfh1', 'n3000-no-vsec', 'd5005'] as const;
export type SimVariant = (typeof SIM_VARIANTS)[number];

export const SIM_VARIANT_DESCRIPTIONS: Record<SimVariant, string> = {
  n3000: 'simulated N3000-class card, DFH v0, lists found through the DFL VSEC',
  'n3000-dfh1': 'the same card with DFH v1 private features and AFU (CSR blocks, MSI-X parameters)',
  'n3000-no-vsec': 'the same card without a DFL VSEC: found through the FME port table',
  d5005: 'simulated D5005-class card: its BMC behind FME feature 0xE (spi-altera-dfl), BMC factory page = config select 0',
};

/** PAC D5005 device ID (dfl-pci.c PCIE_DEVICE_ID_INTEL_PAC_D5005). */
export const SIM_PCI_DEVICE_D5005 = 0x0b2b;

/** The PCI identity of a variant: the N3000's IDs, the D5005's device ID for sim:d5005. */
export function simPciIdentity(variant: SimVariant): Readonly<PciIdentity> {
  return variant === 'd5005' ? D5005_IDENTITY : SIM_PCI_IDENTITY;
}
const D5005_IDENTITY: Readonly<PciIdentity> = Object.freeze({ ...SIM_PCI_IDENTITY, device: SIM_PCI_DEVICE_D5005 });
