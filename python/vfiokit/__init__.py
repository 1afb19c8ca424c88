"""vfiokit for Python: the seed "opae" API (``from vfiokit import fpga``) over the vfiokit daemon."""
__version__ = "0.1.0"
