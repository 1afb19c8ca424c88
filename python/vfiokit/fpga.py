"""The seed "opae" Python API (DPDK drivers/raw/ifpga, ``from pyopae import fpga``) over vfiokit.

Same function names, positional and keyword arguments and results as the seed module:
actions return 0 or a positive number for success and a negative errno for failure; queries
return a dict, a list or a string, or None when they fail. The cards are owned by a vfiokit
daemon (the DPDK "primary"); this module talks to it over its UNIX socket and starts one when
none is running (``init_eal``, or the first call). Example::

    from vfiokit import fpga
    pac = fpga.enumerate(did=0x0b30)[0]
    fpga.init_eal()
    fpga.probe(pac)
    print(fpga.get_property(pac)["port"][0]["afu_id"])
"""
import atexit
import errno as _errno
import os
import sys
import threading

from ._client import Client, DaemonError, NotConnected
from ._codes import errno_name

__all__ = [
    "get_api_version", "set_log_level", "set_log_file", "init_eal", "get_proc_type", "cleanup_eal",
    "enumerate", "bind", "unbind", "probe", "remove", "get_property", "pr", "get_image_info",
    "flash", "cancel", "get_parent", "get_child", "get_pf1", "reboot", "get_status",
    "get_phy_info", "DaemonError", "NotConnected",
]

_LEVELS = ("", "ERROR", "WARNING", "INFO", "DEBUG")
_log_level = 1
_log_file = None
_log_lock = threading.Lock()
_client = None
_client_lock = threading.Lock()
_initialized = False



def _log(level, message):
    if level > _log_level:
        return
    line = "vfiokit %s: %s\n" % (_LEVELS[level], message)
    with _log_lock:
        sys.stderr.write(line)
        if _log_file is not None:
            _log_file.write(line)
            _log_file.flush()


@atexit.register
def _close_at_exit():
    if _client is not None:
        _client.close()


def _get_client():
    global _client
    with _client_lock:
        if _client is None:
            _client = Client()
        return _client


def _errno_of(exc):
    if isinstance(exc, DaemonError):
        # Every code the daemon sends is in the one list (src/error-codes.ts -> _codes.py).
        name = errno_name(exc.code) if isinstance(exc.code, str) else None
        return getattr(_errno, name, _errno.EIO) if name else _errno.EIO
    return _errno.ENOTCONN


def _action(method, params, on_progress=None):
    """A call whose result is a number: the daemon's, or -errno when it could not be made."""
    try:
        r = _get_client().call(method, params, on_progress)
    except (DaemonError, NotConnected) as e:
        _log(1, "%s: %s" % (method, e))
        return -_errno_of(e)
    if isinstance(r, int) and r < 0:
        _log(1, "%s(%s) failed: %s" % (method, params, os.strerror(-r)))
    return r


def _query(method, params):
    """A call whose result is a value, or None when it failed."""
    try:
        r = _get_client().call(method, params)
    except (DaemonError, NotConnected) as e:
        _log(1, "%s: %s" % (method, e))
        return None
    if r is None:
        _log(1, "%s(%s) failed" % (method, params))
    return r


def _file(path):
    """The daemon has its own working directory: send absolute paths."""
    return os.path.abspath(path) if isinstance(path, str) else path


def _progress_logger(what, user):
    def report(p):
        _log(3, "%s %s: %s %s%%" % (what, p.get("id"), p.get("state"), p.get("progress")))
        if user is not None:
            user(p)
    return report


# ---- version, logging ----

def get_api_version(type=0):
    """{"major", "minor", "micro"} of the daemon's API, or "major.minor.micro" when type is non-zero."""
    return _query("get_api_version", [type])


def set_log_level(level=None):
    """Set this module's console log level 0..4 (0 off, 1 errors (default) .. 4 debug); returns the level."""
    global _log_level
    if isinstance(level, int) and 0 <= level <= 4:
        _log_level = level
    return _log_level


def set_log_file(filename=None, clean=0):
    """Also log to `filename` (`clean` truncates it first); no argument: stop logging to a file. 0 or -errno."""
    global _log_file
    with _log_lock:
        if _log_file is not None:
            _log_file.close()
            _log_file = None
        if filename is None:
            return 0
        try:
            _log_file = open(filename, "w" if clean else "a")
        except OSError as e:
            return -(e.errno or _errno.EIO)
    return 0


# ---- environment ----

def init_eal(eal_parameters=None):
    """Connect to the vfiokit daemon (starting one when none runs). Returns >= 0, or -errno.

    The seed's EAL parameter string is accepted; "--socket PATH" in it chooses the daemon's socket
    (default $VFIOKIT_SOCKET, /run/vfiokit/daemon.sock for root)."""
    global _initialized, _client
    if eal_parameters:
        words = eal_parameters.split()
        if "--socket" in words and words.index("--socket") + 1 < len(words):
            with _client_lock:
                if _client is not None:
                    _client.close()
                _client = Client(words[words.index("--socket") + 1])
    r = _action("init_eal", [])
    _initialized = r >= 0
    return r


def get_proc_type():
    """-1 before init_eal(); 1 (secondary) after: the daemon is the primary that owns the cards."""
    return 1 if _initialized else -1


def cleanup_eal():
    """End the session and close this thread's connection (the daemon keeps the cards; a flash
    running in another thread goes on). 0 or -errno."""
    global _initialized
    r = _action("cleanup_eal", []) if _initialized else 0
    _initialized = False
    with _client_lock:
        if _client is not None:
            _client.close_current()
    return r


# ---- discovery ----

def enumerate(vid=None, did=None, cid=None, sub_vid=None, sub_did=None):
    """Ids of the cards matching the PCI ids given (all when none); None on failure."""
    params = {k: v for k, v in (("vid", vid), ("did", did), ("cid", cid), ("sub_vid", sub_vid), ("sub_did", sub_did)) if v is not None}
    return _query("enumerate", params)


def get_parent(id):
    return _query("get_parent", [id])


def get_child(id):
    return _query("get_child", [id])


def get_pf1(id):
    return _query("get_pf1", [id])


# ---- binding, probe ----

def bind(id, driver):
    return _action("bind", [id, driver])


def unbind(id):
    return _action("unbind", [id])


def probe(id):
    return _action("probe", [id])


def remove(id):
    return _action("remove", [id])


def get_property(id, type=0):
    """{"pci", "fme", "port": [...], "bmc"} selected by type (1 PCI, 2 FME, 4 port, 8 BMC; 0 all); None on failure."""
    return _query("get_property", [id, type])


def get_phy_info(id):
    return _query("get_phy_info", [id])


# ---- images, PR, flash ----

def get_image_info(file):
    return _query("get_image_info", [_file(file)])


def pr(id, port, file, *, progress=None):
    """Load the GBS `file` into `port`. 0 or -errno. `progress(dict)` gets the daemon's progress notifications."""
    return _action("pr", {"id": id, "port": port, "file": _file(file)}, _progress_logger("pr", progress))


def flash(id, file, *, progress=None):
    """Update the card's flash with the signed image `file` (blocks until done). 0 or -errno."""
    return _action("flash", {"id": id, "file": _file(file)}, _progress_logger("flash", progress))


def cancel(id, force=0):
    """Cancel a flash update (only while the staging area is written). 0 or -errno."""
    return _action("cancel", [id, force])


def get_status(id):
    """{"status": n, "progress": %} of a flash update, from any process; None on failure.

    DPDK's status numbers (rte_pmd_ifpga.h IFPGA_RSU_*): 0 IDLE, 1 PREPARING, 2 READY, 3 COPYING,
    4 REBOOT; a finished update is 0 at progress 100 (docs/flash-status.md).
    """
    return _query("get_status", [id])


def reboot(id, type=0, page=1):
    """Reboot the card: type 0 FPGA, 1 BMC; page 0 factory, 1 user. 0 or -errno."""
    return _action("reboot", [id, type, page])
