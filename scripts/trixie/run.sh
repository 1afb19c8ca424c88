#!/bin/sh
# Run a command inside the cached trixie environment (scripts/trixie/setup.sh) in a PRIVATE mount
# namespace: every mount made here (/dev, /proc, /sys, the --bind paths) lives only as long as the
# command and is never seen by the host, so nothing leaks when the command is killed.
#
# Usage: scripts/trixie/run.sh [--bind SRC[:DST]]... [--] CMD [ARG]...
#   --bind SRC[:DST]  bind-mount the host path SRC at DST inside the chroot (DST defaults to SRC;
#                     created when missing). Use it for sockets, kernels, scratch directories,
#                     and `--bind /:/host` to give the chroot the host's root (QEMU's 9p export).
# The exit status is the command's. Needs root (unshare, chroot) and a ready environment.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$("$HERE/setup.sh" --print-path) || {
  echo "run.sh: the trixie environment is not ready at $ROOT; run scripts/trixie/setup.sh first" >&2
  exit 1
}
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (unshare -m, chroot)" >&2; exit 1; }

if [ "${VFIOKIT_TRIXIE_NS:-}" != 1 ]; then
  # Re-run ourselves in a new mount namespace whose mounts do not propagate back to the host.
  VFIOKIT_TRIXIE_NS=1 exec unshare -m --propagation private "$0" "$@"
fi

binds=""
while [ $# -gt 0 ]; do
  case "$1" in
    --bind) [ $# -ge 2 ] || { echo "run.sh: --bind needs SRC[:DST]" >&2; exit 2; }; binds="$binds
$2"; shift 2 ;;
    --) shift; break ;;
    -*) echo "run.sh: unknown option '$1' (use --bind SRC[:DST] then the command)" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "run.sh: no command given" >&2; exit 2; }

mount --rbind /dev "$ROOT/dev"
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mkdir -p "$ROOT/tmp" "$ROOT/run"
mount -t tmpfs -o mode=1777 tmpfs "$ROOT/tmp"
printf '%s\n' "$binds" | while IFS= read -r spec; do
  [ -n "$spec" ] || continue
  src=${spec%%:*}
  dst=${spec#*:}
  [ "$dst" != "$spec" ] || dst=$src
  [ -e "$src" ] || { echo "run.sh: --bind source $src does not exist" >&2; exit 2; }
  if [ -d "$src" ]; then mkdir -p "$ROOT$dst"; else mkdir -p "$(dirname "$ROOT$dst")"; [ -e "$ROOT$dst" ] || : > "$ROOT$dst"; fi
  mount --bind "$src" "$ROOT$dst"
done
exec chroot "$ROOT" /usr/bin/env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
