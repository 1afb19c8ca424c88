// FME global errors read, cleared and injected with drivers/fpga/dfl-fme-error.c's sequences on
// the simulated card (whose error registers latch and clear by writing 1s), and `vfiokit errors`.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createSimCard } from '../../src/sim/sim-device.js';
import { Card } from '../../src/afu/card.js';
import { clearFmeErrors, injectFmeErrors, readFmeErrors } from '../../src/afu/fme-errors.js';
import { FmeErrorReg, FME_MBP_ERROR } from '../../src/dfl/regs/fiu.js';

describe('FME global errors (dfl-fme-error.c)', () => {
  it('reads latched errors with first/next, clears by writing back the value read, and injects RAS errors', () => {
    using device = createSimCard();
    const fme = Card.discover(device).fme!;
    device.sim.fmeError.latch('FME_ERROR', 0x2n);
    device.sim.fmeError.latch('FME_ERROR', 0x8n);
    device.sim.fmeError.latch('PCIE0_ERROR', 0x10n);
    expect(readFmeErrors(fme)).toMatchObject({ fmeErrors: 0xan, firstError: 0x2n, nextError: 0x8n, pcie0Errors: 0x10n, pcie1Errors: 0n });
    expect(clearFmeErrors(fme)).toEqual({ fmeErrors: 0xan, pcie0Errors: 0x10n, pcie1Errors: 0n });
    expect(readFmeErrors(fme)).toMatchObject({ fmeErrors: 0n, firstError: 0n, nextError: 0n, pcie0Errors: 0n });
    // Masks are left unmasked afterwards; the sim's feature is revision 1, so MBP_ERROR is unmasked too.
    const ref = fme.findFeature(0x4)!;
    expect(ref.region.read64(ref.csrOffset + FmeErrorReg.FME_ERROR_MASK) & FME_MBP_ERROR).toBe(0n);
    expect(ref.region.read64(ref.csrOffset + FmeErrorReg.PCIE0_ERROR_MASK)).toBe(0n);

    // Injected catastrophic -> RAS_CATFAT_ERROR[11], non-fatal -> RAS_NONFAT_ERROR[6] (DPDK ifpga_defines.h).
    injectFmeErrors(fme, 0b101);
    expect(readFmeErrors(fme)).toMatchObject({ injectErrors: 5n, catFatalErrors: 0x800n, nonFatalErrors: 0x40n });
    injectFmeErrors(fme, 0b010);
    expect(readFmeErrors(fme)).toMatchObject({ injectErrors: 2n, catFatalErrors: 0x100n, nonFatalErrors: 0n });
    injectFmeErrors(fme, 0);
    expect(readFmeErrors(fme)).toMatchObject({ injectErrors: 0n, catFatalErrors: 0n, nonFatalErrors: 0n });
    expect(() => injectFmeErrors(fme, 8)).toThrow(expect.objectContaining({ code: 'EINVAL' }) as Error);
  });

  it('vfiokit errors shows FME and port errors in fpgainfo style and --json', () => {
    const root = resolve(__dirname, '../..');
    const run = (args: string[]) => spawnSync(process.execPath, [join(root, 'bin/vfiokit.js'), 'errors', ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, DEBUG: '' }, timeout: 60_000 });
    const text = run(['sim:n3000', '--inject', '4']);
    expect(text.status, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/\/\/\*\*\*\*\*\* FME ERRORS \*\*\*\*\*\*\/\/\n {2}register +value\n {2}Errors +0x0\n/);
    expect(text.stdout).toMatch(/Nonfatal Errors +0x40\n/);
    expect(text.stdout).toMatch(/PORT 0 ERRORS/);
    const json = JSON.parse(run(['sim:n3000', '--clear', '--json']).stdout) as { fme: Record<string, string>; ports: { port: number }[]; cleared: unknown };
    expect(json.fme.fmeErrors).toBe('0x0');
    expect(json.ports[0]!.port).toBe(0);
    expect(json.cleared).toBeTruthy();
    expect(run(['sim:n3000', '--inject', '9']).status).toBe(2);
  });
});
