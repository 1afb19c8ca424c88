// Golden test of the uAPI and wire tables (src/sys/uapi): every ioctl number, constant, flag,
// struct size and field offset of linux-vfio.ts against a C probe compiled now from the Linux
// uAPI headers: the system's (/usr/include/linux/vfio.h) and, for iommufd.h and the cdev ioctls
// (absent from Debian 12's 6.1 linux-libc-dev), the headers that scripts/kernel/uapi-headers.sh
// unpacks from linux-source. And every number of vfio-user.ts against the values libvfio-user's
// include/vfio-user.h and QEMU's hw/vfio-user/protocol.h state (not installed here: written
// below with the struct and member names they come from), as rust-vmm's layout tests do.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { iommufdH, vfioH } from '../../src/sys/uapi/linux-vfio.js';
import { vfioUserH, vfiokitVendorH } from '../../src/sys/uapi/vfio-user.js';
import type { HeaderTable } from '../../src/sys/uapi/struct.js';
import { skipUnlessCi } from '../helpers/skip-unless-ci.js';

const gcc = spawnSync('gcc', ['--version']).status === 0;
const skipProbe = skipUnlessCi(gcc ? undefined : 'gcc is not installed', '.ci/run installs build-essential');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vfiokit-uapi-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Struct sizes that grew by tail padding in newer headers (vfio.h 6.6 added `pad` to vfio_device_info). */
const GROWN: Record<string, number[]> = { vfio_device_info: [20, 24] };

interface Row { kind: 'C' | 'S' | 'O'; name: string; expr: string; expected: number; }

/** Every number of the tables: constants, struct sizes, field offsets (C names throughout). */
function tableRows(tables: HeaderTable[]): Row[] {
  const out: Row[] = [];
  for (const t of tables) {
    for (const [name, value] of t.constants) out.push({ kind: 'C', name, expr: `(long long)(${name})`, expected: value });
    for (const s of t.structs) {
      out.push({ kind: 'S', name: s.name, expr: `(long long)sizeof(struct ${s.name})`, expected: s.size });
      for (const [field, off] of s.cFields()) out.push({ kind: 'O', name: `${s.name}.${field}`, expr: `(long long)offsetof(struct ${s.name}, ${field})`, expected: off });
    }
  }
  return out;
}
const rows = (headers: Set<string>): Row[] => tableRows([vfioH, ...(headers.has('iommufd.h') ? [iommufdH] : [])]);

/** Compile and run the probe; rows whose names the headers lack are dropped (and returned). */
function probe(includeDir: string | undefined, headers: Set<string>, label: string): { values: Map<string, number>; missing: string[] } {
  let todo = rows(headers);
  const missing: string[] = [];
  for (let attempt = 0; attempt < 4; attempt++) {
    const src = [
      '#include <stdio.h>', '#include <stddef.h>', '#include <linux/vfio.h>',
      ...(headers.has('iommufd.h') ? ['#include <linux/iommufd.h>'] : []),
      'int main(void) {',
      ...todo.map((r) => `  printf("%s %lld\\n", "${r.name}", ${r.expr});`),
      '  return 0;', '}',
    ].join('\n');
    const c = path.join(tmp, `${label}.c`);
    const exe = path.join(tmp, label);
    fs.writeFileSync(c, src);
    // Unsanitized source headers still carry the kernel's __user annotation.
    const r = spawnSync('gcc', ['-o', exe, '-D__user=', ...(includeDir ? ['-I', includeDir] : []), c], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
    if (r.status === 0) {
      const values = new Map<string, number>();
      for (const line of execFileSync(exe, { encoding: 'utf8' }).trim().split('\n')) {
        const [name, v] = line.split(' ');
        values.set(name!, Number(v));
      }
      return { values, missing };
    }
    const bad = new Set<string>();
    for (const m of r.stderr.matchAll(/'([A-Za-z0-9_]+)' undeclared/g)) bad.add(m[1]!);
    for (const m of r.stderr.matchAll(/incomplete type 'struct ([A-Za-z0-9_]+)'/g)) bad.add(m[1]!);
    for (const m of r.stderr.matchAll(/'struct ([A-Za-z0-9_]+)' has no member named '([A-Za-z0-9_]+)'/g)) bad.add(`${m[1]}.${m[2]}`);
    if (bad.size === 0) throw new Error(`probe did not compile:\n${r.stderr}`);
    const drop = (r0: Row) => bad.has(r0.name) || bad.has(r0.name.split('.')[0]!);
    missing.push(...todo.filter(drop).map((r0) => r0.name));
    todo = todo.filter((r0) => !drop(r0));
  }
  throw new Error('probe did not converge');
}

function check(values: Map<string, number>, headers: Set<string>): void {
  for (const r of rows(headers)) {
    const got = values.get(r.name);
    if (got === undefined) continue;
    if (r.kind === 'S' && GROWN[r.name]) expect(GROWN[r.name], r.name).toContain(got);
    else expect(got, r.name).toBe(r.expected);
  }
}

/** The linux-source include directory of scripts/kernel/uapi-headers.sh, or why there is none. */
function sourceHeaders(): { dir?: string; why?: string } {
  if (!gcc) return {};
  const r = spawnSync(path.resolve('scripts/kernel/uapi-headers.sh'), { encoding: 'utf8' });
  const dir = r.status === 0 ? r.stdout.trim().split('\n').pop() : undefined;
  return dir ? { dir } : { why: r.stderr.trim() || `scripts/kernel/uapi-headers.sh exited ${r.status}` };
}
const source = sourceHeaders();
const skipSource = skipUnlessCi(source.why, '.ci/run installs linux-source-6.12 with apt-get');

describe.skipIf(skipProbe)('uAPI golden values', () => {
  it('match the system linux/vfio.h (rows it lacks are reported)', () => {
    const headers = new Set(['vfio.h']);
    const { values, missing } = probe(undefined, headers, 'system');
    check(values, headers);
    expect(values.size).toBeGreaterThan(80);
    // Debian 12's 6.1 headers lack only the iommufd-era ioctls and structs and DMA logging (6.2).
    for (const m of missing) expect(m).toMatch(/IOMMUFD|iommufd|DMA_LOGGING/);
    if (missing.length) console.log(`system vfio.h lacks ${missing.length} rows (checked against linux-source below): ${[...new Set(missing.map((m) => m.split('.')[0]))].join(', ')}`);
  });

  it.skipIf(skipSource)('match linux-source vfio.h + iommufd.h (every row)', () => {
    const headers = new Set(['vfio.h', 'iommufd.h']);
    const { values, missing } = probe(source.dir, headers, 'source');
    expect(missing).toEqual([]);
    check(values, headers);
    expect(values.size).toBe(rows(headers).length);
  });
});

/**
 * The vfio-user wire numbers as the protocol's headers state them (offsets from the start of each
 * struct; all packed). libvfio-user include/vfio-user.h: struct vfio_user_header {u16 msg_id,
 * u16 cmd, u32 msg_size, flags {type:4, no_reply:1, error:1}, u32 error_no}; vfio_user_version
 * {u16 major, u16 minor, data[]}; vfio_user_device_info {argsz, flags, num_regions, num_irqs};
 * vfio_user_dma_map {u32 argsz, u32 flags, u64 offset, u64 addr, u64 size};
 * vfio_user_dma_unmap {u32 argsz, u32 flags, u64 addr, u64 size, bitmap[]};
 * vfio_user_region_access {u64 offset, u32 region, u32 count, data[]};
 * vfio_user_dma_region_access {u64 addr, u64 count, data[]};
 * vfio_user_region_io_fds_request {argsz, flags, index, count};
 * vfio_user_sub_region_ioeventfd {u64 offset, u64 size, u32 fd_index, u32 type, u32 flags,
 * u32 padding, u64 datamatch}; enum vfio_user_command (1..13); VFIO_USER_F_DMA_REGION_READ/WRITE;
 * VFIO_USER_IO_FD_TYPE_*. QEMU hw/vfio-user/protocol.h: VFIO_USER_REGION_WRITE_MULTI 15,
 * VFIO_USER_REQUEST/REPLY/TYPE/NO_REPLY/ERROR, VFIOUserWROne {u64 offset, u32 region, u32 count,
 * char data[VFIO_USER_MULTI_DATA 8]}, VFIOUserWRMulti {hdr, u64 wr_cnt, wrs[VFIO_USER_MULTI_MAX
 * 200]} (offsets here after hdr). QEMU docs/interop/vfio-user.rst "Commands": DEVICE_FEATURE 16,
 * MIG_DATA_READ 17, MIG_DATA_WRITE 18.
 */
const VFIO_USER_GOLDEN = {
  structs: {
    vfio_user_header: { size: 16, fields: { msg_id: 0, cmd: 2, msg_size: 4, flags: 8, error_no: 12 } },
    vfio_user_version: { size: 4, fields: { major: 0, minor: 2, data: 4 } },
    vfio_user_device_info: { size: 16, fields: { argsz: 0, flags: 4, num_regions: 8, num_irqs: 12 } },
    vfio_user_dma_map: { size: 32, fields: { argsz: 0, flags: 4, offset: 8, addr: 16, size: 24 } },
    vfio_user_dma_unmap: { size: 24, fields: { argsz: 0, flags: 4, addr: 8, size: 16 } },
    vfio_user_region_access: { size: 16, fields: { offset: 0, region: 8, count: 12, data: 16 } },
    vfio_user_dma_region_access: { size: 16, fields: { addr: 0, count: 8, data: 16 } },
    vfio_user_region_io_fds_request: { size: 16, fields: { argsz: 0, flags: 4, index: 8, count: 12 } },
    vfio_user_sub_region_ioeventfd: { size: 40, fields: { offset: 0, size: 8, fd_index: 16, type: 20, flags: 24, padding: 28, datamatch: 32 } },
    VFIOUserWROne: { size: 24, fields: { offset: 0, region: 8, count: 12, data: 16 } },
    VFIOUserWRMulti: { size: 8, fields: { wr_cnt: 0, wrs: 8 } },
  } as Record<string, { size: number; fields: Record<string, number> }>,
  constants: {
    VFIO_USER_VERSION: 1, VFIO_USER_DMA_MAP: 2, VFIO_USER_DMA_UNMAP: 3, VFIO_USER_DEVICE_GET_INFO: 4,
    VFIO_USER_DEVICE_GET_REGION_INFO: 5, VFIO_USER_DEVICE_GET_REGION_IO_FDS: 6, VFIO_USER_DEVICE_GET_IRQ_INFO: 7,
    VFIO_USER_DEVICE_SET_IRQS: 8, VFIO_USER_REGION_READ: 9, VFIO_USER_REGION_WRITE: 10, VFIO_USER_DMA_READ: 11,
    VFIO_USER_DMA_WRITE: 12, VFIO_USER_DEVICE_RESET: 13, VFIO_USER_REGION_WRITE_MULTI: 15, VFIO_USER_DEVICE_FEATURE: 16,
    VFIO_USER_MIG_DATA_READ: 17, VFIO_USER_MIG_DATA_WRITE: 18,
    VFIO_USER_TYPE: 0xf, VFIO_USER_REQUEST: 0, VFIO_USER_REPLY: 1, VFIO_USER_NO_REPLY: 1 << 4, VFIO_USER_ERROR: 1 << 5,
    VFIO_USER_F_DMA_REGION_READ: 1 << 0, VFIO_USER_F_DMA_REGION_WRITE: 1 << 1,
    VFIO_USER_IO_FD_TYPE_IOEVENTFD: 0, VFIO_USER_IO_FD_TYPE_IOREGIONFD: 1, VFIO_USER_IO_FD_TYPE_IOEVENTFD_SHADOW: 2,
    VFIO_USER_MULTI_DATA: 8, VFIO_USER_MULTI_MAX: 200,
  } as Record<string, number>,
};

describe('vfio-user wire golden values (libvfio-user include/vfio-user.h, QEMU hw/vfio-user/protocol.h)', () => {
  it('every struct size, field offset and constant of src/sys/uapi/vfio-user.ts matches', () => {
    const got = tableRows([vfioUserH]);
    const want: Row[] = [];
    for (const [name, value] of Object.entries(VFIO_USER_GOLDEN.constants)) want.push({ kind: 'C', name, expr: '', expected: value });
    for (const [name, s] of Object.entries(VFIO_USER_GOLDEN.structs)) {
      want.push({ kind: 'S', name, expr: '', expected: s.size });
      for (const [field, off] of Object.entries(s.fields)) want.push({ kind: 'O', name: `${name}.${field}`, expr: '', expected: off });
    }
    const byName = (rs: Row[]) => Object.fromEntries(rs.map((r) => [r.name, r.expected]));
    // Both ways: a number the table adds without a golden value fails as much as a wrong one.
    expect(byName(got)).toEqual(byName(want));
  });
});

describe('vfiokit vendor command layout (REGION_BATCH; ours, so pinned here as the wire contract)', () => {
  it('sizes, offsets and the command number are what docs and peers rely on', () => {
    const byName = Object.fromEntries(tableRows([vfiokitVendorH]).map((r) => [r.name, r.expected]));
    expect(byName).toEqual({
      VFIOKIT_USER_REGION_BATCH: 0x7f01,
      vfiokit_region_batch: 8, 'vfiokit_region_batch.region': 0, 'vfiokit_region_batch.count': 4, 'vfiokit_region_batch.entries': 8,
      vfiokit_region_batch_reply: 16, 'vfiokit_region_batch_reply.completed': 0, 'vfiokit_region_batch_reply.stop': 4,
      'vfiokit_region_batch_reply.accesses': 8, 'vfiokit_region_batch_reply.polls': 12, 'vfiokit_region_batch_reply.values': 16,
    });
  });
});
