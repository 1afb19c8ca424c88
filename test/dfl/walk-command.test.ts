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
    expect(lines.find((l) => l.includes(' uint '))).toMatch(/\s2-5(\s|$)/);
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

interface JsonHeader { offset: number; dfh: string; type: string | number; id: number; name: string; next: number; eol: boolean; guid?: string; registers?: { offset: number; value: string }[] }

// opae.io walk --offset / -r / -c / -u / -D (opae-sdk binaries/opae.io pymain.h walk_action, utils.py
// dfh_walk): one flat chain from an offset, on the sim card's real BAR.
describe('vfiokit walk --offset (opae.io walk)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('walks from a private feature in the middle of the FME list to the end of the Port list', async () => {
    const { code, out } = await capture(['sim:n3000', '--offset', '0x3000', '-u']);
    expect(code).toBe(ExitCode.OK);
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('sim:n3000: 6 header(s) from BAR0+0x3000, ended by EOL');
    expect(lines[1]).toMatch(/^offset\s+dfh\s+type\s+id\s+name\s+rev\s+ver\s+next\s+end\s+guid$/);
    // v0 private features have no GUID: '-', the Port FIU has its own.
    expect(lines[2]).toMatch(/^0:0x03000\s+0x3000000010001004\s+private\s+0x4\s+feature-0x4\s+1\s+v0\s+0x1000\s+-$/);
    expect(lines.find((l) => l.includes(' port '))).toMatch(/^0:0x40000\s+\S+\s+fiu\s+0x1\s+port\s.*3ab49893-138d-42eb-9642-b06c6b355b87$/);
    // After the Port FIU, private features are named as the Port's.
    expect(lines.at(-1)).toMatch(/^0:0x42000\s+\S+\s+private\s+0x12\s+uint\s.*\seol\s+-$/);
  });

  it('-r, --count, --dump and --json: the headers, the end reason and the registers up to the next header', async () => {
    const { code, out } = await capture(['sim:n3000', '-r', 'bar0', '--offset', '0x40000', '--count', '2', '--dump', '--json']);
    expect(code).toBe(ExitCode.OK);
    const j = JSON.parse(out) as { region: number; offset: number; end: string; headers: JsonHeader[] };
    expect([j.region, j.offset, j.end]).toEqual([0, 0x40000, 'count']);
    expect(j.headers.map((h) => [h.offset, h.type, h.id, h.name, h.next, h.eol])).toEqual([[0x40000, 'fiu', 1, 'port', 0x1000, false], [0x41000, 'private', 0x10, 'port-error', 0x1000, false]]);
    expect(j.headers[0]!.dfh).toBe('0x4000000010001001');
    const regs = j.headers[0]!.registers!;
    expect(regs.length).toBe(0x1000 / 8 - 1);
    expect(regs[0]).toEqual({ offset: 0x40008, value: '0x9642b06c6b355b87' });
    expect(regs.at(-1)!.offset).toBe(0x40ff8);
  });

  it('the AFU chain on its own (no discovery), and the tree walk is unchanged without the options', async () => {
    const { out } = await capture(['sim:n3000', '--offset', String(0x60000), '--json']);
    const j = JSON.parse(out) as { end: string; headers: JsonHeader[] };
    expect(j.end).toBe('eol');
    expect(j.headers.map((h) => [h.type, h.name])).toEqual([['afu', 'afu-0x0']]);
  });

  it('misaligned, outside, unknown region and bad numbers are typed errors', async () => {
    await expect(command.run(['sim:n3000', '--offset', '0x1004'])).rejects.toMatchObject({ code: 'EDFL_MISALIGNED', message: expect.stringContaining('BAR0+0x1004') });
    await expect(command.run(['sim:n3000', '--offset', '0x80000'])).rejects.toMatchObject({ code: 'EDFL_OUTSIDE' });
    await expect(command.run(['sim:n3000', '-r', '3'])).rejects.toMatchObject({ code: 'EUSAGE', message: expect.stringContaining('has no region 3') });
    await expect(command.run(['sim:n3000', '--offset', 'x'])).rejects.toThrow(UsageError);
    await expect(command.run(['sim:n3000', '--count', '0'])).rejects.toThrow(UsageError);
  });
});
