#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mkroot.sh BUILD_DIR [systemd|cluster]
#
# Builds (once) the disk that tests/vm/systemd.sh boots: a real Debian 12
# userland with systemd as PID 1, for the kernel of the VM kit (mkkit.sh,
# built first). Everything lives in BUILD_DIR/vm-kit/systemd/:
#   root.img        ext4 image of `debootstrap --variant=minbase bookworm`
#                   plus systemd, udev, dbus, logind (libpam-systemd),
#                   openssh-server, nftables and cubby's run-time libraries,
#                   from the archive this machine's apt uses; the kit's
#                   module tree is in its /lib/modules. The guest boots it
#                   with QEMU's snapshot=on: the image itself never changes.
#   initramfs.cpio  busybox: loads virtio_blk and ext4, mounts /dev/vda and
#                   switch_root's into /sbin/init (systemd).
# The image holds no cubby and no test: the guest's cubby-vmtest.service
# runs /run/cubby-vm/stage from the run's own 9p share (systemd.sh).
#
# The flavour `cluster` (tests/vm/systemd.sh cluster) builds the same root plus the
# real servers and clients of a login cluster into BUILD_DIR/vm-kit/cluster/:
# slapd (preseeded: dc=cubby,dc=test, admin password "cubby-test"),
# ldap-utils, sssd-ldap with libnss-sss and libpam-sss, nfs-kernel-server
# and nfs-common. The kernel's NFS modules (nfsd, nfs, nfsv4, nfsv3,
# sunrpc, lockd, grace, auth_rpcgss) come with the kit's module tree; the
# build checks that they are there.
#
# No-op when root.stamp matches. Delete vm-kit/systemd/ (vm-kit/cluster/) to
# rebuild.
# Exit: 0 ready, 77 cannot be built here (not root, no debootstrap, no
# archive), anything else is a bug.

set -euo pipefail

log() { printf 'mkroot: %s\n' "$*" >&2; }
skip() { printf 'mkroot: SKIP: %s\n' "$*" >&2; exit 77; }
die() { printf 'mkroot: ERROR: %s\n' "$*" >&2; exit 1; }

[ $# -eq 1 ] || [ $# -eq 2 ] || die "usage: $0 BUILD_DIR [systemd|cluster]"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
BUILD_DIR=$(cd "$1" && pwd -P) || die "no such build dir: $1"
KIT=$BUILD_DIR/vm-kit
SD=$KIT/systemd
STAMP=$SD/root.stamp
ROOT_FORMAT=2 # bump when the root's contents change: cached roots are rebuilt
IMG_MB=2048
HOSTNAME_=cubby-sd
FLAVOUR=${2:-systemd}

# The packages on top of minbase. cubby's own run-time libraries are listed
# so that the .deb installs with dpkg -i in a guest that has no network.
PKGS=systemd,systemd-sysv,udev,dbus,libpam-systemd,openssh-server,openssh-client,nftables,iproute2,procps,kmod,libcap-ng0,libmnl0,libnl-3-200,libnl-route-3-200,libnftables1,libjansson4
case $FLAVOUR in
systemd) ;;
cluster)
	SD=$KIT/cluster
	STAMP=$SD/root.stamp
	ROOT_FORMAT=c1 # bump when the cluster root's contents change
	IMG_MB=3072
	HOSTNAME_=cubby-cl
	PKGS=$PKGS,slapd,ldap-utils,sssd-ldap,sssd-tools,libnss-sss,libpam-sss,nfs-kernel-server,nfs-common
	;;
*) die "unknown flavour $FLAVOUR: systemd or cluster" ;;
esac

complete() {
	[ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$ROOT_FORMAT $(cat "$KIT/kernel-version" 2>/dev/null)" ] &&
	[ -s "$SD/root.img" ] && [ -s "$SD/initramfs.cpio" ]
}

[ "$(id -u)" -eq 0 ] || skip "not root"
"$HERE/mkkit.sh" "$BUILD_DIR" || {
	rc=$?
	[ $rc -eq 77 ] && skip "the VM kit cannot be built here"
	die "mkkit.sh failed ($rc)"
}
complete && { log "root complete in $SD, nothing to do"; exit 0; }

mkdir -p "$SD"
exec 9>"$SD/.lock"
flock -w 900 9 || die "timed out waiting for another mkroot.sh on $SD"
complete && { log "root completed by a concurrent run"; exit 0; }

for p in debootstrap mkfs.ext4 modprobe xz; do
	command -v "$p" >/dev/null || skip "$p is not installed (tools/install-deps test)"
done
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null)
[ -n "$mirror" ] || skip "no Debian archive in this machine's apt sources"

T0=$(date +%s.%N)
kver=$(cat "$KIT/kernel-version")
W=$SD/work
R=$W/root
rm -rf "$W" "$SD/root.img" "$SD/initramfs.cpio" "$STAMP"
mkdir -p "$W"
cleanup() { rm -rf --one-file-system "$W"; }
trap cleanup EXIT

# ------------------------------------------------------------------ root
log "debootstrap --variant=minbase --include=... bookworm ($mirror)"
if ! debootstrap --variant=minbase --include="$PKGS" bookworm "$R" "$mirror" >"$W/debootstrap.log" 2>&1; then
	tail -n 5 "$W/debootstrap.log" >&2
	grep -qE 'Failed getting release file|Temporary failure resolving|Could not connect|Connection refused' \
		"$W/debootstrap.log" && skip "the package archive $mirror cannot be reached"
	die "debootstrap failed (log above)"
fi
T1=$(date +%s.%N)

echo "$HOSTNAME_" >"$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$HOSTNAME_" >"$R/etc/hosts"
# Root is mounted read-write by the initramfs; nothing else to mount.
: >"$R/etc/fstab"
# A machine id of its own: an empty one is a "first boot", whose
# systemd-firstboot would wait for answers on the console.
od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$R/etc/machine-id" && echo >>"$R/etc/machine-id"
# The kernel's modules: udev and modprobe load the rest from here.
mkdir -p "$R/lib/modules"
cp -a "$KIT/root/lib/modules/$kver" "$R/lib/modules/"
# An admin who uses nftables has nftables.service enabled: Debian's
# /etc/nftables.conf begins with `flush ruleset`, the case cubby.service's
# ReloadPropagatedFrom= is for.
mkdir -p "$R/etc/systemd/system/sysinit.target.wants" "$R/etc/systemd/system/multi-user.target.wants"
ln -sf /lib/systemd/system/nftables.service "$R/etc/systemd/system/sysinit.target.wants/nftables.service"
# Timers and jobs that have no business in a test guest.
for u in apt-daily.timer apt-daily-upgrade.timer fstrim.timer e2scrub_all.timer e2scrub_reap.service \
	systemd-timesyncd.service getty@tty1.service; do
	ln -sf /dev/null "$R/etc/systemd/system/$u"
done
# The run's test: from the 9p share "vmio" that systemd.sh gives each run.
cat >"$R/etc/systemd/system/cubby-vmtest.service" <<'EOF'
[Unit]
Description=cubby VM test (the stage script from the run's 9p share)
After=multi-user.target
Wants=multi-user.target

[Service]
# simple: the boot finishes while the test runs (is-system-running works)
Type=simple
ExecStart=/usr/local/sbin/cubby-vmtest
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/cubby-vmtest.service "$R/etc/systemd/system/multi-user.target.wants/cubby-vmtest.service"
cat >"$R/usr/local/sbin/cubby-vmtest" <<'EOF'
#!/bin/sh
# Mounts the run's 9p share and runs its stage script; powers off when
# there is none (nothing to do).
IO=/run/cubby-vm
mkdir -p $IO
modprobe 9pnet_virtio && modprobe 9p &&
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none vmio $IO ||
	{ echo "cubby-vmtest: cannot mount the vmio share"; systemctl poweroff; exit 1; }
[ -x $IO/stage ] || { echo "cubby-vmtest: no stage script"; systemctl poweroff; exit 1; }
exec $IO/stage
EOF
chmod 0755 "$R/usr/local/sbin/cubby-vmtest"
# cluster: slapd's database for dc=cubby,dc=test, made by slapd's own
# postinst from preseeded answers (debootstrap configured it with the
# defaults). In private mount, pid and network namespaces with a fresh /proc
# and a policy-rc.d that forbids starting anything: nothing of it can reach
# the host's network or outlive the step.
cluster_root() {
	local m r=${R:?} w=${W:?}
	for m in nfsd nfs nfsv4 nfsv3 sunrpc lockd grace auth_rpcgss; do
		modprobe -d "$KIT/root" -S "$kver" --show-depends "$m" >/dev/null 2>&1 ||
			die "the kit's kernel has no module $m (NFS)"
	done
	printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
	chmod 0755 "$r/usr/sbin/policy-rc.d"
	printf '%s\n' \
		'slapd slapd/no_configuration boolean false' \
		'slapd slapd/domain string cubby.test' \
		'slapd shared/organization string cubby' \
		'slapd slapd/password1 password cubby-test' \
		'slapd slapd/password2 password cubby-test' \
		'slapd slapd/purge_database boolean true' \
		'slapd slapd/move_old_database boolean true' >"$r/root/slapd.preseed"
	unshare --mount --pid --net --fork sh -c '
		mount -t proc proc "$1/proc" || exit 1
		chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
			sh -c "debconf-set-selections /root/slapd.preseed && dpkg-reconfigure -f noninteractive slapd"
		rc=$?
		umount "$1/proc"
		exit $rc' sh "$r" >"$w/slapd.log" 2>&1 ||
		{ tail -n 20 "$w/slapd.log" >&2; die "configuring slapd for dc=cubby,dc=test failed"; }
	rm -f "$r/usr/sbin/policy-rc.d" "$r/root/slapd.preseed"
	rm -rf "$r"/var/backups/*.ldapdb
	grep -qs 'dc=cubby,dc=test' "$r"/etc/ldap/slapd.d/cn=config/olcDatabase=*mdb.ldif ||
		die "slapd has no database for dc=cubby,dc=test"
	grep -q '^passwd:.*sss' "$r/etc/nsswitch.conf" || die "libnss-sss did not add sss to nsswitch.conf"
}
if [ "$FLAVOUR" = cluster ]; then cluster_root; fi
rm -f "$R"/var/cache/apt/archives/*.deb

log "mkfs.ext4 -d (${IMG_MB} MiB, sparse)"
truncate -s "${IMG_MB}M" "$W/root.img"
mkfs.ext4 -q -F -L "$HOSTNAME_" -E lazy_itable_init=1 -O ^has_journal -d "$R" "$W/root.img" >"$W/mkfs.log" 2>&1 ||
	{ cat "$W/mkfs.log" >&2; die "mkfs.ext4 -d failed"; }
mv "$W/root.img" "$SD/root.img"

# ------------------------------------------------------------------ initramfs
S=$W/initramfs
mkdir -p "$S"/{bin,dev,proc,sys,newroot,lib/modules}
cp /bin/busybox "$S/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -sf busybox "$S/bin/$a"
done
: >"$S/modules.load"
for m in virtio_blk ext4; do
	modprobe -d "$KIT/root" -S "$kver" --show-depends "$m" | while read -r what path; do
		[ "$what" = insmod ] || continue
		name=$(basename "$path"); name=${name%.xz}; name=${name%.zst}
		grep -qx "$name" "$S/modules.load" && continue
		case $path in
		*.xz) xz -dc "$path" >"$S/lib/modules/$name" ;;
		*.zst) zstd -qdc "$path" >"$S/lib/modules/$name" ;;
		*) cp "$path" "$S/lib/modules/$name" ;;
		esac
		echo "$name" >>"$S/modules.load"
	done
done
cat >"$S/init" <<'EOF'
#!/bin/sh
# cubby systemd VM: mount the root disk and hand over to systemd.
PATH=/bin
fail() { echo "sd-init: FATAL: $*"; echo 1 >/proc/sys/kernel/sysrq; echo o >/proc/sysrq-trigger; sleep 10; }
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
while read -r m; do insmod "/lib/modules/$m" 2>/dev/null; done </modules.load
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
mount -t ext4 -o rw /dev/vda /newroot || fail "mount /dev/vda"
umount /sys /proc
mount --move /dev /newroot/dev || umount /dev
exec switch_root /newroot /sbin/init
EOF
chmod 0755 "$S/init"
(cd "$S" && find . -mindepth 1 | LC_ALL=C sort | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) \
	>"$SD/initramfs.cpio"

echo "$ROOT_FORMAT $kver" >"$STAMP"
T2=$(date +%s.%N)
log "root ready in $SD: debootstrap $(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", b - a}') s, total $(awk -v a="$T0" -v b="$T2" 'BEGIN{printf "%.1f", b - a}') s; image $(du -m "$SD/root.img" | cut -f1) MiB used"
