// Files named in a request (pr, flash, get_image_info) are read by the daemon, which may run as
// root: it reads one only when the caller (SO_PEERCRED uid/gid) could read it itself, and only a
// regular file given by absolute path (no relative paths against the daemon's cwd, no FIFOs or
// devices that would block or never end). Mode bits are checked as the kernel's
// generic_permission does for a non-root caller (fs/namei.c acl_permission_check: owner class,
// else group class, else other).
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { PeerCred } from '../sys/peer-cred.js';
import { RpcError, RpcErrorCode } from './rpc-errors.js';

export function checkPeerMayRead(path: string, peer: PeerCred): void {
  if (!isAbsolute(path)) {
    throw new RpcError(RpcErrorCode.INVALID_PARAMS, 'EINVAL', `file "${path}" is not an absolute path; the daemon has its own working directory (the Python module makes paths absolute)`, { file: path });
  }
  let st;
  try {
    st = statSync(path);
  } catch {
    return; // missing: the API call itself answers -ENOENT, as a local call would
  }
  if (!st.isFile()) {
    throw new RpcError(RpcErrorCode.INVALID_PARAMS, 'EINVAL', `file "${path}" is not a regular file`, { file: path });
  }
  if (peer.uid === 0) return;
  const bits = peer.uid === st.uid ? (st.mode >> 6) & 7 : peer.gid === st.gid ? (st.mode >> 3) & 7 : st.mode & 7;
  if (!(bits & 4)) {
    throw new RpcError(RpcErrorCode.PERMISSION_DENIED, 'EACCES', `uid ${peer.uid} may not read "${path}" (mode ${(st.mode & 0o777).toString(8)}, owner ${st.uid}:${st.gid}); the daemon reads files only for callers that could`, { file: path, uid: peer.uid });
  }
}
