"""One vfiokit daemon for the Python tests: serving simulated N3000 cards on a private socket.

The daemon runs from the repository's sources (Node 20 + tsx), with its state and lock
directories in a temporary directory, and cards opened as ``sim:n3000?clock=real&bmcTiming=fast``
(the BMC's erase/authenticate/copy 100x quicker, on the real clock, so a flash takes about a
second and can be cancelled or polled). The fixture files (a signed BMC image, a GBS) are made by
test/daemon/fixtures.ts.
"""
import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(PYTHON_DIR)
TSX = os.path.join(REPO, "node_modules", ".bin", "tsx")
SIM = "sim:n3000?clock=real&bmcTiming=fast"
CARD = "sim:n3000"

if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

_state = {}


def daemon_command():
    return [TSX, os.path.join(REPO, "src", "cli", "main.ts")]


def start_daemon(tmp, socket_path, extra=()):
    """Start a daemon (returns the Popen) and wait until it listens."""
    env = dict(os.environ, VFIOKIT_STATE_DIR=os.path.join(tmp, "state"), VFIOKIT_LOCK_DIR=os.path.join(tmp, "locks"),
               DEBUG="vfiokit:daemon")
    log = open(os.path.join(tmp, "daemon.log"), "ab")
    p = subprocess.Popen(daemon_command() + ["daemon", "--socket", socket_path, "--probe", SIM, "--json"] + list(extra),
                         env=env, stdout=subprocess.PIPE, stderr=log, cwd=REPO)
    log.close()
    line = p.stdout.readline()
    if not line:
        raise RuntimeError("the daemon did not start; log: %s" % open(os.path.join(tmp, "daemon.log")).read()[-2000:])
    return p


def stop_daemon_process(p):
    """SIGTERM a daemon process and wait for it."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def stop_daemon(p):
    stop_daemon_process(p)
    p.stdout.close()


def daemon():
    """The shared daemon: {"tmp", "socket", "proc", "fixtures"}; started on first use, stopped at exit."""
    if _state:
        return _state
    tmp = tempfile.mkdtemp(prefix="vfiokit-py-")
    _state["tmp"] = tmp
    atexit.register(_teardown)
    sock = os.path.join(tmp, "d.sock")
    fx = subprocess.run([TSX, os.path.join(REPO, "test", "daemon", "fixtures.ts"), tmp], cwd=REPO, check=True,
                        stdout=subprocess.PIPE).stdout
    _state["fixtures"] = json.loads(fx)
    _state["proc"] = start_daemon(tmp, sock)
    _state["socket"] = sock
    os.environ["VFIOKIT_SOCKET"] = sock
    os.environ["VFIOKIT_DAEMON_AUTOSTART"] = "0"
    os.environ["VFIOKIT_STATE_DIR"] = os.path.join(tmp, "state")
    os.environ["VFIOKIT_LOCK_DIR"] = os.path.join(tmp, "locks")
    return _state


def restart_daemon():
    """Stop the shared daemon and start a new one on the same socket and state directory."""
    st = daemon()
    stop_daemon(st["proc"])
    st["proc"] = start_daemon(st["tmp"], st["socket"])
    return st


def daemon_log():
    with open(os.path.join(daemon()["tmp"], "daemon.log")) as f:
        return f.read()


def wait_status(fpga, card, want, timeout=60):
    """Poll get_status until its status is in `want`; returns the last status dict."""
    deadline = time.monotonic() + timeout
    s = None
    while time.monotonic() < deadline:
        s = fpga.get_status(card)
        if s is not None and s["status"] in want:
            return s
        time.sleep(0.02)
    raise AssertionError("status %r never reached %r" % (s, want))


def _teardown():
    if "proc" in _state:
        stop_daemon(_state["proc"])
    shutil.rmtree(_state["tmp"], ignore_errors=True)
