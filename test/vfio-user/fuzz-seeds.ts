// Valid vfio-user command messages of every kind, the starting points the fuzzer mutates
// (test/fuzz/vfio-user.fuzz.ts). Built with the codec; the golden tests pin the codec to the spec.
import { buildCommand, Command, VendorCommand, HEADER_SIZE, isReply, decodeHeader } from '../../src/vfio-user/protocol.js';
import { encodeVersion } from '../../src/vfio-user/capabilities.js';
import { allocWriteMulti, encodeDmaAccess, encodeRegionAccess, encodeRegionBatch, putMultiWrite } from '../../src/vfio-user/messages.js';
import { DeviceFeatureFlags, IrqSetFlags, UnmapDmaFlags, encodeIrqSet, vfio_device_feature, vfio_irq_info } from '../../src/sys/uapi/linux-vfio.js';
import { flagSet } from '../../src/sys/uapi/struct.js';
import {
  DmaMapFlags, vfio_user_device_info, vfio_user_dma_map, vfio_user_dma_unmap, vfio_user_region_io_fds_request,
} from '../../src/sys/uapi/vfio-user.js';
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
    const rw = flagSet(DmaMapFlags.READ, DmaMapFlags.WRITE);
    add(Command.DMA_MAP, vfio_user_dma_map.encode({ flags: rw, offset: 0n, addr: iova, size: 0x10000n }), 'memfd');
    add(Command.DMA_MAP, vfio_user_dma_map.encode({ flags: DmaMapFlags.READ, offset: 0x1000n, addr: iova + 0x40000n, size: 0x1000n }), 'memfd');
    add(Command.DMA_MAP, vfio_user_dma_map.encode({ flags: rw, offset: 0n, addr: iova + 0x80000n, size: 0x2000n }));
    add(Command.DMA_UNMAP, vfio_user_dma_unmap.encode({ flags: 0, addr: iova, size: 0x10000n }));
  }
  add(Command.DMA_UNMAP, vfio_user_dma_unmap.encode({ flags: UnmapDmaFlags.ALL, addr: 0n, size: 0n }));
  add(Command.DEVICE_GET_INFO, vfio_user_device_info.encode());
  for (let i = 0; i < 10; i++) add(Command.DEVICE_GET_REGION_INFO, encodeRegionInfoRequest(i, i & 1 ? 32 : 256));
  add(Command.DEVICE_GET_REGION_IO_FDS, vfio_user_region_io_fds_request.encode({ argsz: 256, flags: 0, index: 0, count: 0 }));
  for (let i = 0; i < 6; i++) add(Command.DEVICE_GET_IRQ_INFO, vfio_irq_info.encode({ index: i }));
  const { DATA_EVENTFD, DATA_NONE, DATA_BOOL, ACTION_TRIGGER, ACTION_MASK, ACTION_UNMASK } = IrqSetFlags;
  add(Command.DEVICE_SET_IRQS, encodeIrqSet(flagSet(DATA_EVENTFD, ACTION_TRIGGER), 2, 2, 4), 'eventfds', 4);
  add(Command.DEVICE_SET_IRQS, encodeIrqSet(flagSet(DATA_EVENTFD, ACTION_TRIGGER), 2, 0, 1), 'eventfds', 1);
  add(Command.DEVICE_SET_IRQS, encodeIrqSet(flagSet(DATA_NONE, ACTION_TRIGGER), 2, 0, 0));
  add(Command.DEVICE_SET_IRQS, encodeIrqSet(flagSet(DATA_BOOL, ACTION_TRIGGER), 2, 2, 2, { bools: [1, 0] }));
  add(Command.DEVICE_SET_IRQS, encodeIrqSet(flagSet(DATA_NONE, ACTION_MASK), 2, 2, 1));
  add(Command.DEVICE_SET_IRQS, encodeIrqSet(flagSet(DATA_NONE, ACTION_UNMASK), 2, 2, 1));
  for (const [region, offset, count] of [[0, 0, 8], [0, 0x40000, 8], [0, SIM_AFU_OFFSET + SimAfuReg.DMA_STATUS, 8], [0, 0x100, 4], [7, 0, 64], [7, 0x100, 4], [4, 0, 16], [0, 0, 4096]] as const) {
    add(Command.REGION_READ, encodeRegionAccess(region, BigInt(offset), count));
  }
  const afu = (reg: number, v: bigint): void => add(Command.REGION_WRITE, encodeRegionAccess(0, BigInt(SIM_AFU_OFFSET + reg), 8, u64(v)));
  afu(SimAfuReg.SCRATCH0, 0x55n);
  afu(SimAfuReg.DMA_SRC, 0x10000n);
  afu(SimAfuReg.DMA_DST, 0x14000n);
  afu(SimAfuReg.DMA_LEN, 0x1000n);
  afu(SimAfuReg.DMA_CTRL, DmaCtrl.START | DmaCtrl.IRQ_ENABLE);
  afu(SimAfuReg.DMA_CTRL, DmaCtrl.CLEAR);
  add(Command.REGION_WRITE, encodeRegionAccess(0, 0x40038n, 8, u64(1n)));
  add(Command.REGION_WRITE, encodeRegionAccess(7, 4n, 2, Uint8Array.of(6, 0)));
  const multi = allocWriteMulti(2);
  putMultiWrite(multi, 0, SIM_AFU_OFFSET + SimAfuReg.SCRATCH1, 0, u64(7n));
  putMultiWrite(multi, 1, 0x40038, 0, u64(0n));
  add(Command.REGION_WRITE_MULTI, multi);
  // vfiokit's vendor REGION_BATCH (negotiated by the VERSION seed): writes, a poll with a check
  // that loops back, and a poll of the BMC window's kind (mask and expected value).
  const batch = new AccessBatch();
  batch.write(8, SIM_AFU_OFFSET + SimAfuReg.SCRATCH0, 3n);
  const loop = batch.mark();
  batch.poll(8, SIM_AFU_OFFSET + SimAfuReg.SCRATCH0, 0xffn, 3n, 4);
  batch.check(0xffn, 3n, { retryFrom: loop, maxRetries: 2 });
  batch.write(4, 0x100, 1n);
  batch.poll(4, 0x100, 0n, 0n, 1);
  add(VendorCommand.REGION_BATCH, encodeRegionBatch(0, batch.entries, batch.bytes));
  add(VendorCommand.REGION_BATCH, encodeRegionBatch(0, 1, batch.bytes.subarray(0, 24)));
  add(Command.DEVICE_RESET, new Uint8Array(0));
  const { GET, PROBE } = DeviceFeatureFlags;
  add(Command.DEVICE_FEATURE, vfio_device_feature.encode({ argsz: 16, flags: flagSet(GET, 1 as typeof GET) }));
  add(Command.DEVICE_FEATURE, vfio_device_feature.encode({ argsz: 16, flags: flagSet(PROBE, 2 as typeof PROBE) }));
  add(Command.DMA_READ, encodeDmaAccess(0x10000n, 16));
  add(Command.MIG_DATA_READ, new Uint8Array(16));
  add(99, new Uint8Array(8));
  return seeds;
}
