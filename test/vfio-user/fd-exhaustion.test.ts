// Fds passed to a server that has run out of descriptors: the kernel drops them and sets
// MSG_CTRUNC (net/core/scm.c scm_detach_fds: "if (i < fdmax) msg->msg_flags |= MSG_CTRUNC").
// The server must refuse the message that lost its fds (EMFILE), not take a DMA_MAP without its
// fd as an fd-less window. The real `vfiokit serve` process, its RLIMIT_NOFILE lowered with prlimit.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocateDma } from '../../src/dma/dma-buffer.js';
import { VfioUserDevice } from '../../src/vfio-user/client.js';
import { Errno, VfioUserRemoteError } from '../../src/vfio-user/protocol.js';
import { spawnServer, type SpawnedServer } from './helpers/spawn.js';
import { constants } from 'node:os';

/** The lowest fd number free in `pid`: a soft RLIMIT_NOFILE of it leaves no fd to allocate. */
function lowestFreeFd(pid: number): number {
  const used = new Set(readdirSync(`/proc/${pid}/fd`).map(Number));
  let n = 0;
  while (used.has(n)) n++;
  return n;
}

/** prlimit the soft RLIMIT_NOFILE of `pid`; returns the previous soft limit. */
function setSoftNofile(pid: number, soft: string): string {
  const r = spawnSync('prlimit', ['--pid', String(pid), '--nofile', '--output=SOFT', '--noheadings'], { encoding: 'utf8' });
  const w = spawnSync('prlimit', ['--pid', String(pid), `--nofile=${soft}:`], { encoding: 'utf8' });
  if (r.status !== 0 || w.status !== 0) throw new Error(`prlimit failed: ${r.stderr}${w.stderr}`);
  return r.stdout.trim();
}

describe('vfio-user server out of descriptors', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnServer('src/cli/main.ts', ['serve', 'sim:n3000', '--socket', '{socket}'], /^serving /);
  });
  afterAll(async () => {
    await server.kill();
  });

  it('refuses a DMA_MAP whose fd the kernel dropped (MSG_CTRUNC) with EMFILE, and maps again once fds are free', () => {
    using device = new VfioUserDevice(server.socket);
    const pid = server.child.pid!;
    const before = setSoftNofile(pid, String(lowestFreeFd(pid)));
    let refused: unknown;
    try {
      allocateDma(device, 4096).close();
    } catch (err) {
      refused = err;
    } finally {
      setSoftNofile(pid, before);
    }
    expect(refused).toBeInstanceOf(VfioUserRemoteError);
    expect((refused as VfioUserRemoteError).errno).toBe(constants.errno.EMFILE);
    expect(Errno.EMFILE).toBe(constants.errno.EMFILE);
    // Nothing was half-mapped: the same IOVA range maps now, and the server is alive.
    using buf = allocateDma(device, 4096);
    expect(buf.iova).toBeTypeOf('bigint');
    expect(server.child.exitCode).toBeNull();
  });
});
