#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vm-systemd (suite systemd): cubby on a real systemd host. A QEMU guest
# boots Debian's kernel into a real Debian 12 userland (tests/vm/mkroot.sh:
# debootstrap minbase plus systemd, udev, logind, openssh-server, nftables)
# with systemd as PID 1 and a pure cgroup v2 hierarchy. cubby goes in as the
# .deb that `dpkg-buildpackage` makes from this tree; the stock PAM stacks
# (pam_systemd included) get pam_cubby as their last session line, and
# cubby.service is enabled. systemd-guest.sh then runs the named checks in
# the guest, reboots it once, and runs the rest (its header lists them).
#
# `systemd.sh cluster` is vm-cluster (suite cluster): the same host side for
# a login node of a cluster, against real servers. Its image (mkroot.sh,
# flavour cluster) runs slapd (users and groups in LDAP), sssd (the node's
# NSS and PAM view of them) and the kernel NFS server, which exports the
# homes with root_squash; the node mounts them at /home over NFSv4. A second
# node is a second network and mount namespace of the same guest with its
# own NFS mount, cubby run and state directories and policy.
# cluster-guest.sh runs the named checks (its header lists them); the guest
# does not reboot.
#
# Host side (this script): root, the kit and the flavour's root image
# (cached in BUILD/vm-kit/FLAVOUR/), the .deb (BUILD/FLAVOUR-deb/), then one
# QEMU run whose disk is the cached image with snapshot=on (the guest writes
# to a scratch overlay that survives a reboot and is dropped at the end).
# Prints the guest's output, the boot and run times, and exits with its
# result: 0, 1 a check failed, 77 cannot run here, 124 timeout, 99 no
# result.
#
# Environment: CUBBY_SRC, CUBBY_BUILD (from meson); for systemd
# CUBBY_SD_TIMEOUT (seconds for the VM, default 900), CUBBY_SD_VERBOSE=1
# (print the guest console), CUBBY_SD_GUEST (another guest script, to try
# things); for cluster the same as CUBBY_CL_* (timeout default 600).

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
SRC=${CUBBY_SRC:-$(cd "$HERE/../.." && pwd -P)}
BUILD=${CUBBY_BUILD:?CUBBY_BUILD is not set (run through meson test)}
BUILD=$(cd "$BUILD" && pwd -P) || exit 99
FLAVOUR=${1:-systemd}
case $FLAVOUR in
systemd) NAME=vm-systemd TIMEOUT=${CUBBY_SD_TIMEOUT:-900} VERBOSE=${CUBBY_SD_VERBOSE:-0}
	GUEST=${CUBBY_SD_GUEST:-$HERE/systemd-guest.sh} PHASE="two boots" REBOOT=() ;;
cluster) NAME=vm-cluster TIMEOUT=${CUBBY_CL_TIMEOUT:-600} VERBOSE=${CUBBY_CL_VERBOSE:-0}
	GUEST=${CUBBY_CL_GUEST:-$HERE/cluster-guest.sh} PHASE="boot and checks" REBOOT=(-no-reboot) ;;
*) echo "usage: systemd.sh [systemd|cluster]"; exit 99 ;;
esac
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b - a}'; }
skip() { echo "SKIP: $*"; exit 77; }
T0=$(now)

[ "$(id -u)" -eq 0 ] || skip "the VM tests need root"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (tools/install-deps test)"
for p in dpkg-buildpackage dh fakeroot git; do
	command -v "$p" >/dev/null || skip "$p is not installed (tools/install-deps test)"
done

"$HERE/mkroot.sh" "$BUILD" "$FLAVOUR"
case $? in
0) ;;
77) skip "the $FLAVOUR root cannot be built here" ;;
*) echo "mkroot.sh failed"; exit 99 ;;
esac
KIT=$BUILD/vm-kit
T1=$(now)

# ------------------------------------------------------------ the .deb
# From this checkout as it is (tracked and untracked files, not the ignored
# build dirs): the tree under test, as the other suites test the build.
DEB=$BUILD/$FLAVOUR-deb
rm -rf "$DEB"
mkdir -p "$DEB/src"
(cd "$SRC" && git ls-files -z -co --exclude-standard) |
	(cd "$SRC" && tar --null --no-recursion -T - -cf -) | tar -C "$DEB/src" -xf - ||
	{ echo "copying the source tree failed"; exit 99; }
(cd "$DEB/src" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$DEB/build.log" 2>&1 ||
	{ tail -n 30 "$DEB/build.log"; echo "dpkg-buildpackage failed"; exit 99; }
deb=$(ls "$DEB"/cubby_*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || { echo "no cubby_*.deb built"; exit 99; }
T2=$(now)

# ------------------------------------------------------------ the run
io=$(mktemp -d "${TMPDIR:-/tmp}/cubby-$FLAVOUR-vm.XXXXXXXX")
qemu_pid=
cleanup() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -TERM "$qemu_pid" 2>/dev/null
		sleep 1
		kill -KILL "$qemu_pid" 2>/dev/null
		wait "$qemu_pid" 2>/dev/null
	fi
	rm -rf "$io"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mkdir "$io/share"
cp "$deb" "$io/share/cubby.deb"
cp "$GUEST" "$io/share/guest.sh"
cp "$HERE/guest-lib.sh" "$io/share/guest-lib.sh"
# The host's timings for the guest's report.
printf 'kit+root %s s, deb %s s\n' "$(dt "$T0" "$T1")" "$(dt "$T1" "$T2")" >"$io/share/host-times"
cat >"$io/share/stage" <<'EOF'
#!/bin/sh
exec /bin/bash /run/cubby-vm/guest.sh >>/run/cubby-vm/output 2>&1 </dev/null
EOF
chmod 0755 "$io/share/stage"

bios=()
[ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)
# The guest powers off at the end, which ends QEMU; systemd-guest.sh
# reboots once on the way (no -no-reboot there). The disk is the cached
# image, snapshot=on.
qemu=(
	qemu-system-x86_64
	-M q35 "${bios[@]}" -accel tcg -cpu max -m 1536 -smp 2 "${REBOOT[@]}"
	-nodefaults -no-user-config -display none -nic none
	-chardev "file,id=con,path=$io/console.log" -serial chardev:con
	-kernel "$KIT/vmlinux" -initrd "$KIT/$FLAVOUR/initramfs.cpio"
	-append "console=ttyS0 rdinit=/init panic=-1 tsc=reliable no_timer_check 8250.nr_uarts=1 quiet loglevel=3 systemd.show_status=error"
	-drive "file=$KIT/$FLAVOUR/root.img,format=raw,if=virtio,snapshot=on,cache=unsafe"
	-fsdev "local,id=vmio,path=$io/share,security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=vmio,mount_tag=vmio
)
"${qemu[@]}" </dev/null >"$io/qemu.log" 2>&1 &
qemu_pid=$!
deadline=$(awk -v t="$(now)" -v s="$TIMEOUT" 'BEGIN{printf "%.3f", t + s}')
timed_out=0
while kill -0 "$qemu_pid" 2>/dev/null; do
	if awk -v n="$(now)" -v d="$deadline" 'BEGIN{exit !(n > d)}'; then
		timed_out=1
		break
	fi
	sleep 0.2
done
[ $timed_out -eq 1 ] || { wait "$qemu_pid"; qemu_pid=; }
T3=$(now)

[ -f "$io/share/output" ] && cat "$io/share/output"
if [ $timed_out -eq 1 ] || [ ! -f "$io/share/rc" ] || [ "$VERBOSE" = 1 ]; then
	echo "---- guest console (last 150 lines)"
	tail -n 150 "$io/console.log" 2>/dev/null
	[ -s "$io/qemu.log" ] && { echo "---- qemu"; cat "$io/qemu.log"; }
	echo "----"
fi
echo "$NAME: kit+root $(dt "$T0" "$T1") s, deb $(dt "$T1" "$T2") s, VM $(dt "$T2" "$T3") s ($PHASE), total $(dt "$T0" "$T3") s"
[ $timed_out -eq 0 ] || { echo "$NAME: TIMEOUT after $TIMEOUT s"; exit 124; }
[ -f "$io/share/rc" ] || { echo "$NAME: the guest gave no result"; exit 99; }
exit "$(cat "$io/share/rc")"
