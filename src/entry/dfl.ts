// vfiokit/dfl: the Device Feature List codec (DFH v0/v1), discovery (VSEC, FME port table), the
// walker and its tree, and the FME/Port register maps (drivers/fpga/dfl.h).
export * from '../dfl/index.js';
