// SO_PEERCRED: who is on the other end of a connected UNIX socket, as the kernel recorded it at
// connect() time (net/unix/af_unix.c unix_stream_connect -> copy_peercred; read by
// net/core/sock.c sk_getsockopt SO_PEERCRED as struct ucred { pid_t pid; uid_t uid; gid_t gid }).
import koffi from 'koffi';
import { libc } from './libc.js';
import { SOL_SOCKET, SO_PEERCRED } from './constants.js';
import { SysError } from './sys-error.js';

export interface PeerCred {
  pid: number;
  uid: number;
  gid: number;
}

/** struct ucred (include/linux/socket.h): three 32-bit fields. */
const UCRED_SIZE = 12;

/** The credentials of the peer of connected UNIX socket `fd`. */
export function peerCred(fd: number): PeerCred {
  const buf = Buffer.alloc(UCRED_SIZE);
  const len = new Uint32Array([UCRED_SIZE]);
  if ((libc.getsockopt(fd, SOL_SOCKET, SO_PEERCRED, buf, len) as number) < 0) throw new SysError('getsockopt', koffi.errno(), { fd });
  if (len[0] !== UCRED_SIZE) throw new SysError('getsockopt', 0, { fd });
  return { pid: buf.readInt32LE(0), uid: buf.readUInt32LE(4), gid: buf.readUInt32LE(8) };
}
