#!/bin/sh
# Unpack the VFIO and IOMMUFD uAPI headers (include/uapi/linux/{vfio,iommufd}.h) of Debian's
# linux-source package into a cache, for the golden test of src/sys/uapi/linux-vfio.ts: Debian 12's
# linux-libc-dev (6.1) has no iommufd.h and a vfio.h without the cdev/iommufd ioctls.
#
#   ${VFIOKIT_UAPI_CACHE:-/var/cache/vfiokit/uapi}/<source version>/linux/{vfio.h,iommufd.h}
#
# Prints the include directory (pass it as -I). Does nothing when the headers are cached.
# Needs the linux-source-6.12 (or newer) package: apt-get install -y linux-source-6.12
set -eu
CACHE=${VFIOKIT_UAPI_CACHE:-/var/cache/vfiokit/uapi}
TARBALL=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$TARBALL" ]; then
  echo "uapi-headers.sh: no /usr/src/linux-source-*.tar.xz; install it with: apt-get install -y linux-source-6.12" >&2
  exit 1
fi
BASE=$(basename "$TARBALL" .tar.xz)
VERSION=$(dpkg-query -W -f='${Version}' "$BASE" 2>/dev/null || echo unknown)
DIR="$CACHE/$BASE-$VERSION"
if [ -f "$DIR/linux/iommufd.h" ] && [ -f "$DIR/linux/vfio.h" ]; then
  echo "$DIR"
  exit 0
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
tar -C "$TMP" -xJf "$TARBALL" "$BASE/include/uapi/linux/vfio.h" "$BASE/include/uapi/linux/iommufd.h"
mkdir -p "$DIR/linux"
cp "$TMP/$BASE/include/uapi/linux/vfio.h" "$TMP/$BASE/include/uapi/linux/iommufd.h" "$DIR/linux/"
echo "$DIR"
