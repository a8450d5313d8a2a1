#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vm-cgroup2-container (suite cgroup2): container = user on a pure cgroup v2
# host, inside a throwaway QEMU guest (tests/vm/run.sh).
#
# On the host (no CUBBY_VM_GUEST): checks it can run (root, the build), then
# boots the VM with this same script as the guest command and returns its
# exit code (77 = skipped, with the reason).
#
# In the guest (CUBBY_VM_GUEST=1): installs the build there (setuid helper:
# guest only), makes a user with container = user, linger = always and
# cpu/memory/pids limits, and checks on the kernel's own files:
#  (a) the first login (a "keeper" that stays) creates the container: the
#      record names a cubby-init running as the user, in cubby/u<uid>/ct/init;
#      the keeper's shell is in cubby/u<uid>/ct/s<id>; the limits (cpu.max,
#      memory.max, pids.max) are on u<uid>, none on ct/ (which has no
#      memory cgroup of its own: u<uid> does not enable memory for its
#      children), and u<uid>'s pids.current counts the init and the keeper;
#  (b) a second, concurrent login joins it: the same pid and network
#      namespace as the keeper, it sees the keeper's sleep, its shell is in a
#      second ct/s<id> (it reads 0::/s<id>: the container's cgroup namespace
#      is rooted at ct/), which is gone once it logged out (ct/ stays);
#  (c) after the keeper's logout the container lingers (linger = always):
#      ct/init only, the record, the init alive;
#  (d) `cubbyctl stop USER` leaves nothing: no process of the user, no
#      record, no cgroup below cubby/ but the anchor's, and `cubbyctl gc`
#      finds nothing.
#
# Environment (from tests/vm/meson.build): CUBBY_BUILD, CUBBY_PREFIX,
# CUBBY_PAMDIR, CUBBY_HELPER, CUBBY_CTL.

set -uo pipefail

for v in CUBBY_BUILD CUBBY_PREFIX CUBBY_PAMDIR CUBBY_HELPER CUBBY_CTL; do
	if [ -z "${!v:-}" ]; then
		echo "$v is not set (run through meson test)" >&2
		exit 99
	fi
done

#### Host side: boot the VM with this script. ################################
if [ -z "${CUBBY_VM_GUEST:-}" ]; then
	HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: the VM tests need root"; exit 77; }
	for f in "$CUBBY_BUILD/helper/cubby-shell" "$CUBBY_BUILD/helper/cubby-init" \
		"$CUBBY_BUILD/pam_module/pam_cubby.so" "$CUBBY_BUILD/cubbyctl/cubbyctl"; do
		[ -e "$f" ] || { echo "SKIP: $f is not built"; exit 77; }
	done
	cd "$CUBBY_BUILD" || exit 99
	t0=$(date +%s.%N)
	"$HERE/run.sh" --build-dir "$CUBBY_BUILD" --timeout "${CUBBY_VM_TIMEOUT:-300}" \
		-e CUBBY_VM_GUEST=1 -e "CUBBY_BUILD=$CUBBY_BUILD" -e "CUBBY_PREFIX=$CUBBY_PREFIX" \
		-e "CUBBY_BUILTIN_RUNDIR=${CUBBY_BUILTIN_RUNDIR:-/run/cubby}" \
		-e "CUBBY_PAMDIR=$CUBBY_PAMDIR" -e "CUBBY_HELPER=$CUBBY_HELPER" \
		-e "CUBBY_CTL=$CUBBY_CTL" \
		-- /bin/bash "$HERE/cgroup2-container.sh"
	rc=$?
	echo "vm-cgroup2-container: exit $rc after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}') s (boot + test)"
	exit $rc
fi

#### Guest side. #############################################################
CG=/sys/fs/cgroup
U=cbv2ct
G=cbv2ctgrp
POLICY=/etc/cubby-v2ct/cubby.conf
RUN=/run/cubby-v2ct
W=/srv/cubby-v2ct
FIFO=$W/keeper.fifo
keeper_pid=

uptime_s() { local u _; read -r u _ </proc/uptime; echo "$u"; }
T0=$(uptime_s)
ok() { echo "ok: [+$(awk -v a="$T0" -v b="$(uptime_s)" 'BEGIN{printf "%.1f", b - a}') s] $*"; }

diag() {
	echo "---- diagnostics ----"
	for f in "$W"/*.out; do [ -e "$f" ] && { echo "== $f"; cat "$f"; }; done
	echo "== cgroups under $CG/cubby"
	find "$CG/cubby" -type d 2>/dev/null | while read -r d; do echo "$d: $(tr '\n' ' ' <"$d/cgroup.procs")"; done
	echo "== records"; ls -l "$RUN/containers" 2>/dev/null; cat "$RUN"/containers/u* 2>/dev/null
	echo "== dmesg (tail)"; dmesg 2>/dev/null | tail -n 15
	echo "----"
}
stop_keeper() {
	[ -n "$keeper_pid" ] || return 0
	timeout 5 sh -c 'echo stop >"$1"' sh "$FIFO" 2>/dev/null
	wait_for 50 "! kill -0 $keeper_pid 2>/dev/null" || kill -TERM "$keeper_pid" 2>/dev/null
	wait "$keeper_pid" 2>/dev/null
	keeper_rc=$?
	keeper_pid=
}
fail() {
	echo "FAIL: $*"
	diag
	stop_keeper
	exit 1
}
wait_for() { # wait_for TENTHS CONDITION
	local n=$1 i=0
	while ! eval "$2"; do
		i=$((i + 1))
		[ $i -lt "$n" ] || return 1
		sleep 0.1
	done
}
field() { sed -n "s/^$1=//p" "$RUN/containers/u$uid" 2>/dev/null; }
cgof() { cat "/proc/$1/cgroup" 2>/dev/null; }

[ "$(stat -f -c %T $CG)" = cgroup2fs ] || fail "$CG is not cgroup2"
grep -q '^cgroup ' /proc/mounts && fail "a cgroup v1 hierarchy is mounted"

# 1. Install, user, policy, PAM.
meson install -C "$CUBBY_BUILD" --no-rebuild --quiet >/tmp/install.log 2>&1 ||
	{ cat /tmp/install.log; fail "meson install"; }
[ "$(stat -c '%u %a' "$CUBBY_HELPER")" = "0 4755" ] || fail "$CUBBY_HELPER is not setuid root"
groupadd "$G" && useradd -m -s /bin/bash -g "$G" "$U" || fail "useradd"
uid=$(id -u "$U")
UD=$CG/cubby/u$uid
mkdir -p "${POLICY%/*}" "$W"
mkdir -p -m 0700 /var/lib/cubby-v2ct && mount -t tmpfs -o mode=0700 cubby-v2ct /var/lib/cubby-v2ct ||
	fail "tmpfs on /var/lib/cubby-v2ct"
cat >"$POLICY" <<EOF
[global]
admin_group = sudo
state_dir = /var/lib/cubby-v2ct
run_dir = $RUN
cgroup_parent = /cubby
[default]
sandbox = no
[group $G]
sandbox = yes
container = user
linger = always
cpu = 0.5
memory = 64M
pids = 64
EOF
chmod 0644 "$POLICY"
for svc in su su-l; do
	cat >"/etc/pam.d/$svc" <<EOF
auth     sufficient pam_rootok.so
account  required   pam_permit.so
session  required   pam_unix.so
session  required   $CUBBY_PAMDIR/pam_cubby.so config=$POLICY
EOF
done
mkfifo -m 0666 "$FIFO" || fail "mkfifo"
ok "installed; user $U ($uid), container = user, linger = always, cpu 0.5, memory 64M, pids 64"

# (a) the first login creates the container and stays
t=$(uptime_s)
su - "$U" -c "echo \"@@K \$(readlink /proc/self/ns/pid) \$(readlink /proc/self/ns/net)\"; read -r x <$FIFO; echo keeper-down" \
	</dev/null >"$W/keeper.out" 2>&1 &
keeper_pid=$!
wait_for 300 "grep -q '^@@K' '$W/keeper.out' || ! kill -0 $keeper_pid" || fail "keeper: no output after 30 s"
kill -0 "$keeper_pid" 2>/dev/null || fail "keeper ended early: $(cat "$W/keeper.out")"
t_first=$(awk -v a="$t" -v b="$(uptime_s)" 'BEGIN{printf "%.2f", b - a}')
[ -f "$RUN/containers/u$uid" ] || fail "no container record $RUN/containers/u$uid"
init=$(field init_pid)
[ "$(cat "/proc/$init/comm" 2>/dev/null)" = cubby-init ] || fail "init_pid $init is not cubby-init"
[ "$(stat -c %u "/proc/$init")" = "$uid" ] || fail "cubby-init does not run as $U"
[ "$(cgof "$init")" = "0::/cubby/u$uid/ct/init" ] || fail "cubby-init is in $(cgof "$init")"
read -r _ k_pidns k_netns <<<"$(grep '^@@K' "$W/keeper.out")"
[ "$k_pidns" = "$(readlink "/proc/$init/ns/pid")" ] || fail "the keeper is not in the init's pid namespace"
kdir=$(find "$UD/ct" -mindepth 1 -maxdepth 1 -type d -name 's*')
[ "$(echo "$kdir" | grep -c .)" = 1 ] || fail "expected one ct/s<id>, found: $kdir"
kprocs=$(cat "$kdir/cgroup.procs")
[ -n "$kprocs" ] || fail "the keeper's $kdir is empty"
top=$(find "$UD" -mindepth 1 -maxdepth 1 -type d -printf '%f ')
[ "$top" = "ct " ] || fail "u$uid holds [$top], not only ct/"
[ "$(cat "$UD/cpu.max")" = "50000 100000" ] || fail "u$uid cpu.max: $(cat "$UD/cpu.max")"
[ "$(cat "$UD/memory.max")" = 67108864 ] || fail "u$uid memory.max: $(cat "$UD/memory.max")"
[ "$(cat "$UD/pids.max")" = 64 ] || fail "u$uid pids.max: $(cat "$UD/pids.max")"
for k in cpu.max pids.max; do
	case $(cat "$UD/ct/$k") in max|"max 100000") ;; *) fail "ct/$k has a limit of its own: $(cat "$UD/ct/$k")" ;; esac
done
# memory is charged to u<uid>: no memory cgroup below it
[ ! -e "$UD/ct/memory.max" ] || fail "ct/ has a memory cgroup of its own (memory.max $(cat "$UD/ct/memory.max"))"
case " $(cat "$UD/cgroup.subtree_control") " in *" memory "*) fail "u$uid enables memory for its children: $(cat "$UD/cgroup.subtree_control")" ;; esac
pc=$(cat "$UD/pids.current")
[ "$pc" -ge 2 ] || fail "u$uid pids.current is $pc: the init and the keeper are not charged to the user"
ok "(a) first login (${t_first} s): cubby-init $init in /cubby/u$uid/ct/init, keeper in ${kdir#"$CG"}; limits on u$uid only (pids.current $pc)"

# (b) a second login joins it
t=$(uptime_s)
su - "$U" -c 'echo "@@J $(readlink /proc/self/ns/pid) $(readlink /proc/self/ns/net) $(cat /proc/self/cgroup)"; echo "@@P $(ps -eo comm= | sort | tr "\n" " ")"' \
	</dev/null >"$W/join.out" 2>&1 || fail "second login: exit $?: $(cat "$W/join.out")"
t_join=$(awk -v a="$t" -v b="$(uptime_s)" 'BEGIN{printf "%.2f", b - a}')
read -r _ j_pidns j_netns j_cg <<<"$(grep '^@@J' "$W/join.out")"
[ "$j_pidns" = "$k_pidns" ] || fail "second login: pid namespace $j_pidns, the keeper's $k_pidns"
[ "$j_netns" = "$k_netns" ] || fail "second login: net namespace $j_netns, the keeper's $k_netns"
grep '^@@P' "$W/join.out" | grep -qw cubby-init || fail "second login does not see cubby-init: $(cat "$W/join.out")"
# the container's cgroup namespace is rooted at ct/: a session reads /s<id>
case $j_cg in 0::/s[0-9a-f]*) ;; *) fail "second login: /proc/self/cgroup reads '$j_cg', not ct/s<id>" ;; esac
[ "0::/${kdir##*/}" != "$j_cg" ] || fail "second login ran in the keeper's session cgroup"
wait_for 30 "[ \"\$(find '$UD/ct' -mindepth 1 -maxdepth 1 -type d -name 's*' | wc -l)\" = 1 ]" ||
	fail "the second login's ct/s<id> is left: $(find "$UD/ct" -mindepth 1 -type d)"
[ "$(field init_pid)" = "$init" ] || fail "the join changed the record's init"
ok "(b) second login (${t_join} s) joined: same pid and net namespace, its own ct/${j_cg##*/}, removed at logout"

# (c) the keeper logs out: the container lingers
stop_keeper
[ "${keeper_rc:-1}" -eq 0 ] || fail "keeper su exited ${keeper_rc:-?}: $(cat "$W/keeper.out")"
wait_for 30 "[ -z \"\$(find '$UD/ct' -mindepth 1 -maxdepth 1 -type d -name 's*')\" ]" ||
	fail "the keeper's ct/s<id> is left after logout"
kill -0 "$init" 2>/dev/null || fail "cubby-init died with the last logout (linger = always)"
[ "$(cat "$UD/ct/init/cgroup.procs")" = "$init" ] || fail "ct/init holds: $(cat "$UD/ct/init/cgroup.procs")"
ok "(c) after the last logout the container lingers: ct/init = $init"

# (d) stop leaves nothing
t=$(uptime_s)
o=$("$CUBBY_CTL" --config "$POLICY" stop "$U" 2>&1) || fail "cubbyctl stop: $o"
t_stop=$(awk -v a="$t" -v b="$(uptime_s)" 'BEGIN{printf "%.2f", b - a}')
wait_for 30 "! kill -0 $init 2>/dev/null" || fail "cubby-init $init alive after stop"
procs=
for s in /proc/[0-9]*/status; do
	[ "$(awk '$1 == "Uid:" {print $2}' "$s" 2>/dev/null)" = "$uid" ] && procs+=" ${s#/proc/}"
done
[ -z "$procs" ] || fail "processes of $U left after stop: $procs"
[ ! -e "$RUN/containers/u$uid" ] || fail "the container record is left"
[ ! -e "$UD" ] || fail "$UD left after stop: $(find "$UD" -type d)"
gc=$("$CUBBY_CTL" --config "$POLICY" gc 2>&1) || fail "cubbyctl gc: $gc"
case $gc in *"gc: 0 sessions reaped"*) ;; *) fail "cubbyctl gc found something: $gc" ;; esac
case $gc in *unmounted*|*released*|*container*) fail "cubbyctl gc found something: $gc" ;; esac
left=$(find "$CG/cubby" -mindepth 1 -type d ! -path "$CG/cubby/anchor" 2>/dev/null)
[ -z "$left" ] || fail "cgroups left under $CG/cubby: $left"
ok "(d) cubbyctl stop in ${t_stop} s ('$o'): no process, record or cgroup left; gc: '$(echo "$gc" | tr '\n' ' ')'"
echo "PASS: container = user on cgroup v2 (guest time $(awk -v a="$T0" -v b="$(uptime_s)" 'BEGIN{printf "%.1f", b - a}') s)"
exit 0
