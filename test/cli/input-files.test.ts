// Input files named on the command line are read with a bound (issue 14 item 3): devices, FIFOs
// and directories are refused before a byte is read, files larger than the format allows are
// refused by size, and a FIFO with no writer does not hang the command.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, cliSandbox } from './sandbox.js';
import { openSync, ftruncateSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { readInputFile } from '../../src/util/input-file.js';
import { GBS_INPUT, SIGNED_IMAGE_INPUT } from '../../src/afu/input-limits.js';
import { STAGING_SIZE } from '../../src/dfl/regs/max10-bmc.js';

const sandbox = cliSandbox('input');
// A heap limit and the sandbox's 20 s timeout: the old code grew without bound on /dev/zero and hung on a FIFO.
const vfiokit = (args: string[]) => sandbox.run(args, { nodeArgs: ['--max-old-space-size=256'] });

describe('input files', () => {
  it.each([
    ['gbs-info', ['/dev/zero']],
    ['image-info', ['/dev/zero']],
    ['pr', ['sim:n3000', '/dev/zero']],
    ['flash', ['sim:n3000', '/dev/urandom']],
  ])('%s refuses a character device without reading it', (cmd, args) => {
    const r = vfiokit([cmd, ...args]);
    expect(r.signal).toBeNull();
    expect(r.stderr).toMatch(new RegExp(`^vfiokit ${cmd}: /dev/(zero|urandom) is a character device, not a regular file`));
    expect(r.status).toBe(4);
  });

  it('a FIFO with no writer is refused at once, not waited on', () => {
    const fifo = join(sandbox.dir, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const r = vfiokit(['gbs-info', fifo]);
    expect(r.signal).toBeNull();
    expect(r.stderr).toContain('is a FIFO (named pipe), not a regular file');
    expect(r.status).toBe(4);
  });

  it('a directory and a path through a file are named as such', () => {
    expect(vfiokit(['image-info', sandbox.dir]).stderr).toContain('is a directory, not a regular file');
    const r = vfiokit(['gbs-info', join(BIN, 'x.gbs')]);
    expect(r.stderr).toContain('a component of the path is not a directory');
    expect(r.status).toBe(4);
  });

  it('a sparse file larger than the format allows is refused by size, naming the maximum and its source', () => {
    const big = join(sandbox.dir, 'big.bin');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, STAGING_SIZE + 1);
    closeSync(fd);
    const r = vfiokit(['flash', 'sim:n3000', big]);
    expect(r.stderr).toContain(`is ${STAGING_SIZE + 1} bytes, larger than any signed image (at most ${STAGING_SIZE} bytes: the BMC staging area, M10BMC_STAGING_SIZE`);
    expect(r.status).toBe(3);
    expect(() => readInputFile(big, { ...GBS_INPUT, maxBytes: 1024 })).toThrow(expect.objectContaining({ code: 'EINPUT_TOO_BIG', details: expect.objectContaining({ limit: 1024 }) }));
    expect(readInputFile(big, { ...SIGNED_IMAGE_INPUT, maxBytes: STAGING_SIZE + 1 }).length).toBe(STAGING_SIZE + 1);
  });
});
