"""JSON-RPC 2.0 client of the vfiokit daemon (``vfiokit daemon --socket PATH``).

Wire format (docs/daemon.md): one JSON object per line over a UNIX stream socket. A call is
``{"jsonrpc": "2.0", "id": N, "method": "flash", "params": {...}}``; the daemon answers with the
same id and may send ``{"method": "progress", "params": {...}}`` notifications before it.

Each thread gets its own connection, so a flash running in one thread never blocks the
get_status polls of another (the seed API's own usage pattern).
"""
import itertools
import json
import os
import shlex
import shutil
import socket
import subprocess
import threading
import time

MAX_LINE = 64 << 20


class DaemonError(Exception):
    """A request the daemon refused (JSON-RPC error): ``rpc_code``, ``code`` (E... name), ``data``."""

    def __init__(self, rpc_code, message, data=None):
        super().__init__(message)
        self.rpc_code = rpc_code
        self.data = data or {}
        self.code = self.data.get("code", "EIO")


class NotConnected(Exception):
    """The daemon could not be reached (or started)."""


def default_socket_path():
    """$VFIOKIT_SOCKET, else /run/vfiokit/daemon.sock for root, else a per-user runtime path."""
    env = os.environ.get("VFIOKIT_SOCKET")
    if env:
        return env
    if os.geteuid() == 0:
        return "/run/vfiokit/daemon.sock"
    runtime = os.environ.get("XDG_RUNTIME_DIR") or "/tmp/vfiokit-%d" % os.geteuid()
    return os.path.join(runtime, "vfiokit", "daemon.sock")


def daemon_command():
    """The command that starts a daemon: $VFIOKIT_DAEMON (shell words), else ``vfiokit`` on PATH."""
    env = os.environ.get("VFIOKIT_DAEMON")
    if env:
        return shlex.split(env)
    exe = shutil.which("vfiokit")
    return [exe] if exe else None


class Client:
    def __init__(self, path=None, autostart=None, timeout=30.0):
        self.path = path or default_socket_path()
        if autostart is None:
            autostart = os.environ.get("VFIOKIT_DAEMON_AUTOSTART", "1") != "0"
        self.autostart = autostart
        self.timeout = timeout
        self.started_daemon = None
        self._local = threading.local()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._all = []

    # -- connections --

    def _connect_once(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.path)
        except OSError:
            s.close()
            raise
        return s

    def _start_daemon(self):
        cmd = daemon_command()
        if not cmd:
            raise NotConnected("no daemon on %s and no way to start one: install the vfiokit command or set VFIOKIT_DAEMON" % self.path)
        d = os.path.dirname(self.path)
        os.makedirs(d, mode=0o700, exist_ok=True)
        log = open(os.path.join(d, "daemon.log"), "ab")
        try:
            self.started_daemon = subprocess.Popen(cmd + ["daemon", "--socket", self.path], stdin=subprocess.DEVNULL,
                                                   stdout=log, stderr=log, start_new_session=True)
        finally:
            log.close()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.started_daemon.poll() is not None:
                raise NotConnected("the daemon exited with %d; see %s" % (self.started_daemon.returncode, os.path.join(d, "daemon.log")))
            try:
                return self._connect_once()
            except OSError:
                time.sleep(0.1)
        raise NotConnected("started a daemon but %s did not accept within %.0f s" % (self.path, self.timeout))

    def _conn(self):
        c = getattr(self._local, "conn", None)
        if c is not None:
            return c
        try:
            s = self._connect_once()
        except OSError as e:
            with self._lock:
                try:
                    s = self._connect_once()  # another thread may have started it meanwhile
                except OSError:
                    if not self.autostart:
                        raise NotConnected("cannot connect to the vfiokit daemon on %s: %s" % (self.path, e))
                    s = self._start_daemon()
        c = (s, s.makefile("rb"))
        self._local.conn = c
        with self._lock:
            self._all.append(c)
        return c

    def close(self):
        """Close every thread's connection (a flash the daemon runs goes on)."""
        with self._lock:
            conns, self._all = self._all, []
        for s, f in conns:
            try:
                f.close()
                s.close()
            except OSError:
                pass
        self._local = threading.local()

    # -- calls --

    def call(self, method, params=None, on_progress=None):
        s, f = self._conn()
        rid = next(self._ids)
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        try:
            s.sendall((json.dumps(msg) + "\n").encode())
            while True:
                line = f.readline(MAX_LINE)
                if not line:
                    raise NotConnected("the daemon closed the connection during %s" % method)
                reply = json.loads(line)
                if reply.get("method") == "progress":
                    if on_progress is not None:
                        on_progress(reply.get("params", {}))
                    continue
                if reply.get("id") not in (rid, None):
                    continue
                if "error" in reply:
                    e = reply["error"]
                    raise DaemonError(e.get("code"), e.get("message", ""), e.get("data"))
                return reply.get("result")
        except (OSError, ValueError) as e:
            self._drop()
            raise NotConnected("connection to the daemon failed during %s: %s" % (method, e))
        except NotConnected:
            self._drop()
            raise

    def close_current(self):
        """Close the calling thread's connection only."""
        self._drop()

    def _drop(self):
        c = getattr(self._local, "conn", None)
        self._local.conn = None
        if c:
            with self._lock:
                if c in self._all:
                    self._all.remove(c)
            try:
                c[1].close()
                c[0].close()
            except OSError:
                pass
