// Runs INSIDE the QEMU guest of the card lane's `dfl` half (test/kernel/run.ts --lane dfl): the
// simulated card, served by `vfiokit serve` on the host and attached with QEMU's vfio-user-pci,
// is driven by Linux's own DFL drivers, and every assertion reads the kernel's interfaces:
// /proc/iomem, sysfs (drivers/fpga/dfl-fme-main.c, dfl-afu-main.c, dfl-fme-error.c, fpga-region.c),
// the /dev/dfl-* ioctls of include/uapi/linux/fpga-dfl.h (test/kernel/fpga-dfl-uapi.ts), mmap of
// the port's AFU region, eventfds the kernel signals. What to expect comes from the host in the
// JSON file named by VFIOKIT_EXPECT (test/kernel/card-lane.ts): the same card walked by vfiokit.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { allocateHostMemory, type HostMemory } from '../../../src/dma/host-memory.js';
import { MappedRegion } from '../../../src/mmio/mapped-region.js';
import { parseGbs } from '../../../src/afu/pr/gbs.js';
import { buildSignedImage, patternPayload } from '../../../src/afu/image/image-writer.js';
import { WRITE_BLOCK_SIZE } from '../../../src/afu/bmc/registers.js';
import { SimAfuReg, DmaStatus, DmaFault } from '../../../src/sim/afu-regs.js';
import { fieldGet } from '../../../src/util/bitfield.js';
import { PWR_THRESHOLD_MAX } from '../../../src/dfl/regs/fme-power.js';
import { afuCopy } from './afu-dma.js';
import { addressOf, close, createEventfd, eventfdRead, ioctl, open, pollFd } from '../../../src/sys/libc.js';
import { O_RDWR, POLLIN } from '../../../src/sys/constants.js';
import { isSysError } from '../../../src/sys/sys-error.js';
import { getLe32, getLe64, putLe32, putLe64 } from '../../../src/util/bytes.js';
import { fpgaDfl as U, fpgaDflLayouts as L } from '../fpga-dfl-uapi.js';
import type { CardExpect, ErrorReading, LaneExpect } from '../card-lane.js';
import { check, finish, hex, run } from './harness.js';
import { hostControl } from './host-control.js';

const expect = JSON.parse(fs.readFileSync(process.env.VFIOKIT_EXPECT!, 'utf8')) as LaneExpect;
const PCI = '/sys/bus/pci/devices';

/** The dfl-fme.N / dfl-port.N platform device the kernel created under the card at `bdf`. */
function platformDevice(bdf: string, kind: 'fme' | 'port'): string | undefined {
  const want = new RegExp(`^dfl-${kind}\\.\\d+$`);
  const walk = (dir: string, depth: number): string | undefined => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return undefined;
    }
    for (const e of entries) if (want.test(e.name)) return e.name;
    if (depth === 0) return undefined;
    for (const e of entries) {
      if (!e.isDirectory() || e.isSymbolicLink()) continue;
      const hit = walk(path.join(dir, e.name), depth - 1);
      if (hit) return hit;
    }
    return undefined;
  };
  return walk(path.join(PCI, bdf), 3);
}

const attr = (dev: string, name: string): string => fs.readFileSync(`/sys/bus/platform/devices/${dev}/${name}`, 'utf8').trim();

/** /proc/iomem entries inside [start, end]: {start, end, owner, depth}. */
function iomem(start: bigint, end: bigint): { start: bigint; end: bigint; owner: string; depth: number }[] {
  const out: { start: bigint; end: bigint; owner: string; depth: number }[] = [];
  for (const line of fs.readFileSync('/proc/iomem', 'utf8').split('\n')) {
    const m = /^( *)([0-9a-f]+)-([0-9a-f]+) : (.*)$/.exec(line);
    if (!m) continue;
    const s = BigInt(`0x${m[2]}`);
    const e = BigInt(`0x${m[3]}`);
    if (s >= start && e <= end) out.push({ start: s, end: e, owner: m[4]!, depth: m[1]!.length / 2 });
  }
  return out;
}

function bar0(bdf: string): { start: bigint; end: bigint } {
  const first = fs.readFileSync(path.join(PCI, bdf, 'resource'), 'utf8').split('\n')[0]!.trim().split(/\s+/);
  return { start: BigInt(first[0]!), end: BigInt(first[1]!) };
}

/** An ioctl that returns the errno name on failure instead of throwing. */
function ioctlErrno(fd: number, request: number, arg: Buffer | null): string | number {
  try {
    return ioctl(fd, request, arg);
  } catch (e) {
    if (isSysError(e)) return (e as { code: string }).code;
    throw e;
  }
}

function argsz(layout: { size: number }): Buffer {
  const b = Buffer.alloc(layout.size);
  putLe32(b, 0, layout.size);
  return b;
}

function regionInfo(portFd: number, index: number): { flags: number; size: number; offset: number } {
  const b = argsz(L.dfl_fpga_port_region_info);
  putLe32(b, L.dfl_fpga_port_region_info.fields.index, index);
  ioctl(portFd, U.DFL_FPGA_PORT_GET_REGION_INFO, b, 'DFL_FPGA_PORT_GET_REGION_INFO');
  return { flags: getLe32(b, 4), size: Number(getLe64(b, 16)), offset: Number(getLe64(b, 24)) };
}

function dmaMap(portFd: number, mem: HostMemory): bigint {
  const b = argsz(L.dfl_fpga_port_dma_map);
  putLe64(b, L.dfl_fpga_port_dma_map.fields.user_addr, mem.address);
  putLe64(b, L.dfl_fpga_port_dma_map.fields.length, BigInt(mem.size));
  ioctl(portFd, U.DFL_FPGA_PORT_DMA_MAP, b, 'DFL_FPGA_PORT_DMA_MAP');
  return getLe64(b, L.dfl_fpga_port_dma_map.fields.iova);
}

function dmaUnmap(portFd: number, iova: bigint): void {
  const b = argsz(L.dfl_fpga_port_dma_unmap);
  putLe64(b, L.dfl_fpga_port_dma_unmap.fields.iova, iova);
  ioctl(portFd, U.DFL_FPGA_PORT_DMA_UNMAP, b, 'DFL_FPGA_PORT_DMA_UNMAP');
}

function setIrq(fd: number, request: number, start: number, fds: number[]): void {
  const b = Buffer.alloc(L.dfl_fpga_irq_set.size + 4 * fds.length);
  putLe32(b, 0, start);
  putLe32(b, 4, fds.length);
  fds.forEach((f, i) => b.writeInt32LE(f, 8 + 4 * i));
  ioctl(fd, request, b, 'SET_IRQ');
}

function getU32(fd: number, request: number): number {
  const b = Buffer.alloc(4);
  ioctl(fd, request, b);
  return getLe32(b, 0);
}

/** The fpga_manager sysfs directory of the FME's PR manager (dfl-fme-mgr.N/fpga_manager/fpgaM). */
function fpgaManager(fme: string): string {
  const base = `/sys/bus/platform/devices/${fme}`;
  const mgr = fs.readdirSync(base).find((d) => d.startsWith('dfl-fme-mgr.'));
  check(mgr !== undefined, `no dfl-fme-mgr under ${fme}`);
  const dir = `${base}/${mgr}/fpga_manager`;
  return `${dir}/${fs.readdirSync(dir)[0]}`;
}

function waitEventfd(fd: number, ms: number): number {
  if (pollFd(fd, POLLIN, ms) === 0) return 0;
  return eventfdRead(fd);
}

const guidHex = (g: string): string => g.replace(/-/g, '').toLowerCase();

/** The FME's hwmon device the kernel registered under `name` (dfl-fme-main.c: dfl_fme_thermal, dfl_fme_power). */
function fmeHwmon(fme: string, name: string): string {
  const base = `/sys/bus/platform/devices/${fme}/hwmon`;
  const dirs = fs.existsSync(base) ? fs.readdirSync(base) : [];
  const hit = dirs.find((d) => fs.readFileSync(`${base}/${d}/name`, 'utf8').trim() === name);
  check(hit !== undefined, `no ${name} hwmon under ${fme} (have ${dirs.join(', ') || 'none'})`);
  return `${base}/${hit}`;
}

/** Every file named in `want` read from the hwmon directory; a mismatch names each file. */
function checkHwmon(dir: string, want: Record<string, number>): string {
  const bad: string[] = [];
  for (const [file, value] of Object.entries(want)) {
    const got = Number(fs.readFileSync(`${dir}/${file}`, 'utf8').trim());
    if (got !== value) bad.push(`${file} ${got} (vfiokit ${value})`);
  }
  check(bad.length === 0, bad.join('; '));
  return `${Object.keys(want).length} files agree`;
}

/** The port's power_state, ap1_event, ap2_event (dfl-afu-main.c power_state_show "0x%x", apN_event_show "%x"). */
function portPower(port: string): { powerState: number; ap1Event: boolean; ap2Event: boolean } {
  return { powerState: Number(attr(port, 'power_state')), ap1Event: Number(attr(port, 'ap1_event')) === 1, ap2Event: Number(attr(port, 'ap2_event')) === 1 };
}

/**
 * The FME thermal (0x1) and power (0x2) features through the kernel's hwmon devices, and the
 * throttling they stand for through the port's sysfs (dfl-fme-main.c thermal_hwmon_read /
 * power_hwmon_read / power_hwmon_write; dfl-afu-main.c power_state_show, ap2_event_store): each
 * reading equals what vfiokit reads from a fresh instance of the card taken through the same steps.
 */
async function thermalTests(card: CardExpect, fme: string, port: string): Promise<void> {
  const tag = card.label;
  const t = card.thermal;
  const readable = await run(`${tag}: dfl_fme_thermal and dfl_fme_power hwmon files are vfiokit's readings of the card (dfl-fme-main.c)`, () => {
    const dir = fmeHwmon(fme, 'dfl_fme_thermal');
    checkHwmon(dir, t.thermal);
    checkHwmon(fmeHwmon(fme, 'dfl_fme_power'), t.power);
    return `temp1_input ${t.thermal.temp1_input}, power1_input ${t.power.power1_input}`;
  });
  if (readable) {
    for (const step of t.steps) {
      await run(`${tag}: at ${step.control.fpgaTemp} C the thermal alarms and the port's power_state/apN_event are vfiokit's (threshold throttling)`, async () => {
        await hostControl(step.control);
        checkHwmon(fmeHwmon(fme, 'dfl_fme_thermal'), step.hwmon);
        const got = portPower(port);
        check(JSON.stringify(got) === JSON.stringify(step.port), `port ${JSON.stringify(got)}, vfiokit ${JSON.stringify(step.port)}`);
        return `alarms ${step.hwmon.temp1_max_alarm}/${step.hwmon.temp1_crit_alarm}, power_state ${got.powerState}, ap2_event ${Number(got.ap2Event)}`;
      });
    }
    await run(`${tag}: writing 1 to ap1_event/ap2_event clears the latched events; 0 is EINVAL (dfl-afu-main.c ap2_event_store)`, () => {
      let refused = '';
      try { fs.writeFileSync(`/sys/bus/platform/devices/${port}/ap2_event`, '0'); } catch (e) { refused = (e as { code?: string }).code ?? String(e); }
      fs.writeFileSync(`/sys/bus/platform/devices/${port}/ap1_event`, '1');
      fs.writeFileSync(`/sys/bus/platform/devices/${port}/ap2_event`, '1');
      const got = portPower(port);
      check(refused === 'EINVAL' && JSON.stringify(got) === JSON.stringify(t.cleared), `writing 0: ${refused || 'accepted'}; port ${JSON.stringify(got)}, vfiokit ${JSON.stringify(t.cleared)}`);
      return `port ${JSON.stringify(got)}`;
    });
  }
  await run(`${tag}: power1_max written through hwmon reaches the card (alarm as vfiokit reads it); the kernel clamps to ${PWR_THRESHOLD_MAX} W (power_hwmon_write)`, () => {
    const dir = fmeHwmon(fme, 'dfl_fme_power');
    const micro = 1_000_000;
    try {
      fs.writeFileSync(`${dir}/power1_max`, String(t.powerMax.watts * micro));
      checkHwmon(dir, t.powerMax.hwmon);
      fs.writeFileSync(`${dir}/power1_max`, String(1000 * micro));
      checkHwmon(dir, { power1_max: PWR_THRESHOLD_MAX * micro, power1_max_alarm: 0 });
    } finally {
      fs.writeFileSync(`${dir}/power1_max`, String(t.power.power1_max));
    }
    checkHwmon(dir, t.power);
    return `${t.powerMax.watts} W -> alarm ${t.powerMax.hwmon.power1_max_alarm}; 1000 W -> ${PWR_THRESHOLD_MAX} W; restored`;
  });
}

/** What writing `value` to a sysfs file gave: 'ok' or the errno name. */
function writeErrno(file: string, value: string): string {
  try {
    fs.writeFileSync(file, value);
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** Every errors/ file of the FME and the port named in `want` (vfiokit's reading), compared as numbers. */
function checkErrors(fme: string, port: string, want: ErrorReading): string {
  const bad: string[] = [];
  const shown: string[] = [];
  for (const [dev, files] of [[fme, want.fme], [port, want.port]] as const) {
    for (const [file, value] of Object.entries(files)) {
      const got = attr(dev, `errors/${file}`);
      if (BigInt(got) !== BigInt(value)) bad.push(`${dev} errors/${file} ${got} (vfiokit ${value})`);
      else if (BigInt(value) !== 0n) shown.push(`${file} ${got}`);
    }
  }
  check(bad.length === 0, bad.join('; '));
  return shown.join(', ') || 'all 0';
}

/** Wait up to `ms` for the eventfd and read all it counted (0 if nothing came). */
function drainEventfd(fd: number, ms: number): number {
  let n = 0;
  for (let got = waitEventfd(fd, ms); got > 0; got = waitEventfd(fd, 0)) n += got;
  return n;
}

/**
 * The FME global error (0x4) and port error (0x10) features judged by the kernel: errors latched
 * in the served card at run time (sim control fmeError/pcie0Error/pcie1Error/portError) and RAS
 * errors injected through errors/inject_errors must show in every errors/ file as vfiokit reads
 * the registers of a fresh instance taken through the same steps (card-lane.ts errorsExpect);
 * the kernel clears them only when given the current value (dfl-fme-error.c fme_errors_store,
 * pcie0_errors_store, pcie1_errors_store; dfl-afu-error.c afu_port_err_clear), not in AP6; and
 * DFL_FPGA_FME_ERR_SET_IRQ / DFL_FPGA_PORT_ERR_SET_IRQ eventfds fire when an error latches.
 */
async function errorTests(card: CardExpect, fme: string, port: string): Promise<void> {
  const tag = card.label;
  const e = card.errors;
  const sys = (dev: string, file: string): string => `/sys/bus/platform/devices/${dev}/errors/${file}`;
  await run(`${tag}: errors latched in the card show in the FME's fme_errors/pcie0_errors/pcie1_errors/first_error/next_error and the port's errors/first_error as vfiokit reads them`, async () => {
    checkErrors(fme, port, e.initial);
    let last = '';
    for (const step of e.latched) {
      await hostControl({ card: tag, ...step.control });
      last = checkErrors(fme, port, step.reading);
    }
    return `${e.latched.length} latches: ${last}`;
  });

  await run(`${tag}: errors/inject_errors raises the injected RAS errors in nonfatal_errors/catfatal_errors as vfiokit reads them (RAS_ERROR_INJECT)`, () => {
    const shown: string[] = [];
    try {
      for (const step of e.injected) {
        fs.writeFileSync(sys(fme, 'inject_errors'), `0x${step.inject.toString(16)}`);
        checkErrors(fme, port, step.reading);
        shown.push(`${step.inject}: nonfatal ${attr(fme, 'errors/nonfatal_errors')} catfatal ${attr(fme, 'errors/catfatal_errors')}`);
      }
    } finally {
      fs.writeFileSync(sys(fme, 'inject_errors'), '0');
    }
    return shown.join('; ');
  });

  await run(`${tag}: clearing errors through the kernel: a value other than the current one is EINVAL, the current one clears (fme_errors_store, pcie0/1_errors_store, afu_port_err_clear)`, () => {
    const done: string[] = [];
    for (const [dev, file] of [[fme, 'fme_errors'], [fme, 'pcie0_errors'], [fme, 'pcie1_errors'], [port, 'errors']] as const) {
      const current = BigInt(attr(dev, `errors/${file}`));
      check(current !== 0n, `${dev} errors/${file} is already 0: nothing latched to clear`);
      const wrong = writeErrno(sys(dev, file), `0x${(current ^ 1n).toString(16)}`);
      check(wrong === 'EINVAL' && BigInt(attr(dev, `errors/${file}`)) === current, `${file}: writing 0x${(current ^ 1n).toString(16)} gave ${wrong}, now ${attr(dev, `errors/${file}`)}`);
      const right = writeErrno(sys(dev, file), `0x${current.toString(16)}`);
      check(right === 'ok', `${file}: writing back 0x${current.toString(16)} gave ${right}`);
      done.push(`${file} 0x${current.toString(16)}`);
    }
    checkErrors(fme, port, e.cleared);
    return `cleared ${done.join(', ')}; wrong values EINVAL`;
  });

  await run(`${tag}: in power state AP6 the kernel refuses to clear port errors (${e.ap6.refused}, as vfiokit); cooled down it clears them (dfl-afu-error.c afu_port_err_clear)`, async () => {
    const file = sys(port, 'errors');
    try {
      await hostControl({ card: tag, ...e.ap6.control });
      await hostControl({ card: tag, ...e.ap6.hot });
      const state = Number(attr(port, 'power_state'));
      check(state === e.ap6.powerState, `power_state ${state} at ${e.ap6.hot.fpgaTemp} C, vfiokit ${e.ap6.powerState}`);
      const current = attr(port, 'errors/errors');
      // The refusal is afu_port_err_clear's AP6 branch, which says so in the kernel log.
      const ap6Said = (): number => execFileSync('dmesg', { encoding: 'utf8' }).split('\n').filter((l) => l.includes('Could not clear errors, device in AP6 state')).length;
      const said = ap6Said();
      const hot = writeErrno(file, current);
      check(hot === e.ap6.refused, `writing back ${current} in AP6 gave ${hot}, vfiokit's clear ${e.ap6.refused}`);
      check(ap6Said() === said + 1, 'the kernel did not log "Could not clear errors, device in AP6 state."');
      checkErrors(fme, port, e.ap6.whileHot);
      await hostControl({ card: tag, ...e.ap6.cool });
      const cool = writeErrno(file, current);
      check(cool === 'ok', `writing back ${current} after cooling to ${e.ap6.cool.fpgaTemp} C gave ${cool}`);
      checkErrors(fme, port, e.ap6.afterClear);
      return `errors ${current}: ${hot} at power_state ${state}, cleared at ${e.ap6.cool.fpgaTemp} C`;
    } finally {
      await hostControl({ card: tag, ...e.ap6.cool });
      fs.writeFileSync(`/sys/bus/platform/devices/${port}/ap1_event`, '1');
      fs.writeFileSync(`/sys/bus/platform/devices/${port}/ap2_event`, '1');
      const got = portPower(port);
      check(JSON.stringify(got) === JSON.stringify(e.ap6.power), `port after restoring ${JSON.stringify(got)}, vfiokit ${JSON.stringify(e.ap6.power)}`);
    }
  });

  for (const step of e.irq) {
    const dev = step.source === 'fme' ? fme : port;
    const request = step.source === 'fme' ? U.DFL_FPGA_FME_ERR_SET_IRQ : U.DFL_FPGA_PORT_ERR_SET_IRQ;
    const name = step.source === 'fme' ? 'DFL_FPGA_FME_ERR_SET_IRQ' : 'DFL_FPGA_PORT_ERR_SET_IRQ';
    await run(`${tag}: ${name}: a latched ${step.source} error fires the eventfd (vfiokit took it ${step.via === 'interrupt' ? 'on its interrupt' : `by ${step.via}`}); count 0 is EINVAL; fd -1 disarms`, async () => {
      const fd = open(`/dev/${dev}`, O_RDWR);
      const efd = createEventfd();
      try {
        check(step.via === 'interrupt', `vfiokit saw the ${step.source} error by ${step.via}, not by its interrupt`);
        const none = Buffer.alloc(L.dfl_fpga_irq_set.size);
        const zero = ioctlErrno(fd, request, none);
        check(zero === 'EINVAL', `${name} with count 0 returned ${zero} (dfl.c dfl_feature_ioctl_set_irq: EINVAL)`);
        setIrq(fd, request, 0, [efd]);
        // A vector raised before it was armed (the injections above) may still arrive when the kernel unmasks it.
        const stale = drainEventfd(efd, 500);
        await hostControl({ card: tag, ...step.control });
        const n = drainEventfd(efd, 10000);
        check(n >= 1, `no event within 10 s of latching ${JSON.stringify(step.control)}`);
        const shown = checkErrors(fme, port, step.reading);
        const file = step.source === 'fme' ? 'fme_errors' : 'errors';
        const clear = (): void => {
          const current = attr(dev, `errors/${file}`);
          const r = writeErrno(sys(dev, file), current);
          check(r === 'ok', `writing back ${file} ${current} gave ${r}`);
          checkErrors(fme, port, step.cleared);
        };
        clear();
        // fpga-dfl.h: a negative evtfd unsets the trigger; the same error latched again reaches no eventfd.
        setIrq(fd, request, 0, [-1]);
        await hostControl({ card: tag, ...step.control });
        const after = drainEventfd(efd, 1000);
        clear();
        check(after === 0, `${after} event(s) after disarming`);
        return `${n} event(s) (${stale} stale before arming), ${shown}; cleared; disarmed: none`;
      } finally {
        close(efd);
        close(fd);
      }
    });
  }
}

async function cardTests(card: CardExpect, primary: boolean): Promise<void> {
  const tag = card.label;
  const fme = platformDevice(card.bdf, 'fme');
  const port = platformDevice(card.bdf, 'port');

  const bound = await run(`${tag}: dfl-pci binds ${card.bdf} and creates ${fme ?? 'dfl-fme.?'} and ${port ?? 'dfl-port.?'}`, () => {
    const drv = path.basename(fs.readlinkSync(path.join(PCI, card.bdf, 'driver')));
    // dfl-pci.c cci_pcie_id_tbl: the N3000 (0x0b30) and the D5005 (0x0b2b) among others.
    const id = ['vendor', 'device'].map((f) => fs.readFileSync(path.join(PCI, card.bdf, f), 'utf8').trim().replace(/^0x/, '')).join(':');
    check(drv === 'dfl-pci', `driver of ${id}: ${drv}`);
    check(fme !== undefined && port !== undefined, 'no dfl-fme / dfl-port platform device under the card');
    check(fs.existsSync(`/dev/${fme}`) && fs.existsSync(`/dev/${port}`), `/dev/${fme} or /dev/${port} missing`);
    return `${drv} (${id}); /dev/${fme}, /dev/${port}`;
  });
  if (!bound || !fme || !port || card.bmcOnly) return;

  if (primary) {
    await run(`${tag}: the features the kernel claimed (/proc/iomem, dfl bus) are vfiokit's walk`, () => {
      const bar = bar0(card.bdf);
      const regions = iomem(bar.start, bar.end);
      const seen: string[] = [];
      for (const f of card.features) {
        if (f.type === 'afu') continue; // the AFU is reached through the port's region (next test)
        const at = bar.start + BigInt(f.offset);
        const r = regions.find((x) => x.start === at);
        check(r !== undefined, `no kernel resource at BAR0+${hex(f.offset)} for ${f.name} (${f.type} ${hex(f.id)})`);
        if (f.type === 'private') {
          check(r!.end === at + BigInt(f.size) - 1n, `${f.name}: kernel spans ${hex(r!.end - r!.start + 1n)} bytes, vfiokit ${hex(f.size)}`);
          const owner = f.fiu === 'fme' ? fme : port;
          check(r!.owner === owner, `${f.name} at +${hex(f.offset)} is claimed by ${r!.owner}, not ${owner}`);
        }
        seen.push(`${f.name}@${hex(f.offset)}`);
      }
      // Features the FME/port drivers do not handle go to the dfl bus: type and id as walked.
      const bus = '/sys/bus/dfl/devices';
      const dflDevs = fs.existsSync(bus) ? fs.readdirSync(bus) : [];
      const mine = dflDevs.filter((d) => regions.some((r) => r.owner === d));
      for (const d of mine) {
        const id = Number(fs.readFileSync(`${bus}/${d}/feature_id`, 'utf8'));
        const type = Number(fs.readFileSync(`${bus}/${d}/type`, 'utf8'));
        const r = regions.find((x) => x.owner === d)!;
        const f = card.features.find((x) => x.type === 'private' && x.offset === Number(r.start - bar.start));
        check(f !== undefined && f.id === id && (type === 0 ? 'fme' : 'port') === f.fiu, `${d}: kernel feature ${hex(id)} type ${type} at +${hex(r.start - bar.start)} is not in the walk`);
        seen.push(`${d}=${hex(id)}`);
      }
      return seen.join(' ');
    });

    await run(`${tag}: FME sysfs (ports_num, bitstream_id, bitstream_metadata, errors) read the card's registers`, () => {
      check(attr(fme, 'ports_num') === '1', `ports_num ${attr(fme, 'ports_num')}`);
      check(BigInt(attr(fme, 'bitstream_id')) === BigInt(card.bitstreamId), `bitstream_id ${attr(fme, 'bitstream_id')} != ${card.bitstreamId}`);
      check(BigInt(attr(fme, 'bitstream_metadata')) === BigInt(card.bitstreamMd), `bitstream_metadata ${attr(fme, 'bitstream_metadata')}`);
      const errors = checkErrors(fme, port, card.errors.initial);
      return `bitstream_id ${attr(fme, 'bitstream_id')}, metadata ${attr(fme, 'bitstream_metadata')}, errors ${errors} (vfiokit's reading)`;
    });

    await run(`${tag}: FME errors/inject_errors writes RAS_ERROR_INJECT[2:0] and reads it back; other bits are EINVAL (dfl-fme-error.c)`, () => {
      const file = `/sys/bus/platform/devices/${fme}/errors/inject_errors`;
      fs.writeFileSync(file, '0x5');
      const armed = attr(fme, 'errors/inject_errors');
      fs.writeFileSync(file, '0');
      const cleared = attr(fme, 'errors/inject_errors');
      let refused = '';
      try { fs.writeFileSync(file, '0x8'); } catch (e) { refused = (e as { code?: string }).code ?? String(e); }
      check(Number(armed) === 5 && Number(cleared) === 0 && refused === 'EINVAL', `read back ${armed}, then ${cleared}; writing 0x8: ${refused || 'accepted'}`);
      return `0x5 -> ${armed}, 0 -> ${cleared}, 0x8 -> ${refused}`;
    });

    await thermalTests(card, fme, port);
    await errorTests(card, fme, port);

    await run(`${tag}: fpga_region compat_id is the card's PR interface ID; fpga_manager is the DFL FME manager`, () => {
      const regions = fs.readdirSync('/sys/class/fpga_region');
      const ids = regions.map((r) => { try { return fs.readFileSync(`/sys/class/fpga_region/${r}/compat_id`, 'utf8').trim(); } catch { return ''; } });
      check(ids.includes(guidHex(card.prInterfaceId)), `compat_ids ${ids.join(',')} lack ${guidHex(card.prInterfaceId)}`);
      const mgrs = fs.readdirSync('/sys/class/fpga_manager').map((m) => fs.readFileSync(`/sys/class/fpga_manager/${m}/name`, 'utf8').trim());
      check(mgrs.includes('DFL FME FPGA Manager'), `managers ${mgrs.join(',')}`);
      return `compat_id ${guidHex(card.prInterfaceId)}`;
    });
  }

  await run(`${tag}: port sysfs (id, afu_id, errors) read the card's registers`, () => {
    check(attr(port, 'id') === '0', `id ${attr(port, 'id')}`);
    check(attr(port, 'afu_id') === guidHex(card.afuGuid), `afu_id ${attr(port, 'afu_id')} != ${guidHex(card.afuGuid)}`);
    const errors = checkErrors(fme, port, card.errors.initial);
    return `afu_id ${attr(port, 'afu_id')}, errors ${errors} (vfiokit's reading)`;
  });

  const fmeFd = open(`/dev/${fme}`, O_RDWR);
  const portFd = open(`/dev/${port}`, O_RDWR);
  try {
    if (primary) {
      await run(`${tag}: API version and extensions; port info; IRQ counts from the FME/port error and UINT features`, () => {
        check(ioctl(fmeFd, U.DFL_FPGA_GET_API_VERSION) === U.DFL_FPGA_API_VERSION && ioctl(portFd, U.DFL_FPGA_GET_API_VERSION) === U.DFL_FPGA_API_VERSION, 'API version');
        check(ioctl(portFd, U.DFL_FPGA_CHECK_EXTENSION) === 0, 'CHECK_EXTENSION');
        const info = argsz(L.dfl_fpga_port_info);
        ioctl(portFd, U.DFL_FPGA_PORT_GET_INFO, info);
        const regions = getLe32(info, 8);
        check(regions === 1, `num_regions ${regions} (AFU only: the card has no Signal Tap feature)`);
        const uint = getU32(portFd, U.DFL_FPGA_PORT_UINT_GET_IRQ_NUM);
        const perr = getU32(portFd, U.DFL_FPGA_PORT_ERR_GET_IRQ_NUM);
        const ferr = getU32(fmeFd, U.DFL_FPGA_FME_ERR_GET_IRQ_NUM);
        check(uint === card.userInterrupts && perr === 1 && ferr === 1, `UINT ${uint} (want ${card.userInterrupts}), port error ${perr}, FME error ${ferr}`);
        return `num_regions ${regions}, UINT irqs ${uint}, port/FME error irqs ${perr}/${ferr}`;
      });

      await run(`${tag}: DFL_FPGA_PORT_RESET succeeds (soft reset asserted, ACK, released)`, () => {
        const r = ioctlErrno(portFd, U.DFL_FPGA_PORT_RESET, null);
        check(r === 0, `PORT_RESET returned ${r}`);
        check(attr(port, 'afu_id') === guidHex(card.afuGuid), 'afu_id unreadable after reset');
      });
    }

    const info = regionInfo(portFd, U.DFL_PORT_REGION_INDEX_AFU);
    const afu = MappedRegion.mapFd(`${port} AFU`, portFd, info.size, info.offset);
    try {
      if (primary) {
        await run(`${tag}: AFU region info and mmap of /dev/${port}: GUID and scratch registers`, () => {
          const want = U.DFL_PORT_REGION_READ | U.DFL_PORT_REGION_WRITE | U.DFL_PORT_REGION_MMAP;
          check(info.flags === want && info.size === card.afuMmioSize, `flags ${hex(info.flags)} size ${hex(info.size)} (want ${hex(want)}, ${hex(card.afuMmioSize)})`);
          const guid = (afu.read64(0x10).toString(16).padStart(16, '0') + afu.read64(0x08).toString(16).padStart(16, '0'));
          check(guid === guidHex(card.afuGuid), `AFU GUID through mmap ${guid}`);
          const values = [0x0123_4567_89ab_cdefn, 0xffff_ffff_ffff_ffffn, 0n, 0xa5a5_5a5a_dead_beefn];
          values.forEach((v, i) => afu.write64(SimAfuReg.SCRATCH0 + 8 * i, v));
          values.forEach((v, i) => check(afu.read64(SimAfuReg.SCRATCH0 + 8 * i) === v, `scratch ${i} read ${hex(afu.read64(SimAfuReg.SCRATCH0 + 8 * i))}`));
          return `${hex(info.size)} bytes at fd offset ${hex(info.offset)}, GUID ${guid}, 4 scratch registers round-trip`;
        });

        await run(`${tag}: DFL_FPGA_PORT_RESET resets the AFU behind the mapped region (scratch back to 0)`, () => {
          afu.write64(SimAfuReg.SCRATCH1, 0x5555_aaaa_5555_aaaan);
          check(afu.read64(SimAfuReg.SCRATCH1) === 0x5555_aaaa_5555_aaaan, 'scratch write');
          const r = ioctlErrno(portFd, U.DFL_FPGA_PORT_RESET, null);
          check(r === 0, `PORT_RESET returned ${r}`);
          check(afu.read64(SimAfuReg.SCRATCH1) === 0n, `scratch after reset ${hex(afu.read64(SimAfuReg.SCRATCH1))}`);
        });

        await run(`${tag}: DFL_FPGA_PORT_DMA_MAP buffers; the AFU's DMA engine copies through the kernel's IOVAs`, async () => {
          // dfl-afu-dma.c afu_dma_map_region refuses pages that are not physically contiguous
          // (afu_dma_check_continuous_pages: EINVAL): a 2 MiB huge page is.
          using src = allocateHostMemory(2 << 20, { hugePages: '2M' });
          using dst = allocateHostMemory(2 << 20, { hugePages: '2M' });
          for (let i = 0; i < 12000; i++) src.bytes[i] = (i * 31 + 7) & 0xff;
          const s = dmaMap(portFd, src);
          const d = dmaMap(portFd, dst);
          try {
            const st = await afuCopy(afu, s, d, 12000);
            check((st & DmaStatus.DONE) !== 0n, `status ${hex(st)}`);
            const bad: number[] = [];
            for (let i = 0; i < 12000; i++) if (dst.bytes[i] !== src.bytes[i]) bad.push(i);
            check(bad.length === 0 && dst.bytes[12000] === 0, `${bad.length} bytes differ (first at ${bad[0]}: ${dst.bytes[bad[0]!]} != ${src.bytes[bad[0]!]}; last ${bad[bad.length - 1]}), byte 12000 ${dst.bytes[12000]}`);
            return `12000 bytes IOVA ${hex(s)} -> ${hex(d)}`;
          } finally {
            dmaUnmap(portFd, s);
            dmaUnmap(portFd, d);
          }
        });

        await run(`${tag}: after DFL_FPGA_PORT_DMA_UNMAP the device's access to that IOVA faults`, async () => {
          using src = allocateHostMemory(4096);
          using dst = allocateHostMemory(4096);
          const s = dmaMap(portFd, src);
          const d = dmaMap(portFd, dst);
          dmaUnmap(portFd, d);
          try {
            const st = await afuCopy(afu, s, d, 256);
            const code = Number(fieldGet(DmaStatus.FAULT_CODE, st));
            check((st & DmaStatus.FAULT) !== 0n && code === DmaFault.DST_UNMAPPED, `status ${hex(st)}`);
            check(afu.read64(SimAfuReg.DMA_FAULT_IOVA) === d, `fault IOVA ${hex(afu.read64(SimAfuReg.DMA_FAULT_IOVA))}`);
            return `fault DST_UNMAPPED at ${hex(d)}`;
          } finally {
            dmaUnmap(portFd, s);
          }
        });

        await run(`${tag}: DFL_FPGA_PORT_UINT_SET_IRQ: an AFU user interrupt reaches the eventfd`, async () => {
          const efd = createEventfd();
          using src = allocateHostMemory(4096);
          using dst = allocateHostMemory(4096);
          const s = dmaMap(portFd, src);
          const d = dmaMap(portFd, dst);
          try {
            const vector = card.userInterrupts - 1;
            setIrq(portFd, U.DFL_FPGA_PORT_UINT_SET_IRQ, vector, [efd]);
            check(waitEventfd(efd, 0) === 0, 'eventfd already signalled');
            const st = await afuCopy(afu, s, d, 64, vector);
            check((st & DmaStatus.DONE) !== 0n, `status ${hex(st)}`);
            const n = waitEventfd(efd, 10000);
            check(n >= 1, 'no event within 10 s');
            setIrq(portFd, U.DFL_FPGA_PORT_UINT_SET_IRQ, vector, [-1]);
            return `user interrupt ${vector}: ${n} event(s)`;
          } finally {
            dmaUnmap(portFd, s);
            dmaUnmap(portFd, d);
            close(efd);
          }
        });
      }
    } finally {
      afu.close();
    }

    await run(`${tag}: DFL_FPGA_FME_PORT_PR with ${card.pr.expectError ? `a PR fault armed (${card.pr.fault}) fails as the kernel reports it` : "a sim GBS's bitstream succeeds and afu_id changes"}`, () => {
      const gbs = parseGbs(new Uint8Array(fs.readFileSync(card.pr.gbs)), card.pr.gbs);
      const buf = Buffer.from(gbs.bitstream);
      const b = argsz(L.dfl_fpga_fme_port_pr);
      putLe32(b, L.dfl_fpga_fme_port_pr.fields.port_id, 0);
      putLe32(b, L.dfl_fpga_fme_port_pr.fields.buffer_size, buf.length);
      putLe64(b, L.dfl_fpga_fme_port_pr.fields.buffer_address, addressOf(buf));
      const before = attr(port, 'afu_id');
      const r = ioctlErrno(fmeFd, U.DFL_FPGA_FME_PORT_PR, b);
      const manager = fpgaManager(fme);
      const state = fs.readFileSync(`${manager}/state`, 'utf8').trim();
      if (card.pr.expectError) {
        // dfl-fme-mgr.c fme_mgr_write_complete: PR_ERR latched -> -EIO; fpga-mgr.c status_show names
        // the error; fpga-region.c fpga_region_program_fpga leaves the bridge (the port) disabled,
        // so dfl-afu-main.c afu_id_show answers -EBUSY.
        const status = fs.readFileSync(`${manager}/status`, 'utf8').trim();
        check(r === card.pr.expectError, `PORT_PR returned ${r}, want ${card.pr.expectError}`);
        check(status.includes(card.pr.managerStatus!), `fpga_manager status "${status}", want "${card.pr.managerStatus}"`);
        let afuId: string;
        try { afuId = attr(port, 'afu_id'); } catch (e) { afuId = (e as { code?: string }).code ?? String(e); }
        check(afuId === 'EBUSY', `afu_id after a failed PR: ${afuId} (the kernel keeps the port disabled: EBUSY)`);
        return `${r}; manager status "${status}", state ${state}; afu_id ${afuId} (port left disabled, was ${before})`;
      }
      check(r === 0, `PORT_PR returned ${r}`);
      const after = attr(port, 'afu_id');
      check(after === guidHex(card.pr.afuGuid) && after !== before, `afu_id ${before} -> ${after}, want ${guidHex(card.pr.afuGuid)}`);
      const info = regionInfo(portFd, U.DFL_PORT_REGION_INDEX_AFU);
      const afu = MappedRegion.mapFd(`${port} AFU after PR`, portFd, info.size, info.offset);
      try {
        const guid = afu.read64(0x10).toString(16).padStart(16, '0') + afu.read64(0x08).toString(16).padStart(16, '0');
        check(guid === after, `the AFU's own GUID registers through mmap read ${guid}`);
      } finally {
        afu.close();
      }
      return `${buf.length} bytes; afu_id ${before} -> ${after}; manager state ${state}`;
    });

    if (card.resetFault) {
      await run(`${tag}: with the reset-ACK fault armed DFL_FPGA_PORT_RESET fails with ETIMEDOUT (dfl-afu-main.c __afu_port_disable)`, async () => {
        await hostControl({ card: card.label, fault: 'reset-ack', on: true });
        try {
          const r = ioctlErrno(portFd, U.DFL_FPGA_PORT_RESET, null);
          check(r === 'ETIMEDOUT', `PORT_RESET returned ${r}`);
          let afuId: string | undefined;
          try { afuId = attr(port, 'afu_id'); } catch (e) { afuId = (e as { code?: string }).code; }
          return `ETIMEDOUT; afu_id now ${afuId}`;
        } finally {
          await hostControl({ card: card.label, fault: 'reset-ack', on: false });
        }
      });
    }
  } finally {
    close(portFd);
    close(fmeFd);
  }
}

/** The kernel device under `root` (depth-limited search) whose name matches `re`. */
function findDevice(root: string, re: RegExp, depth = 6): string | undefined {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const e of entries) if (re.test(e.name) && e.isDirectory()) return path.join(root, e.name);
  if (depth === 0) return undefined;
  for (const e of entries) {
    if (!e.isDirectory() || e.isSymbolicLink()) continue;
    const hit = findDevice(path.join(root, e.name), re, depth - 1);
    if (hit) return hit;
  }
  return undefined;
}

const driverOf = (dir: string): string | undefined => {
  try {
    return path.basename(fs.readlinkSync(path.join(dir, 'driver')));
  } catch {
    return undefined;
  }
};

/** Feed `image` to a fw_upload device (Documentation/ABI/testing/sysfs-class-firmware) and wait for idle; optionally cancel once `cancelAt` is seen. */
async function fwUpload(dir: string, image: Uint8Array, cancelAt?: string): Promise<{ error: string; seen: string[] }> {
  fs.writeFileSync(`${dir}/loading`, '1');
  fs.writeFileSync(`${dir}/data`, image);
  fs.writeFileSync(`${dir}/loading`, '0');
  const seen: string[] = [];
  const deadline = Date.now() + 120000;
  let cancelled = false;
  for (;;) {
    const status = fs.readFileSync(`${dir}/status`, 'utf8').trim();
    if (seen[seen.length - 1] !== status) seen.push(status);
    if (cancelAt && !cancelled && status === cancelAt) {
      fs.writeFileSync(`${dir}/cancel`, '1');
      cancelled = true;
    }
    if (status === 'idle' && seen.length > 1) break;
    if (status === 'idle' && Date.now() > deadline - 110000) break;
    if (Date.now() > deadline) throw new Error(`fw_upload still ${status} after 120 s (seen ${seen.join(' -> ')})`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { error: fs.readFileSync(`${dir}/error`, 'utf8').trim(), seen };
}

/** The fw_upload progress seen after the data was received (sysfs_upload.c fw_upload_start sets "receiving" until its worker runs). */
const progressOf = (seen: string[]): string => seen.filter((st) => st !== 'receiving').join(' -> ');

/** The kernel's bitmap list ("0,2-3,31-32", lib/bitmap-str.c bitmap_print_to_pagebuf with list=1) as IDs. */
function bitmapList(text: string): number[] {
  const ids: number[] = [];
  for (const part of text.split(',').filter((x) => x !== '')) {
    const [a, b] = part.split('-').map(Number);
    for (let id = a!; id <= (b ?? a!); id++) ids.push(id);
  }
  return ids;
}

/** A sysfs file's text, or the errno name reading it failed with. */
function readOrErrno(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

/** security/flash_count of the sec-update device (intel-m10-bmc-sec-update.c flash_count_show). */
const flashCount = (sec: string): number => Number(fs.readFileSync(`${sec}/security/flash_count`, 'utf8').trim());

/**
 * The BMC chain as the kernel builds it for the card's class:
 *   N3000: FME feature 0xd -> dfl-n3000-nios -> subdev_spi_altera.N (spi_altera) -> spiX.0 "m10-n3000"
 *   D5005: FME feature 0xe -> dfl-spi-altera (spi-altera-dfl.c dfl_spi_altera_probe) -> spiX.0 "m10-d5005"
 * then intel-m10-bmc (intel-m10-bmc-spi.c) and its cells <board>bmc-hwmon, <board>bmc-sec-update.
 */
async function bmcTests(card: CardExpect, update: { success: boolean; cancel: boolean; authFails: boolean }): Promise<void> {
  const tag = card.label;
  const want = card.bmc;
  if ('error' in want) {
    await run(`${tag}: the host reads the card's BMC`, () => { throw new Error(`the host could not read the sim's BMC: ${want.error}`); });
    return;
  }
  const pci = path.join(PCI, card.bdf);
  const featureDriver = want.featureId === 0xd ? 'dfl-n3000-nios' : 'dfl-spi-altera';
  let bmc: string | undefined;
  const chain = await run(`${tag}: the ${want.device} BMC chain probes: FME feature ${hex(want.featureId)} (${featureDriver}) -> Altera SPI master -> intel-m10-bmc`, () => {
    const dflDev = fs.readdirSync('/sys/bus/dfl/devices').map((d) => `/sys/bus/dfl/devices/${d}`)
      .find((d) => Number(fs.readFileSync(`${d}/feature_id`, 'utf8')) === want.featureId && fs.realpathSync(d).startsWith(fs.realpathSync(pci)));
    check(dflDev !== undefined, `no dfl device with feature id ${hex(want.featureId)} under the card`);
    check(driverOf(dflDev!) === featureDriver, `feature ${hex(want.featureId)} driver ${driverOf(dflDev!)}, want ${featureDriver}`);
    const hops = [path.basename(dflDev!)];
    let master = fs.realpathSync(dflDev!);
    if (want.featureId === 0xd) {
      // drivers/spi/spi-altera-platform.c: platform driver "spi_altera" matching the id "subdev_spi_altera".
      const spi = findDevice(master, /^subdev_spi_altera\./);
      check(spi !== undefined && driverOf(spi) === 'spi_altera', `SPI master ${spi} driver ${spi && driverOf(spi)}`);
      hops.push(path.basename(spi!));
      master = spi!;
    }
    bmc = findDevice(master, /^spi\d+\.\d+$/);
    check(bmc !== undefined && driverOf(bmc) === 'intel-m10-bmc', `BMC ${bmc} driver ${bmc && driverOf(bmc)}`);
    const modalias = fs.readFileSync(`${bmc}/modalias`, 'utf8').trim();
    check(modalias === `spi:${want.device}`, `BMC modalias ${modalias}, vfiokit binds ${want.device}`);
    hops.push(`${path.basename(bmc!)} (${modalias})`);
    return hops.join(' -> ');
  });
  if (!chain || !bmc) return;

  await run(`${tag}: intel-m10-bmc sysfs (bmc_version, bmcfw_version, mac_address, mac_count) read the sim BMC`, () => {
    const read = (n: string) => fs.readFileSync(`${bmc}/${n}`, 'utf8').trim();
    check(Number(read('bmc_version')) === want.bmcVersionRaw, `bmc_version ${read('bmc_version')} != ${hex(want.bmcVersionRaw)}`);
    check(Number(read('bmcfw_version')) === want.firmwareVersionRaw, `bmcfw_version ${read('bmcfw_version')} != ${hex(want.firmwareVersionRaw)}`);
    check(read('mac_address') === want.mac.toLowerCase(), `mac_address ${read('mac_address')} != ${want.mac}`);
    check(Number(read('mac_count')) === want.macCount, `mac_count ${read('mac_count')} != ${want.macCount}`);
    return `bmc_version ${read('bmc_version')}, bmcfw_version ${read('bmcfw_version')}, MAC ${read('mac_address')} x${read('mac_count')}`;
  });

  const hwmonName = `${want.board}bmc_hwmon`;
  await run(`${tag}: ${hwmonName} files (inputs, limits, hysteresis, labels) are vfiokit's readings of the BMC's sensor registers (intel-m10-bmc-hwmon.c ${want.board}bmc tables)`, () => {
    const hw = findDevice(bmc!, /^hwmon\d+$/, 4);
    check(hw !== undefined, 'no hwmon device under the BMC');
    const name = fs.readFileSync(`${hw}/name`, 'utf8').trim();
    check(name === hwmonName, `hwmon name ${name}`);
    check(want.sensors.length > 0, 'the host gave no sensor values');
    const present = fs.readdirSync(hw!);
    const bad: string[] = [];
    let files = 0;
    for (const s of want.sensors) {
      const label = readOrErrno(`${hw}/${s.channel}_label`);
      if (label !== s.label) bad.push(`${s.channel}_label "${label}" != "${s.label}"`);
      for (const [file, value] of Object.entries(s.files)) {
        const text = readOrErrno(`${hw}/${file}`);
        const got = /^-?\d+$/.test(text) ? Number(text) : text;
        if (got !== value) bad.push(`${file} (${s.label}) ${got} != ${value}`);
        files++;
      }
      // The kernel shows no attribute the host's table does not have (hinfo vs the register table).
      const extra = present.filter((f) => f.startsWith(`${s.channel}_`) && f !== `${s.channel}_label` && !(f in s.files));
      if (extra.length) bad.push(`the kernel has ${extra.join(', ')}, vfiokit does not`);
    }
    const channels = new Set(present.map((f) => /^((?:temp|in|curr|power)\d+)_/.exec(f)?.[1]).filter((c) => c !== undefined));
    if (channels.size !== want.sensors.length) bad.push(`the kernel has ${channels.size} channels, vfiokit ${want.sensors.length}`);
    check(bad.length === 0, bad.join('; '));
    return `${want.sensors.length} channels, ${files} files: ${want.sensors.slice(0, 2).map((s) => Object.entries(s.files).map(([f, v]) => `${f}=${v}`).join(' ')).join(', ')}, ...`;
  });

  let sec: string | undefined;
  const secure = await run(`${tag}: ${want.board}bmc-sec-update security/ (flash_count, {sr,bmc,pr}_root_entry_hash, {sr,bmc,pr}_canceled_csks) is vfiokit's readBmcSecurity (intel-m10-bmc-sec-update.c)`, () => {
    sec = findDevice(bmc!, new RegExp(`^${want.board}bmc-sec-update\\.`), 2);
    check(sec !== undefined && driverOf(sec) === 'intel-m10bmc-sec-update', `sec-update device ${sec} driver ${sec && driverOf(sec)}`);
    const bad: string[] = [];
    const seen: string[] = [];
    for (const [area, hash] of Object.entries(want.security.rootEntryHash)) {
      // show_root_entry_hash: the hash in hex, or "hash not programmed" when the prog word's magic is not the area's.
      const got = readOrErrno(`${sec}/security/${area}_root_entry_hash`);
      const expected = hash ?? 'hash not programmed';
      if (got !== expected) bad.push(`${area}_root_entry_hash "${got}" != "${expected}"`);
      seen.push(`${area} ${hash ? `${hash.length * 4}-bit hash` : 'not programmed'}`);
    }
    for (const [area, ids] of Object.entries(want.security.canceledCsks)) {
      // show_canceled_csk: the complement of the 128-bit vector as a bitmap list.
      const got = readOrErrno(`${sec}/security/${area}_canceled_csks`);
      if (JSON.stringify(bitmapList(got)) !== JSON.stringify(ids)) bad.push(`${area}_canceled_csks "${got}" != [${ids.join(',')}]`);
      seen.push(`${area} canceled "${got}"`);
    }
    const count = flashCount(sec!);
    if (count !== want.security.flashCount) bad.push(`flash_count ${count} != ${want.security.flashCount}`);
    check(bad.length === 0, bad.join('; '));
    return `${seen.join(', ')}, flash_count ${count}`;
  });

  if (!update.success && !update.authFails) return;
  const fw = fs.existsSync('/sys/class/firmware') ? fs.readdirSync('/sys/class/firmware').map((d) => `/sys/class/firmware/${d}`).find((d) => fs.realpathSync(d).startsWith(fs.realpathSync(bmc!))) : undefined;
  const image = new Uint8Array(fs.readFileSync(card.flashImage));
  // flash_count_show counts the cleared bits of the 4 KiB vector at rsu_update_counter
  // (M10BMC_N3000_STAGING_FLASH_COUNT 0x17ffb000, the csr map of both the N3000 and the D5005):
  // "number of times the secure update staging area has been flashed" (sysfs-driver-intel-m10-bmc-sec-update).
  const countBefore = secure && sec ? flashCount(sec) : undefined;
  const countAfter = (what: string, delta: number): string => {
    if (countBefore === undefined) return '';
    const after = flashCount(sec!);
    check(after === countBefore + delta, `flash_count ${countBefore} -> ${after} after ${what}, want +${delta}`);
    return `; flash_count ${countBefore} -> ${after}`;
  };
  if (update.authFails) {
    await run(`${tag}: fw_upload secure update with the BMC's authentication failing ends "programming:hw-error" (intel-m10-bmc-sec-update.c rsu_send_data); the staged image still counts in flash_count`, async () => {
      check(fw !== undefined, 'no fw_upload device under the BMC');
      const r = await fwUpload(fw!, image);
      check(r.error === 'programming:hw-error', `error "${r.error}" (status ${r.seen.join(' -> ')})`);
      return `${r.seen.join(' -> ')}; error ${r.error}${countAfter('an image staged and refused', 1)}`;
    });
    return;
  }
  if (update.cancel) {
    // intel-m10-bmc-sec-update.c m10bmc_sec_cancel only sets cancel_request; whichever op of
    // fw_upload_main (drivers/base/firmware_loader/sysfs_upload.c) runs next takes it through
    // rsu_cancel (HOST_STATUS_ABORT_RSU, FW_UPLOAD_ERR_CANCELED "user-abort"), and the error names
    // the progress it was taken in. The card's BMC erases staging for 1.5 s (bmcTimeScale=10 on fast timing,
    // laneCards), so a cancel written as soon as status reads "preparing" lands while
    // m10bmc_sec_prepare still polls rsu_prog_ready, which then takes it itself.
    await run(`${tag}: fw_upload cancelled while preparing ends "preparing:user-abort" (m10bmc_sec_prepare -> rsu_cancel)`, async () => {
      check(fw !== undefined, 'no fw_upload device under the BMC');
      const r = await fwUpload(fw!, image, 'preparing');
      check(r.error === 'preparing:user-abort', `error "${r.error}" (status ${r.seen.join(' -> ')})`);
      check(progressOf(r.seen) === 'preparing -> idle', `status ${r.seen.join(' -> ')}`);
      return `${r.seen.join(' -> ')}; error ${r.error}${countAfter('a cancel while preparing', 0)}`;
    });
    // m10bmc_sec_fw_write writes WRITE_BLOCK_SIZE (0x4000) bytes a call and checks cancel_request
    // before each: a cancel written while an image of more than one block is still in its first
    // block (word by word through the Nios SPI master: ~45 s for 16 KiB under TCG) is taken by the
    // next call, "transferring:user-abort"; a single-block image would reach poll_complete instead
    // ("programming:user-abort"). One block plus the 1 KiB header is as short as the test can be.
    await run(`${tag}: fw_upload cancelled while transferring ends "transferring:user-abort" (m10bmc_sec_fw_write -> rsu_cancel)`, async () => {
      check(fw !== undefined, 'no fw_upload device under the BMC');
      const twoBlocks = buildSignedImage({ contentType: 1, version: 'lane-cancel', payload: patternPayload(WRITE_BLOCK_SIZE, 6) });
      check(twoBlocks.length > WRITE_BLOCK_SIZE, `the image (${twoBlocks.length} bytes) fits one write block`);
      const r = await fwUpload(fw!, twoBlocks, 'transferring');
      check(r.error === 'transferring:user-abort', `error "${r.error}" (status ${r.seen.join(' -> ')})`);
      check(progressOf(r.seen) === 'preparing -> transferring -> idle', `status ${r.seen.join(' -> ')}`);
      const remaining = Number(fs.readFileSync(`${fw}/remaining_size`, 'utf8').trim());
      check(remaining === twoBlocks.length - WRITE_BLOCK_SIZE, `remaining_size ${remaining} of ${twoBlocks.length} (one block written)`);
      return `${twoBlocks.length} bytes: ${r.seen.join(' -> ')}; error ${r.error}, ${remaining} bytes not sent${countAfter('a cancel while transferring (no WRITE_DONE)', 0)}`;
    });
  }
  // After any cancels the BMC must be back at idle (rsu_check_idle) and take a whole update.
  await run(`${tag}: fw_upload secure update through /sys/class/firmware completes${update.cancel ? ' after the cancels' : ''} (staging, authentication, copy) and flash_count rises by one`, async () => {
    check(fw !== undefined, 'no fw_upload device under the BMC');
    const r = await fwUpload(fw!, image);
    check(r.error === '' && r.seen.includes('transferring') && r.seen.includes('programming'), `error "${r.error}", status ${r.seen.join(' -> ')}`);
    const remaining = fs.readFileSync(`${fw}/remaining_size`, 'utf8').trim();
    check(remaining === '0', `remaining_size ${remaining}`);
    return `${image.length} bytes: ${r.seen.join(' -> ')}${countAfter('a completed update', 1)}`;
  });
}

async function main(): Promise<void> {
  await run('the kernel logged no error or warning while dfl-pci, dfl-fme, dfl-afu and the FPGA managers probed the cards', () => {
    // Levels 0-4 (emerg..warning) of the kernel log so far, from the DFL/FPGA drivers or about the
    // cards' PCI functions; the BMC chain (spi, intel-m10-bmc) has its own tests below.
    const bdfs = expect.cards.map((c) => c.bdf);
    const lines = execFileSync('dmesg', ['-r'], { encoding: 'utf8' }).split('\n')
      .filter((l) => /^<[0-4]>/.test(l) && (/dfl|fpga|fme|afu/i.test(l) || bdfs.some((b) => l.includes(b))) && !/intel-m10-bmc|spi/.test(l));
    check(lines.length === 0, lines.join(' | ').slice(0, 500));
    return `${bdfs.length} cards probed cleanly`;
  });
  for (const [i, card] of expect.cards.entries()) {
    await cardTests(card, i === 0);
    // A full update (and a cancelled one) on card0; a full update on each BMC-only card; the failing one on its card.
    await bmcTests(card, { success: i === 0 || card.bmcOnly === true, cancel: i === 0, authFails: card.bmcAuthFails === true });
  }
}

finish(main);
