#!/bin/sh
# The Cyborg driver test (python/tests_cyborg) against OpenStack Cyborg's own code, in the cached
# trixie chroot (scripts/trixie/setup.sh installs python3-cyborg there), talking to a vfiokit
# daemon that runs here on the host (Node 20) and serves a simulated N3000 card.
#   - the daemon's socket, state and the test files live in one temporary directory, bind-mounted
#     at the same path inside the chroot (so paths mean the same on both sides);
#   - the repository is bind-mounted at its own path; the package is built with its own stdlib
#     backend (python/build_backend.py) into that directory, so Cyborg's stevedore finds the
#     entry point from the wheel's dist-info, as after `pip install ./python`;
#   - everything is mounted in a private mount namespace (unshare -m, / made rprivate): nothing
#     leaks to the host, and the mounts vanish with the namespace.
# Output: python3 -m unittest -v's. Exit: 0 passed, 1 failed, 2 the chroot is not ready.
set -eu
REPO=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=$("$REPO/scripts/trixie/setup.sh" --print-path) || { echo "cyborg-test.sh: the trixie chroot $ROOT is not ready (run scripts/trixie/setup.sh)" >&2; exit 2; }
TSX="$REPO/node_modules/.bin/tsx"
TMP=$(mktemp -d /tmp/vfiokit-cyborg.XXXXXX)
DAEMON=
cleanup() {
  [ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

FIXTURES=$("$TSX" "$REPO/test/daemon/fixtures.ts" "$TMP")
fixture() { printf '%s' "$FIXTURES" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# The package, as pip would install it (wheel from the in-tree backend, unpacked).
python3 - "$REPO/python" "$TMP/site" <<'PY'
import os, sys, zipfile
sys.path.insert(0, sys.argv[1])
import build_backend
os.makedirs(sys.argv[2])
zipfile.ZipFile(os.path.join(sys.argv[2], build_backend.build_wheel(sys.argv[2]))).extractall(sys.argv[2])
PY

VFIOKIT_STATE_DIR="$TMP/state" VFIOKIT_LOCK_DIR="$TMP/locks" DEBUG=vfiokit:daemon \
  "$TSX" "$REPO/src/cli/main.ts" daemon --socket "$TMP/d.sock" --probe 'sim:n3000?clock=real&bmcTiming=fast' --json \
  >"$TMP/daemon.out" 2>"$TMP/daemon.log" &
DAEMON=$!
i=0
until [ -s "$TMP/daemon.out" ]; do
  i=$((i + 1))
  if [ $i -gt 600 ] || ! kill -0 "$DAEMON" 2>/dev/null; then echo "cyborg-test.sh: the daemon did not start:" >&2; cat "$TMP/daemon.log" >&2; exit 1; fi
  sleep 0.1
done

rc=0
unshare -m sh -c '
  set -e
  mount --make-rprivate /
  mount -t proc proc "$0/proc"
  mkdir -p "$0$1" "$0$2"
  mount --bind "$1" "$0$1"
  mount --bind "$2" "$0$2"
  mount --bind /dev "$0/dev"
  cd "$1/python"
  exec chroot "$0" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 \
    PYTHONPATH="$2/site:$1/python" PYTHONDONTWRITEBYTECODE=1 \
    VFIOKIT_SOCKET="$2/d.sock" VFIOKIT_DAEMON_AUTOSTART=0 \
    VFIOKIT_CYBORG_PCI_ADDRESSES="sim:n3000=0000:5e:00.0" VFIOKIT_TEST_BDF=0000:5e:00.0 \
    VFIOKIT_TEST_GBS="$3" VFIOKIT_TEST_IMAGE="$4" VFIOKIT_TEST_AFU="$5" \
    sh -c "cd $1/python/tests_cyborg && python3 -m unittest -v test_cyborg_driver"
' "$ROOT" "$REPO" "$TMP" "$(fixture gbs)" "$(fixture image)" "$(fixture afuGuid)" || rc=1
if [ $rc -ne 0 ]; then echo "--- daemon log" >&2; tail -40 "$TMP/daemon.log" >&2; fi
exit $rc
