#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The cpus policy key (a cpuset) through real su logins: a sandboxed user
# with "cpus = 1" sees one CPU (nproc, Cpus_allowed_list), the u<uid>
# cpuset cgroup says 1 while the session runs and is gone afterwards; a
# sandboxed user without cpus sees the host's CPUs.
IT_NEEDS="su nproc pgrep"
. "$(dirname "$0")/lib.sh"
[ "$(nproc)" -ge 2 ] || it_skip "needs 2 CPUs (cpus = 1), this process has $(nproc)"
it_init "$@"

S1=$IT_S1 S2=$IT_S2
it_policy_write "[user $S1]" "cpus = 1"

host_n=$(nproc)
host_list=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
cmd='echo "@@nproc=$(nproc)"; echo "@@list=$(awk '\''/^Cpus_allowed_list:/ { print $2 }'\'' /proc/self/status)"; echo "@@grep=$(grep Cpus_allowed_list /proc/self/status | tr -s "\t " " ")"'

out=$(it_su - "$S1" -c "$cmd" </dev/null 2>&1); rc=$?
it_eq "su - $S1 (cpus = 1): exit status" 0 "$rc"
it_eq "su - $S1 (cpus = 1): nproc" 1 "$(it_get nproc "$out")"
it_eq "su - $S1 (cpus = 1): Cpus_allowed_list" 1 "$(it_get list "$out")"
it_eq "su - $S1 (cpus = 1): grep Cpus_allowed_list /proc/self/status" "Cpus_allowed_list: 1" "$(it_get grep "$out")"
it_check_clean "after su - $S1 (cpus = 1)" "$S1"

out=$(it_su - "$S2" -c "$cmd" </dev/null 2>&1); rc=$?
it_eq "su - $S2 (no cpus): exit status" 0 "$rc"
it_eq "su - $S2 (no cpus): nproc is the host's" "$host_n" "$(it_get nproc "$out")"
it_eq "su - $S2 (no cpus): Cpus_allowed_list is the host's" "$host_list" "$(it_get list "$out")"
it_check_clean "after su - $S2 (no cpus)" "$S2"

# The v1 cpuset cgroup while a session runs (hybrid hosts), and afterwards.
cs_mnt=$(findmnt -rn -t cgroup -o TARGET,OPTIONS | awk '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == "cpuset") { print $1; exit } }')
if [ -n "$cs_mnt" ]; then
        cs_own=$(awk -F: '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == "cpuset") print $3 }' /proc/$$/cgroup)
        udir=$cs_mnt${cs_own%/}/$IT_CGNAME/u$(it_uid "$S1")
        it_su - "$S1" -c 'sleep 6' </dev/null >/dev/null 2>&1 &
        bg=$!
        if pid=$(it_wait_proc "$S1" sleep); then
                it_eq "su - $S1 -c 'sleep 6': cpuset.cpus of u<uid>" 1 "$(cat "$udir/cpuset.cpus" 2>&1)"
                it_eq "su - $S1 -c 'sleep 6': cpuset.mems of u<uid> is the parent's" \
                        "$(cat "${udir%/*}/cpuset.mems" 2>&1)" "$(cat "$udir/cpuset.mems" 2>&1)"
                it_match "su - $S1 -c 'sleep 6': process in a cpuset session cgroup" \
                        "^${cs_own%/}/$IT_CGNAME/u$(it_uid "$S1")/s[0-9a-f]+\$" \
                        "$(awk -F: '$2 == "cpuset" { print $3 }' "/proc/$pid/cgroup")"
                it_eq "su - $S1 -c 'sleep 6': host view of its Cpus_allowed_list" 1 \
                        "$(awk '/^Cpus_allowed_list:/ { print $2 }' "/proc/$pid/status")"
        else
                it_fail "su - $S1 -c 'sleep 6': sandbox process seen on the host" "a sleep" "none within 10 s"
        fi
        wait "$bg"
        it_check_clean "after su - $S1 -c 'sleep 6'" "$S1"
        it_eq "after su - $S1 -c 'sleep 6': no cpuset u<uid> left" no "$( [ -e "$udir" ] && echo yes || echo no)"
else
        it_log "no v1 cpuset hierarchy here: cgroup part skipped"
fi

it_finish
