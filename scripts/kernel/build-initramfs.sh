#!/bin/sh
# Build the kernel-lane initramfs: busybox-static, /init (scripts/kernel/init) and, for a
# modular (Debian) kernel, the VFIO, virtio-pci and 9p modules with their dependencies in load
# order (from the modules.dep that fetch-debian-kernel.sh made with depmod -b).
#
# Usage: build-initramfs.sh OUT.cpio.gz [MODULES_ROOT KVER]
# Needs: busybox-static, cpio, gzip, kmod (modprobe --show-depends).
set -eu
OUT=$1
MODROOT=${2:-}
KVER=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || { echo "build-initramfs.sh: busybox is missing (apt-get install -y busybox-static)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/bin" "$TMP/lib/modules" "$TMP/proc" "$TMP/sys" "$TMP/dev" "$TMP/mnt"
cp "$BUSYBOX" "$TMP/bin/busybox"
cp "$HERE/init" "$TMP/init"
chmod 755 "$TMP/init" "$TMP/bin/busybox"
: > "$TMP/modules.list"
if [ -n "$MODROOT" ]; then
  # Order from modprobe: dependencies first. Modules built in print as "builtin NAME".
  for m in vfio vfio_iommu_type1 vfio-pci virtio_pci 9pnet_virtio 9p; do
    modprobe -d "$MODROOT" -S "$KVER" --show-depends "$m" 2>/dev/null | sed -n 's/^insmod \([^ ]*\).*/\1/p'
  done | awk '!seen[$0]++' | while read -r ko; do
    base=$(basename "$ko")
    case "$base" in
      *.ko.xz) xz -dc "$ko" > "$TMP/lib/modules/${base%.xz}"; base=${base%.xz} ;;
      *.ko.zst) zstd -qdc "$ko" > "$TMP/lib/modules/${base%.zst}"; base=${base%.zst} ;;
      *) cp "$ko" "$TMP/lib/modules/$base" ;;
    esac
    echo "/lib/modules/$base" >> "$TMP/modules.list"
  done
  grep -q vfio-pci "$TMP/modules.list" || grep -q vfio_pci "$TMP/modules.list" || { echo "build-initramfs.sh: vfio-pci not found under $MODROOT/lib/modules/$KVER" >&2; exit 1; }
fi
(cd "$TMP" && find . | cpio -o -H newc --quiet | gzip -1) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "$OUT"
