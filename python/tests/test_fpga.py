"""The seed "opae" API (vfiokit.fpga) against a vfiokit daemon serving simulated N3000 cards.

Results follow the seed module (DPDK drivers/raw/ifpga, the opae python wrapper): 0/positive or
-errno for actions, dict/list/str or None for queries; flash status numbers are DPDK's
(rte_pmd_ifpga.h IFPGA_RSU_*: 0 IDLE, 1 PREPARING, 2 READY, 3 COPYING, 4 REBOOT; a finished update
is 0 at progress 100, docs/flash-status.md).
"""
import errno
import json
import os
import socket
import tempfile
import threading
import unittest

from tests import support

support.daemon()
from vfiokit import fpga  # noqa: E402  (after support put python/ on sys.path)
from vfiokit._client import Client, DaemonError  # noqa: E402

CARD = support.CARD


class SeedApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fx = support.daemon()["fixtures"]

    def setUp(self):
        fpga.set_log_level(0)  # the failures below are expected; test_version_and_logging checks the log
        self.assertGreaterEqual(fpga.init_eal(), 0)
        self.assertEqual(fpga.probe(CARD), 0)

    def tearDown(self):
        fpga.cleanup_eal()

    def test_version_and_logging(self):
        v = fpga.get_api_version()
        self.assertEqual(sorted(v), ["major", "micro", "minor"])
        self.assertEqual(fpga.get_api_version(1), "%d.%d.%d" % (v["major"], v["minor"], v["micro"]))
        fpga.set_log_level(1)
        self.assertEqual(fpga.set_log_level(), 1)
        self.assertEqual(fpga.set_log_level(3), 3)
        self.assertEqual(fpga.set_log_level(9), 3)
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "log.txt")
            self.assertEqual(fpga.set_log_file(path, 1), 0)
            fpga.set_log_level(1)
            self.assertIsNone(fpga.get_parent(CARD))  # fails: logged as an error
            self.assertEqual(fpga.set_log_file(), 0)
            with open(path) as f:
                self.assertIn("vfiokit ERROR: get_parent", f.read())
            self.assertEqual(fpga.set_log_file(os.path.join(d, "no", "such", "dir")), -errno.ENOENT)

    def test_proc_type_follows_init_and_cleanup(self):
        self.assertEqual(fpga.get_proc_type(), 1)  # the daemon is the primary, this process a secondary
        self.assertEqual(fpga.cleanup_eal(), 0)
        self.assertEqual(fpga.get_proc_type(), -1)
        self.assertGreaterEqual(fpga.init_eal("-n 4 --proc-type=auto"), 0)
        self.assertEqual(fpga.get_proc_type(), 1)

    def test_enumerate_filters_by_keyword_and_position(self):
        ids = fpga.enumerate(did=0x0b30)
        self.assertIn(CARD, ids)
        self.assertEqual(fpga.enumerate(0x8086, 0x0b30), ids)
        self.assertEqual(fpga.enumerate(vid=0x1234), [])
        self.assertIn(CARD, fpga.enumerate())
        self.assertIsNone(fpga.enumerate(vid="x"))  # wrong type: refused by the daemon, None as the seed

    def test_properties(self):
        prop = fpga.get_property(CARD)
        self.assertEqual(sorted(prop), ["bmc", "fme", "pci", "port"])
        self.assertEqual(prop["pci"]["id"]["vendor_id"], 0x8086)
        self.assertEqual(prop["pci"]["id"]["device_id"], 0x0b30)
        self.assertIsInstance(prop["fme"]["bbs_id"], int)
        self.assertGreaterEqual(len(prop["port"]), 1)
        self.assertEqual(list(fpga.get_property(CARD, 1)), ["pci"])
        self.assertEqual(list(fpga.get_property(CARD, 4)), ["port"])
        self.assertIsNone(fpga.get_property(CARD, 99))
        self.assertIsNone(fpga.get_property("sim:nope"))
        phy = fpga.get_phy_info(CARD)
        self.assertGreater(phy["num_retimers"], 0)

    def test_pci_functions_on_a_non_pci_card_fail_as_the_seed_does(self):
        self.assertEqual(fpga.bind(CARD, "vfio-pci"), -errno.EOPNOTSUPP)
        self.assertEqual(fpga.unbind(CARD), -errno.EOPNOTSUPP)
        self.assertIsNone(fpga.get_parent(CARD))
        self.assertIsNone(fpga.get_child(CARD))
        self.assertIsNone(fpga.get_pf1(CARD))
        self.assertEqual(fpga.probe(5), -errno.EINVAL)  # wrong type

    def test_image_info(self):
        info = fpga.get_image_info(self.fx["image"])
        self.assertEqual((info["type"], info["subtype"]), (1, 0))
        self.assertEqual(fpga.get_image_info(self.fx["gbs"])["type"], 2)
        self.assertIsNone(fpga.get_image_info("/nonexistent/image.bin"))
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"not an image")
            f.flush()
            self.assertIsNone(fpga.get_image_info(f.name))

    def test_relative_paths_are_sent_absolute(self):
        cwd = os.getcwd()
        os.chdir(os.path.dirname(self.fx["image"]))
        try:
            self.assertEqual(fpga.get_image_info("vc.bin")["type"], 1)
        finally:
            os.chdir(cwd)

    def test_pr_with_keywords_and_progress(self):
        seen = []
        self.assertEqual(fpga.pr(id=CARD, port=0, file=self.fx["gbs"], progress=seen.append), 0)
        self.assertEqual(fpga.get_property(CARD, 4)["port"][0]["afu_id"], self.fx["afuGuid"])
        self.assertTrue(seen and seen[-1]["method"] == "pr" and seen[-1]["progress"] == 100)
        self.assertLess(fpga.pr(CARD, 9, self.fx["gbs"]), 0)  # the card has one port
        self.assertEqual(fpga.pr(CARD, 0, "/nonexistent.gbs"), -errno.ENOENT)

    def test_flash_in_a_thread_while_get_status_polls(self):
        seen, polled, result = [], set(), []
        t = threading.Thread(target=lambda: result.append(fpga.flash(CARD, self.fx["image"], progress=seen.append)))
        t.start()
        while t.is_alive():
            s = fpga.get_status(CARD)
            polled.add(s["status"])
        t.join()
        self.assertEqual(result, [0])
        # DPDK's numbers (rte_pmd_ifpga.h): a finished update is IDLE (0) at progress 100.
        self.assertEqual({k: fpga.get_status(CARD)[k] for k in ("status", "progress")}, {"status": 0, "progress": 100})
        self.assertTrue({2, 3} & polled, polled)
        self.assertEqual({p["state"] for p in seen} >= {"READY", "COPYING"}, True, seen)
        self.assertEqual(fpga.reboot(CARD), 0)
        self.assertEqual(fpga.reboot(CARD, 7), -errno.EINVAL)

    def test_cancel_from_another_thread(self):
        result = []

        def cancel_when_ready(p):
            if p["state"] == "READY" and p["progress"] > 10 and not result:
                result.append(fpga.cancel(CARD))  # runs on this thread's own connection
        t = threading.Thread(target=lambda: result.append(fpga.flash(id=CARD, file=self.fx["image"], progress=cancel_when_ready)))
        t.start()
        t.join(60)
        self.assertEqual(result[0], 0)  # cancel accepted
        self.assertEqual(result[1], -errno.ECANCELED)
        self.assertEqual(fpga.get_status(CARD)["status"], 0)
        self.assertEqual(fpga.cancel(CARD), -errno.EINVAL)  # nothing to cancel

    def test_cancel_from_another_connection(self):
        # The canceller is another thread with its own daemon connection (the module keeps one per
        # thread) that sees the flash only through get_status, as a second process would
        # (test/daemon/daemon.test.ts "cancel from another connection" is the TypeScript twin).
        flashed, cancelled, connections = [], [], set()
        flash_thread = threading.Thread(target=lambda: (connections.add(id(fpga._get_client()._conn())),
                                                        flashed.append(fpga.flash(CARD, self.fx["image"]))))

        def cancel_while_ready():
            connections.add(id(fpga._get_client()._conn()))
            support.wait_status(fpga, CARD, (2,))  # READY: the host writes the staging area
            cancelled.append(fpga.cancel(CARD))
        canceller = threading.Thread(target=cancel_while_ready)
        flash_thread.start()
        canceller.start()
        canceller.join(60)
        flash_thread.join(60)
        self.assertEqual(len(connections), 2)
        self.assertEqual(cancelled, [0])  # accepted: the flash was READY
        self.assertEqual(flashed, [-errno.ECANCELED])  # the flash itself reports the cancel
        # The daemon reports the update as never done: IDLE at progress 0, not DONE (0 at 100) as
        # after the earlier tests' flashes; the BMC aborted before it authenticated or copied.
        s = fpga.get_status(CARD)
        self.assertEqual((s["state"], s["status"], s["progress"]), ("IDLE", 0, 0), s)
        self.assertEqual(fpga.cancel(CARD), -errno.EINVAL)  # nothing left to cancel

    def test_disconnect_mid_flash_does_not_stop_it(self):
        s = socket.socket(socket.AF_UNIX)
        s.connect(support.daemon()["socket"])
        s.sendall((json.dumps({"jsonrpc": "2.0", "id": 1, "method": "flash", "params": {"id": CARD, "file": self.fx["image"]}}) + "\n").encode())
        support.wait_status(fpga, CARD, (1, 2, 3))
        s.close()
        done = support.wait_status(fpga, CARD, (0,))
        self.assertEqual((done["status"], done["progress"]), (0, 100))
        self.assertIn("flash", support.daemon_log())

    def test_remove_and_probe_again(self):
        self.assertEqual(fpga.remove(CARD), 0)
        self.assertIsNone(fpga.get_property(CARD, 2))  # needs probe
        self.assertEqual(fpga.remove(CARD), -errno.ENODEV)
        self.assertEqual(fpga.probe(support.SIM), 0)

    def test_refused_requests_are_typed(self):
        c = Client(support.daemon()["socket"], autostart=False)
        with self.assertRaises(DaemonError) as e:
            c.call("no_such_method")
        self.assertEqual(e.exception.rpc_code, -32601)
        with self.assertRaises(DaemonError) as e:
            c.call("flash", {"id": CARD, "file": "relative.bin"})
        self.assertEqual(e.exception.rpc_code, -32602)
        self.assertIn(c.call("get_status", [CARD])["status"], range(5))  # 0 IDLE .. 4 REBOOT
        c.close()

    def test_calls_are_logged_with_the_callers_credentials(self):
        fpga.get_status(CARD)
        self.assertIn("uid=%d gid=%d pid=%d: get_status" % (os.getuid(), os.getgid(), os.getpid()), support.daemon_log())


class RestartTest(unittest.TestCase):
    def test_status_readable_after_a_daemon_restart(self):
        fpga.set_log_level(0)  # the first call after the restart finds its old connection closed
        fx = support.daemon()["fixtures"]
        self.assertGreaterEqual(fpga.init_eal(), 0)
        self.assertEqual(fpga.probe(CARD), 0)
        self.assertEqual(fpga.flash(CARD, fx["image"]), 0)
        before = fpga.get_status(CARD)
        support.restart_daemon()
        fpga.cleanup_eal()  # the old connection is gone
        self.assertEqual(fpga.get_status(CARD), before)
        self.assertEqual((before["status"], before["progress"]), (0, 100))


if __name__ == "__main__":
    unittest.main()


class AutostartTest(unittest.TestCase):
    def test_init_eal_starts_a_daemon_when_none_listens(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "run", "vfiokit", "daemon.sock")
            saved = os.environ.get("VFIOKIT_DAEMON")
            os.environ["VFIOKIT_DAEMON"] = " ".join(support.daemon_command())
            c = Client(path, autostart=True, timeout=120)
            try:
                self.assertGreaterEqual(c.call("init_eal"), 0)
                self.assertIsNotNone(c.started_daemon)
                self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
                self.assertEqual(c.call("get_proc_type"), 0)  # the daemon itself is the primary
            finally:
                c.close()
                if saved is None:
                    del os.environ["VFIOKIT_DAEMON"]
                else:
                    os.environ["VFIOKIT_DAEMON"] = saved
                if c.started_daemon is not None:
                    support.stop_daemon_process(c.started_daemon)
