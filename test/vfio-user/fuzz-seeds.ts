// Valid vfio-user command messages of every kind, the starting points the fuzzer mutates
// (test/fuzz/vfio-user.fuzz.ts). Built with the codec; the golden tests pin the codec to the spec.
import { buildCommand, Command, HEADER_SIZE, isReply, decodeHeader } from '../../src/vfio-user/protocol.js';
import { encodeVersion } from '../../src/vfio-user/capabilities.js';
import {
  encodeDmaMap, encodeDmaUnmap, encodeDeviceInfo, encodeIrqInfo, encodeIrqSet, encodeRegionAccess, encodeWriteMulti,
  encodeIoFdsRequest, encodeDeviceFeature, encodeDmaAccess, encodeRegionBatch, DMA_UNMAP_FLAG_ALL, IRQ_SET_ACTION_MASK, IRQ_SET_ACTION_TRIGGER,
  IRQ_SET_ACTION_UNMASK, IRQ_SET_DATA_BOOL, IRQ_SET_DATA_EVENTFD, IRQ_SET_DATA_NONE, FEATURE_GET, FEATURE_PROBE,
} from '../../src/vfio-user/messages.js';
import { encodeRegionInfoRequest } from '../../src/vfio-user/region-info.js';
import { AccessBatch } from '../../src/mmio/access-batch.js';
import { putLe32, putLe64 } from '../../src/util/bytes.js';
import { SimAfuReg, DmaCtrl } from '../../src/sim/afu-regs.js';
import { SIM_AFU_OFFSET } from '../../src/sim/sim-card.js';

export { buildCommand, Command, HEADER_SIZE, isReply, decodeHeader };

export interface Seed {
  bytes: Uint8Array;
  /** What fds the message is meant to carry. */
  fds: 'none' | 'memfd' | 'eventfds';
  count: number;
}

/** Overwrite the header's message size. */
export function putSize(bytes: Uint8Array, size: number): void {
  putLe32(bytes, 4, size);
}

const u64 = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  putLe64(b, 0, v);
  return b;
};

export function seedMessages(): Seed[] {
  const seeds: Seed[] = [];
  let id = 1;
  const add = (command: number, payload: Uint8Array, fds: Seed['fds'] = 'none', count = 0): void => {
    seeds.push({ bytes: buildCommand(id++ & 0xffff, command, payload), fds, count });
  };
  add(Command.VERSION, encodeVersion(0, 1, { maxMsgFds: 8, twinSocket: { supported: true }, regionBatch: { maxEntries: 64 } }));
  for (const iova of [0x10000n, 0x20000n, 0x100000n]) {
    add(Command.DMA_MAP, encodeDmaMap({ flags: 3, offset: 0n, address: iova, size: 0x10000n }), 'memfd');
    add(Command.DMA_MAP, encodeDmaMap({ flags: 1, offset: 0x1000n, address: iova + 0x40000n, size: 0x1000n }), 'memfd');
    add(Command.DMA_MAP, encodeDmaMap({ flags: 3, offset: 0n, address: iova + 0x80000n, size: 0x2000n }));
    add(Command.DMA_UNMAP, encodeDmaUnmap({ flags: 0, address: iova, size: 0x10000n }));
  }
  add(Command.DMA_UNMAP, encodeDmaUnmap({ flags: DMA_UNMAP_FLAG_ALL, address: 0n, size: 0n }));
  add(Command.DEVICE_GET_INFO, encodeDeviceInfo({ argsz: 16, flags: 0, numRegions: 0, numIrqs: 0 }));
  for (let i = 0; i < 10; i++) add(Command.DEVICE_GET_REGION_INFO, encodeRegionInfoRequest(i, i & 1 ? 32 : 256));
  add(Command.DEVICE_GET_REGION_IO_FDS, encodeIoFdsRequest({ argsz: 256, flags: 0, index: 0, count: 0 }));
  for (let i = 0; i < 6; i++) add(Command.DEVICE_GET_IRQ_INFO, encodeIrqInfo({ argsz: 16, flags: 0, index: i, count: 0 }));
  add(Command.DEVICE_SET_IRQS, encodeIrqSet({ flags: IRQ_SET_DATA_EVENTFD | IRQ_SET_ACTION_TRIGGER, index: 2, start: 2, count: 4 }), 'eventfds', 4);
  add(Command.DEVICE_SET_IRQS, encodeIrqSet({ flags: IRQ_SET_DATA_EVENTFD | IRQ_SET_ACTION_TRIGGER, index: 2, start: 0, count: 1 }), 'eventfds', 1);
  add(Command.DEVICE_SET_IRQS, encodeIrqSet({ flags: IRQ_SET_DATA_NONE | IRQ_SET_ACTION_TRIGGER, index: 2, start: 0, count: 0 }));
  add(Command.DEVICE_SET_IRQS, encodeIrqSet({ flags: IRQ_SET_DATA_BOOL | IRQ_SET_ACTION_TRIGGER, index: 2, start: 2, count: 2, bools: Uint8Array.of(1, 0) }));
  add(Command.DEVICE_SET_IRQS, encodeIrqSet({ flags: IRQ_SET_DATA_NONE | IRQ_SET_ACTION_MASK, index: 2, start: 2, count: 1 }));
  add(Command.DEVICE_SET_IRQS, encodeIrqSet({ flags: IRQ_SET_DATA_NONE | IRQ_SET_ACTION_UNMASK, index: 2, start: 2, count: 1 }));
  for (const [region, offset, count] of [[0, 0, 8], [0, 0x40000, 8], [0, SIM_AFU_OFFSET + SimAfuReg.DMA_STATUS, 8], [0, 0x100, 4], [7, 0, 64], [7, 0x100, 4], [4, 0, 16], [0, 0, 4096]] as const) {
    add(Command.REGION_READ, encodeRegionAccess({ offset: BigInt(offset), region, count }));
  }
  const afu = (reg: number, v: bigint): void => add(Command.REGION_WRITE, encodeRegionAccess({ offset: BigInt(SIM_AFU_OFFSET + reg), region: 0, count: 8, data: u64(v) }));
  afu(SimAfuReg.SCRATCH0, 0x55n);
  afu(SimAfuReg.DMA_SRC, 0x10000n);
  afu(SimAfuReg.DMA_DST, 0x14000n);
  afu(SimAfuReg.DMA_LEN, 0x1000n);
  afu(SimAfuReg.DMA_CTRL, DmaCtrl.START | DmaCtrl.IRQ_ENABLE);
  afu(SimAfuReg.DMA_CTRL, DmaCtrl.CLEAR);
  add(Command.REGION_WRITE, encodeRegionAccess({ offset: 0x40038n, region: 0, count: 8, data: u64(1n) }));
  add(Command.REGION_WRITE, encodeRegionAccess({ offset: 4n, region: 7, count: 2, data: Uint8Array.of(6, 0) }));
  add(Command.REGION_WRITE_MULTI, encodeWriteMulti([{ offset: BigInt(SIM_AFU_OFFSET + SimAfuReg.SCRATCH1), region: 0, data: u64(7n) }, { offset: 0x40038n, region: 0, data: u64(0n) }]));
  // vfiokit's vendor REGION_BATCH (negotiated by the VERSION seed): writes, a poll with a check
  // that loops back, and a poll of the BMC window's kind (mask and expected value).
  const batch = new AccessBatch();
  batch.write(8, SIM_AFU_OFFSET + SimAfuReg.SCRATCH0, 3n);
  const loop = batch.mark();
  batch.poll(8, SIM_AFU_OFFSET + SimAfuReg.SCRATCH0, 0xffn, 3n, 4);
  batch.check(0xffn, 3n, { retryFrom: loop, maxRetries: 2 });
  batch.write(4, 0x100, 1n);
  batch.poll(4, 0x100, 0n, 0n, 1);
  add(Command.REGION_BATCH, encodeRegionBatch(0, batch.entries, batch.bytes));
  add(Command.REGION_BATCH, encodeRegionBatch(0, 1, batch.bytes.subarray(0, 24)));
  add(Command.DEVICE_RESET, new Uint8Array(0));
  add(Command.DEVICE_FEATURE, encodeDeviceFeature({ argsz: 16, flags: FEATURE_GET | 1, data: new Uint8Array(0) }));
  add(Command.DEVICE_FEATURE, encodeDeviceFeature({ argsz: 16, flags: FEATURE_PROBE | 2, data: new Uint8Array(0) }));
  add(Command.DMA_READ, encodeDmaAccess({ address: 0x10000n, count: 16 }));
  add(Command.MIG_DATA_READ, new Uint8Array(16));
  add(99, new Uint8Array(8));
  return seeds;
}
