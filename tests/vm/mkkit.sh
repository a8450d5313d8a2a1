#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# mkkit.sh BUILD_DIR
#
# Builds (once) the kit that tests/vm/run.sh boots: Debian 12's own kernel as
# an uncompressed vmlinux, its module tree (depmod'ed), and a busybox
# initramfs that loads the modules the VM tests need and mounts the host's /
# (read-only, over virtio-9p) under a tmpfs overlay.
#
# Everything lives in BUILD_DIR/vm-kit/. When the kit is complete (stamp file
# present and all parts exist) this is a no-op.
#
# Exit codes: 0 kit ready, 77 cannot be built here (not root, no qemu, no
# kernel package), anything else is a bug.

set -euo pipefail
shopt -s nullglob

log() { printf 'mkkit: %s\n' "$*" >&2; }
skip() { printf 'mkkit: SKIP: %s\n' "$*" >&2; exit 77; }
die() { printf 'mkkit: ERROR: %s\n' "$*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 BUILD_DIR"
BUILD_DIR=$1
[ -d "$BUILD_DIR" ] || die "no such build dir: $BUILD_DIR"
BUILD_DIR=$(cd "$BUILD_DIR" && pwd -P)
KIT=$BUILD_DIR/vm-kit
STAMP=$KIT/kit.stamp
KIT_FORMAT=2 # bump when the initramfs changes: cached kits are rebuilt

# Layout of a complete kit.
kit_complete() {
	[ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KIT_FORMAT" ] || return 1
	local kver
	kver=$(cat "$KIT/kernel-version" 2>/dev/null) || return 1
	[ -n "$kver" ] &&
	[ -s "$KIT/vmlinux" ] &&
	[ -s "$KIT/initramfs.cpio" ] &&
	[ -s "$KIT/root/lib/modules/$kver/modules.dep" ] &&
	[ -x /usr/bin/qemu-system-x86_64 ] &&
	[ -x /bin/busybox ]
}

if kit_complete; then
	log "kit complete in $KIT (kernel $(cat "$KIT/kernel-version")), nothing to do"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || skip "not root (apt-get and the VM need root)"

T0=$(date +%s.%N)

# Serialise concurrent kit builds for the same build dir (meson runs tests in
# parallel and each test calls us first).
mkdir -p "$KIT"
exec 9>"$KIT/.lock"
if ! flock -w 900 9; then
	die "timed out waiting for another mkkit.sh on $KIT"
fi
if kit_complete; then
	log "kit completed by a concurrent run, nothing to do"
	exit 0
fi

# ---------------------------------------------------------------- packages
APT_OPTS=(-o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
need_pkgs=()
for p in qemu-system-x86 busybox-static kmod; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		need_pkgs+=("$p")
done
apt_updated=0
apt_update_once() {
	[ $apt_updated -eq 1 ] && return 0
	log "apt-get update"
	apt-get "${APT_OPTS[@]}" update -qq >&2 || log "apt-get update failed (continuing with cached lists)"
	apt_updated=1
}
if [ ${#need_pkgs[@]} -gt 0 ]; then
	command -v apt-get >/dev/null || skip "no apt-get to install ${need_pkgs[*]}"
	apt_update_once
	log "apt-get install ${need_pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" install -y -q \
		--no-install-recommends "${need_pkgs[@]}" >&2 ||
		skip "cannot install ${need_pkgs[*]}"
fi
[ -x /usr/bin/qemu-system-x86_64 ] || skip "qemu-system-x86_64 not available"
[ -x /bin/busybox ] || skip "busybox (static) not available"
command -v depmod >/dev/null || skip "depmod (kmod) not available"
case $(/bin/busybox cpio --help 2>&1 || true) in
*"-o"*) ;;
*) skip "busybox cannot create cpio archives" ;;
esac

# ---------------------------------------------------------------- kernel
# Newest linux-image-<version>-amd64 that is a real (signed) image, not a
# meta package or a -unsigned/-dbg/-rt/-cloud flavour.
pick_kernel() {
	apt-cache search --names-only '^linux-image-.*-amd64$' 2>/dev/null |
		awk '{print $1}' |
		grep -Ev -- '-(unsigned|dbg|rt|cloud)(-amd64)?$' |
		grep -E '^linux-image-[0-9]+\.[0-9]+[.-][0-9]' |
		sed 's/^linux-image-//; s/-amd64$//' |
		sort -V | tail -n 1
}
kver_short=$(pick_kernel)
if [ -z "$kver_short" ]; then
	apt_update_once
	kver_short=$(pick_kernel)
fi
[ -n "$kver_short" ] || skip "no linux-image-*-amd64 package known to apt"
pkg=linux-image-$kver_short-amd64
kver=$kver_short-amd64
log "kernel package $pkg"

DL=$KIT/dl
mkdir -p "$DL"
debs=("$DL"/"$pkg"_*.deb)
if [ ${#debs[@]} -eq 0 ]; then
	# (-o APT::Sandbox::User=root: the download dir is not _apt's.)
APT_DL=(-o APT::Sandbox::User=root)
if ! (cd "$DL" && apt-get "${APT_OPTS[@]}" "${APT_DL[@]}" download "$pkg" >&2); then
		apt_update_once
		(cd "$DL" && apt-get "${APT_OPTS[@]}" "${APT_DL[@]}" download "$pkg" >&2) ||
			skip "cannot download $pkg"
	fi
	debs=("$DL"/"$pkg"_*.deb)
fi
[ ${#debs[@]} -ge 1 ] || skip "download of $pkg produced no .deb"
deb=${debs[-1]}

ROOT=$KIT/root
rm -rf "$ROOT"
mkdir -p "$ROOT"
log "dpkg -x $(basename "$deb")"
dpkg -x "$deb" "$ROOT"
[ -d "$ROOT/lib/modules/$kver" ] || die "$deb has no lib/modules/$kver"
[ -f "$ROOT/boot/vmlinuz-$kver" ] || die "$deb has no boot/vmlinuz-$kver"
log "depmod -b $ROOT $kver"
depmod -b "$ROOT" "$kver"

# ---------------------------------------------------------------- vmlinux
# The bzImage carries the kernel as a compressed payload; find its magic and
# decompress from there. Debian uses xz; lzma, zstd and gzip are tried too.
# A candidate is accepted when it decompresses to an ELF image.
extract_vmlinux() {
	local in=$1 out=$2 magic cmd off
	local -a tries=(
		'\xfd\x37\x7a\x58\x5a\x00|xz -dc --single-stream'
		'\x5d\x00\x00\x00|xz -dc --format=lzma --single-stream'
		'\x28\xb5\x2f\xfd|zstd -dc'
		'\x1f\x8b\x08|gzip -dc'
	)
	for t in "${tries[@]}"; do
		magic=${t%%|*}
		cmd=${t#*|}
		command -v "${cmd%% *}" >/dev/null || continue
		for off in $(LC_ALL=C grep -obUaP "$magic" "$in" | cut -d: -f1 | head -n 20); do
			tail -c +"$((off + 1))" "$in" | $cmd >"$out.tmp" 2>/dev/null || true
			if [ -s "$out.tmp" ] &&
				[ "$(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
				mv "$out.tmp" "$out"
				log "vmlinux: ${cmd%% *} payload at offset $off of $(basename "$in")"
				return 0
			fi
		done
	done
	rm -f "$out.tmp"
	return 1
}
extract_vmlinux "$ROOT/boot/vmlinuz-$kver" "$KIT/vmlinux" ||
	die "could not find a compressed ELF payload in vmlinuz-$kver"

# ---------------------------------------------------------------- initramfs
MODDIR=$ROOT/lib/modules/$kver
# Modules wanted in the guest, in the order asked for. Each is loaded after
# its dependencies (from modules.dep). Built-ins are skipped; the first four
# groups are required, the network ones are loaded when they exist.
REQUIRED_MODS="virtio_pci 9pnet 9pnet_virtio 9p overlay"
OPTIONAL_MODS="veth bridge br_netfilter nf_tables nft_chain_nat nft_nat nft_masq
nft_ct nft_reject_inet nft_fib_inet nft_fib_ipv4 nft_fib_ipv6 nft_meta_bridge
nft_reject_bridge nf_conntrack_bridge nft_compat"

norm() { tr - _ <<<"$1"; }

# Print, for each requested module, the modules.dep paths to insmod in
# dependency order (each path once): hard dependencies from modules.dep, and
# the "pre:"/"post:" soft dependencies from modules.softdep (names resolved
# through modules.alias, e.g. libcrc32c wants the crc32c crypto driver).
# Lines "builtin NAME" and "missing NAME" report the rest.
resolve_mods() {
	awk -v want="$*" -v dir="$MODDIR" '
	function modname(path,   n) {
		n = path; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n)
		gsub(/-/, "_", n); return n
	}
	# Soft dependency NAME: a module, or every module with that alias.
	function visit_name(name,   m, i, n, a) {
		m = name; gsub(/-/, "_", m)
		if (m in byname) { visit(byname[m]); return }
		n = split(alias[name], a, " ")
		for (i = 1; i <= n; i++) if (a[i] in byname) visit(byname[a[i]])
	}
	function visit(path,   i, n, d, m) {
		if ((path in done) || (path in onstack)) return
		onstack[path] = 1
		m = modname(path)
		n = split(pre[m], d, " ")
		for (i = 1; i <= n; i++) visit_name(d[i])
		n = split(deps[path], d, " ")
		for (i = 1; i <= n; i++) visit(d[i])
		done[path] = 1
		print "insmod " path
		n = split(post[m], d, " ")
		for (i = 1; i <= n; i++) visit_name(d[i])
	}
	BEGIN {
		f = dir "/modules.builtin"
		while ((getline line < f) > 0) builtin[modname(line)] = 1
		f = dir "/modules.alias"
		while ((getline line < f) > 0) {
			split(line, w, " ")
			if (w[1] == "alias") { m = w[3]; gsub(/-/, "_", m); alias[w[2]] = alias[w[2]] " " m }
		}
		f = dir "/modules.softdep"
		while ((getline line < f) > 0) {
			n = split(line, w, " ")
			if (w[1] != "softdep") continue
			m = w[2]; gsub(/-/, "_", m); kind = ""
			for (i = 3; i <= n; i++) {
				if (w[i] == "pre:" || w[i] == "post:") { kind = w[i]; continue }
				if (kind == "pre:") pre[m] = pre[m] " " w[i]
				else if (kind == "post:") post[m] = post[m] " " w[i]
			}
		}
		f = dir "/modules.dep"
		while ((getline line < f) > 0) {
			n = split(line, w, " ")
			p = w[1]; sub(/:$/, "", p)
			byname[modname(p)] = p
			deps[p] = ""
			for (i = 2; i <= n; i++) deps[p] = deps[p] " " w[i]
		}
		n = split(want, w, " ")
		for (i = 1; i <= n; i++) {
			m = w[i]; gsub(/-/, "_", m)
			if (m in byname) visit(byname[m])
			else if (m in builtin) print "builtin " m
			else print "missing " m
		}
	}'
}

STAGE=$KIT/initramfs.d
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,dev,proc,sys,lib/modules,newroot,lower,ovl,run}
cp /bin/busybox "$STAGE/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -sf busybox "$STAGE/bin/$a"
done

: >"$STAGE/modules.load"
for m in $REQUIRED_MODS $OPTIONAL_MODS; do
	case " $REQUIRED_MODS " in *" $m "*) req=1 ;; *) req=0 ;; esac
	while read -r what arg; do
		case $what in
		insmod)
			name=$(basename "$arg")
			name=${name%.xz}; name=${name%.zst}; name=${name%.gz}
			grep -qx "$name" "$STAGE/modules.load" && continue
			case $arg in
			*.xz) xz -dc "$MODDIR/$arg" >"$STAGE/lib/modules/$name" ;;
			*.zst) zstd -qdc "$MODDIR/$arg" >"$STAGE/lib/modules/$name" ;;
			*.gz) gzip -dc "$MODDIR/$arg" >"$STAGE/lib/modules/$name" ;;
			*) cp "$MODDIR/$arg" "$STAGE/lib/modules/$name" ;;
			esac
			echo "$name" >>"$STAGE/modules.load"
			;;
		builtin) log "module $arg is built in" ;;
		missing)
			[ $req -eq 1 ] && die "required module $arg is neither a module nor built in"
			log "module $arg not available, skipped"
			;;
		esac
	done < <(resolve_mods "$m")
done
log "initramfs modules: $(tr '\n' ' ' <"$STAGE/modules.load")"
echo "$kver" >"$STAGE/kernel-version"

cat >"$STAGE/init" <<'EOF'
#!/bin/sh
# cubby VM test kit, stage 1 (initramfs). See tests/vm/run.sh.
PATH=/bin
export PATH
fail() {
	echo "vm-init: FATAL: $*"
	echo o >/proc/sysrq-trigger
	sleep 10
	exit 1
}
mount -t proc proc /proc || fail "mount proc"
mark() { read -r up _ </proc/uptime || read -r up _ </newroot/proc/uptime; echo "vm-init: $up $*"; }
mark start
mount -t sysfs sys /sys || fail "mount sys"
mount -t devtmpfs dev /dev || fail "mount devtmpfs"
echo 1 >/proc/sys/kernel/sysrq
while read -r m; do
	insmod "/lib/modules/$m" || echo "vm-init: insmod $m failed"
done </modules.load
mark modules loaded
P9="trans=virtio,version=9p2000.L,msize=512000"
mount -t 9p -o "$P9,ro,cache=loose" hostroot /lower || fail "mount 9p hostroot"
mount -t tmpfs -o mode=0755 ovl /ovl || fail "mount overlay tmpfs"
mkdir -p /ovl/upper /ovl/work
mount -t overlay -o lowerdir=/lower,upperdir=/ovl/upper,workdir=/ovl/work,xino=off,index=off,metacopy=off overlay /newroot ||
	fail "mount overlay"
for d in proc sys dev; do
	mkdir -p "/newroot/$d"
	mount --move "/$d" "/newroot/$d" || fail "move /$d"
done
mount -t tmpfs -o mode=1777,nosuid,nodev tmp /newroot/tmp || fail "mount /tmp"
mount -t tmpfs -o mode=0755,nosuid,nodev run /newroot/run || fail "mount /run"
mkdir -p /newroot/dev/pts /newroot/dev/shm /newroot/run/cubby-vm
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /newroot/dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev shm /newroot/dev/shm
mount -t 9p -o "$P9,cache=none" vmio /newroot/run/cubby-vm || fail "mount 9p vmio"
# Host directories below the guest's own /tmp or /run (a checkout in /tmp):
# a copy-on-write view of each at the same path (run.sh lists them).
i=0
while read -r p; do
	[ -n "$p" ] && [ -d "/lower$p" ] || continue
	i=$((i + 1))
	mkdir -p "/ovl/pt$i/u" "/ovl/pt$i/w" "/newroot$p"
	mount -t overlay -o "lowerdir=/lower$p,upperdir=/ovl/pt$i/u,workdir=/ovl/pt$i/w,xino=off,index=off,metacopy=off" \
		overlay "/newroot$p" || fail "pass through $p"
done </newroot/run/cubby-vm/passthru
mount -t cgroup2 -o nsdelegate cgroup2 /newroot/sys/fs/cgroup || fail "mount cgroup2"
ctl=
for c in cpuset cpu io memory pids; do
	case " $(cat /newroot/sys/fs/cgroup/cgroup.controllers) " in
	*" $c "*) ctl="$ctl +$c" ;;
	esac
done
echo "$ctl" >/newroot/sys/fs/cgroup/cgroup.subtree_control ||
	fail "enable cgroup controllers:$ctl"
# The guest's kernel modules, for modprobe after switch_root.
kver=$(cat /kernel-version)
# (From /lower: the kit may sit below a directory that is a tmpfs in the guest.)
kit=$(cat /newroot/run/cubby-vm/kit-dir 2>/dev/null)
if [ -n "$kit" ] && [ -d "/lower$kit/root/lib/modules/$kver" ]; then
	mkdir -p "/newroot/lib/modules/$kver" &&
		mount --bind "/lower$kit/root/lib/modules/$kver" "/newroot/lib/modules/$kver"
fi
[ -f /newroot/run/cubby-vm/stage2 ] || fail "no stage2 in the vmio share"
mark switch_root
exec switch_root /newroot /bin/sh /run/cubby-vm/stage2
EOF
chmod 0755 "$STAGE/init"

(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort | /bin/busybox cpio -o -H newc -R 0:0 2>/dev/null) \
	>"$KIT/initramfs.cpio.tmp"
mv "$KIT/initramfs.cpio.tmp" "$KIT/initramfs.cpio"
rm -rf "$STAGE"
echo "$kver" >"$KIT/kernel-version"

# The .deb is no longer needed: the extracted tree is.
rm -rf "$DL"
echo "$KIT_FORMAT" >"$STAMP"
T1=$(date +%s.%N)
log "kit ready in $KIT (kernel $kver), built in $(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", b - a}') s"
