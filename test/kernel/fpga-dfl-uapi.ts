// The Linux DFL character-device uAPI (include/uapi/linux/fpga-dfl.h): ioctl numbers and struct
// layouts, in one place, for the card lane's guest tests that drive /dev/dfl-fme.N and
// /dev/dfl-port.N. test/dfl/fpga-dfl-uapi-golden.test.ts compiles a C probe against the header and
// compares every number (names are the C identifiers).
//
// _IO(0xB6, nr) = 0xB600 | nr; _IOR/_IOW add the direction (2 = read, 1 = write, bits 31:30) and
// the argument size (bits 29:16), include/uapi/asm-generic/ioctl.h.
const DFL_FPGA_MAGIC = 0xb6;
const DFL_FPGA_BASE = 0;
const DFL_PORT_BASE = 0x40;
const DFL_FME_BASE = 0x80;
const IOC_WRITE = 1;
const IOC_READ = 2;
const io = (nr: number): number => (DFL_FPGA_MAGIC << 8) | nr;
const ioc = (dir: number, nr: number, size: number): number => ((dir << 30) | (size << 16) | (DFL_FPGA_MAGIC << 8) | nr) >>> 0;

/** sizeof(struct dfl_fpga_irq_set) without its flexible evtfds[] (start, count). */
const IRQ_SET_SIZE = 8;

export const fpgaDfl = {
  DFL_FPGA_API_VERSION: 0,
  DFL_FPGA_GET_API_VERSION: io(DFL_FPGA_BASE + 0),
  DFL_FPGA_CHECK_EXTENSION: io(DFL_FPGA_BASE + 1),
  DFL_FPGA_PORT_RESET: io(DFL_PORT_BASE + 0),
  DFL_FPGA_PORT_GET_INFO: io(DFL_PORT_BASE + 1),
  DFL_FPGA_PORT_GET_REGION_INFO: io(DFL_PORT_BASE + 2),
  DFL_FPGA_PORT_DMA_MAP: io(DFL_PORT_BASE + 3),
  DFL_FPGA_PORT_DMA_UNMAP: io(DFL_PORT_BASE + 4),
  DFL_FPGA_PORT_ERR_GET_IRQ_NUM: ioc(IOC_READ, DFL_PORT_BASE + 5, 4),
  DFL_FPGA_PORT_ERR_SET_IRQ: ioc(IOC_WRITE, DFL_PORT_BASE + 6, IRQ_SET_SIZE),
  DFL_FPGA_PORT_UINT_GET_IRQ_NUM: ioc(IOC_READ, DFL_PORT_BASE + 7, 4),
  DFL_FPGA_PORT_UINT_SET_IRQ: ioc(IOC_WRITE, DFL_PORT_BASE + 8, IRQ_SET_SIZE),
  DFL_FPGA_FME_PORT_PR: io(DFL_FME_BASE + 0),
  DFL_FPGA_FME_PORT_RELEASE: ioc(IOC_WRITE, DFL_FME_BASE + 1, 4),
  DFL_FPGA_FME_PORT_ASSIGN: ioc(IOC_WRITE, DFL_FME_BASE + 2, 4),
  DFL_FPGA_FME_ERR_GET_IRQ_NUM: ioc(IOC_READ, DFL_FME_BASE + 3, 4),
  DFL_FPGA_FME_ERR_SET_IRQ: ioc(IOC_WRITE, DFL_FME_BASE + 4, IRQ_SET_SIZE),
  DFL_PORT_REGION_READ: 1 << 0,
  DFL_PORT_REGION_WRITE: 1 << 1,
  DFL_PORT_REGION_MMAP: 1 << 2,
  DFL_PORT_REGION_INDEX_AFU: 0,
  DFL_PORT_REGION_INDEX_STP: 1,
} as const;

/** Struct sizes and field offsets (x86-64). */
export const fpgaDflLayouts = {
  dfl_fpga_port_info: { size: 16, fields: { argsz: 0, flags: 4, num_regions: 8, num_umsgs: 12 } },
  dfl_fpga_port_region_info: { size: 32, fields: { argsz: 0, flags: 4, index: 8, padding: 12, size: 16, offset: 24 } },
  dfl_fpga_port_dma_map: { size: 32, fields: { argsz: 0, flags: 4, user_addr: 8, length: 16, iova: 24 } },
  dfl_fpga_port_dma_unmap: { size: 16, fields: { argsz: 0, flags: 4, iova: 8 } },
  dfl_fpga_irq_set: { size: IRQ_SET_SIZE, fields: { start: 0, count: 4, evtfds: 8 } },
  dfl_fpga_fme_port_pr: { size: 24, fields: { argsz: 0, flags: 4, port_id: 8, buffer_size: 12, buffer_address: 16 } },
} as const;
