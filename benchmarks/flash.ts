// Host-side throughput into the sim BMC's staging area over SPI-AVMM: sequential Avalon-MM
// transactions of up to 1 KiB (this library) against one 4-byte register per transaction
// (DPDK opae_spi_transaction.c / the kernel's regmap-spi-avmm MAX_WRITE_CNT 1), side by side in
// one run, with the shim's codec and with the JS codec. The sim's SPI master answers every
// indirect register access at once, so these figures are the host's per-byte and per-transaction
// costs (packetising, escaping, SPI words over the indirect window), not a real card's SPI clock.
import type { BenchReport, BenchRow } from './lib.js';
import { median } from './lib.js';
import createDebug from 'debug';
import { TrappedRegion } from '../src/mmio/trapped-region.js';
import { VirtualClock } from '../src/util/clock.js';
import { SimBmc } from '../src/sim/bmc/sim-bmc.js';
import { SpiAvmmTransport } from '../src/afu/bmc/spi-avmm-transport.js';
import { DOORBELL, STAGING_BASE } from '../src/afu/bmc/registers.js';
import { avalonCodec, jsCodec, nativeCodec, setAvalonCodec } from '../src/afu/bmc/avalon-codec.js';
import { patternPayload } from '../src/afu/image/image-writer.js';

const OFFSET = 0x3000;

function rig(maxTransactionBytes: number) {
  const clock = new VirtualClock();
  const bmc = new SimBmc({ clock, log: createDebug('vfiokit:bench') }, { indirectLatency: 0 });
  const region = new TrappedRegion('bench BAR0', 0x10000, {
    read32: () => 0,
    write32: () => {},
    read64: (off) => bmc.read64(off - OFFSET),
    write64: (off, v) => bmc.write64(off - OFFSET, v),
  }, { clock });
  const host = new SpiAvmmTransport(region, OFFSET, { maxTransactionBytes });
  host.write32(DOORBELL, 1); // RSU request: the sim erases staging and opens it for writes
  clock.advance(60_000);
  return { host, bmc };
}

export async function run({ args }: { json: boolean; args: string[] }): Promise<BenchReport> {
  const sizeArg = args.find((a) => a.startsWith('--bytes='));
  const bytes = sizeArg ? Number(sizeArg.slice(8)) : 256 * 1024;
  const reps = 5;
  const data = patternPayload(bytes, 1);
  const rows: BenchRow[] = [];
  const codecs = [['shim', nativeCodec()], ['js', jsCodec]] as const;
  for (const [codecName, codec] of codecs) {
    if (!codec) {
      rows.push({ path: `1KiB-txn/${codecName}`, op: 'write', skipped: 'shim not built' });
      continue;
    }
    setAvalonCodec(codec);
    for (const [label, batch, n] of [['1KiB-txn', 1024, bytes], ['4B-txn(dpdk)', 4, Math.min(bytes, 32 * 1024)]] as const) {
      const { host } = rig(batch);
      const chunk = data.subarray(0, n);
      host.writeBlock(STAGING_BASE, chunk.subarray(0, Math.min(n, 16384))); // warm-up
      const samples: number[] = [];
      const t0w = host.transactions, w0 = host.spiWords;
      for (let r = 0; r < reps; r++) {
        const t0 = process.hrtime.bigint();
        host.writeBlock(STAGING_BASE, chunk);
        samples.push(Number(process.hrtime.bigint() - t0) / 1e9);
      }
      const perRep = (host.transactions - t0w) / reps;
      rows.push({
        path: `${label}/${codecName}`,
        op: 'write',
        bytesPerSec: n / median(samples),
        transactions: perRep,
        spiWordsPerKiB: Math.round(((host.spiWords - w0) / reps) / (n / 1024)),
        bytes: n,
      });
      const rs: number[] = [];
      for (let r = 0; r < reps; r++) {
        const t0 = process.hrtime.bigint();
        host.readBlock(STAGING_BASE, n);
        rs.push(Number(process.hrtime.bigint() - t0) / 1e9);
      }
      rows.push({ path: `${label}/${codecName}`, op: 'read', bytesPerSec: n / median(rs), bytes: n });
    }
  }
  setAvalonCodec(undefined);
  return {
    benchmark: 'flash',
    baseline: '4B-txn(dpdk)/js',
    rows,
    notes: [
      `${bytes} bytes per 1 KiB-transaction rep, 32 KiB per 4-byte-transaction rep; median of ${reps}; codec used on trapped regions: ${avalonCodec().native ? 'shim' : 'js'} (mapped regions run whole transactions in the shim)`,
      'sim SPI master: indirect accesses complete at once (no SPI clock); DPDK additionally sleeps 1 us per register, not modelled',
    ],
  };
}
