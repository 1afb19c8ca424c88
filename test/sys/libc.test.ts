import { describe, expect, it } from 'vitest';
import { closeSync, openSync, readSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  close, closeQuietly, createEventfd, createMemfd, eventfdRead, eventfdWrite, ioctl, ioctlAsync, mmap, mmapFd,
  open, pread, pwrite, read, recvmsg, sendmsg, unixSocketPair, viewOf, write, flock, socket, bindUnix, listen,
  connectUnix, accept, getpid, pageSize, lseek, dup, setCloexec, epollCreate, epollCtl, pollFd, ftruncate, munmap,
  sockaddrUn, MsghdrType, IovecType, CmsghdrType, SockaddrUnType, EpollEventType, PollfdType, cmsgSpace, cmsgLen,
} from '../../src/sys/libc.js';
import koffi from 'koffi';
import { SysError, errnoName, isSysError } from '../../src/sys/sys-error.js';
import {
  AF_UNIX, EFD_SEMAPHORE, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLLIN, LOCK_EX, LOCK_NB, LOCK_UN, MAP_SHARED, O_CREAT,
  O_RDONLY, O_RDWR, POLLIN, PROT_READ, PROT_WRITE, SEEK_END, SOCK_CLOEXEC, SOCK_SEQPACKET, SOCK_STREAM, EFD_CLOEXEC,
} from '../../src/sys/constants.js';
import { VfiokitError } from '../../src/errors.js';

function expectSysError(fn: () => unknown, code: string, call?: string): SysError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SysError);
    expect(e).toBeInstanceOf(VfiokitError);
    const err = e as SysError;
    expect(err.code).toBe(code);
    if (call) expect(err.call).toBe(call);
    expect(err.message).toContain(code);
    return err;
  }
  throw new Error(`expected ${code}`);
}

describe('errno mapping of real failing calls', () => {
  it('open of a missing path -> ENOENT naming the path', () => {
    const err = expectSysError(() => open('/nonexistent/vfiokit-test', O_RDONLY), 'ENOENT', 'open');
    expect(err.errno).toBe(2);
    expect(err.path).toBe('/nonexistent/vfiokit-test');
    expect(err.message).toContain('/nonexistent/vfiokit-test');
    expect(err.message).toMatch(/check that the path exists/);
  });

  it('ioctl on a regular file -> ENOTTY naming the fd and request', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfiokit-sys-'));
    const file = join(dir, 'f');
    writeFileSync(file, 'x');
    const fd = open(file, O_RDONLY);
    try {
      const err = expectSysError(() => ioctl(fd, 0x3b64, null, 'VFIO_GET_API_VERSION'), 'ENOTTY', 'ioctl');
      expect(err.fd).toBe(fd);
      expect(err.message).toContain('VFIO_GET_API_VERSION');
      expect(err.message).toContain(`fd ${fd}`);
    } finally {
      close(fd);
      rmSync(dir, { recursive: true });
    }
  });

  it('ioctl on a closed fd -> EBADF; TCGETS on a pipe -> ENOTTY', () => {
    expectSysError(() => ioctl(987654, 0x5401, Buffer.alloc(64)), 'EBADF');
  });

  it('async ioctl reports the errno of its own call', async () => {
    await expect(ioctlAsync(987654, 0x5401, Buffer.alloc(64), 'TCGETS')).rejects.toMatchObject({ code: 'EBADF', call: 'ioctl' });
    const memfd = createMemfd('ioctl-async', 0);
    try {
      await expect(ioctlAsync(memfd, 0x5401, Buffer.alloc(64))).rejects.toMatchObject({ code: 'ENOTTY' });
    } finally {
      close(memfd);
    }
  });

  it('mmap with a bad fd -> EBADF; mmap of a pipe -> ENODEV; bad arguments -> ArgumentError', () => {
    expectSysError(() => mmap(null, 4096, PROT_READ, MAP_SHARED, 987654, 0), 'EBADF', 'mmap');
    const [a, b] = unixSocketPair();
    try {
      expectSysError(() => mmapFd(a, 4096), 'ENODEV', 'mmap');
    } finally {
      close(a);
      close(b);
    }
    expect(() => mmap(null, 0, PROT_READ, MAP_SHARED, 0, 0)).toThrow(/length 0 must be a positive integer/);
    expect(() => mmap(null, 4096, PROT_READ, MAP_SHARED, 0, 100)).toThrow(/multiple of the page size/);
  });

  it('close twice -> EBADF; closeQuietly never throws', () => {
    const fd = createEventfd();
    close(fd);
    const err = expectSysError(() => close(fd), 'EBADF', 'close');
    expect(err.fd).toBe(fd);
    expect(err.message).toMatch(/not open/);
    expect(() => closeQuietly(fd)).not.toThrow();
  });

  it('flock conflict -> EAGAIN/EWOULDBLOCK; read on a write-only direction -> EBADF', () => {
    const memfd = createMemfd('lock', 16);
    const other = open(`/proc/self/fd/${memfd}`, O_RDWR);
    try {
      flock(memfd, LOCK_EX | LOCK_NB);
      const err = expectSysError(() => flock(other, LOCK_EX | LOCK_NB), errnoName(11));
      expect(err.errno).toBe(11);
      flock(memfd, LOCK_UN);
      flock(other, LOCK_EX | LOCK_NB);
    } finally {
      close(other);
      close(memfd);
    }
  });

  it('connect to a path where nothing listens -> ENOENT / ECONNREFUSED; long path -> ArgumentError', () => {
    const fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
    try {
      expectSysError(() => connectUnix(fd, '/nonexistent/vfiokit.sock'), 'ENOENT', 'connect');
      expect(() => connectUnix(fd, `/tmp/${'x'.repeat(200)}`)).toThrow(/1\.\.107 bytes/);
    } finally {
      close(fd);
    }
  });

  it('isSysError and toJSON carry the structured fields', () => {
    try {
      open('/nonexistent', O_RDONLY);
    } catch (e) {
      expect(isSysError(e, 'ENOENT')).toBe(true);
      expect(isSysError(e, 'EBUSY')).toBe(false);
      expect((e as SysError).toJSON()).toMatchObject({ code: 'ENOENT', errno: 2, call: 'open', path: '/nonexistent' });
    }
  });
});

describe('files, memfd and mmap', () => {
  it('memfd + mmap round trip, cross-checked through the file system', () => {
    const size = 2 * pageSize();
    const fd = createMemfd('roundtrip', size);
    try {
      expect(lseek(fd, 0, SEEK_END)).toBe(size);
      using m = mmapFd(fd, size, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
      const u32 = new Uint32Array(viewOf(m.address, size));
      u32[0] = 0xdeadbeef;
      u32[size / 4 - 1] = 0x12345678;
      const viaFs = Buffer.alloc(size);
      const procFd = openSync(`/proc/self/fd/${fd}`, 'r');
      try {
        expect(readSync(procFd, viaFs, 0, size, 0)).toBe(size);
      } finally {
        closeSync(procFd);
      }
      expect(viaFs.readUInt32LE(0)).toBe(0xdeadbeef);
      expect(viaFs.readUInt32LE(size - 4)).toBe(0x12345678);
      // pwrite through the fd shows up in the mapping; pread sees the mapping's stores.
      expect(pwrite(fd, Buffer.from([1, 2, 3, 4]), 8)).toBe(4);
      expect(u32[2]).toBe(0x04030201);
      const back = Buffer.alloc(4);
      expect(pread(fd, back, size - 4)).toBe(4);
      expect(back.readUInt32LE(0)).toBe(0x12345678);
      m.unmap();
      expect(m.unmapped).toBe(true);
      m.unmap(); // idempotent
    } finally {
      close(fd);
    }
  });

  it('read/write/dup/cloexec/ftruncate and buffer length checks', () => {
    const fd = createMemfd('rw', 0);
    try {
      ftruncate(fd, 100);
      expect(write(fd, Buffer.from('hello'))).toBe(5);
      expect(lseek(fd, 0, 0)).toBe(0);
      const d = dup(fd);
      setCloexec(d, false);
      setCloexec(d, true);
      const buf = Buffer.alloc(5);
      expect(read(d, buf)).toBe(5);
      expect(buf.toString()).toBe('hello');
      close(d);
      expect(() => read(fd, buf, 6)).toThrow(/length 6 does not fit the 5-byte buffer/);
      expect(() => munmap(0x1001n, 4096)).toThrow(SysError);
    } finally {
      close(fd);
    }
  });

  it('viewOf refuses NULL and oversized views', () => {
    expect(() => viewOf(0n, 16)).toThrow(/not a mapping/);
    expect(() => viewOf(0x1000n, 2 ** 40)).toThrow(/map and view large regions in windows/);
  });
});

describe('eventfd', () => {
  it('counter semantics: writes add, a read returns the sum and resets', () => {
    const fd = createEventfd();
    try {
      expect(eventfdRead(fd)).toBe(0); // non-blocking, counter 0 -> EAGAIN -> 0
      eventfdWrite(fd, 1);
      eventfdWrite(fd, 2);
      eventfdWrite(fd, 39n);
      expect(pollFd(fd, POLLIN, 0) & POLLIN).toBe(POLLIN);
      expect(eventfdRead(fd)).toBe(42);
      expect(eventfdRead(fd)).toBe(0);
      expect(pollFd(fd, POLLIN, 0)).toBe(0);
      // The counter cannot exceed 2^64-2: adding 2^64-1 is EINVAL.
      expect(() => eventfdWrite(fd, 0xffff_ffff_ffff_ffffn)).toThrow(expect.objectContaining({ code: 'EINVAL' }) as Error);
    } finally {
      close(fd);
    }
  });

  it('semaphore mode returns 1 per read', () => {
    const fd = createEventfd(3, EFD_SEMAPHORE | EFD_CLOEXEC | 0o4000);
    try {
      expect([eventfdRead(fd), eventfdRead(fd), eventfdRead(fd), eventfdRead(fd)]).toEqual([1, 1, 1, 0]);
    } finally {
      close(fd);
    }
  });

  it('epoll sees an eventfd become readable', () => {
    const ep = epollCreate(EPOLL_CLOEXEC);
    const fd = createEventfd();
    try {
      epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLIN);
      expect(() => epollCtl(ep, EPOLL_CTL_ADD, fd, EPOLLIN)).toThrow(expect.objectContaining({ code: 'EEXIST' }) as Error);
      expect(pollFd(ep, POLLIN, 0)).toBe(0);
      eventfdWrite(fd, 5);
      expect(pollFd(ep, POLLIN, 0) & POLLIN).toBe(POLLIN);
    } finally {
      close(fd);
      close(ep);
    }
  });
});

describe('UNIX sockets and SCM_RIGHTS', () => {
  it('socketpair + sendmsg passes an fd that the receiver can use', () => {
    const [a, b] = unixSocketPair(SOCK_SEQPACKET);
    const memfd = createMemfd('passed', 4096);
    let received: number[] = [];
    try {
      pwrite(memfd, Buffer.from('payload in the passed fd'), 0);
      expect(sendmsg(a, [Buffer.from('hdr:'), Buffer.from('body')], [memfd])).toBe(8);
      const into = Buffer.alloc(64);
      const r = recvmsg(b, into, 4);
      received = r.fds;
      expect(r.bytes).toBe(8);
      expect(into.subarray(0, 8).toString()).toBe('hdr:body');
      expect(r.fds).toHaveLength(1);
      expect(r.fds[0]).not.toBe(memfd);
      expect(r.controlTruncated).toBe(false);
      // The received fd refers to the same memfd: read it, and map it.
      const buf = Buffer.alloc(24);
      pread(r.fds[0]!, buf, 0);
      expect(buf.toString()).toBe('payload in the passed fd');
      using m = mmapFd(r.fds[0]!, 4096);
      const view = new Uint8Array(viewOf(m.address, 4096));
      expect(String.fromCharCode(...view.subarray(0, 7))).toBe('payload');
    } finally {
      for (const fd of received) close(fd);
      close(memfd);
      close(a);
      close(b);
    }
  });

  it('several fds in one message; too few slots -> controlTruncated', () => {
    const [a, b] = unixSocketPair(SOCK_SEQPACKET);
    const e1 = createEventfd();
    const e2 = createEventfd();
    const got: number[] = [];
    try {
      sendmsg(a, Buffer.from('x'), [e1, e2]);
      const r = recvmsg(b, Buffer.alloc(4), 2);
      got.push(...r.fds);
      expect(r.fds).toHaveLength(2);
      eventfdWrite(r.fds[1]!, 7);
      expect(eventfdRead(e2)).toBe(7);
      sendmsg(a, Buffer.from('y'), [e1, e2, e1]);
      const t = recvmsg(b, Buffer.alloc(4), 1);
      got.push(...t.fds);
      expect(t.controlTruncated).toBe(true);
      expect(t.fds).toHaveLength(1);
      sendmsg(a, Buffer.from('w'), [e1, e2]);
      const u = recvmsg(b, Buffer.alloc(4), 1); // CMSG_SPACE(4) has room for 2: the extra one is closed
      got.push(...u.fds);
      expect(u.fds).toHaveLength(1);
      expect(u.controlTruncated).toBe(true);
      expect(() => sendmsg(a, Buffer.from('z'), new Array(300).fill(e1))).toThrow(/SCM_MAX_FD/);
    } finally {
      for (const fd of [...got, e1, e2, a, b]) close(fd);
    }
  });

  it('bind/listen/accept/connect on a path socket', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vfiokit-sock-'));
    const path = join(dir, 's');
    const srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
    const cli = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
    let conn = -1;
    try {
      bindUnix(srv, path);
      const second = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC);
      try {
        expectSysError(() => bindUnix(second, path), 'EADDRINUSE', 'bind');
      } finally {
        close(second);
      }
      listen(srv);
      connectUnix(cli, path);
      conn = accept(srv);
      sendmsg(cli, Buffer.from('ping'));
      const buf = Buffer.alloc(4);
      expect(recvmsg(conn, buf).bytes).toBe(4);
      expect(buf.toString()).toBe('ping');
      expect(sockaddrUn('\0abstract').length).toBe(2 + 9);
    } finally {
      closeQuietly(conn);
      close(cli);
      close(srv);
      rmSync(dir, { recursive: true });
    }
  });
});

describe('struct layouts (LP64 Linux golden values)', () => {
  it('msghdr, iovec, cmsghdr, sockaddr_un, epoll_event, pollfd', () => {
    expect(koffi.sizeof(MsghdrType)).toBe(56);
    expect(koffi.offsetof(MsghdrType, 'msg_iov')).toBe(16);
    expect(koffi.offsetof(MsghdrType, 'msg_control')).toBe(32);
    expect(koffi.offsetof(MsghdrType, 'msg_flags')).toBe(48);
    expect(koffi.sizeof(IovecType)).toBe(16);
    expect(koffi.sizeof(CmsghdrType)).toBe(16);
    expect(cmsgSpace(4)).toBe(24);
    expect(cmsgLen(8)).toBe(24);
    expect(koffi.sizeof(SockaddrUnType)).toBe(110);
    expect(koffi.sizeof(EpollEventType)).toBe(process.arch === 'x64' ? 12 : 16);
    expect(koffi.sizeof(PollfdType)).toBe(8);
  });
});

describe('misc', () => {
  it('getpid and pageSize', () => {
    expect(getpid()).toBe(process.pid);
    expect(pageSize()).toBeGreaterThanOrEqual(4096);
  });

  it('a child process can use an inherited eventfd', () => {
    const fd = createEventfd();
    try {
      const r = spawnSync(process.execPath, ['-e', 'require("fs").writeSync(3, Buffer.from([5,0,0,0,0,0,0,0]))'], { stdio: ['ignore', 'inherit', 'inherit', fd] });
      expect(r.status).toBe(0);
      expect(eventfdRead(fd)).toBe(5);
    } finally {
      close(fd);
    }
  });
});
