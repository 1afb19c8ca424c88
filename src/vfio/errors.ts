// VFIO errors: every failure names the ioctl (or file), the device, the errno, and what to do.
import koffi from 'koffi';
import { DeviceError } from '../errors.js';
import { libc, type PointerArg } from '../sys/libc.js';
import { errnoName } from '../sys/sys-error.js';
import { ioctlName, type FdClass } from '../sys/uapi/linux-vfio.js';
import type { VfiokitErrorCode } from '../error-codes.js';

export class VfioError extends DeviceError {
  readonly errno: number | undefined;
  constructor(code: VfiokitErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(code, message, details, options);
    this.errno = typeof details.errno === 'number' ? details.errno : undefined;
  }
}

/** The group is not viable: other devices in it are bound to host drivers. */
export class GroupNotViableError extends VfioError {}

/** What an errno means for a VFIO ioctl, and what to do. */
function hint(name: string, errno: string): string {
  switch (errno) {
    case 'EPERM':
    case 'EACCES':
      return 'permission denied: run as root or give your user the VFIO files (chown the /dev/vfio/<group> or /dev/vfio/devices/vfioN node) and raise the locked-memory limit (ulimit -l) for DMA';
    case 'EBUSY':
      return 'the device or group is already in use (another process, or another container): close it there first';
    case 'ENODEV':
      return 'the device is gone (removed or unbound from vfio-pci)';
    case 'ENOMEM':
      return name.includes('MAP') ? 'out of lockable memory: raise the locked-memory limit (ulimit -l, or LimitMEMLOCK in the service unit)' : 'the kernel is out of memory';
    case 'ENOSPC':
      return 'the IOMMU mapping budget (dma_entry_limit of vfio_iommu_type1) is used up: free DMA buffers, or use fewer, larger ones';
    case 'EEXIST':
      return 'that IOVA range is already mapped: unmap it first or pick another IOVA';
    case 'EINVAL':
      return 'the kernel rejected the arguments (alignment, size, index or flags); check sizes and IOVA alignment against the IOMMU page size';
    case 'ENOTTY':
      return 'this kernel does not know the ioctl (wrong fd class, or a kernel too old for it)';
    case 'EOPNOTSUPP':
      return 'the device or IOMMU does not support this';
    case 'EFAULT':
      return 'a buffer address is invalid (unmapped host memory)';
    case 'ENOENT':
      return 'no such object (IOVA, IOAS id or region)';
    default:
      return 'see dmesg for the kernel\'s reason';
  }
}

/** ioctl on a VFIO/IOMMUFD fd; throws VfioError naming the ioctl, the device and the errno. */
export function vfioIoctl(fd: number, request: number, arg: PointerArg, fdClass: FdClass, device: string): number {
  const r = libc.ioctl(fd, request, arg) as number;
  if (r < 0) {
    const errno = koffi.errno();
    const name = ioctlName(request, fdClass);
    const code = errnoName(errno);
    throw new VfioError(`EVFIO_${code}`, `${name} on ${device} failed: ${code}: ${hint(name, code)}`, { ioctl: name, device, errno, errnoName: code });
  }
  return r;
}

/** open(2) of a VFIO/IOMMUFD node with a message about ownership and modules. */
export function openNode(path: string, device: string, flags: number): number {
  const fd = libc.open(path, flags) as number;
  if (fd < 0) {
    const errno = koffi.errno();
    const code = errnoName(errno);
    const what = code === 'EACCES' || code === 'EPERM'
      ? `permission denied: run as root, or give your user the node (chown $USER ${path})`
      : code === 'ENOENT'
        ? path.startsWith('/dev/iommu') ? 'no /dev/iommu: the kernel has no IOMMUFD (CONFIG_IOMMUFD), or load the iommufd module' : `no ${path}: bind the device to vfio-pci first (bindDriver)`
        : code === 'EBUSY'
          ? 'already open in another process (a VFIO group/device can be open once)'
          : 'see dmesg';
    throw new VfioError(`EVFIO_OPEN_${code}`, `opening ${path} for ${device} failed: ${code}: ${what}`, { path, device, errno, errnoName: code });
  }
  return fd;
}
