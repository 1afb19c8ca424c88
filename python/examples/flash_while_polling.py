"""The seed "opae" module's own example (DPDK ifpga, "OPAE Python API based on DPDK", 3.2 Example
Code): flash a card in a thread while the main thread asks for the update status, reboot when no
update is running. Only the import line differs from the seed (``from pyopae import fpga``).

The seed's snippet uses ``return`` and two names it does not define; they are given here around
it, untouched: EXPECTED_AFU_ID (default: the simulated card's AFU, or $EXPECTED_AFU_ID) and the
image 'vc.bin' in the current directory. Run: ``cd DIR_WITH_vc.bin && python3 flash_while_polling.py``.
"""
import os

EXPECTED_AFU_ID = os.environ.get("EXPECTED_AFU_ID", "a5d1b2c3-7e4f-4b8a-9c6d-1f2e3d4c5b6a")


def main():
    # ---- the seed's example, unchanged except the import line ----
    import threading
    from vfiokit import fpga

    fpga_list = fpga.enumerate(did=0x0b30)
    if fpga_list is None or len(fpga_list) == 0:
        return
    pac = fpga_list[0]
    fpga.init_eal()
    fpga.bind(pac, "vfio-pci")
    fpga.probe(pac)
    prop = fpga.get_property(pac)
    if prop['port'][0]['afu_id'] != EXPECTED_AFU_ID:
        return
    thrd = threading.Thread(target=fpga.flash, args=(pac, 'vc.bin'))
    thrd.start()
    prog = fpga.get_status(pac)
    if prog['status'] == 0:
        fpga.reboot(pac)
    fpga.cleanup_eal()
    # ---- end of the seed's example ----


if __name__ == "__main__":
    main()
