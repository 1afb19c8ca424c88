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
        r = subprocess.run([sys.executable, EXAMPLE], cwd=st["tmp"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout.decode())
        after = fpga.get_status(support.CARD)
        self.assertEqual((after["status"], after["progress"]), (0, 100), after)  # DONE: DPDK IDLE at 100
        log = support.daemon_log()
        example_pid_lines = [l for l in log.splitlines() if ": flash(" in l and '"file":"%s"' % os.path.join(st["tmp"], "vc.bin") in l]
        self.assertTrue(example_pid_lines, "the example's flash call is not in the daemon log")
        self.assertTrue(example_pid_lines[-1].endswith("-> 0"), example_pid_lines[-1])
        fpga.cleanup_eal()


if __name__ == "__main__":
    unittest.main()
