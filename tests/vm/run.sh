#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# run.sh [OPTIONS] -- COMMAND [ARG]...
#
# Runs COMMAND as root inside a throwaway QEMU guest that boots Debian 12's
# kernel with a cgroup v2 hierarchy (+cpu +memory +pids, +cpuset +io when
# available, enabled in the root's cgroup.subtree_control). The guest's root
# is the host's / (read-only virtio-9p) under a tmpfs overlay, so the guest
# sees the same source and build trees and may write anywhere (e.g. `meson
# install`) without touching the host. /tmp and /run are fresh tmpfs in the
# guest. COMMAND runs with cwd = the host's cwd, stdin /dev/null, a plain
# PATH, HOME=/root. Its stdout+stderr are printed on the host afterwards and
# run.sh exits with its exit code.
#
# Options:
#   --build-dir DIR  meson build dir holding vm-kit/ (default: $CUBBY_VM_BUILD_DIR,
#                    else the cwd if it has vm-kit/); the kit is built there with
#                    mkkit.sh when it is missing.
#   --timeout S      kill the VM after S seconds, exit 124 (default 120)
#   --mem MB         guest memory (default 1024)
#   --smp N          guest CPUs (default 1)
#   -e VAR=VALUE     set an environment variable for COMMAND (repeatable)
#   --append ARGS    extra kernel command line (e.g. "loglevel=7" to debug)
#   -v, --verbose    always print the guest console log (stderr)
#
# Exit: COMMAND's exit code; 124 timeout; 77 cannot run here (not root, no
# kit); 99 the VM itself failed (no result came back: console log printed).
# Timings are printed on stderr as "vm: ..." lines.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
die() { printf 'vm: ERROR: %s\n' "$*" >&2; exit 99; }
skip() { printf 'vm: SKIP: %s\n' "$*" >&2; exit 77; }
usage() { sed -n '4,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b - a}'; }

build_dir=${CUBBY_VM_BUILD_DIR:-}
timeout=120
mem=1024
smp=1
verbose=0
append=
envs=()
while [ $# -gt 0 ]; do
	case $1 in
	--build-dir) build_dir=${2:?}; shift 2 ;;
	--timeout) timeout=${2:?}; shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--smp) smp=${2:?}; shift 2 ;;
	-e) envs+=("${2:?}"); shift 2 ;;
	--append) append=${2?}; shift 2 ;;
	-v|--verbose) verbose=1; shift ;;
	-h|--help) usage ;;
	--) shift; break ;;
	*) echo "vm: unknown option $1" >&2; usage ;;
	esac
done
[ $# -ge 1 ] || usage
[[ $timeout =~ ^[0-9]+$ ]] && [ "$timeout" -gt 0 ] || die "--timeout wants seconds"
[[ $mem =~ ^[0-9]+$ ]] || die "--mem wants MB"
[[ $smp =~ ^[0-9]+$ ]] || die "--smp wants a count"
for e in "${envs[@]}"; do
	[[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "-e wants VAR=VALUE, got: $e"
done

[ "$(id -u)" -eq 0 ] || skip "not root"
if [ -z "$build_dir" ] && [ -d vm-kit ]; then
	build_dir=.
fi
[ -n "$build_dir" ] || die "no --build-dir (and no vm-kit/ in the cwd)"
"$HERE/mkkit.sh" "$build_dir" >&2 || {
	rc=$?
	[ $rc -eq 77 ] && skip "the VM kit cannot be built here"
	die "mkkit.sh failed ($rc)"
}
KIT=$(cd "$build_dir" && pwd -P)/vm-kit

cwd=$(pwd -P)
# /tmp and /run are the guest's own: a cwd below them (a checkout in /tmp,
# as CI may use) is passed through as a copy-on-write view of the top
# directory below them (source and build dir together).
passthru=
case $cwd/ in
/proc/*|/sys/*|/dev/*|/run/cubby-vm/*)
	die "cwd $cwd is not visible in the guest (/proc, /sys, /dev are the guest's own)" ;;
/tmp/*|/run/*)
	rest=${cwd#/*/}
	top=${cwd%%/"$rest"}/${rest%%/*}
	passthru=$top ;;
esac

qemu_pid=
io=
cleanup() {
	if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
		kill -TERM "$qemu_pid" 2>/dev/null || true
		for _ in $(seq 30); do
			kill -0 "$qemu_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	qemu_pid=
	[ -n "$io" ] && rm -rf "$io"
	io=
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

io=$(mktemp -d "${TMPDIR:-/tmp}/cubby-vm.XXXXXXXX")
mkdir "$io/share"
share=$io/share

# Single-quote for sh: every byte is safe inside '...' except ' itself.
shq() { local s=${1//\'/\'\\\'\'}; printf "'%s'" "$s"; }

{
	echo '#!/bin/sh'
	echo '# cubby VM test kit, stage 2: runs as pid 1 after switch_root.'
	echo 'IO=/run/cubby-vm'
	echo 'read up _ </proc/uptime; echo "$up" >$IO/t-start'
	echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	echo 'export HOME=/root LANG=C.UTF-8 TERM=dumb USER=root LOGNAME=root SHELL=/bin/sh'
	for e in "${envs[@]}"; do
		echo "export ${e%%=*}=$(shq "${e#*=}")"
	done
	echo 'hostname cubby-vm 2>/dev/null'
	echo 'ln -sf /proc/self/mounts /etc/mtab 2>/dev/null'
	printf 'cd %s || { echo "vm: cannot cd to %s in the guest" >$IO/output; echo 125 >$IO/rc; echo o >/proc/sysrq-trigger; sleep 30; }\n' \
		"$(shq "$cwd")" "$cwd"
	printf '(exec'
	for a in "$@"; do printf ' %s' "$(shq "$a")"; done
	echo ') </dev/null >$IO/output 2>&1'
	echo 'rc=$?'
	echo 'read up _ </proc/uptime; echo "$up" >$IO/t-end'
	echo 'echo $rc >$IO/rc.tmp && mv $IO/rc.tmp $IO/rc'
	echo 'sync'
	echo 'echo o >/proc/sysrq-trigger'
	echo 'sleep 30'
} >"$share/stage2"
chmod 0755 "$share/stage2"
echo "$passthru" >"$share/passthru"
echo "$KIT" >"$share/kit-dir"

bios=()
[ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)

qemu=(
	qemu-system-x86_64
	-M q35 "${bios[@]}" -accel tcg -cpu max -m "$mem" -smp "$smp"
	-nodefaults -no-user-config -display none -nic none -no-reboot
	-chardev "file,id=con,path=$io/console.log" -serial chardev:con
	-kernel "$KIT/vmlinux" -initrd "$KIT/initramfs.cpio"
	-append "console=ttyS0 quiet loglevel=3 panic=-1 tsc=reliable no_timer_check 8250.nr_uarts=1 rdinit=/init $append"
	-fsdev local,id=hostroot,path=/,readonly=on,security_model=none,multidevs=remap
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=vmio,path=$share,security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=vmio,mount_tag=vmio
)

t0=$(now)
"${qemu[@]}" </dev/null >"$io/qemu.log" 2>&1 &
qemu_pid=$!

deadline=$(awk -v t="$t0" -v s="$timeout" 'BEGIN{printf "%.3f", t + s}')
t_cmd=
timed_out=0
while kill -0 "$qemu_pid" 2>/dev/null; do
	if [ -z "$t_cmd" ] && [ -e "$share/t-start" ]; then
		t_cmd=$(now)
	fi
	if awk -v n="$(now)" -v d="$deadline" 'BEGIN{exit !(n > d)}'; then
		timed_out=1
		break
	fi
	sleep 0.05
done
if [ $timed_out -eq 0 ]; then
	qrc=0
	wait "$qemu_pid" || qrc=$?
	qemu_pid=
fi
t1=$(now)
if [ -z "$t_cmd" ] && [ -e "$share/t-start" ]; then t_cmd=$t1; fi

show_console() {
	echo "vm: ---- guest console ----" >&2
	cat "$io/console.log" >&2 2>/dev/null || true
	if [ -s "$io/qemu.log" ]; then
		echo "vm: ---- qemu ----" >&2
		cat "$io/qemu.log" >&2
	fi
	echo "vm: ----" >&2
}

[ -f "$share/output" ] && cat "$share/output"

g_start=$(cat "$share/t-start" 2>/dev/null || echo)
g_end=$(cat "$share/t-end" 2>/dev/null || echo)
timing="vm: wall $(dt "$t0" "$t1") s"
[ -n "$t_cmd" ] && timing+=", boot-to-command $(dt "$t0" "$t_cmd") s (guest kernel uptime $g_start s)"
[ -n "$g_start" ] && [ -n "$g_end" ] && timing+=", command $(dt "$g_start" "$g_end") s"

if [ $timed_out -eq 1 ]; then
	echo "$timing" >&2
	show_console
	echo "vm: TIMEOUT: killed the VM after $timeout s" >&2
	exit 124
fi
if [ ! -f "$share/rc" ]; then
	echo "$timing" >&2
	show_console
	die "the guest powered off without a result (qemu exit $qrc)"
fi
rc=$(cat "$share/rc")
[ $verbose -eq 1 ] && show_console
echo "$timing, exit $rc" >&2
exit "$rc"
