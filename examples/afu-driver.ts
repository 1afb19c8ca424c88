// A complete AFU driver in ~50 lines: find the card, check the AFU, poke its registers, and let it
// copy a buffer by DMA, finishing with an interrupt. It drives the simulated card's sample AFU
// (register map: src/sim/afu-regs.ts); the same code runs on vfio:<bdf> or vfio-user:<socket>.
//   npx tsx examples/afu-driver.ts [DEVICE]        (default sim:n3000)
import { openDevice, Card, IrqIndex, allocateDma } from 'vfiokit';

const AFU_GUID = 'a5d1b2c3-7e4f-4b8a-9c6d-1f2e3d4c5b6a';
const REG = { SCRATCH0: 0x100, DMA_SRC: 0x200, DMA_DST: 0x208, DMA_LEN: 0x210, DMA_CTRL: 0x218, DMA_STATUS: 0x220 };
const CTRL_START = 1n, CTRL_IRQ = 2n, CTRL_CLEAR = 4n; // DMA_CTRL[0] start, [1] interrupt, [2] clear
const STATUS_DONE = 2n, STATUS_FAULT = 4n; //           DMA_STATUS[1] done, [2] fault
const AFU_IRQ_VECTOR = 2; // MSI-X vector of AFU user interrupt 0 (the Port's UINT feature)

export async function runAfuDriver(url = 'sim:n3000', bytes = 64 * 1024): Promise<{ guid: string; copied: number; interrupts: number }> {
  using device = await openDevice(url);
  const afu = Card.discover(device).afu(0);
  if (!afu || afu.guid !== AFU_GUID) throw new Error(`${url}: port 0 has AFU ${afu?.guid ?? 'none'}, this driver wants ${AFU_GUID}`);

  afu.write64(REG.SCRATCH0, 0xc0ffee_f00dn); // a scratch register proves the MMIO path
  if (afu.read64(REG.SCRATCH0) !== 0xc0ffee_f00dn) throw new Error('scratch register did not hold its value');

  const [irq] = device.enableInterrupts(IrqIndex.MSIX, AFU_IRQ_VECTOR, 1);
  using src = allocateDma(device, bytes, { access: 'read' });
  using dst = allocateDma(device, bytes, { access: 'write' });
  src.memory.bytes.forEach((_, i, b) => { b[i] = (i * 7) & 0xff; });

  afu.write64(REG.DMA_CTRL, CTRL_CLEAR);
  afu.write64(REG.DMA_SRC, src.iova);
  afu.write64(REG.DMA_DST, dst.iova);
  afu.write64(REG.DMA_LEN, BigInt(bytes));
  afu.write64(REG.DMA_CTRL, CTRL_START | CTRL_IRQ); // completion on user interrupt 0
  const deadline = device.clock.now() + 1000;
  let status = 0n;
  while (!((status = afu.read64(REG.DMA_STATUS)) & (STATUS_DONE | STATUS_FAULT))) {
    if (device.clock.now() > deadline) throw new Error(`DMA did not finish (DMA_STATUS 0x${status.toString(16)})`);
    await device.clock.sleep(0.01);
  }
  if (status & STATUS_FAULT) throw new Error(`DMA fault, DMA_STATUS 0x${status.toString(16)}`);
  const interrupts = await irq!.wait({ timeoutMs: 5000 }); // signals that came first are counted, not lost
  device.disableInterrupts(IrqIndex.MSIX);
  if (Buffer.compare(src.memory.bytes, dst.memory.bytes) !== 0) throw new Error('destination differs from source');
  return { guid: afu.guid, copied: Number(status >> 32n), interrupts };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runAfuDriver(process.argv[2]);
  console.log(`AFU ${r.guid}: copied ${r.copied} bytes by DMA, ${r.interrupts} interrupt(s)`);
}
