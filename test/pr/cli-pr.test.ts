import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main.js';
import { capture, simGbs } from './helpers.js';
import { SIM_PR_INTERFACE_ID } from '../../src/sim/identity.js';

const AFU = '6f4e5d3c-2b1a-4c9d-8e7f-0a1b2c3d4e5f';
const dir = mkdtempSync(join(tmpdir(), 'vfiokit-pr-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function gbsFile(name: string, interfaceUuid: string, bytes = 10_001): string {
  const payload = Uint8Array.from({ length: bytes }, (_, i) => i & 0xff);
  const path = join(dir, name);
  writeFileSync(path, simGbs({ interfaceUuid, afuGuid: AFU, payload, name: 'demo' }).file);
  return path;
}

beforeAll(() => {
  process.env.VFIOKIT_STATE_DIR = join(dir, 'state');
});
afterEach(() => vi.restoreAllMocks());

describe('vfiokit pr', () => {
  const good = gbsFile('good.gbs', SIM_PR_INTERFACE_ID);
  const other = gbsFile('other.gbs', '11111111-2222-3333-4444-555555555555');

  it('loads a GBS into the sim card and prints the AFU GUID read back from the card', async () => {
    const io = capture();
    expect(await main(['pr', 'sim:n3000', good])).toBe(0);
    expect(io.out()).toMatch(/loaded .*good\.gbs into port 0 of sim:n3000: 10068 bytes/);
    expect(io.out()).toContain(`AFU GUID now: ${AFU}`);
    expect(io.err()).toMatch(/writing 100\.0%/); // progress lines (not a TTY: one per 10%)
  });

  it('--json prints the result, no progress', async () => {
    const io = capture();
    expect(await main(['pr', 'sim:n3000', good, '--json'])).toBe(0);
    const j = JSON.parse(io.out());
    expect(j).toMatchObject({ device: 'sim:n3000', port: 0, afuGuid: AFU, acceleratorUuid: AFU, bytesWritten: 10068, dryRun: false });
    expect(io.err()).toBe('');
  });

  it('--dry-run validates only', async () => {
    const io = capture();
    expect(await main(['pr', 'sim:n3000', good, '--dry-run'])).toBe(0);
    expect(io.out()).toMatch(/dry run: .* matches the card, .* nothing was written/);
  });

  it('refuses a GBS for another FIM (exit 1) unless --force, where the card refuses it', async () => {
    let io = capture();
    expect(await main(['pr', 'sim:n3000', other])).toBe(1);
    expect(io.err()).toMatch(/step validate: the GBS was built for PR interface 11111111-/);
    vi.restoreAllMocks();
    io = capture();
    expect(await main(['pr', 'sim:n3000', other, '--force'])).toBe(1);
    expect(io.err()).toMatch(/PR_ERR .*bit 2 incompatible bitstream/);
  });

  it('reports bad usage (2), a bad file (3), a missing device scheme (4) and a port out of range (1)', async () => {
    capture();
    expect(await main(['pr', 'sim:n3000'])).toBe(2);
    expect(await main(['pr', 'sim:n3000', good, '--port', 'x'])).toBe(2);
    const junk = join(dir, 'junk.gbs');
    writeFileSync(junk, 'hello');
    expect(await main(['pr', 'sim:n3000', junk])).toBe(3);
    expect(await main(['pr', 'sim:n3000', join(dir, 'nope.gbs')])).toBe(4);
    expect(await main(['pr', 'sim:n3000', good, '--port', '1'])).toBe(1);
  });
});
