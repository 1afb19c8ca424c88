// Message framing over a real socketpair: messages cut from a byte stream, fds given to the
// message that carried them even when several messages arrive in one read, partial messages,
// large messages split by the kernel, closing without leaks.
import { describe, expect, it } from 'vitest';
import { MessageSocket } from '../../src/vfio-user/unix-socket.js';
import { buildCommand, Command } from '../../src/vfio-user/protocol.js';
import { closeQuietly, createEventfd, unixSocketPair, write } from '../../src/sys/libc.js';
import { SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM } from '../../src/sys/constants.js';
import { openFds } from './helpers/spawn.js';

function pair(maxPayload = 1 << 20): [MessageSocket, MessageSocket] {
  const [a, b] = unixSocketPair(SOCK_STREAM, SOCK_CLOEXEC | SOCK_NONBLOCK);
  return [new MessageSocket(a, { name: 'a', maxPayload, maxFds: 8 }), new MessageSocket(b, { name: 'b', maxPayload, maxFds: 8 })];
}

describe('MessageSocket', () => {
  it('gives fds to the message that carried them when three messages arrive in one read', () => {
    const [a, b] = pair();
    const e1 = createEventfd();
    const e2 = createEventfd();
    try {
      a.send(buildCommand(1, Command.DEVICE_GET_INFO, new Uint8Array(16)));
      a.send(buildCommand(2, Command.DMA_MAP, new Uint8Array(32)), [e1]);
      a.send(buildCommand(3, Command.DEVICE_SET_IRQS, new Uint8Array(20)), [e1, e2]);
      const got = [b.receive(), b.receive(), b.receive(), b.receive()];
      const msgs = got.filter((r) => r.kind === 'message').map((r) => (r as { message: { header: { id: number }; fds: number[] } }).message);
      expect(msgs.map((m) => m.header.id)).toEqual([1, 2, 3]);
      expect(msgs.map((m) => m.fds.length)).toEqual([0, 1, 2]);
      expect(got[3]!.kind).toBe('again');
      for (const m of msgs) for (const fd of m.fds) closeQuietly(fd);
    } finally {
      closeQuietly(e1);
      closeQuietly(e2);
      a.close();
      b.close();
    }
  });

  it('reassembles a message that arrives in pieces and a 3 MiB message with an fd', () => {
    const [a, b] = pair(4 << 20);
    const e1 = createEventfd();
    try {
      const m = buildCommand(5, Command.REGION_READ, new Uint8Array(16));
      write(a.fd, m.subarray(0, 7));
      expect(b.receive().kind).toBe('again');
      write(a.fd, m.subarray(7));
      const r = b.receive();
      expect(r.kind === 'message' && r.message.header.id).toBe(5);
      const big = new Uint8Array(3 << 20);
      big[big.length - 1] = 0xab;
      let received: { kind: string; message?: { payload: Uint8Array; fds: number[] } } = { kind: 'again' };
      // Send in 64 KiB pieces (less than the socket buffer) and let the receiver drain between them.
      const msg = buildCommand(6, Command.REGION_WRITE, big);
      let sent = 0;
      const chunk = 64 * 1024;
      // First chunk carries the fd, as sendmsg of one message would.
      while (sent < msg.length) {
        const part = msg.subarray(sent, Math.min(msg.length, sent + chunk));
        a.send(part, sent === 0 ? [e1] : []);
        sent += part.length;
        const r2 = b.receive();
        if (r2.kind === 'message') received = r2;
      }
      while (received.kind !== 'message') received = b.receive() as typeof received;
      expect(received.message!.payload.length).toBe(3 << 20);
      expect(received.message!.payload[big.length - 1]).toBe(0xab);
      expect(received.message!.fds).toHaveLength(1);
      closeQuietly(received.message!.fds[0]);
    } finally {
      closeQuietly(e1);
      a.close();
      b.close();
    }
  });

  it('refuses an oversized message, skips its bytes and closes its fds; closing leaks nothing', () => {
    const before = openFds();
    const [a, b] = pair(64);
    const e1 = createEventfd();
    a.send(buildCommand(1, Command.REGION_WRITE, new Uint8Array(100)), [e1]);
    a.send(buildCommand(2, Command.DEVICE_RESET, new Uint8Array(0)));
    const r1 = b.receive();
    expect(r1.kind).toBe('refused');
    if (r1.kind === 'refused') {
      expect(r1.error.code).toBe('EVFIO_USER_OVERSIZED');
      for (const fd of r1.fds) closeQuietly(fd);
    }
    const r2 = b.receive();
    expect(r2.kind === 'message' && r2.message.header.id).toBe(2);
    a.close();
    expect(b.receive().kind).toBe('closed');
    b.close();
    closeQuietly(e1);
    expect(openFds()).toBe(before);
  });
});
