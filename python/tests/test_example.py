"""The seed's example (python/examples/flash_while_polling.py) runs unchanged against the daemon."""
import os
import subprocess
import sys
import unittest

from tests import support

support.daemon()
from vfiokit import fpga  # noqa: E402

EXAMPLE = os.path.join(support.PYTHON_DIR, "examples", "flash_while_polling.py")


class SeedExampleTest(unittest.TestCase):
    def test_example_flashes_while_status_is_polled(self):
        st = support.daemon()
        fx = st["fixtures"]
        self.assertGreaterEqual(fpga.init_eal(), 0)
        self.assertEqual(fpga.probe(support.CARD), 0)
        # The seed's example reboots when get_status() says IDLE (0), which it does when it asks
        # before the flash thread's request reached the daemon. A card that was updated before
        # reports DONE (IDLE at progress 100 in DPDK's numbers), as after any earlier update.
        if fpga.get_status(support.CARD)["status"] == 0:
            self.assertEqual(fpga.flash(support.CARD, fx["image"]), 0)
        prop = fpga.get_property(support.CARD, 4)
        env = dict(os.environ, PYTHONPATH=support.PYTHON_DIR, EXPECTED_AFU_ID=prop["port"][0]["afu_id"])
        seen = len(support.daemon_log().splitlines())  # the example's calls are the lines after these
        r = subprocess.run([sys.executable, EXAMPLE], cwd=st["tmp"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout.decode())
        after = fpga.get_status(support.CARD)
        # The seed's example races by design: get_status right after starting the flash thread says
        # IDLE (0) when the daemon has not begun the flash yet (or shows the previous update's DONE,
        # IDLE at 100 in DPDK's numbers), and then the example reboots while its flash runs or
        # waits. Both orders are legal; the status must be the one the last call left.
        log = support.daemon_log().splitlines()[seen:]
        image = '"file":"%s"' % os.path.join(st["tmp"], "vc.bin")
        calls = [l for l in log if (": flash(" in l and image in l) or ": reboot(" in l]
        flashes = [l for l in calls if ": flash(" in l]
        self.assertTrue(flashes, "the example's flash call is not in the daemon log")
        if not any(": reboot(" in l for l in calls):
            self.assertTrue(flashes[-1].endswith("-> 0"), flashes[-1])
        else:
            # The reboot holds the card's RESET reservation; a flash that met it is refused EBUSY.
            self.assertRegex(flashes[-1], r"-> (0|-16)( \(|$)")
        done = [l for l in calls if l.endswith("-> 0")]
        self.assertTrue(done, calls)
        want = (0, 100) if ": flash(" in done[-1] else (0, 0)  # DONE (DPDK IDLE at 100), or IDLE after a reboot
        self.assertEqual((after["status"], after["progress"]), want, (after, calls))
        fpga.cleanup_eal()


if __name__ == "__main__":
    unittest.main()
