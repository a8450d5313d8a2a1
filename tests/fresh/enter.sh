#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# enter.sh ROOT COMMAND: run COMMAND (a bash command line) as root inside
# the Debian root ROOT, in private mount, pid, uts and ipc namespaces.
# pivot_root, not chroot: unshare(CLONE_NEWUSER) fails inside a chroot,
# and cubby needs it. The root gets a fresh /proc, /sys read-only with the
# host's /sys/fs/cgroup (cubby's cgroups go below this process's own, as
# the host's tests do), a tmpfs /dev with the basic nodes and a devpts
# instance of its own, and a tmpfs /run. The network namespace is the
# caller's: apt-get inside reaches the package archive; everything cubby
# itself puts on the network goes into namespaces the scripts make.
# Everything mounted here goes away with the mount namespace.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: enter.sh ROOT COMMAND" >&2; exit 2; }
ROOT=$(readlink -f "$1")
[ -x "$ROOT/bin/bash" ] || { echo "enter.sh: $ROOT is not a root filesystem" >&2; exit 2; }
export FRESH_ROOT=$ROOT FRESH_CMD=$2
exec unshare --mount --pid --uts --ipc --fork --propagation private -- /bin/bash -euo pipefail -c '
R=$FRESH_ROOT
mount --bind "$R" "$R"
mount -t proc proc "$R/proc"
mount --rbind /sys "$R/sys"
mount -o remount,bind,ro "$R/sys"
mount -t tmpfs -o mode=0755,nosuid tmpfs "$R/dev"
for n in "null 1 3" "zero 1 5" "full 1 7" "random 1 8" "urandom 1 9" "tty 5 0"; do
	set -- $n
	mknod -m 0666 "$R/dev/$1" c "$2" "$3"
done
# /dev/fuse as a Debian host has it (devtmpfs), for the overlay tests that
# serve a FUSE lower
[ -c /dev/fuse ] && mknod -m 0666 "$R/dev/fuse" c 10 229
# /dev/log, which a Debian host has (the socket of journald or rsyslog):
# the unit tests that read what cubby logs bind a socket of their own over
# it. Nothing listens here; a log line sent to it is lost, as with none.
# (No apostrophe in these comments: this script is one quoted string.)
: >"$R/dev/log"
mkdir "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
ln -s /proc/self/fd "$R/dev/fd"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$R/run"
mkdir -p "$R/run/lock"
cp -L /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
hostname cubby-fresh
cd "$R"
mkdir -p .oldroot
pivot_root . .oldroot
umount -l /.oldroot
rmdir /.oldroot
cd /
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root TERM=dumb LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive /bin/bash -c "$FRESH_CMD"
'
