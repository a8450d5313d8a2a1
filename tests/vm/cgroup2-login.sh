#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vm-cgroup2-login (suite cgroup2): a real `su -` login into a cubby sandbox
# on a pure cgroup v2 host, inside a throwaway QEMU guest (tests/vm/run.sh).
#
# On the host (no CUBBY_VM_GUEST): checks it can run (root, the build), then
# boots the VM with this same script as the guest command and returns its
# exit code (77 = skipped, with the reason).
#
# In the guest (CUBBY_VM_GUEST=1, as root, / is a tmpfs overlay over the
# host's read-only /): installs the build there (setuid helper: guest only),
# makes a test user in a sandboxed group, writes a policy and a PAM stack for
# su and su-l, and proves on the kernel's own cgroup v2 numbers:
#  (a) attach: the sandbox's PID 1 is in cubby/u<uid>/s<id> from its first
#      instruction (its cgroup namespace is rooted there: /proc/self/cgroup
#      reads 0::/ inside), and so is its supervisor (charged to the user);
#      the limits are on u<uid>
#      (cpu.max, memory.max, memory.swap.max, pids.max) before the shell runs,
#      and the session dir has no memory cgroup of its own (u<uid> enables
#      cpu and pids for its children, not memory: memory is the user's);
#  (b) cpu = 0.2: a CPU hog gets ~20% of a CPU (cpu.stat usage_usec over
#      wall time, sampled while the hog is held running by the test) and is
#      throttled (nr_throttled > 0);
#  (c) memory = 16M: a 64M hog is OOM-killed, memory.events counts it, su and
#      the helper's supervisor survive and return the shell's status;
#  (d) pids = 32: a fork loop stops at the limit (pids.events max > 0) and
#      the session ends cleanly;
#  (e) teardown: the opener writes cgroup.kill at logout, u<uid> is removed
#      once the user's last session ends, no process, record or cgroup is
#      left, and `cubbyctl gc` finds nothing.
# A "keeper" session of the same user stays open from (a) to (e), so the
# user cgroup (and its hierarchical counters) outlives the short sessions,
# as it does for a real user with two logins.
#
# Environment (from tests/vm/meson.build): CUBBY_BUILD, CUBBY_PREFIX,
# CUBBY_PAMDIR, CUBBY_HELPER, CUBBY_CTL, CUBBY_TOOL (the cg2-tool binary).

set -uo pipefail

for v in CUBBY_BUILD CUBBY_PREFIX CUBBY_PAMDIR CUBBY_HELPER CUBBY_CTL CUBBY_TOOL; do
	if [ -z "${!v:-}" ]; then
		echo "$v is not set (run through meson test)" >&2
		exit 99
	fi
done

#### Host side: boot the VM with this script. ################################
if [ -z "${CUBBY_VM_GUEST:-}" ]; then
	HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: the VM tests need root"; exit 77; }
	for f in "$CUBBY_BUILD/helper/cubby-shell" "$CUBBY_BUILD/pam_module/pam_cubby.so" \
		"$CUBBY_BUILD/cubbyctl/cubbyctl" "$CUBBY_TOOL"; do
		[ -e "$f" ] || { echo "SKIP: $f is not built"; exit 77; }
	done
	# The guest's /tmp and /run are its own: the cwd must be elsewhere.
	cd "$CUBBY_BUILD" || exit 99
	t0=$(date +%s.%N)
	"$HERE/run.sh" --build-dir "$CUBBY_BUILD" --timeout "${CUBBY_VM_TIMEOUT:-300}" \
		-e CUBBY_VM_GUEST=1 -e "CUBBY_BUILD=$CUBBY_BUILD" -e "CUBBY_PREFIX=$CUBBY_PREFIX" \
		-e "CUBBY_BUILTIN_RUNDIR=${CUBBY_BUILTIN_RUNDIR:-/run/cubby}" \
		-e "CUBBY_PAMDIR=$CUBBY_PAMDIR" -e "CUBBY_HELPER=$CUBBY_HELPER" \
		-e "CUBBY_CTL=$CUBBY_CTL" -e "CUBBY_TOOL=$CUBBY_TOOL" \
		-- /bin/bash "$HERE/cgroup2-login.sh"
	rc=$?
	echo "vm-cgroup2-login: exit $rc after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}') s (kit + boot + test)"
	exit $rc
fi

#### Guest side. #############################################################
CG=/sys/fs/cgroup
U=cbv2user
G=cbv2students
POLICY=/etc/cubby-v2test/cubby.conf
SESSIONS=${CUBBY_BUILTIN_RUNDIR:-/run/cubby}/sessions  # the build's -Drundir + /sessions
W=/srv/cubby-v2test                 # scratch, visible read-only inside the sandbox
FIFO=$W/keeper.fifo
keeper_pid=

uptime_s() { local u _; read -r u _ </proc/uptime; echo "$u"; }
T0=$(uptime_s)
ok() { echo "ok: [+$(awk -v a="$T0" -v b="$(uptime_s)" 'BEGIN{printf "%.1f", b - a}') s] $*"; }
fig() { echo "figure: $*"; }

diag() {
	echo "---- diagnostics ----"
	for f in "$W"/*.out; do [ -e "$f" ] && { echo "== $f"; cat "$f"; }; done
	echo "== cgroups under $CG/cubby"
	find "$CG/cubby" -maxdepth 3 -type d 2>/dev/null
	for d in "$CG"/cubby/u*; do
		[ -d "$d" ] || continue
		for k in cgroup.procs cpu.max memory.max memory.events pids.max pids.events; do
			echo "$d/$k: $(tr '\n' ' ' <"$d/$k" 2>/dev/null)"
		done
	done
	echo "== records"; ls -lR "$SESSIONS" 2>/dev/null
	echo "== dmesg (tail)"; dmesg 2>/dev/null | tail -n 25
	echo "----"
}
fail() {
	echo "FAIL: $*"
	diag
	stop_keeper
	exit 1
}

stop_keeper() {
	[ -n "$keeper_pid" ] || return 0
	# the keeper blocks opening the FIFO for reading; opening it for
	# writing releases it (bounded: the keeper may be gone already)
	timeout 5 sh -c 'echo stop >"$1"' sh "$FIFO" 2>/dev/null
	wait_for 50 "! kill -0 $keeper_pid 2>/dev/null" || kill -TERM "$keeper_pid" 2>/dev/null
	wait "$keeper_pid" 2>/dev/null
	keeper_rc=$?
	keeper_pid=
}

# wait_for TENTHS CONDITION: poll every 0.1 s, at most TENTHS times.
wait_for() {
	local n=$1 i=0
	shift
	while ! eval "$1"; do
		i=$((i + 1))
		[ $i -lt "$n" ] || return 1
		sleep 0.1
	done
}

kv() { awk -v k="$2" '$1 == k {print $2}' "$1" 2>/dev/null; }

# 0. The guest is the environment this test needs.
[ "$(stat -f -c %T $CG)" = cgroup2fs ] || fail "$CG is not cgroup2"
has_ctrls() { # has_ctrls FILE: cpu, memory and pids all listed
	local c
	for c in cpu memory pids; do
		case " $(cat "$1") " in *" $c "*) ;; *) return 1 ;; esac
	done
}
has_ctrls $CG/cgroup.subtree_control || fail "cpu memory pids not enabled in $CG/cgroup.subtree_control"
grep -qx '0::/' /proc/self/cgroup || fail "the test is not in the root cgroup"
ok "guest: kernel $(uname -r), cgroup2 with $(cat $CG/cgroup.subtree_control)"

# 1. Install the build (setuid root: only ever in this throwaway overlay).
t=$(uptime_s)
meson install -C "$CUBBY_BUILD" --no-rebuild --quiet >"/tmp/install.log" 2>&1 ||
	{ cat /tmp/install.log; fail "meson install"; }
[ "$(stat -c '%u %a' "$CUBBY_HELPER")" = "0 4755" ] ||
	fail "$CUBBY_HELPER is not setuid root: $(stat -c '%U %a' "$CUBBY_HELPER")"
[ -f "$CUBBY_PAMDIR/pam_cubby.so" ] || fail "$CUBBY_PAMDIR/pam_cubby.so not installed"
[ -x "$CUBBY_CTL" ] || fail "$CUBBY_CTL not installed"
ok "meson install into $CUBBY_PREFIX in $(awk -v a="$t" -v b="$(uptime_s)" 'BEGIN{printf "%.1f", b - a}') s; helper $(stat -c '%U %a' "$CUBBY_HELPER")"

# 2. User, policy, PAM stacks for su and su-l (`su -` uses su-l).
groupadd "$G" || fail "groupadd"
useradd -m -s /bin/bash -g "$G" "$U" || fail "useradd"
uid=$(id -u "$U")
UD=$CG/cubby/u$uid
mkdir -p "${POLICY%/*}" "$W"
# the workload tool from a place the sandbox sees: the build dir may be
# below /tmp (a checkout there), which is fresh inside a sandbox
cp "$CUBBY_TOOL" "$W/cg2-tool" && chmod 755 "$W/cg2-tool" || fail "cannot copy $CUBBY_TOOL"
CUBBY_TOOL=$W/cg2-tool
# The guest's / is an overlayfs, which the kernel refuses as the upper layer
# of cubby's home overlay ("not supported as upperdir"): give state_dir a
# tmpfs, as a real host's /var/lib would be a plain file system.
mkdir -p -m 0700 /var/lib/cubby-vm && mount -t tmpfs -o mode=0700 cubby-vm-state /var/lib/cubby-vm ||
	fail "tmpfs on /var/lib/cubby-vm"
# run_dir: not the brief's /run/cubby-vm, which is the harness's 9p result
# share in the guest (tests/vm/run.sh); locks do not belong there.
cat >"$POLICY" <<EOF
[global]
admin_group = sudo
state_dir = /var/lib/cubby-vm
run_dir = /run/cubby-v2test
cgroup_parent = /cubby
[default]
sandbox = no
[group $G]
sandbox = yes
cpu = 0.2
memory = 16M
swap = 0
pids = 32
EOF
chown root:root "$POLICY" && chmod 0644 "$POLICY"
"$CUBBY_CTL" --config "$POLICY" explain "$U" >"$W/explain.out" 2>&1 ||
	fail "cubbyctl explain $U: $(cat "$W/explain.out")"
for svc in su su-l; do
	cat >"/etc/pam.d/$svc" <<EOF
auth     sufficient pam_rootok.so
account  required   pam_permit.so
session  required   pam_unix.so
session  required   $CUBBY_PAMDIR/pam_cubby.so config=$POLICY
EOF
done
mkfifo -m 0666 "$FIFO" || fail "mkfifo"
ok "user $U (uid $uid) in group $G; policy $POLICY; /etc/pam.d/su and su-l end with pam_cubby"

# login NAME CMD: su - into the sandbox, output in $W/NAME.out, rc in $?.
login() { su - "$U" -c "$2" </dev/null >"$W/$1.out" 2>&1; }
sdirs() { find "$UD" -mindepth 1 -maxdepth 1 -type d -name 's*' 2>/dev/null; }

# (a) the keeper session: attach before the shell runs, limits in place.
# `read` is a bash builtin, so the cgroup printed is the shell's own.
strace -o "$W/keeper.strace" -e trace=openat,write -e signal=none \
	su - "$U" -c "read -r cg </proc/self/cgroup; echo \"cg=\$cg pid=\$\$\"; read -r x <$FIFO; echo keeper-down" \
	</dev/null >"$W/keeper.out" 2>&1 &
keeper_pid=$!
wait_for 300 "grep -q '^cg=' '$W/keeper.out' || ! kill -0 $keeper_pid" || fail "keeper: no output after 30 s"
kill -0 "$keeper_pid" 2>/dev/null || fail "keeper login ended early: $(cat "$W/keeper.out")"
line=$(grep '^cg=' "$W/keeper.out")
[ "$line" = "cg=0::/ pid=1" ] || fail "inside the sandbox: '$line', want 'cg=0::/ pid=1'"
ok "inside: the shell is PID 1 and its cgroup namespace is rooted at its cgroup ($line)"

ks=$(sdirs)
[ "$(echo "$ks" | grep -c .)" -eq 1 ] || fail "want one session dir under $UD, have: $ks"
sid=${ks##*/s}
procs=$(cat "$ks/cgroup.procs")
pid1=
for p in $procs; do
	if grep -qE '^NSpid:[[:space:]]+[0-9]+[[:space:]]+1$' "/proc/$p/status" 2>/dev/null; then pid1=$p; fi
done
[ -n "$pid1" ] || fail "no sandbox PID 1 among $ks/cgroup.procs ($procs)"
hostcg=$(cat "/proc/$pid1/cgroup")
[ "$hostcg" = "0::/cubby/u$uid/s$sid" ] || fail "host view of the sandbox's cgroup: $hostcg"
sup=$(awk '$1 == "PPid:" {print $2}' "/proc/$pid1/status")
supcg=$(cat "/proc/$sup/cgroup")
[ "$supcg" = "0::/cubby/u$uid/s$sid" ] ||
	fail "the supervisor ($sup) is in $supcg, not the session's cgroup (its memory would not be the user's)"
[ "$(readlink "/proc/$pid1/ns/cgroup")" != "$(readlink /proc/self/ns/cgroup)" ] ||
	fail "the sandbox shares the host's cgroup namespace"
[ "$(awk '$1 == "Uid:" {print $2}' "/proc/$sup/status")" = "$uid" ] ||
	fail "the supervisor does not run as the user"
ok "outside: sandbox PID 1 is host pid $pid1 in $hostcg (own cgroup ns); supervisor $sup charged in $supcg"

want_limits="cpu.max=20000 100000;memory.max=16777216;memory.swap.max=0;pids.max=32"
have_limits="cpu.max=$(cat "$UD/cpu.max");memory.max=$(cat "$UD/memory.max");memory.swap.max=$(cat "$UD/memory.swap.max");pids.max=$(cat "$UD/pids.max")"
[ "$have_limits" = "$want_limits" ] || fail "limits on $UD: $have_limits, want $want_limits"
for k in cpu.max pids.max; do
	read -r v _ <"$ks/$k"
	[ "$v" = max ] || fail "$ks/$k is $(cat "$ks/$k"): limits belong on the user level"
done
# memory: charged to u$uid, the session has no memory cgroup of its own
# (u$uid enables cpu and pids for its children, not memory)
[ ! -e "$ks/memory.max" ] || fail "$ks has a memory cgroup of its own (memory.max $(cat "$ks/memory.max"))"
sub=" $(cat "$UD/cgroup.subtree_control") "
case $sub in *" cpu "*) ;; *) fail "$UD/cgroup.subtree_control lacks cpu:$sub" ;; esac
case $sub in *" pids "*) ;; *) fail "$UD/cgroup.subtree_control lacks pids:$sub" ;; esac
case $sub in *" memory "*) fail "$UD/cgroup.subtree_control enables memory for the sessions:$sub" ;; esac
ok "limits on u$uid: ${have_limits//;/, }; session dir unlimited, no memory cgroup of its own"

rec=$(grep -l "^id=$sid\$" "$SESSIONS"/u*/* 2>/dev/null)
[ -n "$rec" ] || fail "no record for session $sid in $SESSIONS"
grep -qx "cgroup=v2:[0-9]*:$ks" "$rec" || fail "record $rec does not name $ks: $(grep ^cgroup= "$rec")"
[ "$(stat -c %u "$rec")" = 0 ] && [ $((0$(stat -c %a "$rec") & 022)) -eq 0 ] || fail "record $rec is not root-owned or is writable by others"
ok "record $rec (root, $(stat -c %a "$rec")) names $(grep ^cgroup= "$rec")"

# (b) cpu: the spin session burns CPU until the test has its sample (a
# stop file), so it cannot end (and take its cgroup along) before then,
# however slow the emulated guest is. The sample is taken on the cgroup's
# own counter: from the hog's start until 500 ms more CPU were used.
thr0=$(kv "$UD/cpu.stat" nr_throttled)
STOP=$W/spin.stop
rm -f "$STOP"
login spin "echo spin-start; $CUBBY_TOOL spin 60 $STOP" &
spin_pid=$!
spin_dir() { # sets ss: the spin session's dir, once its shell started the hog
	grep -q spin-start "$W/spin.out" || return 1
	ss=$(sdirs | grep -v "/s$sid\$")
	[ -n "$ss" ] && [ "$(echo "$ss" | grep -c .)" -eq 1 ] && [ "$(kv "$ss/cpu.stat" usage_usec)" -gt 0 ] 2>/dev/null
}
wait_for 600 "spin_dir || ! kill -0 $spin_pid" || fail "spin: no session using CPU after 60 s"
kill -0 "$spin_pid" 2>/dev/null || fail "spin login ended before the sample: $(cat "$W/spin.out")"
u0=$(kv "$ss/cpu.stat" usage_usec); w0=$(uptime_s)
want=$((u0 + 500000))
wait_for 500 "u1=\$(kv '$ss/cpu.stat' usage_usec); [ \"\${u1:-0}\" -ge $want ] || ! kill -0 $spin_pid" ||
	fail "spin: 500 ms of CPU not used in 50 s (usage_usec $u0 -> ${u1:-?})"
w1=$(uptime_s)
kill -0 "$spin_pid" 2>/dev/null || fail "spin login ended during the sample: $(cat "$W/spin.out")"
touch "$STOP"
wait "$spin_pid"; rc=$?
[ $rc -eq 0 ] || fail "spin login exited $rc: $(cat "$W/spin.out")"
[ -n "$u0" ] && [ -n "$u1" ] || fail "no usage_usec in $ss/cpu.stat"
ratio=$(awk -v a="$u0" -v b="$u1" -v s="$w0" -v e="$w1" 'BEGIN{printf "%.3f", (b - a) / 1e6 / (e - s)}')
thr1=$(kv "$UD/cpu.stat" nr_throttled)
thr_us=$(kv "$UD/cpu.stat" throttled_usec)
self=$(grep '^spin cpu_ms' "$W/spin.out")
fig "cpu: session usage $(((u1 - u0) / 1000)) ms over $(awk -v s="$w0" -v e="$w1" 'BEGIN{printf "%.0f", (e - s) * 1000}') ms wall = $ratio CPU (limit 0.2); u$uid nr_throttled $thr0 -> $thr1, throttled_usec $thr_us; hog's own view: $self"
awk -v r="$ratio" 'BEGIN{exit !(r > 0.05 && r < 0.35)}' ||
	fail "cpu ratio $ratio not in (0.05, 0.35) for cpu = 0.2"
[ "${thr1:-0}" -gt "${thr0:-0}" ] || fail "nr_throttled did not grow ($thr0 -> $thr1)"
ok "cpu = 0.2 holds: $ratio CPU, throttled $((thr1 - thr0)) times"

# (c) memory: a 64M hog in a 16M budget is OOM-killed; su and the
# supervisor survive and report the shell's own status (3).
oom0=$(kv "$UD/memory.events" oom_kill)
login hog "$CUBBY_TOOL hog 64; echo hog-rc=\$?; exit 3"
rc=$?
oom1=$(kv "$UD/memory.events" oom_kill)
hogrc=$(sed -n 's/^hog-rc=//p' "$W/hog.out")
fig "memory: hog exit $hogrc (137 = SIGKILL), su exit $rc, u$uid memory.events oom_kill ${oom0:-?} -> ${oom1:-?}, oom $(kv "$UD/memory.events" oom), max $(kv "$UD/memory.events" max), memory.peak $(cat "$UD/memory.peak" 2>/dev/null || echo n/a)"
[ "$hogrc" = 137 ] || fail "the 64M hog was not killed by SIGKILL: $(cat "$W/hog.out")"
[ $rc -eq 3 ] || fail "su exited $rc, want the shell's 3 (su or the supervisor was hit)"
[ "${oom1:-0}" -gt "${oom0:-0}" ] || fail "memory.events oom_kill did not count the kill"
kill -0 "$keeper_pid" 2>/dev/null && [ -e "/proc/$pid1" ] || fail "the OOM kill took the keeper session too"
dmesg 2>/dev/null | grep -q 'oom-kill' && fig "memory: kernel log: $(dmesg | grep -m1 -o 'oom-kill:.*' | cut -c1-160)"
ok "memory = 16M holds: hog killed (137), oom_kill counted, su returned the shell's status 3"

# (d) pids: a fork loop stops at the limit; the session still ends cleanly.
pe0=$(kv "$UD/pids.events" max)
login forks "$CUBBY_TOOL forks 64; echo forks-rc=\$?"
rc=$?
pe1=$(kv "$UD/pids.events" max)
line=$(grep '^forks ok=' "$W/forks.out")
n=$(sed -n 's/^forks ok=\([0-9]*\).*/\1/p' "$W/forks.out")
fig "pids: '$line', u$uid pids.events max ${pe0:-?} -> ${pe1:-?}, pids.peak $(cat "$UD/pids.peak" 2>/dev/null || echo n/a), su exit $rc"
[ $rc -eq 0 ] || fail "forks login exited $rc: $(cat "$W/forks.out")"
grep -qx 'forks-rc=0' "$W/forks.out" || fail "the fork loop did not finish: $(cat "$W/forks.out")"
case $line in *errno=EAGAIN) ;; *) fail "the fork loop did not stop on EAGAIN: $line" ;; esac
[ -n "$n" ] && [ "$n" -lt 32 ] && [ "$n" -ge 20 ] || fail "forked $n children with pids = 32"
[ "${pe1:-0}" -gt "${pe0:-0}" ] || fail "pids.events max did not grow"
[ "$(sdirs | grep -c .)" -eq 1 ] || fail "short sessions left dirs: $(sdirs)"
ok "pids = 32 holds: $n forks then EAGAIN, pids.events max counted, session ended 0"

# (e) teardown: end the keeper, the user's last session.
tk=$(uptime_s)
stop_keeper
[ "${keeper_rc:-1}" -eq 0 ] || fail "keeper su exited ${keeper_rc:-?}"
grep -qx keeper-down "$W/keeper.out" || fail "keeper did not end by itself: $(cat "$W/keeper.out")"
grep -q 'cgroup.kill' "$W/keeper.strace" || fail "the opener never opened cgroup.kill at logout"
kills=$(grep -c 'cgroup.kill' "$W/keeper.strace")
ok "keeper logged out in $(awk -v a="$tk" -v b="$(uptime_s)" 'BEGIN{printf "%.2f", b - a}') s; su (the opener) used cgroup.kill: $(grep -m1 'cgroup.kill' "$W/keeper.strace" | cut -c1-120)"
[ ! -e "$UD" ] || fail "$UD still exists after the last logout: $(find "$UD")"
# What may stay by design: the anchor holder (one process that pins the
# mount namespace of the overlay homes, in cubby/anchor), with no home
# mounted once the user's last session is gone; gc stops it when idle.
holder=$(cat "$CG/cubby/anchor/cgroup.procs" 2>/dev/null)
if [ -n "$holder" ]; then
	[ "$(echo "$holder" | wc -l)" -eq 1 ] && [ "$(cat "/proc/$holder/comm")" = cubby-anchor ] ||
		fail "cubby/anchor holds more than the anchor holder: $holder"
	! grep -q "/users/$U/merged" "/proc/$holder/mountinfo" ||
		fail "the home of $U is still mounted in the anchor after the last logout"
	ok "after logout: only the anchor holder ($holder) is left in cubby/anchor, with no home mounted"
fi
procs=
for s in /proc/[0-9]*/status; do
	[ "$(awk '$1 == "Uid:" {print $2}' "$s" 2>/dev/null)" = "$uid" ] && procs+=" ${s#/proc/}"
done
[ -z "$procs" ] || fail "processes of $U left: $procs"
[ -z "$(ls -A "$SESSIONS" 2>/dev/null)" ] || fail "records left: $(ls "$SESSIONS")"
gc=$("$CUBBY_CTL" --config "$POLICY" gc 2>&1) || fail "cubbyctl gc failed: $gc"
case $gc in *"gc: 0 sessions reaped"*) ;; *) fail "cubbyctl gc found something: $gc" ;; esac
case $gc in *unmounted*|*released*) fail "cubbyctl gc found something: $gc" ;; esac
list=$("$CUBBY_CTL" --config "$POLICY" list 2>&1)
[ -z "$holder" ] || wait_for 30 "! kill -0 $holder 2>/dev/null" || fail "gc left the idle anchor holder $holder; gc said: $gc"
left=$(find "$CG/cubby" -mindepth 1 -type d 2>/dev/null)
if [ "$left" = "$CG/cubby/anchor" ] && [ -z "$(cat "$left/cgroup.procs")" ]; then
	fig "note: gc stopped the anchor holder but left the empty cgroup $left"
elif [ -n "$left" ]; then
	fail "cgroups left under $CG/cubby: $left"
fi
fig "teardown: cgroup.kill opened $kills time(s) by su; u$uid removed; no process, record or cgroup left; gc: '$(echo "$gc" | tr '\n' ' ')'; list: '$(echo "$list" | tr '\n' ' ')'"
ok "teardown leaves nothing"

# (f) The layout of the shipped systemd unit (etc/systemd/cubby.service):
# systemd gives a Delegate=yes service the cgroup <slice>/<unit> with every
# controller available, and cubby's cgroup_parent points there. Make what
# systemd would make, log in once more with that cgroup_parent, and check
# cubby wrote nothing outside /system.slice/cubby.service.
SD=$CG/system.slice/cubby.service
mkdir "$CG/system.slice" && echo "+cpu +memory +pids" >"$CG/system.slice/cgroup.subtree_control" &&
	mkdir "$SD" || fail "cannot make the systemd-like $SD"
outside() { # every cgroup outside $SD with its subtree_control and limits
	find "$CG" -path "$SD" -prune -o -type d -print | sort | while read -r d; do
		echo "$d [$(cat "$d/cgroup.subtree_control")] $(cat "$d/cpu.max" "$d/memory.max" "$d/pids.max" 2>/dev/null | tr '\n' ' ')"
	done
}
before=$(outside)
POLICY2=/etc/cubby-v2test/unit.conf
sed 's|^cgroup_parent = .*|cgroup_parent = /system.slice/cubby.service|' "$POLICY" >"$POLICY2"
chmod 0644 "$POLICY2"
sed -i "s|config=$POLICY\$|config=$POLICY2|" /etc/pam.d/su-l
grep -q "config=$POLICY2" /etc/pam.d/su-l || fail "cannot point su-l at $POLICY2"
su - "$U" -c "read -r cg </proc/self/cgroup; echo \"cg=\$cg\"; read -r x <$FIFO; echo unit-down" \
	</dev/null >"$W/unit.out" 2>&1 &
keeper_pid=$!
wait_for 300 "grep -q '^cg=' '$W/unit.out' || ! kill -0 $keeper_pid" || fail "unit login: no output after 30 s"
kill -0 "$keeper_pid" 2>/dev/null || fail "unit login ended early: $(cat "$W/unit.out")"
grep -qx 'cg=0::/' "$W/unit.out" || fail "unit login inside: $(cat "$W/unit.out")"
us=$(find "$SD/u$uid" -mindepth 1 -maxdepth 1 -type d -name 's*')
[ -n "$us" ] || fail "no session dir under $SD/u$uid"
p1=$(head -n1 "$us/cgroup.procs")
[ "$(cat "/proc/$p1/cgroup")" = "0::/system.slice/cubby.service/u$uid/s${us##*/s}" ] ||
	fail "unit login: the shell is in $(cat "/proc/$p1/cgroup")"
[ "$(cat "$SD/u$uid/memory.max")" = 16777216 ] || fail "unit login: no memory.max on $SD/u$uid"
anc=$(find "$SD" -mindepth 1 -maxdepth 1 -type d -printf '%f ')
stop_keeper
[ "${keeper_rc:-1}" -eq 0 ] || fail "unit login su exited ${keeper_rc:-?}: $(cat "$W/unit.out")"
[ ! -e "$SD/u$uid" ] || fail "$SD/u$uid left after logout"
gc=$("$CUBBY_CTL" --config "$POLICY2" gc 2>&1) || fail "cubbyctl gc: $gc"
after=$(outside)
[ "$before" = "$after" ] || fail "cubby changed cgroups outside $SD: $(diff <(echo "$before") <(echo "$after") 2>&1)"
fig "unit layout: session in /system.slice/cubby.service/u$uid/s${us##*/s}; cubby made [${anc% }] below the unit's cgroup; after logout + gc below it: [$(find "$SD" -mindepth 1 -type d -printf '%f ' | sed 's/ $//')]; nothing outside it changed"
ok "cgroup_parent = /system.slice/cubby.service works and stays inside the delegated cgroup"
echo "PASS: cgroup v2 login via su (guest time $(awk -v a="$T0" -v b="$(uptime_s)" 'BEGIN{printf "%.1f", b - a}') s)"
exit 0
