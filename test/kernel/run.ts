// The kernel lane (`npm run test:kernel`): boots QEMU guests per reference/kernel-lane.md and
// runs test/kernel/guest/suite.ts inside them against the real vfio-pci:
//   type1    Debian's own kernel (scripts/kernel/fetch-debian-kernel.sh), vIOMMU, legacy container
//   iommufd  the kernel scripts/kernel/build-kernel.sh builds (cached), vIOMMU, /dev/iommu + cdev
//   noiommu  the same kernel without a vIOMMU, vfio.enable_unsafe_noiommu_mode=1
// Results come back over the serial console as VFIOKIT-RESULT lines. A lane that cannot run (no
// QEMU, no kernel) is reported as skipped with the reason. Ends with "N passed, N failed[, N skipped]".
//
// Usage: tsx test/kernel/run.ts [--lane type1|iommufd|noiommu]... [--no-build] [--timeout S] [--verbose] [--bench]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDflImage } from './dfl-image.js';
import { IVSHMEM_MARKER, IVSHMEM_MARKER_OFFSET, parseBench, parseResults, type ResultLine } from './protocol.js';
import { getLe64 } from '../../src/util/bytes.js';

type Lane = 'type1' | 'iommufd' | 'noiommu';
const ALL_LANES: Lane[] = ['type1', 'iommufd', 'noiommu'];
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPTS = path.join(ROOT, 'scripts/kernel');
const QEMU = 'qemu-system-x86_64';
const QBOOT = '/usr/share/qemu/qboot.rom';
const DEFAULT_TIMEOUT_S = 240;

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
      console.log('Usage: npm run test:kernel -- [--lane type1|iommufd|noiommu]... [--no-build] [--timeout S] [--verbose] [--bench]');
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
    const guestScript = path.join(dir, 'run');
    const nodeFlags = '--allow-natives-syntax --import tsx';
    const program = args.bench ? 'benchmarks/run.ts dma --kernel-guest --json' : 'test/kernel/guest/suite.ts';
    fs.writeFileSync(guestScript, [
      'export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin HOME=/run TMPDIR=/run/tmp VFIOKIT_STATE_DIR=/run/vfiokit',
      `export VFIOKIT_LANE=${lane}`,
      'mkdir -p /run/tmp /run/vfiokit',
      `cd ${ROOT}`,
      `exec ${process.execPath} ${nodeFlags} ${program}`,
      '',
    ].join('\n'));
    const append = ['console=ttyS0', 'loglevel=3', 'panic=-1', 'vfiokit_bind=1234:11e8,1af4:1110', `vfiokit_script=${guestScript}`];
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
    const output = await new Promise<string>((resolve) => {
      const child = spawn('timeout', ['-k', '5', String(args.timeoutS), QEMU, ...qemu], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const onData = (d: Buffer) => {
        const s = d.toString();
        out += s;
        if (args.verbose) process.stderr.write(s);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('close', (code) => resolve(`${out}\nVFIOKIT-QEMU-EXIT ${code}\n`));
    });
    const results = parseResults(output);
    const exit = /VFIOKIT-EXIT (\d+)/.exec(output);
    const qemuExit = /VFIOKIT-QEMU-EXIT (\S+)/.exec(output)?.[1];
    if (!exit) {
      results.push({ test: 'guest ran to completion', status: 'fail', ms: Date.now() - started, detail: qemuExit === '124' ? `QEMU timed out after ${args.timeoutS} s` : `no VFIOKIT-EXIT line (QEMU exit ${qemuExit}); last output: ${output.trim().split('\n').slice(-5).join(' | ').slice(0, 400)}` });
    } else if (exit[1] !== '0' && !results.some((r) => r.status === 'fail')) {
      results.push({ test: 'guest exit status', status: 'fail', ms: 0, detail: `guest program exited ${exit[1]}` });
    }
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

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const lanes: LaneResult[] = [];
  const haveQemu = spawnSync(QEMU, ['--version']).status === 0;
  const haveQboot = fs.existsSync(QBOOT);
  let debian: Kernel | string | undefined;
  let built: Kernel | string | undefined;
  for (const lane of args.lanes) {
    if (!haveQemu || !haveQboot) {
      lanes.push({ lane, results: [], skipped: !haveQemu ? `${QEMU} not installed (apt-get install -y qemu-system-x86)` : `${QBOOT} missing (apt-get install -y qemu-system-x86)`, output: '', bench: [] });
      continue;
    }
    const kernel = lane === 'type1' ? (debian ??= debianKernel()) : (built ??= builtKernel(args.build));
    if (typeof kernel === 'string') {
      lanes.push({ lane, results: [], skipped: kernel, output: '', bench: [] });
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
      console.log(`lane ${l.lane}: skipped: ${l.skipped}`);
      skipped++;
      continue;
    }
    console.log(`lane ${l.lane}:`);
    for (const r of l.results) {
      console.log(`  ${r.status === 'pass' ? 'ok  ' : r.status === 'skip' ? 'skip' : 'FAIL'} ${r.test} (${r.ms} ms)${r.detail ? `: ${r.detail}` : ''}`);
      if (r.status === 'pass') passed++;
      else if (r.status === 'fail') failed++;
      else skipped++;
    }
    if (args.bench) for (const b of l.bench) console.log(JSON.stringify({ lane: l.lane, ...(b as object) }));
    if (l.results.some((r) => r.status === 'fail') && !args.verbose) {
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
