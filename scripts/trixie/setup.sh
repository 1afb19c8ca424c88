#!/bin/sh
# Build (once) and cache the Debian trixie environment the card lane and the Cyborg tests need:
#   - QEMU from trixie-backports (has the vfio-user-pci client; Debian 12's QEMU 7.2 has none),
#   - python3-cyborg (OpenStack Cyborg's own driver base classes and object model).
# It lives OUTSIDE the repository, like the guest kernel:
#
#   ${VFIOKIT_TRIXIE_CACHE:-/var/cache/vfiokit/trixie}/root     the chroot
#   .../root/.vfiokit-ready                                     written last; present = usable
#
# Usage: scripts/trixie/setup.sh [--print-path]
#   --print-path  print the chroot path; exit 0 when it is ready, 1 when not (nothing is built).
# Needs: root, debootstrap (installed when missing). Run things in it with scripts/trixie/run.sh.
set -eu
CACHE=${VFIOKIT_TRIXIE_CACHE:-/var/cache/vfiokit/trixie}
ROOT="$CACHE/root"
# Bump when the package list changes: the marker records it, so an old chroot is completed.
PACKAGES="qemu-system-x86 python3-cyborg python3-oslo.config"
STAMP="v1 $PACKAGES"

ready() { [ -f "$ROOT/.vfiokit-ready" ] && [ "$(cat "$ROOT/.vfiokit-ready")" = "$STAMP" ]; }
if [ "${1:-}" = "--print-path" ]; then echo "$ROOT"; ready; exit $?; fi
if ready; then echo "setup.sh: cached trixie environment $ROOT" >&2; echo "$ROOT"; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "setup.sh: needs root (debootstrap and chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null 2>&1 || {
  echo "setup.sh: installing debootstrap" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >&2
}
start=$(date +%s)
mkdir -p "$CACHE"
if [ ! -x "$ROOT/usr/bin/apt-get" ]; then
  rm -rf "$ROOT.tmp"
  # The mirror this machine's own apt uses (the registry it may reach).
  MIRROR=$(sed -n 's/^URIs: *//p; s/^deb \(\[[^]]*\] \)*\(http[^ ]*\) .*/\2/p' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | grep -v security | head -1)
  echo "setup.sh: debootstrap trixie into $ROOT (about 20-60 s)" >&2
  debootstrap --variant=minbase trixie "$ROOT.tmp" "${MIRROR:-}" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log" >&2; echo "setup.sh: debootstrap failed (log $CACHE/debootstrap.log)" >&2; exit 1; }
  mv "$ROOT.tmp" "$ROOT"
fi
# trixie-backports: the chroot's own sources line with the suite renamed.
if ! grep -q trixie-backports "$ROOT/etc/apt/sources.list" 2>/dev/null; then
  sed -n 's/ trixie / trixie-backports /p' "$ROOT/etc/apt/sources.list" >> "$ROOT/etc/apt/sources.list"
fi
echo "setup.sh: installing $PACKAGES in the chroot (QEMU from trixie-backports; a few minutes)" >&2
chroot "$ROOT" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -c "
  apt-get update -qq &&
  apt-get install -y -qq --no-install-recommends -t trixie-backports qemu-system-x86 &&
  apt-get install -y -qq --no-install-recommends python3-cyborg python3-oslo.config &&
  apt-get clean" >"$CACHE/apt.log" 2>&1 \
  || { tail -20 "$CACHE/apt.log" >&2; echo "setup.sh: apt in the chroot failed (log $CACHE/apt.log)" >&2; exit 1; }
chroot "$ROOT" qemu-system-x86_64 -device help 2>/dev/null | grep -q '"vfio-user-pci"' \
  || { echo "setup.sh: the chroot's QEMU has no vfio-user-pci device" >&2; exit 1; }
echo "$STAMP" > "$ROOT/.vfiokit-ready"
echo "setup.sh: trixie environment ready in $(( $(date +%s) - start )) s" >&2
echo "$ROOT"
