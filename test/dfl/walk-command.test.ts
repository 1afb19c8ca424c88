import { afterEach, describe, expect, it, vi } from 'vitest';
import { command } from '../../src/cli/commands/walk.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { UsageError } from '../../src/cli/output.js';
import { DeviceError } from '../../src/errors.js';
import { SIM_AFU_GUID } from '../../src/sim/identity.js';

async function capture(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    return { code: await command.run(argv), out };
  } finally {
    spy.mockRestore();
  }
}

interface JsonFeature { bar: number; offset: number; type: string; id: number; name: string; version: number; guid?: string; irq?: unknown; params?: { data: string[] }[]; children: JsonFeature[] }

describe('vfiokit walk', () => {
  afterEach(() => vi.restoreAllMocks());

  it('prints the tree as a table with the discovery method', async () => {
    const { code, out } = await capture(['sim:n3000']);
    expect(code).toBe(ExitCode.OK);
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('sim:n3000: 10 features in 1 list(s), found through the DFL VSEC');
    expect(lines[2]).toMatch(/^0:0x00000\s+fiu\s+0x0\s+fme\s+1\s+v0\s+0x1000\s+bfaf2ae9-4a52-46e3-82fe-38f0f9e17764$/);
    expect(lines.find((l) => l.includes(' afu '))).toMatch(new RegExp(`^  0:0x60000\\s+afu\\s+0x0\\s+afu\\s+0\\s+v0\\s+0x20000\\s+${SIM_AFU_GUID}$`));
    expect(lines.find((l) => l.includes(' uint '))).toMatch(/\s2-5\s/);
  });

  it('prints JSON with the Port as a root and the AFU under it', async () => {
    const { code, out } = await capture(['sim:n3000-no-vsec', '--json']);
    expect(code).toBe(ExitCode.OK);
    const j = JSON.parse(out) as { device: string; discovery: string; features: JsonFeature[]; warnings: string[] };
    expect(j.device).toBe('sim:n3000-no-vsec');
    expect(j.discovery).toBe('fme-port-table');
    expect(j.features.map((f) => [f.type, f.id, f.name, f.offset])).toEqual([['fiu', 0, 'fme', 0], ['fiu', 1, 'port', 0x40000]]);
    expect(j.features[0]!.guid).toBe('bfaf2ae9-4a52-46e3-82fe-38f0f9e17764');
    const port = j.features[1]!;
    expect(port.children.map((c) => c.type)).toEqual(['private', 'private', 'afu']);
    expect(port.children[2]!.guid).toBe(SIM_AFU_GUID);
    expect(j.warnings).toEqual([]);
  });

  it('shows v1 parameters in JSON with hex data words', async () => {
    const { out } = await capture(['sim:n3000-dfh1', '--json']);
    const j = JSON.parse(out) as { features: JsonFeature[] };
    const uint = j.features[1]!.children.find((c) => c.name === 'uint')!;
    expect(uint.version).toBe(1);
    expect(uint.irq).toEqual({ firstVector: 2, count: 4, source: 'msix-param' });
    expect(uint.params![0]!.data).toEqual(['0x400000002']);
  });

  it('rejects bad arguments and unknown devices with typed errors', async () => {
    await expect(command.run([])).rejects.toThrow(UsageError);
    await expect(command.run(['sim:n3000', 'extra'])).rejects.toThrow(UsageError);
    await expect(command.run(['sim:nope'])).rejects.toThrow(DeviceError);
  });
});
