#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A changed policy limit applies at the next login of a user whose session
# is still open: the user's cgroup dirs exist from that session and carry
# the old limits, and a login writes a limit only where the dir holds
# another value (lib/cgroup-limits.c). Tighter cpu, memory and pids, then
# cpus = 1 (the open session's v1 cpuset dir follows the user dir), then
# the policy as it was: every knob back, the open session's CPUs too.
IT_NEEDS="su nproc pgrep"
. "$(dirname "$0")/lib.sh"
it_init "$@"

S1=$IT_S1
uid=$(it_uid "$S1")
it_cg_hier

# knobs WHAT QUOTA MEMORY PIDS: the limits on u<uid> in each hierarchy
knobs() {
        local what=$1 u
        u=$(it_cg_dir cpu "u$uid")
        it_eq "$what: cpu.cfs_quota_us on u$uid" "$2" "$(cat "$u/cpu.cfs_quota_us" 2>&1)"
        it_eq "$what: cpu.cfs_period_us on u$uid" 100000 "$(cat "$u/cpu.cfs_period_us" 2>&1)"
        u=$(it_cg_dir memory "u$uid")
        it_eq "$what: memory.limit_in_bytes on u$uid" "$3" "$(cat "$u/memory.limit_in_bytes" 2>&1)"
        u=$(it_cg_dir pids "u$uid")
        it_eq "$what: pids.max on u$uid" "$4" "$(cat "$u/pids.max" 2>&1)"
}

it_policy_write
it_su - "$S1" -c 'sleep 60' </dev/null >/dev/null 2>&1 &
bg=$!
pid=$(it_wait_proc "$S1" sleep) || it_fatal "su - $S1 -c 'sleep 60': no sandbox process within 10 s"
knobs "first session" 50000 268435456 128
sdir=$(awk -F: '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == "cpuset") print $3 }' "/proc/$pid/cgroup")

# a tighter policy for this user, the first session still open
it_policy_write "[user $S1]" "cpu = 0.25" "memory = 128M" "pids = 64"
out=$(it_su - "$S1" -c 'echo @@ok=yes' </dev/null 2>&1); rc=$?
it_eq "su - $S1 under the tighter policy: exit status" 0 "$rc"
it_eq "su - $S1 under the tighter policy: ran" yes "$(it_get ok "$out")"
knobs "after a login under the tighter policy" 25000 134217728 64

# cpus = 1 for the user: the user dir and the open session's cpuset dir
cs=$(findmnt -rn -t cgroup -o TARGET,OPTIONS | awk '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == "cpuset") { print $1; exit } }')
if [ -n "$cs" ] && [ "$(nproc)" -ge 2 ] && [ -n "$sdir" ]; then
        all=$(cat "$cs$sdir/cpuset.cpus")
        it_policy_write "[user $S1]" "cpu = 0.25" "memory = 128M" "pids = 64" "cpus = 1"
        it_su - "$S1" -c true </dev/null >/dev/null 2>&1
        it_eq "after a login with cpus = 1: cpuset.cpus of u$uid" 1 "$(cat "$cs${sdir%/*}/cpuset.cpus" 2>&1)"
        it_eq "after a login with cpus = 1: the open session's cpuset.cpus" 1 "$(cat "$cs$sdir/cpuset.cpus" 2>&1)"
        it_eq "after a login with cpus = 1: the open session's process" 1 \
                "$(awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$pid/status")"
        it_policy_write
        it_su - "$S1" -c true </dev/null >/dev/null 2>&1
        it_eq "after a login without cpus: the open session's cpuset.cpus" "$all" "$(cat "$cs$sdir/cpuset.cpus" 2>&1)"
else
        it_log "no v1 cpuset hierarchy or fewer than 2 CPUs here: cpus part skipped"
        it_policy_write
        it_su - "$S1" -c true </dev/null >/dev/null 2>&1
fi

# the policy as it was: looser again, back at the next login
knobs "after a login under the first policy again" 50000 268435456 128

kill "$pid" 2>/dev/null
wait "$bg"
it_check_clean "after the sessions of $S1" "$S1"
it_finish
