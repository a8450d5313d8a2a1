#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# THREATS E (resources), one student's share of the host's shared pools:
# under the shipped defaults one user cannot hold more than max_sessions
# sessions or max_containers network containers (each a lease and a bridge
# port); the next one is refused with the reason while another student
# still gets in; the supervisor of each container runs in the student's
# cgroups (the session's; for memory the user's own), so its memory and
# its pid count against the student's budget. Prints what a session costs
# on the host.
IT_NEEDS="su pgrep ip"
. "$(dirname "$0")/seclib.sh"
sec_init "$@"
S1=$IT_S1 S2=$IT_S2
# the shipped defaults (cubby.conf(5)); the policies below do not set them
DEF_SESSIONS=16
DEF_CONTAINERS=16
SH_BG=()

# count USER COMM: how many processes COMM the user runs
count() { pgrep -U "$(it_uid "$1")" -x "$2" | wc -l; }

# open_sessions USER N: N more concurrent `su - USER` sessions, each a
# sleep as the container's PID 1; waits (bounded) until they all run.
open_sessions() {
        local u=$1 n=$2 i k base
        base=$(count "$u" sleep)
        for i in $(seq 1 "$n"); do
                it_su - "$u" -c 'exec sleep 120' </dev/null >"$IT_SCRATCH/share.$u.$((base + i))" 2>&1 &
                SH_BG+=($!)
                for k in $(seq 1 150); do
                        [ "$(count "$u" sleep)" -ge $((base + i)) ] && break
                        sleep 0.1
                done
        done
        [ "$(count "$u" sleep)" -ge $((base + n)) ]
}

# close_sessions USER: end them (the sleeps are the containers' PID 1).
close_sessions() {
        local p
        for p in $(pgrep -U "$(it_uid "$1")" -x sleep); do kill -KILL "$p" 2>/dev/null; done
        for p in "${SH_BG[@]}"; do wait "$p" 2>/dev/null; done
        SH_BG=()
}

# kib PID FIELD: a field of /proc/PID/status or smaps_rollup, in KiB
kib() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" "/proc/$1/smaps_rollup" 2>/dev/null | head -n1; }

test_E_session_cap_default() {
        local out
        it_policy_write
        if open_sessions "$S1" "$DEF_SESSIONS"; then
                it_pass "default policy: $DEF_SESSIONS sessions of $S1 run at once"
        else
                it_fail "default policy: $DEF_SESSIONS sessions of $S1 run at once" "$DEF_SESSIONS" "$(count "$S1" sleep)"
        fi
        out=$(sec_su "$S1" 'echo @@ok=yes')
        it_eq "default policy: session $((DEF_SESSIONS + 1)) of $S1 is refused" "" "$(it_get ok "$out")"
        it_match "default policy: the refusal says why (max_sessions)" 'too many sessions.*max_sessions' "$out"
        out=$(sec_su "$S2" 'echo @@ok=yes')
        sec_sandboxed "default policy, $S1 at the cap: another student gets in" "$out"
        out=$(it_su - "$IT_A1" -c 'echo @@ok=yes' </dev/null 2>&1)
        it_eq "default policy, $S1 at the cap: an admin gets in" yes "$(it_get ok "$out")"
        close_sessions "$S1"
        out=$(sec_su "$S1" 'echo @@ok=yes')
        sec_sandboxed "default policy: after the sessions ended $S1 gets in again" "$out"
        it_check_clean "session cap" "$S1"
        it_check_clean "session cap" "$S2"
}

test_E_container_cap_default() {
        local out uid ports
        # max_sessions lifted: the network containers' own cap must hold
        it_policy_write "network = nat" "max_sessions = max"
        uid=$(it_uid "$S1")
        if open_sessions "$S1" "$DEF_CONTAINERS"; then
                it_pass "network = nat: $DEF_CONTAINERS containers of $S1 run at once"
        else
                it_fail "network = nat: $DEF_CONTAINERS containers of $S1 run at once" "$DEF_CONTAINERS" \
                        "$(count "$S1" sleep): $(cat "$IT_SCRATCH/share.$S1."* | sort | uniq -c | head -n 3)"
        fi
        it_eq "network = nat: $S1 holds $DEF_CONTAINERS leases" "$DEF_CONTAINERS" \
                "$(it_leases | awk -v u="$uid" '$5 == u' | wc -l)"
        # (ip, not /sys: nsenter keeps the sysfs of the test's own netns)
        ports=$(nsenter --net="$IT_NETNS_PATH" ip -o link show master cubby0 2>/dev/null | wc -l)
        it_log "bridge ports in use with $S1 at the cap: $ports"
        it_eq "network = nat: the bridge has the ports of $S1's $DEF_CONTAINERS containers and nothing more" \
                "$DEF_CONTAINERS" "$ports"
        out=$(sec_su "$S1" 'echo @@ok=yes')
        it_eq "network = nat: container $((DEF_CONTAINERS + 1)) of $S1 is refused" "" "$(it_get ok "$out")"
        it_match "network = nat: the refusal says why (max_containers)" 'max_containers' "$out"
        it_eq "network = nat: the refused one took no lease" "$DEF_CONTAINERS" \
                "$(it_leases | awk -v u="$uid" '$5 == u' | wc -l)"
        it_eq "network = nat: the refused one took no bridge port" "$DEF_CONTAINERS" \
                "$(nsenter --net="$IT_NETNS_PATH" ip -o link show master cubby0 2>/dev/null | wc -l)"
        out=$(sec_su "$S2" 'echo @@ok=yes; echo @@eth0=$(ip -4 -o addr show dev eth0 2>/dev/null | wc -l)')
        sec_sandboxed "network = nat, $S1 at the cap: another student gets in" "$out"
        it_eq "network = nat, $S1 at the cap: the other student has a network" 1 "$(it_get eth0 "$out")"
        close_sessions "$S1"
        it_check_clean "container cap" "$S1"
        it_check_clean "container cap" "$S2"
}

test_E_supervisor_charged() {
        local sp sup opener h want got uid u0 u1 n=4 i mem
        it_policy_write
        it_cg_hier
        uid=$(it_uid "$S1")
        if ! open_sessions "$S1" 1 || ! sp=$(pgrep -U "$uid" -x sleep | head -n1); then
                it_fail "supervisor: session started" "a sleep of $S1" "none"; close_sessions "$S1"; return
        fi
        sup=$(ps -o ppid= -p "$sp" | tr -d ' ')
        opener=$(ps -o ppid= -p "$sup" | tr -d ' ')
        it_eq "supervisor found (the helper, parent of the container's PID 1)" \
                "$(stat -L -c '%d:%i' "$CUBBY_HELPER")" "$(stat -L -c '%d:%i' "/proc/$sup/exe" 2>/dev/null)"
        for h in memory pids; do
                want=$(awk -F: -v c="$h" '$2 == c { print $3 }' "/proc/$sp/cgroup")
                got=$(awk -F: -v c="$h" '$2 == c { print $3 }' "/proc/$sup/cgroup")
                if it_cg_user_level "$h"; then
                        # memory is the user's: no session cgroup there
                        it_match "the container runs in its user's $h cgroup" "/$IT_CGNAME/u$uid\$" "$want"
                else
                        it_match "the container runs in its $h session cgroup" "/$IT_CGNAME/u$uid/s[^/]+\$" "$want"
                fi
                it_eq "the supervisor is charged to the student's $h cgroup" "$want" "$got"
        done
        it_eq "pids.current of u$uid counts the supervisor and the shell" 2 \
                "$(cat "$(it_cg_dir pids "u$uid")/pids.current" 2>&1)"
        # what a session costs: charged to the student (memory cgroup) and
        # left outside (the su opener)
        u0=$(cat "$(it_cg_dir memory "u$uid")/memory.usage_in_bytes")
        open_sessions "$S1" "$n"
        u1=$(cat "$(it_cg_dir memory "u$uid")/memory.usage_in_bytes")
        echo "E-share FIGURE: one session charged to the student's memory cgroup: $(( (u1 - u0) / n / 1024 )) KiB (mean of $n more)"
        echo "E-share FIGURE: supervisor Rss $(kib "$sup" VmRSS) KiB, Pss $(kib "$sup" Pss) KiB; su opener (root, outside) Rss $(kib "$opener" VmRSS) KiB, Pss $(kib "$opener" Pss) KiB"
        mem=0
        for i in $(pgrep -U "$uid" -x sleep); do
                i=$(ps -o ppid= -p "$i" | tr -d ' ')
                i=$(ps -o ppid= -p "$i" | tr -d ' ')
                mem=$((mem + $(kib "$i" Pss)))
        done
        echo "E-share FIGURE: $((n + 1)) sessions: su openers outside the budget Pss $mem KiB in all"
        close_sessions "$S1"
        it_check_clean "supervisor charged" "$S1"
}

for t in test_E_session_cap_default test_E_container_cap_default test_E_supervisor_charged; do
        sec_test "$t"
done
sec_finish
