"""`pip install ./python` works offline: the in-tree stdlib build backend (python/build_backend.py)
makes a wheel whose dist-info carries the Cyborg entry point."""
import os
import subprocess
import sys
import tempfile
import unittest
import zipfile

from tests import support

CI = os.environ.get("CI") == "true"


def have_pip():
    return subprocess.run([sys.executable, "-m", "pip", "--version"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


class InstallTest(unittest.TestCase):
    def test_pip_install_offline(self):
        if not have_pip():
            if CI:
                self.fail("python3 -m pip is missing (.ci/run installs python3-pip)")
            self.skipTest("no pip for %s" % sys.executable)
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--no-build-isolation", "--no-cache-dir",
                                "--disable-pip-version-check", "--target", d, support.PYTHON_DIR],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=d)
            self.assertEqual(r.returncode, 0, r.stdout.decode()[-3000:])
            check = ("import importlib.metadata as m, vfiokit.fpga as f, sys; "
                     "eps = [e for e in m.distribution('vfiokit').entry_points if e.group == 'cyborg.accelerator.driver']; "
                     "print(f.__file__); print(eps[0].name, eps[0].value)")
            out = subprocess.run([sys.executable, "-c", check], env=dict(os.environ, PYTHONPATH=d), cwd=d,
                                 stdout=subprocess.PIPE, check=True).stdout.decode().split("\n")
            self.assertTrue(out[0].startswith(d), out)
            self.assertEqual(out[1], "vfiokit_fpga_driver vfiokit_cyborg.driver:VfiokitFPGADriver")

    def test_backend_builds_wheel_and_sdist_with_the_stdlib(self):
        sys.path.insert(0, support.PYTHON_DIR)
        try:
            import build_backend
        finally:
            sys.path.remove(support.PYTHON_DIR)
        with tempfile.TemporaryDirectory() as d:
            wheel = build_backend.build_wheel(d)
            self.assertEqual(wheel, "vfiokit-0.1.0-py3-none-any.whl")
            names = zipfile.ZipFile(os.path.join(d, wheel)).namelist()
            for n in ("vfiokit/fpga.py", "vfiokit/_client.py", "vfiokit/_codes.py", "vfiokit_cyborg/driver.py", "vfiokit-0.1.0.dist-info/RECORD",
                      "vfiokit-0.1.0.dist-info/entry_points.txt"):
                self.assertIn(n, names)
            self.assertFalse([n for n in names if "__pycache__" in n or n.startswith("tests")])
            self.assertTrue(build_backend.build_sdist(d).endswith(".tar.gz"))


if __name__ == "__main__":
    unittest.main()
