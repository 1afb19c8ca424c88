import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { capture } from './helpers.js';
import { buildGbs, buildLegacyGbs } from '../../src/afu/pr/gbs.js';

const IFC = '9346116d-a52d-5ca8-b06a-a9a389ef7c8d';
const AFU = 'c000c966-0d82-4272-9aef-fe5f84570612';

const dir = mkdtempSync(join(tmpdir(), 'vfiokit-gbs-'));
afterEach(() => vi.restoreAllMocks());
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

describe('vfiokit gbs-info', () => {
  const good = join(dir, 'good.gbs');
  writeFileSync(good, buildGbs({ interfaceUuid: IFC, platformName: 'n3000', power: 20, clockFrequencyHigh: 300, clockFrequencyLow: 150, acceleratorClusters: [{ name: 'hello', acceleratorTypeUuid: AFU }] }, new Uint8Array(1001)));

  it('prints the metadata and the bitstream span', async () => {
    const io = capture();
    expect(await main(['gbs-info', good])).toBe(0);
    const text = io.out();
    expect(text).toContain(`interface UUID:     ${IFC}`);
    expect(text).toContain(AFU);
    expect(text).toContain('hello');
    expect(text).toContain('300 MHz / 150 MHz');
    expect(text).toContain('20 W');
    expect(text).toMatch(/bitstream: +1001 bytes at offset 0x[0-9a-f]+ \(padded/);
  });

  it('prints JSON with --json', async () => {
    const io = capture();
    expect(await main(['gbs-info', good, '--json'])).toBe(0);
    const j = JSON.parse(io.out());
    expect(j).toMatchObject({ format: 'json', version: 1, interfaceUuid: IFC, acceleratorUuid: AFU, platformName: 'n3000', powerW: 20, bitstreamLength: 1001 });
    expect(j.json['afu-image']['magic-no']).toBe(488605312);
  });

  it('reads legacy files', async () => {
    const legacy = join(dir, 'legacy.gbs');
    writeFileSync(legacy, buildLegacyGbs(IFC, new Uint8Array(8)));
    const io = capture();
    expect(await main(['gbs-info', legacy])).toBe(0);
    expect(io.out()).toContain('legacy');
  });

  it('exits 3 with the rule that failed for a bad file, 4 for a missing one, 2 for bad usage', async () => {
    const bad = join(dir, 'bad.gbs');
    writeFileSync(bad, new Uint8Array(64));
    let io = capture();
    expect(await main(['gbs-info', bad])).toBe(3);
    expect(io.err()).toMatch(/gbs-info: .*bad\.gbs: not a GBS file/);
    vi.restoreAllMocks();
    io = capture();
    expect(await main(['gbs-info', join(dir, 'missing.gbs')])).toBe(4);
    expect(io.err()).toMatch(/cannot read/);
    vi.restoreAllMocks();
    io = capture();
    expect(await main(['gbs-info'])).toBe(2);
    expect(await main(['gbs-info', '--bogus', good])).toBe(2);
  });
});
