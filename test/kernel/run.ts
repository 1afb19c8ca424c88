// The kernel lane (`npm run test:kernel`): boots QEMU guests per reference/kernel-lane.md and
// runs test/kernel/guest/suite.ts inside them against the real vfio-pci:
//   type1    Debian's own kernel (scripts/kernel/fetch-debian-kernel.sh), vIOMMU, legacy container
//   iommufd  the kernel scripts/kernel/build-kernel.sh builds (cached), vIOMMU, /dev/iommu + cdev
//   noiommu  the same kernel without a vIOMMU, vfio.enable_unsafe_noiommu_mode=1
//   dfl      the card lane: simulated cards served by `vfiokit serve` (test/kernel/card-lane.ts),
//            attached with QEMU's vfio-user-pci (QEMU from the trixie environment,
//            scripts/trixie/setup.sh, run by scripts/trixie/run.sh), judged by the built kernel's
//            own DFL drivers (test/kernel/guest/dfl-suite.ts)
//   card     the same served card bound to the guest's vfio-pci (dfl-pci kept off it with
//            initcall_blacklist=cci_pci_driver_init), driven by vfiokit's public API on type1 and
//            iommufd (test/kernel/guest/card-suite.ts)
// Results come back over the serial console as VFIOKIT-RESULT lines; the guest asks the host to
// change a served card (arm a fault) with VFIOKIT-CONTROL lines, answered on the console's input.
// A lane that cannot run (no QEMU, no kernel) is reported as skipped with the reason, and under
// CI=true it FAILS instead, as does a guest test that skips (protocol.ts judgeResult).
// Ends with "N passed, N failed[, N skipped]".
//
// Usage: tsx test/kernel/run.ts [--lane type1|iommufd|noiommu|dfl|card]... [--no-build] [--timeout S] [--verbose] [--bench]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDflImage } from './dfl-image.js';
import { ACK_PREFIX, CONTROL_PREFIX, IVSHMEM_MARKER, IVSHMEM_MARKER_OFFSET, judgeResult, parseBench, parseResults, type ResultLine } from './protocol.js';
import { serveCards, type ServedCards } from './card-lane.js';
import { getLe64 } from '../../src/util/bytes.js';

type Lane = 'type1' | 'iommufd' | 'noiommu' | 'dfl' | 'card';
const ALL_LANES: Lane[] = ['type1', 'iommufd', 'noiommu', 'dfl', 'card'];
const CARD_LANES: Lane[] = ['dfl', 'card'];
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPTS = path.join(ROOT, 'scripts/kernel');
const QEMU = 'qemu-system-x86_64';
const QBOOT = '/usr/share/qemu/qboot.rom';
const TRIXIE = path.join(ROOT, 'scripts/trixie');
const TRIXIE_RUN = path.join(TRIXIE, 'run.sh');
const DEFAULT_TIMEOUT_S = 480; // a guest under TCG on a loaded 2-core machine needs it (the card lane took >240 s under load)

interface Args { lanes: Lane[]; build: boolean; timeoutS: number; verbose: boolean; bench: boolean }

function parseArgs(argv: string[]): Args {
  const a: Args = { lanes: [], build: true, timeoutS: DEFAULT_TIMEOUT_S, verbose: false, bench: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    if (x === '--lane') {
      const l = argv[++i] as Lane;
      if (!ALL_LANES.includes(l)) throw new Error(`--lane ${l}: use one of ${ALL_LANES.join(', ')}`);
      a.lanes.push(l);
    } else if (x === '--no-build') a.build = false;
    else if (x === '--timeout') a.timeoutS = Number(argv[++i]);
    else if (x === '--verbose' || x === '-v') a.verbose = true;
    else if (x === '--bench') a.bench = true;
    else if (x === '--help' || x === '-h') {
      console.log('Usage: npm run test:kernel -- [--lane type1|iommufd|noiommu|dfl|card]... [--no-build] [--timeout S] [--verbose] [--bench]');
      process.exit(0);
    } else throw new Error(`unknown argument ${x} (see --help)`);
  }
  if (a.lanes.length === 0) a.lanes = ALL_LANES;
  if (!(a.timeoutS > 0)) throw new Error('--timeout needs a number of seconds');
  return a;
}

interface Kernel { vmlinux: string; modulesRoot?: string; kver?: string; label: string }

/** Run one of our scripts; its last stdout line is the result path. Progress goes to stderr. */
function script(name: string, args: string[] = []): { ok: boolean; last: string; err: string } {
  const r = spawnSync(path.join(SCRIPTS, name), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = (r.stdout ?? '').trim().split('\n');
  return { ok: r.status === 0, last: lines[lines.length - 1] ?? '', err: (r.stderr ?? '').trim().split('\n').slice(-3).join(' | ') };
}

function debianKernel(): Kernel | string {
  const r = script('fetch-debian-kernel.sh');
  if (!r.ok) return `Debian kernel not available: ${r.err}`;
  return { vmlinux: path.join(r.last, 'vmlinux'), modulesRoot: path.join(r.last, 'root'), kver: fs.readFileSync(path.join(r.last, 'kver'), 'utf8').trim(), label: path.basename(r.last) };
}

function builtKernel(build: boolean): Kernel | string {
  const cached = script('build-kernel.sh', ['--print-path']);
  if (cached.ok) return { vmlinux: cached.last, label: path.basename(path.dirname(cached.last)) };
  if (!build) return `no cached iommufd kernel at ${cached.last} and --no-build given (build it with scripts/kernel/build-kernel.sh, about 10+ minutes)`;
  process.stderr.write('kernel lane: building the iommufd/no-IOMMU guest kernel (scripts/kernel/build-kernel.sh; 10+ minutes on 2 cores, cached afterwards)\n');
  const r = script('build-kernel.sh');
  if (!r.ok) return `building the iommufd kernel failed: ${r.err}`;
  return { vmlinux: r.last, label: path.basename(path.dirname(r.last)) };
}

/** The trixie environment with QEMU's vfio-user-pci (built once, cached); "!why" when unavailable. */
function trixieEnvironment(build: boolean): string {
  const run = (args: string[]) => spawnSync(path.join(TRIXIE, 'setup.sh'), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const cached = run(['--print-path']);
  const where = (cached.stdout ?? '').trim().split('\n').pop() ?? '';
  if (cached.status === 0) return where;
  if (!build) return `!no trixie environment at ${where} and --no-build given (build it with scripts/trixie/setup.sh, a few minutes)`;
  process.stderr.write('kernel lane: building the trixie environment with QEMU (scripts/trixie/setup.sh; a few minutes, cached afterwards)\n');
  const r = run([]);
  if (r.status !== 0) return `!the trixie environment could not be built: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`;
  return (r.stdout ?? '').trim().split('\n').pop() ?? where;
}

function initramfs(kernel: Kernel, dir: string): string {
  const out = path.join(dir, 'initramfs.cpio.gz');
  execFileSync(path.join(SCRIPTS, 'build-initramfs.sh'), [out, ...(kernel.modulesRoot ? [kernel.modulesRoot, kernel.kver!] : [])], { stdio: ['ignore', 'ignore', 'inherit'] });
  return out;
}

interface LaneResult { lane: Lane; results: ResultLine[]; skipped?: string; output: string; bench: unknown[] }

async function boot(lane: Lane, kernel: Kernel, args: Args): Promise<LaneResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vfiokit-lane-${lane}-`));
  fs.chmodSync(dir, 0o755);
  try {
    const initrd = initramfs(kernel, dir);
    const shm = path.join(dir, 'ivshmem');
    fs.writeFileSync(shm, buildDflImage());
    const program = args.bench ? 'benchmarks/run.ts dma --kernel-guest --json' : 'test/kernel/guest/suite.ts';
    const script = guestScript(dir, lane, program);
    const append = ['console=ttyS0', 'loglevel=3', 'panic=-1', 'vfiokit_bind=1234:11e8,1af4:1110', `vfiokit_script=${script}`];
    // A 2 MiB huge page pool for the huge-page DMA test (benchmarks: 96 MiB of the 512).
    append.push(`hugepages=${args.bench ? 48 : 4}`);
    const qemu = ['-machine', 'q35', '-accel', 'tcg', '-cpu', 'max', '-m', '512M', '-smp', '1', '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio', '-bios', QBOOT, '-kernel', kernel.vmlinux, '-initrd', initrd];
    if (lane === 'noiommu') append.push('vfio.enable_unsafe_noiommu_mode=1');
    else {
      append.push('intel_iommu=on', 'iommu=pt');
      // The vIOMMU must come before the devices it translates for.
      qemu.push('-device', 'intel-iommu,intremap=on,caching-mode=on');
    }
    // edu and ivshmem each alone below a PCIe root port: vfio-pci can reset them with a secondary
    // bus reset (ivshmem's reset clears INTRMASK: the suite's proof that a reset happened).
    qemu.push('-device', 'pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1', '-device', 'edu,bus=rp1', '-object', `memory-backend-file,id=shm,share=on,mem-path=${shm},size=${fs.statSync(shm).size}`,
      '-device', 'pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=2', '-device', 'ivshmem-plain,memdev=shm,bus=rp2');
    qemu.push('-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap');
    qemu.push('-append', append.join(' '));
    const started = Date.now();
    const output = await runQemu('timeout', ['-k', '5', String(args.timeoutS), QEMU, ...qemu], args);
    const results = guestResults(output, started, args);
    if (!args.bench) {
      // The guest wrote a marker into BAR2; it must be in the host file now.
      const marker = getLe64(new Uint8Array(fs.readFileSync(shm)), IVSHMEM_MARKER_OFFSET);
      const walked = results.some((r) => r.test.startsWith('ivshmem BAR2') && r.status === 'pass');
      results.push(walked && marker === IVSHMEM_MARKER
        ? { test: 'host sees the guest\'s write to ivshmem BAR2', status: 'pass', ms: 0 }
        : { test: 'host sees the guest\'s write to ivshmem BAR2', status: walked ? 'fail' : 'skip', ms: 0, detail: walked ? `found 0x${marker.toString(16)}` : 'the guest ivshmem test did not pass' });
    }
    return { lane, results, output, bench: parseBench(output) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Spawn QEMU (through `command`), collect its console; answer VFIOKIT-CONTROL lines with `control`. */
function runQemu(command: string, argv: string[], args: Args, control?: (request: Record<string, unknown>) => Promise<unknown>): Promise<string> {
  return new Promise<string>((resolve) => {
    const child = spawn(command, argv, { stdio: [control ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let out = '';
    let pending = '';
    const onData = (d: Buffer) => {
      const s = d.toString();
      out += s;
      if (args.verbose) process.stderr.write(s);
      if (!control) return;
      pending += s;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const at = line.indexOf(CONTROL_PREFIX);
        if (at < 0 || line.includes(ACK_PREFIX)) continue;
        const m = /^(\d+) (.*)$/.exec(line.slice(at + CONTROL_PREFIX.length).trim());
        if (!m) continue;
        let request: Record<string, unknown>;
        try {
          request = JSON.parse(m[2]!) as Record<string, unknown>;
        } catch {
          continue;
        }
        void control(request).then((reply) => child.stdin?.write(`${ACK_PREFIX}${m[1]} ${JSON.stringify(reply)}\n`));
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('close', (code) => resolve(`${out}\nVFIOKIT-QEMU-EXIT ${code}\n`));
  });
}

/** The guest's results, plus a failure when it did not finish or exited non-zero without one. */
function guestResults(output: string, started: number, args: Args): ResultLine[] {
  const results = parseResults(output);
  const exit = /VFIOKIT-EXIT (\d+)/.exec(output);
  const qemuExit = /VFIOKIT-QEMU-EXIT (\S+)/.exec(output)?.[1];
  if (!exit) {
    results.push({ test: 'guest ran to completion', status: 'fail', ms: Date.now() - started, detail: qemuExit === '124' ? `QEMU timed out after ${args.timeoutS} s` : `no VFIOKIT-EXIT line (QEMU exit ${qemuExit}); last output: ${output.trim().split('\n').slice(-5).join(' | ').slice(0, 400)}` });
  } else if (exit[1] !== '0' && !results.some((r) => r.status === 'fail')) {
    results.push({ test: 'guest exit status', status: 'fail', ms: 0, detail: `guest program exited ${exit[1]}` });
  }
  return results;
}

/** The guest script: environment, then the host's node on `program`. */
function guestScript(dir: string, lane: Lane, program: string, env: Record<string, string> = {}): string {
  const file = path.join(dir, 'run');
  fs.writeFileSync(file, [
    'export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/run TMPDIR=/run/tmp VFIOKIT_STATE_DIR=/run/vfiokit',
    `export VFIOKIT_LANE=${lane}`,
    ...Object.entries(env).map(([k, v]) => `export ${k}=${v}`),
    'mkdir -p /run/tmp /run/vfiokit',
    `cd ${ROOT}`,
    `exec ${process.execPath} --allow-natives-syntax --import tsx ${program}`,
    '',
  ].join('\n'));
  return file;
}

/**
 * The card lanes: serve the lane's cards on the host, boot the built kernel in the trixie QEMU
 * (vfio-user-pci needs QEMU >= 10.1) in a private mount namespace, run the lane's guest suite.
 */
async function bootCardLane(lane: Lane, kernel: Kernel, args: Args): Promise<LaneResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `vfiokit-lane-${lane}-`));
  fs.chmodSync(dir, 0o755);
  let served: ServedCards | undefined;
  try {
    const initrd = initramfs(kernel, dir);
    served = await serveCards(lane as 'dfl' | 'card', dir);
    const program = lane === 'dfl' ? 'test/kernel/guest/dfl-suite.ts' : 'test/kernel/guest/card-suite.ts';
    const script = guestScript(dir, lane, program, { VFIOKIT_EXPECT: served.expectPath });
    // no_timer_check: under TCG on a loaded host the IO-APIC timer check can miss its ticks, and with
    // interrupt remapping the kernel then panics (arch/x86/kernel/apic/io_apic.c check_timer ->
    // timer_irq_works fails -> panic_if_irq_remap); seen once in the card lane. no_timer_check makes
    // timer_irq_works succeed without the test.
    const append = ['console=ttyS0', 'loglevel=3', 'panic=-1', 'no_timer_check', 'intel_iommu=on', `vfiokit_script=${script}`, 'hugepages=4'];
    // dfl: the DFL drivers' DMA goes through a translated DMA domain with synchronous unmaps, so a
    // DFL_FPGA_PORT_DMA_UNMAP reaches the card at once (iommu=pt would map all RAM 1:1 for it).
    // card: vfio-pci puts the card in its own domain either way; the rest passes through.
    append.push(lane === 'dfl' ? 'iommu.strict=1' : 'iommu=pt');
    // The card lane keeps dfl-pci (module_pci_driver(cci_pci_driver), drivers/fpga/dfl-pci.c) off the card.
    if (lane === 'card') append.push('initcall_blacklist=cci_pci_driver_init', 'vfiokit_bind=8086:0b30');
    const kdir = path.dirname(kernel.vmlinux);
    // card: guest RAM in a shared memfd, which QEMU passes with every DMA_MAP, so the served card
    // maps it and copies directly. dfl: private RAM, so QEMU's DMA_MAPs carry no fd and the card
    // reaches guest memory only through DMA_READ/DMA_WRITE messages to QEMU (vfio-user.rst).
    const ram = lane === 'card' ? ['-object', 'memory-backend-memfd,id=ram,size=768M,share=on', '-machine', 'q35,kernel-irqchip=split,memory-backend=ram'] : ['-machine', 'q35,kernel-irqchip=split'];
    const qemu = [
      ...ram, '-accel', 'tcg', '-cpu', 'max', '-m', '768M', '-smp', '1',
      '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio', '-bios', QBOOT, '-kernel', kernel.vmlinux, '-initrd', initrd,
      // The vIOMMU must come before the devices it translates for.
      '-device', 'intel-iommu,intremap=on,caching-mode=on',
      ...served.qemuDevices.flatMap((d) => ['-device', d]),
      '-virtfs', 'local,path=/host,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
      '-append', append.join(' '),
    ];
    process.stderr.write(`kernel lane ${lane}: ${served.cards.map((c) => `${c.label}=${c.url}`).join(', ')}\n`);
    const started = Date.now();
    const output = await runQemu('timeout', ['-k', '5', String(args.timeoutS), TRIXIE_RUN, '--bind', dir, '--bind', kdir, '--bind', '/:/host', QEMU, ...qemu], args,
      (request) => served!.control(request as { card?: string }));
    return { lane, results: guestResults(output, started, args), output, bench: [] };
  } finally {
    served?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const lanes: LaneResult[] = [];
  const haveQemu = spawnSync(QEMU, ['--version']).status === 0;
  const haveQboot = fs.existsSync(QBOOT);
  let debian: Kernel | string | undefined;
  let built: Kernel | string | undefined;
  let trixie: string | undefined;
  for (const lane of args.lanes) {
    const card = CARD_LANES.includes(lane);
    if (!card && (!haveQemu || !haveQboot)) {
      lanes.push({ lane, results: [], skipped: !haveQemu ? `${QEMU} not installed (apt-get install -y qemu-system-x86)` : `${QBOOT} missing (apt-get install -y qemu-system-x86)`, output: '', bench: [] });
      continue;
    }
    const kernel = lane === 'type1' ? (debian ??= debianKernel()) : (built ??= builtKernel(args.build));
    if (typeof kernel === 'string') {
      lanes.push({ lane, results: [], skipped: kernel, output: '', bench: [] });
      continue;
    }
    if (card) {
      trixie ??= trixieEnvironment(args.build);
      if (trixie.startsWith('!')) {
        lanes.push({ lane, results: [], skipped: trixie.slice(1), output: '', bench: [] });
        continue;
      }
      process.stderr.write(`kernel lane ${lane}: booting ${kernel.label} in QEMU from ${trixie}\n`);
      lanes.push(await bootCardLane(lane, kernel, args));
      continue;
    }
    process.stderr.write(`kernel lane ${lane}: booting ${kernel.label}\n`);
    lanes.push(await boot(lane, kernel, args));
  }
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const l of lanes) {
    if (l.skipped) {
      // Under CI a lane that cannot set itself up fails: a broken fetch or build never turns green.
      if (process.env.CI === 'true') {
        console.log(`lane ${l.lane}: FAIL (CI=true, the lane could not set up): ${l.skipped}`);
        failed++;
      } else {
        console.log(`lane ${l.lane}: skipped: ${l.skipped}`);
        skipped++;
      }
      continue;
    }
    console.log(`lane ${l.lane}:`);
    let laneFailed = false;
    for (const r of l.results) {
      const { status, detail } = judgeResult(r, process.env.CI === 'true');
      console.log(`  ${status === 'pass' ? 'ok  ' : status === 'skip' ? 'skip' : 'FAIL'} ${r.test} (${r.ms} ms)${detail ? `: ${detail}` : ''}`);
      if (status === 'pass') passed++;
      else if (status === 'fail') {
        failed++;
        laneFailed = true;
      } else skipped++;
    }
    if (args.bench) for (const b of l.bench) console.log(JSON.stringify({ lane: l.lane, ...(b as object) }));
    if (laneFailed && !args.verbose) {
      const tail = l.output.split('\n').filter((x) => !x.includes('VFIOKIT-RESULT')).slice(-15).join('\n');
      console.log(`  console tail:\n${tail.replace(/^/gm, '    ')}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return failed > 0 ? 1 : 0;
}

main().then((code) => process.exit(code), (e) => {
  console.error(`kernel lane: ${(e as Error).message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
