// SO_PEERCRED through koffi getsockopt (net/core/sock.c sk_getsockopt, struct ucred).
import { describe, expect, it } from 'vitest';
import { close, createMemfd, unixSocketPair } from '../../src/sys/libc.js';
import { SOCK_STREAM } from '../../src/sys/constants.js';
import { peerCred } from '../../src/sys/peer-cred.js';
import { SysError } from '../../src/sys/sys-error.js';

describe('peerCred', () => {
  it('reads the pid, uid and gid the kernel recorded for the peer', () => {
    const [a, b] = unixSocketPair(SOCK_STREAM);
    try {
      expect(peerCred(a)).toEqual({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
      expect(peerCred(b)).toEqual(peerCred(a));
    } finally {
      close(a);
      close(b);
    }
  });

  it('a descriptor that is not a socket is a typed ENOTSOCK', () => {
    const fd = createMemfd('not-a-socket', 16);
    try {
      expect(() => peerCred(fd)).toThrow(SysError);
      expect(() => peerCred(fd)).toThrow(/getsockopt on fd \d+ failed: ENOTSOCK/);
    } finally {
      close(fd);
    }
  });
});
