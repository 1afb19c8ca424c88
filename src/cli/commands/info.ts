// `vfiokit info DEVICE [--mask N] [--phy] [--json]`: card properties by group.
import type { Command } from '../command.js';
import { parseCommandLine, printJson, UsageError } from '../output.js';
import { ExitCode } from '../exit-codes.js';
import { openDeviceArg, resolveDevice } from '../resolve-device.js';
import { PropertyMask, getPhyInfo, pciPropertiesForUrl, readCardProperties, type CardProperties } from '../../afu/bmc/properties.js';
import type { PhyInfo } from '../../afu/bmc/bmc-info.js';
import { INFO_SECTIONS, readInfoSection, type InfoSection } from '../info-sections.js';
import { shellQuote } from '../table.js';
import { command as errorsCommand } from './errors.js';

export const command: Command = {
  summary: 'show card properties: PCI, FME (bitstream, ports, PR ID), ports (AFU IDs), BMC versions; fpgainfo\'s temp, power, bmc, security, errors',
  help: `usage: vfiokit info DEVICE [--mask N] [--phy] [--json]
       vfiokit info DEVICE temp|power|bmc|security|errors [--json]

Shows the properties of DEVICE (a PCI address, a device URL or a reservation id), grouped as the
management API's mask: 1 PCI (IDs, address, driver; from sysfs, without opening the device),
2 FME (bitstream ID and version, port count, PR interface ID, boot page), 4 Port (per port: AFU
ID, enabled or in reset), 8 BMC (BMC and NIOS firmware versions, FPGA and BMC boot pages, MAC).
--mask adds the groups (0 or absent = all). --phy adds the retimer (PKVL) link status through
the BMC. Reading needs no reservation.

A SECTION after DEVICE shows what fpgainfo's verb of that name shows, from the card's registers:
  temp      the FME thermal feature (FPGA temperature, thresholds, alarms, throttle policy:
            the kernel's temp1_* attributes) and the BMC's temperature sensors
  power     the FME power feature (consumption, thresholds, alarms, Xeon/FPGA limits: power1_*)
            and the BMC's power, current and voltage sensors
  bmc       every BMC sensor (labels, units and scaling of intel-m10-bmc-hwmon.c)
  security  root entry hashes, canceled code-signing keys, flash update count (from the BMC)
  errors    the FME and port errors (the same as vfiokit errors DEVICE)

options:
  --mask N   groups to read: 1 PCI, 2 FME, 4 Port, 8 BMC, sums allowed (default 0 = all)
  --phy      also show retimer / PHY information
  --json     machine-readable output: { device, pci?, fme?, ports?, bmc?, phy? }

exit codes: 0 ok, 1 a register read failed, 2 bad arguments, 3 the feature list is malformed,
4 device unavailable

examples:
  vfiokit info 0000:3b:00.0
  vfiokit info 0000:3b:00.0 --mask 1
  vfiokit info sim:n3000 --mask 10 --json
  vfiokit info r-1a2b3c4d --phy
  vfiokit info sim:n3000 temp
  vfiokit info 'sim:n3000?fpgaTemp=95' temp --json`,
  async run(argv) {
    const { values, positionals } = parseCommandLine(argv, { mask: { type: 'string', default: '0' }, phy: { type: 'boolean' }, json: { type: 'boolean' } });
    if (positionals.length === 2) return runSection(positionals[0]!, positionals[1]!, argv, values);
    if (positionals.length !== 1) throw new UsageError('EUSAGE', `info takes one DEVICE and optionally a section (${INFO_SECTIONS.join(', ')}); got ${positionals.length} arguments; see --help`);
    const mask = Number(values.mask);
    if (!Number.isInteger(mask) || mask < 0 || mask > 15) throw new UsageError('EUSAGE', `--mask ${String(values.mask)} is not 0..15 (1 PCI, 2 FME, 4 Port, 8 BMC)`);
    const url = resolveDevice(positionals[0]);
    let props: CardProperties;
    let phy: PhyInfo | undefined;
    const sysfsOnly = mask === PropertyMask.PCI && !values.phy ? pciPropertiesForUrl(url) : undefined;
    if (sysfsOnly) {
      props = { pci: sysfsOnly };
    } else {
      using device = await openDeviceArg(url);
      props = await readCardProperties(device, mask);
      if (values.phy) phy = await getPhyInfo(device);
    }
    if (values.json) {
      printJson({ device: url, ...props, ...(phy ? { phy } : {}) });
      return ExitCode.OK;
    }
    process.stdout.write(formatProperties(url, props, phy) + '\n');
    return ExitCode.OK;
  },
};

async function runSection(deviceArg: string, section: string, argv: string[], values: { mask?: string; phy?: boolean; json?: boolean }): Promise<number> {
  if (!(INFO_SECTIONS as readonly string[]).includes(section)) {
    throw new UsageError('EUSAGE', `info: "${section}" is not a section; known: ${INFO_SECTIONS.join(', ')}`);
  }
  if (values.phy || values.mask !== '0') throw new UsageError('EUSAGE', `info ${section}: --mask and --phy belong to the property view (vfiokit info DEVICE), not to a section`);
  if (section === 'errors') return errorsCommand.run(argv.filter((a) => a !== 'errors'));
  const url = resolveDevice(deviceArg);
  using device = await openDeviceArg(url);
  const report = await readInfoSection(device, section as Exclude<InfoSection, 'errors'>);
  if (values.json) printJson({ device: url, ...report.json });
  else process.stdout.write(`${shellQuote(url)}\n${report.text}\n`);
  return ExitCode.OK;
}

export function formatProperties(url: string, p: CardProperties, phy?: PhyInfo): string {
  const lines = [`${url}`];
  if (p.pci) lines.push('PCI:', `  address:        ${p.pci.address ?? '-'}`, `  vendor:device:  ${p.pci.vendor}:${p.pci.device} (subsystem ${p.pci.subsystemVendor}:${p.pci.subsystemDevice})`, `  class:          ${p.pci.classCode}`, `  driver:         ${p.pci.driver ?? '-'} (transport ${p.pci.transport})`);
  if (p.fme) lines.push('FME:', `  bitstream ID:   ${p.fme.bitstreamId} (version ${p.fme.bitstreamVersion})`, `  metadata:       ${p.fme.bitstreamMetadata}`, `  ports:          ${p.fme.ports}`, `  PR interface:   ${p.fme.prInterfaceId ?? '-'}`, ...(p.fme.bootPage ? [`  boot page:      ${p.fme.bootPage}`] : []));
  for (const port of p.ports ?? []) lines.push(`Port ${port.index}:`, `  AFU ID:         ${port.afuId ?? '-'}`, `  state:          ${port.state}`);
  if (p.bmc) lines.push('BMC:', `  BMC version:    ${p.bmc.bmcVersion.text}`, `  NIOS firmware:  ${p.bmc.firmwareVersion.text}`, `  secure BMC:     ${p.bmc.secure ? 'yes' : 'no (legacy)'}`, `  FPGA boot page: ${p.bmc.fpgaBootPage}`, `  BMC boot page:  ${p.bmc.bmcBootPage}`, `  MAC:            ${p.bmc.mac} (${p.bmc.macCount} addresses)`);
  if (phy) lines.push('PHY:', `  retimers:       ${phy.retimers}`, `  link status:    0x${phy.linkStatus.toString(16)} (${phy.linksUp} lines up)`, ...phy.retimerVersions.map((v, i) => `  retimer ${'AB'[i]}:      serdes 0x${v.serdes.toString(16)}, sbus 0x${v.sbus.toString(16)}`));
  return lines.join('\n');
}
