// The PCI side of a card reload on a captured sysfs tree: AER masked on the upstream port, the
// function removed, a rescan below the port, the masks restored on every path.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PciSysfs } from '../../src/pci/sysfs.js';
import { AER_COR_MASK, AER_UNCOR_MASK, findAerCapability, maskAer } from '../../src/pci/aer.js';
import { pciReloadHook } from '../../src/pci/reload.js';
import { FakeSysfs, n3000Tree } from './fake-sysfs.js';

const PORT = '0000:02:08.0'; // the switch downstream port above the FPGA PF0 in n3000Tree()
const CARD = '0000:03:00.0';
const AER_AT = 0x148;

/** Config space of a port: ACS at 0x100 -> AER at 0x148 with the given masks. */
function portConfig(uncor: number, cor: number, loop = false): Buffer {
  const c = Buffer.alloc(4096);
  c.writeUInt32LE(0x000d | (1 << 16) | ((loop ? 0x100 : AER_AT) << 20), 0x100); // ACS, next
  if (!loop) {
    c.writeUInt32LE(0x0001 | (2 << 16), AER_AT); // AER v2, last
    c.writeUInt32LE(uncor, AER_AT + AER_UNCOR_MASK);
    c.writeUInt32LE(cor, AER_AT + AER_COR_MASK);
  }
  return c;
}

describe('reload of a card behind a PCIe port', () => {
  let tree: FakeSysfs;
  let writes: string[];
  let sysfs: PciSysfs;
  const config = (): string => path.join(tree.dir(PORT), 'config');
  const mask = (off: number): number => fs.readFileSync(config()).readUInt32LE(AER_AT + off);

  beforeEach(() => {
    tree = n3000Tree();
    writes = [];
    const kernel = tree.kernel();
    sysfs = new PciSysfs({ root: tree.root, onWrite: (f, v) => { writes.push(`${path.basename(f)}@${path.basename(path.dirname(f))}`); kernel(f, v); } });
    fs.writeFileSync(config(), portConfig(0x0010_0000, 0x0000_2000));
  });
  afterEach(() => tree.dispose());

  it('masks AER on the upstream port, removes, rescans below the port, restores the masks', async () => {
    expect(findAerCapability(PORT, { sysfs })).toBe(AER_AT);
    const steps: string[] = [];
    let released = 0;
    const hook = pciReloadHook(CARD, { sysfs, waitMs: 0, release: () => released++, onStep: (m) => steps.push(m) });
    hook.before();
    expect(hook.savedAer).toEqual({ bdf: PORT, capability: AER_AT, uncorrectable: 0x0010_0000, correctable: 0x2000 });
    expect(mask(AER_UNCOR_MASK) >>> 0).toBe(0xffff_ffff);
    expect(mask(AER_COR_MASK) >>> 0).toBe(0xffff_ffff);
    await hook.after();
    expect(released).toBe(1);
    expect(writes).toEqual([`remove@${CARD}`, `rescan@${PORT}`]);
    expect(mask(AER_UNCOR_MASK)).toBe(0x0010_0000);
    expect(mask(AER_COR_MASK)).toBe(0x2000);
    expect(steps.join('\n')).toMatch(/masked[\s\S]*removed[\s\S]*rescanned below 0000:02:08.0[\s\S]*restored/);
  });

  it('restores the masks even when the removal fails, and reports the removal error', async () => {
    const hook = pciReloadHook(CARD, { sysfs, waitMs: 0 });
    hook.before();
    fs.rmSync(path.join(tree.dir(CARD), 'remove'));
    fs.mkdirSync(path.join(tree.dir(CARD), 'remove')); // writing a directory fails: EISDIR
    await expect(hook.after()).rejects.toMatchObject({ code: 'EPCI_SYSFS' });
    expect(mask(AER_UNCOR_MASK)).toBe(0x0010_0000);
    expect(mask(AER_COR_MASK)).toBe(0x2000);
  });

  it('a port without AER (or whose capability list loops) is reported and left alone', async () => {
    fs.writeFileSync(config(), portConfig(0, 0, true));
    expect(findAerCapability(PORT, { sysfs })).toBeUndefined();
    expect(maskAer(PORT, { sysfs })).toBeUndefined();
    const steps: string[] = [];
    const hook = pciReloadHook(CARD, { sysfs, waitMs: 0, onStep: (m) => steps.push(m) });
    hook.before();
    await hook.after();
    expect(hook.savedAer).toBeUndefined();
    expect(steps[0]).toMatch(/no AER capability/);
    expect(writes).toEqual([`remove@${CARD}`, `rescan@${PORT}`]);
  });

  it('a config file that cannot be opened is a typed error naming the file', () => {
    fs.rmSync(config());
    expect(() => maskAer(PORT, { sysfs })).toThrow(expect.objectContaining({ code: 'EPCI_CONFIG' }));
  });
});
