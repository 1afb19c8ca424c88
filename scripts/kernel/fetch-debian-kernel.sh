#!/bin/sh
# Fetch Debian's own kernel for the type1 lane (reference/kernel-lane.md): the package that
# linux-image-amd64 depends on (resolved now, never pinned), unpacked with dpkg -x, vmlinux cut
# out of vmlinuz at the xz magic (fd 37 7a 58 5a 00) for a fast PVH boot under qboot, and
# depmod -b run (the package ships no modules.dep). Cached outside the repository:
#
#   ${VFIOKIT_DEBIAN_KERNEL_CACHE:-/var/cache/vfiokit/debian-kernel}/<package>_<version>/
#       vmlinux  root/lib/modules/<kver>/...  kver
#
# Prints the cache directory as its last line; does nothing when it is complete.
# Needs: apt (network to the Debian mirror), dpkg, xz-utils, kmod (depmod).
set -eu
CACHE=${VFIOKIT_DEBIAN_KERNEL_CACHE:-/var/cache/vfiokit/debian-kernel}

PKG=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)/\1/p' | head -1)
[ -n "$PKG" ] || { echo "fetch-debian-kernel.sh: apt does not know linux-image-amd64's kernel package; run apt-get update" >&2; exit 1; }
VERSION=$(apt-cache policy "$PKG" | sed -n 's/ *Candidate: //p')
DIR="$CACHE/${PKG}_$VERSION"
if [ -f "$DIR/vmlinux" ] && [ -f "$DIR/kver" ]; then
  echo "$DIR"
  exit 0
fi
for tool in dpkg xz depmod; do
  command -v "$tool" >/dev/null || { echo "fetch-debian-kernel.sh: $tool is missing (apt-get install -y dpkg xz-utils kmod)" >&2; exit 1; }
done
TMP="$DIR.tmp"
rm -rf "$TMP"
mkdir -p "$TMP"
cd "$TMP"
echo "fetch-debian-kernel.sh: downloading $PKG $VERSION" >&2
chmod 755 "$TMP"
apt-get download "$PKG=$VERSION" >&2
dpkg -x ./*.deb root
rm -f ./*.deb
KVER=$(ls root/lib/modules | head -1)
VMLINUZ="root/boot/vmlinuz-$KVER"
[ -f "$VMLINUZ" ] || { echo "fetch-debian-kernel.sh: $VMLINUZ missing in the package" >&2; exit 1; }
# The bzImage carries an xz stream; its first byte is at the magic fd 37 7a 58 5a 00.
OFFSET=$(LC_ALL=C grep -obUaP '\xfd\x37\x7a\x58\x5a\x00' "$VMLINUZ" | head -1 | cut -d: -f1)
[ -n "$OFFSET" ] || { echo "fetch-debian-kernel.sh: no xz stream in $VMLINUZ (kernel not xz-compressed?)" >&2; exit 1; }
tail -c +"$((OFFSET + 1))" "$VMLINUZ" | xz -dc --single-stream > vmlinux 2>/dev/null || true
head -c 4 vmlinux | grep -q 'ELF' || { echo "fetch-debian-kernel.sh: the decompressed kernel is not an ELF file" >&2; exit 1; }
depmod -b root "$KVER"
rm -rf root/boot root/usr
echo "$KVER" > kver
cd /
rm -rf "$DIR"
mv "$TMP" "$DIR"
echo "fetch-debian-kernel.sh: $PKG $VERSION ready ($KVER)" >&2
echo "$DIR"
