// The management API's conventions: numbers (0 / -errno) for actions, objects or null for queries,
// typed exceptions with { throwOnError: true }, lastError(); logging levels and file; enumerate
// across backends; PCI operations against a captured sysfs tree; image info and flash status.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, constants } from 'node:os';
import { join, resolve } from 'node:path';
import * as fpga from '../../src/manage/index.js';
import { createManagementApi, ManagementApi, PropertyMask, negativeErrno } from '../../src/manage/index.js';
import { finalizeBackends } from '../../src/device/registry.js';
import { PciSysfs } from '../../src/pci/sysfs.js';
import { FakeSysfs, n3000Tree } from '../pci/fake-sysfs.js';
import { buildSignedImage, patternPayload } from '../../src/afu/image/image-writer.js';
import { buildGbs } from '../../src/afu/pr/gbs.js';
import { writeFlashStatus } from '../../src/afu/bmc/flash-status.js';
import { ReservationError } from '../../src/lock/reservations.js';
import { DeviceError, VfiokitError } from '../../src/errors.js';

const E = constants.errno;
const memPlugin = resolve(__dirname, '../../examples/plugins/memory-backend.ts');
let dir: string;
const saved = { config: process.env.VFIOKIT_CONFIG, state: process.env.VFIOKIT_STATE_DIR, lock: process.env.VFIOKIT_LOCK_DIR };

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vfiokit-manage-'));
  process.env.VFIOKIT_STATE_DIR = join(dir, 'state');
  process.env.VFIOKIT_LOCK_DIR = join(dir, 'locks');
  process.env.VFIOKIT_CONFIG = join(dir, 'config.json');
  writeFileSync(process.env.VFIOKIT_CONFIG, JSON.stringify({
    configurations: {
      mem: { enabled: true, plugin: memPlugin, configuration: { devices: [{ name: 'a', vendor: 0x8086, device: 0x0b30 }, { name: 'b', vendor: 0x1af4, device: 0x10f0 }] } },
    },
    plugins: ['mem'],
  }));
  await finalizeBackends();
});

afterEach(async () => {
  await fpga.cleanupEal();
  await finalizeBackends();
  for (const [k, v] of [['VFIOKIT_CONFIG', saved.config], ['VFIOKIT_STATE_DIR', saved.state], ['VFIOKIT_LOCK_DIR', saved.lock]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('version and logging', () => {
  it('getApiVersion returns {major, minor, micro} or a string', () => {
    const v = fpga.getApiVersion();
    const pkg = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')) as { version: string };
    expect(`${v.major}.${v.minor}.${v.micro}`).toBe(pkg.version);
    expect(fpga.getApiVersion(1)).toBe(pkg.version);
  });

  it('setLogLevel sets 0..4, ignores anything else, and returns the level in effect', () => {
    const api = new ManagementApi();
    expect(api.setLogLevel()).toBe(1);
    expect(api.setLogLevel(3)).toBe(3);
    expect(api.setLogLevel(9)).toBe(3);
    expect(api.setLogLevel(-1)).toBe(3);
    expect(api.setLogLevel(0)).toBe(0);
    expect(api.setLogLevel(1)).toBe(1);
  });

  it('setLogFile appends (or cleans) and receives error messages; no path stops it', async () => {
    const log = join(dir, 'manage.log');
    writeFileSync(log, 'old line\n');
    const api = new ManagementApi();
    api.setLogLevel(1);
    expect(await api.setLogFile(log, 0)).toBe(0);
    expect(await api.getParent('sim:n3000')).toBeNull();
    expect(await api.setLogFile()).toBe(0);
    expect(await api.getParent('sim:other')).toBeNull();
    let text = readFileSync(log, 'utf8');
    expect(text).toMatch(/^old line\nvfiokit ERROR: sim:n3000 is not a local PCI function/);
    expect(text).not.toContain('sim:other');
    expect(await api.setLogFile(log, 1)).toBe(0);
    await api.setLogFile();
    text = readFileSync(log, 'utf8');
    expect(text).toBe('');
    expect(await api.setLogFile(join(dir, 'no/such/dir/x.log'))).toBe(-E.ENOENT);
  });
});

describe('environment', () => {
  it('initEal loads the backends and counts them; getProcType follows it; cleanupEal releases', async () => {
    const api = new ManagementApi();
    expect(api.getProcType()).toBe(-1);
    expect(await api.initEal()).toBe(1);
    expect(api.getProcType()).toBe(0);
    expect(api.getProcType('mem:a')).toBe(0);
    expect(api.getProcType('vfio-user:/run/card.sock')).toBe(1);
    expect(await api.probe('mem:a')).toBe(0);
    expect(api.probed('mem:a').device.transport).toBe('mem');
    expect(await api.cleanupEal()).toBe(0);
    expect(api.getProcType()).toBe(-1);
    expect(await api.remove('mem:a')).toBe(-E.ENODEV);
  });

  it('initEal reports -ENODEV when no backend loads', async () => {
    writeFileSync(process.env.VFIOKIT_CONFIG!, JSON.stringify({ configurations: { x: { plugin: './missing.mjs' } }, plugins: ['x'] }));
    const api = new ManagementApi();
    api.setLogLevel(0);
    expect(await api.initEal()).toBe(-E.ENODEV);
    expect(api.lastError()).toMatchObject({ code: 'ENODEV', errno: E.ENODEV });
    expect(api.lastError()!.message).toContain('loadBackends() reports why');
  });
});

describe('enumerate, probe, remove', () => {
  it('enumerates every backend with the seed filters', async () => {
    expect(await fpga.enumerate()).toEqual(['mem:a', 'mem:b']);
    expect(await fpga.enumerate({ vid: 0x8086, did: 0x0b30 })).toEqual(['mem:a']);
    expect(await fpga.enumerate({ did: 0x0bcd })).toEqual([]);
  });

  it('probe opens and keeps a device; remove closes it; errors are -errno with lastError', async () => {
    expect(await fpga.probe('mem:a')).toBe(0);
    expect(await fpga.probe('mem:a')).toBe(0);
    expect(await fpga.remove('mem:a')).toBe(0);
    expect(await fpga.remove('mem:a')).toBe(-E.ENODEV);
    expect(fpga.lastError()).toMatchObject({ code: 'ENOTPROBED', errno: E.ENODEV });
    expect(await fpga.probe('mem:zzz')).toBe(-E.ENODEV);
    expect(await fpga.probe('nonsense')).toBe(-E.EINVAL);
    expect(await fpga.probe('mem:b')).toBe(0);
    expect(fpga.lastError()).toBeUndefined();
  });

  it('getProperty(PCI) needs no probe; FME/port/BMC need one', async () => {
    expect(await fpga.getProperty('mem:a', PropertyMask.PCI)).toEqual({
      pci: { id: { class_id: 0x120000, vendor_id: 0x8086, device_id: 0x0b30, subsystem_vendor_id: 0x8086, subsystem_device_id: 0 }, address: null, bdf: null, driver: 'mem' },
    });
    expect(await fpga.getProperty('mem:a', PropertyMask.FME)).toBeNull();
    expect(fpga.lastError()!.code).toBe('ENOTPROBED');
    expect(await fpga.getProperty('mem:a', 99)).toBeNull();
    expect(fpga.lastError()!.errno).toBe(E.EINVAL);
  });

  it('throwOnError turns failures into typed exceptions', async () => {
    const api = createManagementApi({ throwOnError: true });
    api.setLogLevel(0);
    await expect(api.remove('mem:a')).rejects.toBeInstanceOf(DeviceError);
    await expect(api.getParent('sim:n3000')).rejects.toMatchObject({ code: 'EOPNOTSUPP' });
    await expect(api.probe('mem:a')).resolves.toBe(0);
    await api.cleanupEal();
  });
});

describe('PCI operations (captured sysfs of an N3000)', () => {
  let tree: FakeSysfs;
  let api: ManagementApi;
  beforeEach(() => {
    tree = n3000Tree();
    api = new ManagementApi({
      pci: { sysfs: new PciSysfs({ root: tree.root, onWrite: tree.kernel() }), mounts: 'proc /proc proc rw 0 0\n', swaps: 'Filename Type Size Used Priority\n', procRoot: join(dir, 'noproc'), stateDirectory: join(dir, 'pci') },
    });
    api.setLogLevel(0);
  });
  afterEach(() => tree.dispose());

  it('getParent, getChild, getPf1', async () => {
    expect(await api.getParent('0000:03:00.0')).toBe('0000:02:08.0');
    expect(await api.getParent('03:00.0')).toBe('0000:02:08.0');
    expect((await api.getChild('0000:02:08.0'))!.sort()).toEqual(['0000:03:00.0', '0000:03:00.1', '0000:03:00.2', '0000:03:00.4']);
    expect(await api.getChild('0000:03:00.0')).toEqual([]);
    expect(await api.getPf1('0000:03:00.0')).toEqual(['0000:03:00.4']);
    expect(await api.getParent('0000:00:01.0')).toBeNull();
    expect(api.lastError()).toBeUndefined();
    expect(await api.getParent('0000:77:00.0')).toBeNull();
    expect(api.lastError()!.errno).toBe(E.ENODEV);
  });

  it('unbind and bind return 0, and the driver shows in getProperty(PCI)', async () => {
    expect(await api.getProperty('0000:03:00.0', PropertyMask.PCI)).toMatchObject({ pci: { bdf: '0000:03:00.0', driver: 'dfl-pci', address: { domain: 0, bus: 3, device: 0, function: 0 }, id: { device_id: 0x0b30 } } });
    expect(await api.unbind('0000:03:00.0')).toBe(0);
    expect(await api.getProperty('0000:03:00.0', PropertyMask.PCI)).toMatchObject({ pci: { driver: null } });
    expect(await api.bind('0000:03:00.0', 'vfio-pci')).toBe(0);
    expect(await api.getProperty('0000:03:00.0', PropertyMask.PCI)).toMatchObject({ pci: { driver: 'vfio-pci' } });
    expect(await api.bind('0000:03:00.0', '')).toBe(-E.EINVAL);
    expect(await api.bind('mem:a', 'vfio-pci')).toBe(-E.EOPNOTSUPP);
  });
});

describe('images and flash status', () => {
  it('getImageInfo describes signed images and GBS files, null for junk', async () => {
    const signed = join(dir, 'bmc.bin');
    writeFileSync(signed, buildSignedImage({ contentType: 1, version: '2.0.12', payload: patternPayload(4096) }));
    expect(await fpga.getImageInfo(signed)).toMatchObject({ type: 1, subtype: 0, total_len: 1024 + 4096, payload_offset: 1024, payload_len: 4096, version: '2.0.12', hashes_match: true });
    const gbs = join(dir, 'afu.gbs');
    const iface = '9346116d-a52d-5ca8-b06a-a9a389ef7c8d';
    writeFileSync(gbs, buildGbs({ interfaceUuid: iface, acceleratorClusters: [{ acceleratorTypeUuid: '11111111-2222-3333-4444-555555555555' }] }, patternPayload(512)));
    expect(await fpga.getImageInfo(gbs)).toMatchObject({ type: 2, subtype: 0, payload_len: 512, interface_uuid: iface, afu_uuid: '11111111-2222-3333-4444-555555555555' });
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, 'hello');
    expect(await fpga.getImageInfo(junk)).toBeNull();
    expect(fpga.lastError()!.errno).toBe(E.EINVAL);
    expect(await fpga.getImageInfo(join(dir, 'missing.bin'))).toBeNull();
    expect(fpga.lastError()!.errno).toBe(E.ENOENT);
  });

  it('getStatus reads the status another process publishes; cancel only while READY', async () => {
    expect(await fpga.getStatus('mem:a')).toEqual({ status: 0, progress: 0, state: 'IDLE', stale: false });
    expect(await fpga.cancel('mem:a')).toBe(-E.EINVAL);
    writeFlashStatus({ device: 'mem:a', state: 'READY', status: 2, progress: 37, pid: process.pid, updatedAt: Date.now() });
    expect(await fpga.getStatus('mem:a')).toEqual({ status: 2, progress: 37, state: 'READY', stale: false });
    expect(await fpga.cancel('mem:a')).toBe(0);
    writeFlashStatus({ device: 'mem:a', state: 'COPYING', status: 3, progress: 5, pid: process.pid, updatedAt: Date.now() });
    expect(await fpga.cancel('mem:a')).toBe(-E.EBUSY);
  });
});

describe('errno mapping', () => {
  it('maps typed errors to the errno that says the same thing', () => {
    expect(negativeErrno(new ReservationError('ERESERVED', 'x'))).toBe(-E.EBUSY);
    expect(negativeErrno(new ReservationError('ESTALE', 'x'))).toBe(-E.ESTALE);
    expect(negativeErrno(new VfiokitError('ETIMEDOUT', 'x'))).toBe(-E.ETIMEDOUT);
    expect(negativeErrno(new VfiokitError('EWHATEVER' as never, 'x'))).toBe(-E.EIO);
    expect(negativeErrno(new Error('plain'))).toBe(-E.EIO);
  });
});

describe('a simulated card (probe, properties, PHY, flash, reboot)', () => {
  beforeEach(() => {
    writeFileSync(process.env.VFIOKIT_CONFIG!, JSON.stringify({ configurations: { sim: { enabled: true, plugin: 'sim' } }, plugins: ['sim'] }));
  });

  it('getProperty returns pci, fme, port and bmc in the seed API shape', async () => {
    const api = createManagementApi({ throwOnError: true });
    expect(await api.initEal()).toBe(1);
    expect(await api.enumerate({ did: 0x0b30 })).toContain('sim:n3000');
    expect(await api.probe('sim:n3000')).toBe(0);
    const prop = (await api.getProperty('sim:n3000'))!;
    expect(prop.pci).toMatchObject({ id: { vendor_id: 0x8086, device_id: 0x0b30, class_id: 0x120000 }, driver: 'sim' });
    const fme = prop.fme as Record<string, unknown>;
    expect(fme.num_ports).toBe(1);
    expect(typeof fme.bbs_id).toBe('bigint');
    expect(fme.pr_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    expect([0, 1]).toContain(fme.boot_page);
    const ports = prop.port as { afu_id: string; index: number; type: number }[];
    expect(ports).toHaveLength(1);
    expect(ports[0]).toMatchObject({ index: 0, type: 0 });
    expect(ports[0]!.afu_id).toMatch(/^[0-9a-f]{8}-/);
    expect(prop.bmc).toMatchObject({ bmc_version: expect.stringMatching(/^.\.\d+\.\d+\.\d+$/), firmware_version: expect.stringMatching(/^.\.\d+\.\d+\.\d+$/) });
    expect(Object.keys((await api.getProperty('sim:n3000', PropertyMask.PORT))!)).toEqual(['port']);
    const phy = (await api.getPhyInfo('sim:n3000'))!;
    expect(phy.num_retimers).toBe(2);
    expect(typeof phy.link_status).toBe('number');
    await api.cleanupEal();
  });

  it('flash takes the reservation, publishes status, and reboot returns 0; failures are -errno', async () => {
    const { getReservation } = await import('../../src/lock/reservations.js');
    const api = new ManagementApi();
    api.setLogLevel(0);
    const image = join(dir, 'bmc.bin');
    writeFileSync(image, buildSignedImage({ contentType: 1, version: 'bmc-2.0.13', payload: patternPayload(64 * 1024, 3) }));
    expect(await api.flash({ id: 'sim:n3000', file: image })).toBe(-E.ENODEV); // not probed
    expect(await api.probe('sim:n3000')).toBe(0);
    const seen: string[] = [];
    const states: string[] = [];
    expect(await api.flash({ id: 'sim:n3000', file: image, onProgress: (p) => {
      if (seen[seen.length - 1] !== p.state) seen.push(p.state);
      const r = getReservation('sim:n3000').state;
      if (states[states.length - 1] !== r) states.push(r);
    } })).toBe(0);
    expect(seen).toContain('COPYING');
    expect(seen[seen.length - 1]).toBe('DONE');
    expect(states).toEqual(['PROGRAM']);
    expect(getReservation('sim:n3000').state).toBe('FREE');
    expect(await api.getStatus('sim:n3000')).toMatchObject({ status: 0, progress: 100, state: 'DONE' });
    expect(await api.flash({ id: 'sim:n3000', file: join(dir, 'nope.bin') })).toBe(-E.ENOENT);
    expect(await api.reboot('sim:n3000', 0, 1)).toBe(0);
    expect(await api.reboot('sim:n3000', 7, 1)).toBe(-E.EINVAL);
    expect(getReservation('sim:n3000').state).toBe('FREE');
    await api.cleanupEal();
  });

  it('pr loads a GBS into port 0: the AFU GUID changes and the reservation records the bitstream', async () => {
    const { buildSimImage } = await import('../../src/sim/pr-engine-image.js');
    const { SIM_PR_INTERFACE_ID } = await import('../../src/sim/identity.js');
    const { getReservation } = await import('../../src/lock/reservations.js');
    const newAfu = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
    const file = join(dir, 'new.gbs');
    writeFileSync(file, buildGbs({ interfaceUuid: SIM_PR_INTERFACE_ID, acceleratorClusters: [{ acceleratorTypeUuid: newAfu }] },
      buildSimImage({ interfaceUuid: SIM_PR_INTERFACE_ID, afuGuid: newAfu, payload: patternPayload(8192, 5) })));
    const api = new ManagementApi();
    api.setLogLevel(0);
    expect(await api.probe('sim:n3000')).toBe(0);
    const before = ((await api.getProperty('sim:n3000', PropertyMask.PORT))!.port as { afu_id: string }[])[0]!.afu_id;
    expect(before).not.toBe(newAfu);
    expect(await api.pr({ id: 'sim:n3000', port: 0, file })).toBe(0);
    expect(((await api.getProperty('sim:n3000', PropertyMask.PORT))!.port as { afu_id: string }[])[0]!.afu_id).toBe(newAfu);
    expect(getReservation('sim:n3000')).toMatchObject({ state: 'FREE', bitstream: { afuGuid: newAfu, signature: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) } });
    const wrong = join(dir, 'wrong.gbs');
    const other = '11111111-1111-1111-1111-111111111111';
    writeFileSync(wrong, buildGbs({ interfaceUuid: other, acceleratorClusters: [{ acceleratorTypeUuid: newAfu }] }, buildSimImage({ interfaceUuid: other, afuGuid: newAfu, payload: patternPayload(64) })));
    expect(await api.pr({ id: 'sim:n3000', port: 0, file: wrong })).toBeLessThan(0);
    expect(api.lastError()!.message).toMatch(/interface/i);
    expect(await api.pr({ id: 'sim:n3000', port: 3, file })).toBeLessThan(0);
    await api.cleanupEal();
  });
});
