// The largest file each input format can be, so a file named by the user is refused before it is
// read when it cannot be one (src/util/input-file.ts reads with these bounds).
import type { InputLimit } from '../util/input-file.js';
import { STAGING_SIZE } from '../dfl/regs/max10-bmc.js';

/**
 * A signed image is written whole into the BMC's staging area (M10BMC_STAGING_SIZE, 56 MiB,
 * include/linux/mfd/intel-m10-bmc.h; the kernel's m10bmc_sec_prepare refuses a larger one).
 */
export const SIGNED_IMAGE_INPUT: InputLimit = {
  what: 'signed image',
  maxBytes: STAGING_SIZE,
  why: 'the BMC staging area, M10BMC_STAGING_SIZE in include/linux/mfd/intel-m10-bmc.h',
};

/**
 * A GBS's bitstream reaches the PR engine through DFL_FPGA_FME_PORT_PR, whose length is a __u32
 * (struct dfl_fpga_fme_port_pr.buffer_size, include/uapi/linux/fpga-dfl.h), and the header's
 * metadata length is a u32 too: no GBS is 4 GiB or more.
 */
export const GBS_INPUT: InputLimit = {
  what: 'GBS',
  maxBytes: 0xffff_ffff,
  why: 'the PR ioctl takes a __u32 buffer_size, include/uapi/linux/fpga-dfl.h',
};
