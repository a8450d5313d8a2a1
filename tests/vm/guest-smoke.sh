#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs INSIDE the VM (tests/vm/run.sh). Checks that the guest is the
# environment the cgroup2 suite needs: a cgroup2 root with cpu, memory and
# pids delegated to children, that a cgroup below it enforces memory.max and
# pids.max, and that user+pid namespaces can be made (the helper's kind of
# work). Prints one line per check; exits 1 on the first failure.

set -u
CG=/sys/fs/cgroup
fail() { echo "FAIL: $*"; exit 1; }
ok() { read -r up _ </proc/uptime; echo "ok: [$up] $*"; }

# 1. cgroup2 at /sys/fs/cgroup, controllers enabled for children.
fstype=$(stat -f -c %T "$CG") || fail "stat -f $CG"
[ "$fstype" = cgroup2fs ] || fail "$CG is $fstype, not cgroup2fs"
ok "$CG is cgroup2"
grep -qx '0::/' /proc/self/cgroup || fail "not in the root cgroup: $(cat /proc/self/cgroup)"
ok "/proc/self/cgroup is 0::/ (v2 only)"
stc=$(cat "$CG/cgroup.subtree_control")
for c in cpu memory pids; do
	case " $stc " in *" $c "*) ;; *) fail "$c not in cgroup.subtree_control ($stc)" ;; esac
done
ok "cgroup.subtree_control: $stc"
if grep -q ' cgroup ' /proc/mounts; then fail "a cgroup v1 hierarchy is mounted"; fi
ok "no cgroup v1 hierarchy"

# 2. A child cgroup with limits; the limits bite.
T=$CG/vm-smoke.$$
mkdir "$T" || fail "mkdir $T"
trap 'rmdir "$T"/* "$T" 2>/dev/null' EXIT
for f in cpu.max memory.max pids.max memory.events cgroup.kill cgroup.freeze; do
	[ -e "$T/$f" ] || fail "$T/$f missing"
done
ok "child cgroup has cpu.max memory.max pids.max memory.events cgroup.kill cgroup.freeze"
echo "50000 100000" >"$T/cpu.max" || fail "write cpu.max"
echo 16M >"$T/memory.max" || fail "write memory.max"
echo 0 >"$T/memory.swap.max" 2>/dev/null || true
echo 8 >"$T/pids.max" || fail "write pids.max"
[ "$(cat "$T/memory.max")" = 16777216 ] || fail "memory.max reads $(cat "$T/memory.max")"
ok "limits written: cpu.max=$(cat "$T/cpu.max") memory.max=16M pids.max=8"

# memory: a 64M buffer in a 16M cgroup gets OOM-killed.
sh -c 'echo $$ >"$1/cgroup.procs" && exec dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null' sh "$T"
rc=$?
[ $rc -ne 0 ] || fail "a 64M hog survived memory.max=16M"
oom=$(awk '$1 == "oom_kill" {print $2}' "$T/memory.events")
[ "${oom:-0}" -ge 1 ] || fail "memory.events has no oom_kill (hog rc $rc): $(cat "$T/memory.events")"
ok "64M hog killed in a 16M cgroup (rc $rc, oom_kill $oom)"

# pids: the 9th task cannot be forked. (The shell may die on the failed
# fork; cgroup.kill removes the sleeps it left.)
sh -c 'echo $$ >"$1/cgroup.procs" || exit 90
	i=0; while [ $i -lt 20 ]; do sleep 30 </dev/null >/dev/null 2>&1 & i=$((i + 1)); done' sh "$T" >/dev/null 2>&1
out="pids.current $(cat "$T/pids.current")"
echo 1 >"$T/cgroup.kill" || fail "write cgroup.kill"
i=0
while ! grep -qx 'populated 0' "$T/cgroup.events" && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
grep -qx 'populated 0' "$T/cgroup.events" || fail "cgroup still populated after cgroup.kill"
ev=$(awk '$1 == "max" {print $2}' "$T/pids.events")
[ "${ev:-0}" -ge 1 ] || fail "pids.max=8 never hit: pids.events $(cat "$T/pids.events"); $out"
ok "pids.max=8 refused forks ($out, pids.events max $ev)"

# cgroup.kill empties a populated cgroup.
sh -c 'echo $$ >"$1/cgroup.procs" && exec sleep 60' sh "$T" &
bg=$!
i=0
while [ "$(cat "$T/cgroup.procs")" = "" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
echo 1 >"$T/cgroup.kill" || fail "write cgroup.kill"
wait $bg
rc=$?
[ $rc -eq 137 ] || fail "sleep in killed cgroup exited $rc, not 137"
ok "cgroup.kill killed the cgroup's task"
rmdir "$T" || fail "rmdir $T"
trap - EXIT
ok "child cgroup removed"

# 3. user + pid (+ mount, uts, ipc, net, cgroup) namespaces as an unprivileged user would get them.
out=$(unshare --user --map-root-user --pid --fork --mount --mount-proc --uts --ipc --net --cgroup \
	sh -c 'echo "pid=$$ uid=$(id -u) map=$(cat /proc/self/uid_map | tr -s " ")"; hostname inner && hostname' 2>&1) ||
	fail "unshare user+pid: $out"
case $out in
*"pid=1 uid=0 map= 0 0 1"*inner) ;;
*) fail "unexpected namespace probe: $out" ;;
esac
ok "unshare user+pid+mount+uts+ipc+net+cgroup: $(echo "$out" | head -n 1)"
# And from a non-root uid, as the sandbox helper's child would.
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	unshare --user --map-root-user --pid --fork sh -c 'echo "pid=$$ uid=$(id -u)"' 2>&1) ||
	fail "unprivileged unshare user+pid: $out"
[ "$out" = "pid=1 uid=0" ] || fail "unexpected unprivileged probe: $out"
ok "uid 65534: unshare user+pid works ($out)"

echo "vm-smoke: all checks passed"
