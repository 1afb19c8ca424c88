#!/bin/sh
# Build the guest kernel for the iommufd and no-IOMMU lanes of the kernel test lane.
#
# Debian's own kernels have no IOMMUFD and no VFIO no-IOMMU mode (reference/kernel-lane.md), so
# these lanes boot a kernel built from Debian's linux-source package: x86_64 defconfig plus
# IOMMUFD, VFIO_DEVICE_CDEV, VFIO_NOIOMMU, VFIO_PCI, INTEL_IOMMU, 9P and VIRTIO, all built in
# (no modules to load in the guest). The result is cached OUTSIDE the repository:
#
#   ${VFIOKIT_KERNEL_CACHE:-/var/cache/vfiokit/kernel}/<source version>-<config hash>/vmlinux
#
# and the script does nothing when that file exists. It prints the vmlinux path as its last line.
#
# Usage: scripts/kernel/build-kernel.sh [--print-path] [--jobs N]
#   --print-path  only print where the cached vmlinux is (or would be) and exit 0 if it exists,
#                 1 if not (used by test/kernel/run.ts to decide whether the lane can run).
# Needs (apt): linux-source-6.12 (or linux-source), build-essential, flex, bison, bc, libelf-dev,
#              libssl-dev, xz-utils, cpio. It installs missing ones itself when run as root.
set -eu

CACHE_ROOT=${VFIOKIT_KERNEL_CACHE:-/var/cache/vfiokit/kernel}
JOBS=$(nproc)
PRINT_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --print-path) PRINT_ONLY=1 ;;
    --jobs) shift; JOBS=$1 ;;
    *) echo "build-kernel.sh: unknown argument '$1' (use --print-path or --jobs N)" >&2; exit 2 ;;
  esac
  shift
done

# The source package: prefer 6.12 (iommufd cdev needs >= 6.6), resolved from apt, never pinned.
pick_source_pkg() {
  for p in linux-source-6.12 $(apt-cache depends linux-source 2>/dev/null | sed -n 's/.*Depends: //p'); do
    if apt-cache show "$p" >/dev/null 2>&1; then echo "$p"; return 0; fi
  done
  return 1
}
SRC_PKG=$(pick_source_pkg) || { echo "build-kernel.sh: no linux-source package known to apt; run apt-get update" >&2; exit 1; }
SRC_VERSION=$(apt-cache policy "$SRC_PKG" | sed -n 's/ *Candidate: //p')
if dpkg-query -W -f='${Status}' "$SRC_PKG" 2>/dev/null | grep -q 'install ok installed'; then
  SRC_VERSION=$(dpkg-query -W -f='${Version}' "$SRC_PKG")
fi

# Config fragment applied on top of x86_64_defconfig. Its hash keys the cache.
FRAGMENT='
CONFIG_PCI=y
CONFIG_PCI_MSI=y
CONFIG_IOMMU_SUPPORT=y
CONFIG_INTEL_IOMMU=y
CONFIG_INTEL_IOMMU_SVM=n
CONFIG_INTEL_IOMMU_DEFAULT_ON=n
CONFIG_IRQ_REMAP=y
CONFIG_IOMMUFD=y
CONFIG_VFIO=y
CONFIG_VFIO_GROUP=y
CONFIG_VFIO_CONTAINER=y
CONFIG_VFIO_IOMMU_TYPE1=y
CONFIG_VFIO_DEVICE_CDEV=y
CONFIG_VFIO_NOIOMMU=y
CONFIG_VFIO_VIRQFD=y
CONFIG_VFIO_PCI_CORE=y
CONFIG_VFIO_PCI=y
CONFIG_VFIO_PCI_MMAP=y
CONFIG_VFIO_PCI_INTX=y
CONFIG_EVENTFD=y
CONFIG_VIRTIO=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_MENU=y
CONFIG_NET=y
CONFIG_NET_9P=y
CONFIG_NET_9P_VIRTIO=y
CONFIG_NETWORK_FILESYSTEMS=y
CONFIG_9P_FS=y
CONFIG_9P_FS_POSIX_ACL=y
CONFIG_NETFS_SUPPORT=y
CONFIG_FSCACHE=y
CONFIG_DEVTMPFS=y
CONFIG_DEVTMPFS_MOUNT=y
CONFIG_BLK_DEV_INITRD=y
CONFIG_RD_GZIP=y
CONFIG_TMPFS=y
CONFIG_PVH=y
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y
CONFIG_HOTPLUG_PCI=y
CONFIG_HOTPLUG_PCI_PCIE=y
CONFIG_PCIEPORTBUS=y
CONFIG_DEBUG_INFO_NONE=y
CONFIG_DEBUG_INFO_DWARF_TOOLCHAIN_DEFAULT=n
CONFIG_MODULES=y
CONFIG_HWMON=y
CONFIG_PERF_EVENTS=y
CONFIG_SPI=y
CONFIG_SPI_MASTER=y
CONFIG_FPGA=y
CONFIG_FPGA_BRIDGE=y
CONFIG_FPGA_REGION=y
CONFIG_FPGA_DFL=y
CONFIG_FPGA_DFL_PCI=y
CONFIG_FPGA_DFL_FME=y
CONFIG_FPGA_DFL_FME_MGR=y
CONFIG_FPGA_DFL_FME_BRIDGE=y
CONFIG_FPGA_DFL_FME_REGION=y
CONFIG_FPGA_DFL_AFU=y
CONFIG_FPGA_DFL_NIOS_INTEL_PAC_N3000=y
CONFIG_SPI_ALTERA=y
CONFIG_SPI_ALTERA_DFL=y
CONFIG_MFD_INTEL_M10_BMC_SPI=y
CONFIG_FPGA_M10_BMC_SEC_UPDATE=y
CONFIG_SENSORS_INTEL_M10_BMC_HWMON=y
CONFIG_FW_LOADER=y
CONFIG_FW_UPLOAD=y
CONFIG_DRM=n
CONFIG_SOUND=n
CONFIG_USB_SUPPORT=n
CONFIG_WLAN=n
CONFIG_WIRELESS=n
'
CONFIG_HASH=$(printf '%s' "$FRAGMENT" | sha256sum | cut -c1-12)
OUT_DIR="$CACHE_ROOT/$SRC_VERSION-$CONFIG_HASH"
VMLINUX="$OUT_DIR/vmlinux"

if [ "$PRINT_ONLY" = 1 ]; then
  echo "$VMLINUX"
  [ -f "$VMLINUX" ]
  exit $?
fi
if [ -f "$VMLINUX" ]; then
  echo "build-kernel.sh: cached kernel $VMLINUX ($SRC_PKG $SRC_VERSION, config $CONFIG_HASH)" >&2
  echo "$VMLINUX"
  exit 0
fi

need_pkgs=""
for p in "$SRC_PKG" build-essential flex bison bc libelf-dev libssl-dev xz-utils cpio; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need_pkgs="$need_pkgs $p"
done
if [ -n "$need_pkgs" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "build-kernel.sh: missing packages:$need_pkgs; install them with: apt-get install -y$need_pkgs" >&2
    exit 1
  fi
  echo "build-kernel.sh: installing$need_pkgs" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need_pkgs >&2
fi

TARBALL=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | grep "/$SRC_PKG.tar.xz" | head -1 || true)
[ -n "$TARBALL" ] || TARBALL=$(ls /usr/src/linux-source-*.tar.xz | sort -V | tail -1)
[ -f "$TARBALL" ] || { echo "build-kernel.sh: no /usr/src/linux-source-*.tar.xz after installing $SRC_PKG" >&2; exit 1; }

WORK="$CACHE_ROOT/.build-$SRC_VERSION-$CONFIG_HASH"
mkdir -p "$WORK"
SRC_DIR="$WORK/$(basename "$TARBALL" .tar.xz)"
if [ ! -f "$SRC_DIR/Makefile" ]; then
  echo "build-kernel.sh: unpacking $TARBALL" >&2
  tar -C "$WORK" -xf "$TARBALL"
fi

cd "$SRC_DIR"
make -s x86_64_defconfig >&2
printf '%s\n' "$FRAGMENT" > "$WORK/fragment.config"
./scripts/kconfig/merge_config.sh -m .config "$WORK/fragment.config" >&2
make -s olddefconfig >&2
# Report options the fragment asked for that kconfig dropped (a dependency missing).
missing=""
for opt in IOMMUFD VFIO_DEVICE_CDEV VFIO_NOIOMMU VFIO_PCI INTEL_IOMMU 9P_FS NET_9P_VIRTIO VIRTIO_PCI PVH \
    FPGA_DFL_PCI FPGA_DFL_FME FPGA_DFL_FME_MGR FPGA_DFL_AFU FPGA_DFL_NIOS_INTEL_PAC_N3000 SPI_ALTERA \
    SPI_ALTERA_DFL MFD_INTEL_M10_BMC_SPI FPGA_M10_BMC_SEC_UPDATE SENSORS_INTEL_M10_BMC_HWMON FW_UPLOAD; do
  grep -q "^CONFIG_$opt=y" .config || missing="$missing $opt"
done
if [ -n "$missing" ]; then
  echo "build-kernel.sh: after olddefconfig these options are not built in:$missing (a dependency is off; fix the fragment)" >&2
  exit 1
fi
echo "build-kernel.sh: building vmlinux with $JOBS jobs (about 10 minutes on 2 idle cores; 28 minutes measured on 2 shared, loaded cores)" >&2
start=$(date +%s)
make -j"$JOBS" vmlinux >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; echo "build-kernel.sh: build failed, log in $WORK/build.log" >&2; exit 1; }
mkdir -p "$OUT_DIR"
cp vmlinux "$OUT_DIR/vmlinux.tmp"
cp .config "$OUT_DIR/config"
mv "$OUT_DIR/vmlinux.tmp" "$VMLINUX"
echo "build-kernel.sh: built in $(( $(date +%s) - start )) s; keeping the cache, removing the build tree" >&2
cd /
rm -rf "$WORK"
echo "$VMLINUX"
