// Linux userspace ABI constants used by src/sys (x86-64 and aarch64 generic values; both use the
// asm-generic numbering for everything below). Sources: include/uapi/asm-generic/mman-common.h,
// mman.h, fcntl.h, include/uapi/linux/memfd.h, eventfd.h, epoll.h, poll.h, socket.h,
// include/uapi/asm-generic/hugetlb_encode.h.
import { fieldPrep, genmask } from '../util/bitfield.js';

// mmap protection and flags (asm-generic/mman-common.h)
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_HUGETLB = 0x40000;
/** What mmap returns on failure ((void *)-1), as koffi gives pointers: a bigint. */
export const MAP_FAILED = 0xffff_ffff_ffff_ffffn;

// Huge page size encoding shared by mmap (MAP_HUGE_*) and memfd_create (MFD_HUGE_*): log2(page
// size) in [31:26] (hugetlb_encode.h HUGETLB_FLAG_ENCODE_MASK 0x3f at HUGETLB_FLAG_ENCODE_SHIFT 26).
export const HUGETLB_FLAG_ENCODE = genmask(31, 26);
/** HUGETLB_FLAG_ENCODE_2MB / _1GB: MAP_HUGE_2MB = MFD_HUGE_2MB, MAP_HUGE_1GB = MFD_HUGE_1GB. */
export const MAP_HUGE_2MB = fieldPrep(HUGETLB_FLAG_ENCODE, 21);
export const MAP_HUGE_1GB = fieldPrep(HUGETLB_FLAG_ENCODE, 30);
export const HUGE_PAGE_2MB = 2 * 1024 * 1024;
export const HUGE_PAGE_1GB = 1024 * 1024 * 1024;

// memfd_create (linux/memfd.h)
export const MFD_CLOEXEC = 0x0001;
export const MFD_ALLOW_SEALING = 0x0002;
export const MFD_HUGETLB = 0x0004;
export const MFD_HUGE_2MB = MAP_HUGE_2MB;
export const MFD_HUGE_1GB = MAP_HUGE_1GB;

// open flags (asm-generic/fcntl.h, octal as in the header)
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;

// fcntl commands
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const FD_CLOEXEC = 1;
// file seals (include/uapi/linux/fcntl.h: F_LINUX_SPECIFIC_BASE 1024 + 9 / + 10)
export const F_ADD_SEALS = 1033;
export const F_GET_SEALS = 1034;
export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;

// lseek whence
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;

// eventfd (linux/eventfd.h: EFD_CLOEXEC = O_CLOEXEC, EFD_NONBLOCK = O_NONBLOCK)
export const EFD_SEMAPHORE = 0x1;
export const EFD_CLOEXEC = O_CLOEXEC;
export const EFD_NONBLOCK = O_NONBLOCK;

// flock
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

// epoll (linux/eventpoll.h)
export const EPOLL_CLOEXEC = O_CLOEXEC;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x001;
export const EPOLLPRI = 0x002;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDHUP = 0x2000;
export const EPOLLONESHOT = 0x4000_0000;
/** 1 << 31: kept as an unsigned number; pass through `>>> 0` when combining. */
export const EPOLLET = 0x8000_0000;
/** sizeof(struct epoll_event): packed (12 bytes) on x86-64 only, naturally aligned (16) elsewhere. */
export const EPOLL_EVENT_SIZE = process.arch === 'x64' ? 12 : 16;
/** Offset of epoll_event.data inside the struct. */
export const EPOLL_EVENT_DATA_OFFSET = process.arch === 'x64' ? 4 : 8;

// poll (asm-generic/poll.h)
export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;

// sockets (linux/socket.h, asm-generic/socket.h)
export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_SEQPACKET = 5;
export const SOCK_NONBLOCK = O_NONBLOCK;
export const SOCK_CLOEXEC = O_CLOEXEC;
export const SOL_SOCKET = 1;
/** getsockopt: the peer's struct ucred { pid, uid, gid } (asm-generic/socket.h, net/core/sock.c sk_getsockopt). */
export const SO_PEERCRED = 17;
export const SCM_RIGHTS = 0x01;
export const SCM_CREDENTIALS = 0x02;
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
export const MSG_PEEK = 0x2;
export const MSG_CTRUNC = 0x8;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_WAITALL = 0x100;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CMSG_CLOEXEC = 0x4000_0000;
/** Largest fd array the kernel accepts in one SCM_RIGHTS message (SCM_MAX_FD). */
export const SCM_MAX_FD = 253;
/** sizeof(sun_path) in struct sockaddr_un. */
export const UNIX_PATH_MAX = 108;

// sysconf names (bits/confname.h)
export const _SC_PAGESIZE = 30;
export const _SC_NPROCESSORS_ONLN = 84;
