#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A teardown slower than its timeout, through the real su and module: a
# process of the session that is killed but cannot exit yet. The test puts
# a process of its own into the session's cgroups (every hierarchy), its
# freezer part in a frozen dir below the session's, where SIGKILL stays
# pending until the dir is thawed (what a process waiting for a CPU under a
# mass logout, or in D state, looks like to close_session).
#  - thawed after the 5 s timeout: close_session waits on (SIGKILL is
#    pending), ends with result 0 and leaves nothing;
#  - never thawed: at the cap (60 s) close_session gives up with
#    -ETIMEDOUT, and the record stays, with the home it holds, until gc
#    has removed everything it names.
# Needs a v1 freezer (a v2 frozen task dies of SIGKILL at once).
IT_NEEDS="su pgrep"
. "$(dirname "$0")/lib.sh"
it_init "$@"

S1=$IT_S1
uid=$(it_uid "$S1")
it_cg_hier
[ -n "${IT_CG_MNT[freezer]:-}" ] || it_skip "no v1 freezer hierarchy: a killed process cannot be held"
it_ctl() { timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" "$CUBBY_CTL" --config "$IT_CONF" "$@"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# hold_in_session PID: move our own process HOLD into each session cgroup
# of the sandbox process PID (below the test's own cgroups), and into the
# frozen freezer dir SLOW (<cgroup_parent>/hold: no session dir gets a
# child, so the session's dirs can go).
SLOW=$(it_cg_dir freezer hold)
hold_in_session() {
        local pid=$1 id ctrl path mnt c i
        while IFS=: read -r id ctrl path; do
                case $path in */"$IT_CGNAME"/u"$uid"/s*) ;; *) continue ;; esac
                [ "$ctrl" = freezer ] && continue
                if [ "$id" = 0 ]; then
                        mnt=${IT_CG_MNT[unified]}
                else
                        c=${ctrl%%,*}
                        mnt=$(findmnt -rn -t cgroup -o TARGET,OPTIONS | awk -v c="$c" \
                                '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $1; exit } }')
                fi
                [ -n "$mnt" ] && [ -d "$mnt$path" ] && echo "$HOLD" >"$mnt$path/cgroup.procs"
        done <"/proc/$pid/cgroup"
        [ -d "$SLOW" ] || mkdir "$SLOW"
        echo "$HOLD" >"$SLOW/cgroup.procs" && echo FROZEN >"$SLOW/freezer.state"
        for i in $(seq 1 100); do
                [ "$(cat "$SLOW/freezer.state" 2>/dev/null)" = FROZEN ] && break
                sleep 0.05
        done
}

# slow_logout WHAT THAW_S: a su session of S1 that ends by itself after
# 3 s, holding our process; the slow dir is thawed THAW_S after the start
# (never with 0). Sets SU_RC, SU_S.
slow_logout() {
        local what=$1 thaw=$2 start su p
        start=$(date +%s.%N)
        IT_TIMEOUT=120 it_su "$S1" -c 'sleep 3' </dev/null >/dev/null 2>&1 &
        su=$!
        p=$(it_wait_proc "$S1" sleep) || { it_fail "$what: the session runs" "a sleep of $S1" "none"; wait "$su"; return 1; }
        sleep 600 &
        HOLD=$!
        hold_in_session "$p"
        it_eq "$what: our process is frozen" FROZEN \
                "$(cat "$SLOW/freezer.state" 2>/dev/null)"
        if [ "$thaw" != 0 ]; then
                (sleep "$thaw"; echo THAWED >"$SLOW/freezer.state") &
        fi
        wait "$su"
        SU_RC=$?
        SU_S=$(elapsed "$start")
        it_log "$what: su returned after $SU_S s"
}

# --- killed, exits after the timeout: close_session waits for it
it_syslog_mark
slow_logout "thawed at 10 s" 10
it_eq "thawed at 10 s: su exit status" 0 "$SU_RC"
it_eq "thawed at 10 s: close_session waited past its 5 s for the killed process" yes \
        "$(awk -v s="$SU_S" 'BEGIN { print (s >= 9) ? "yes" : "no" }')"
wait "$HOLD"
it_eq "thawed at 10 s: our process died of SIGKILL" 137 "$?"
log=$(it_syslog_since)
it_match "thawed at 10 s: session_end with result 0" "event=session_end.*result=0" \
        "$(printf '%s\n' "$log" | grep "event=session_end.*user=$S1 ")"
it_empty "thawed at 10 s: no timeout in syslog" "$(printf '%s\n' "$log" | grep -i -e 'time[d ]*out' -e 'result=-110' | head -n 3)"
it_check_clean "thawed at 10 s" "$S1"

# --- never exits (stuck, as in D state): the cap, the record kept, gc
it_syslog_mark
slow_logout "never thawed" 0
it_eq "never thawed: su exit status" 0 "$SU_RC"
log=$(it_syslog_since)
it_match "never thawed: session_end with -ETIMEDOUT" "event=session_end.*result=-110" \
        "$(printf '%s\n' "$log" | grep "event=session_end.*user=$S1 ")"
it_ne "never thawed: the record of $S1 is kept for gc" "" "$(it_records "$S1")"
echo THAWED >"$SLOW/freezer.state"
wait "$HOLD"
it_eq "never thawed: our process died of SIGKILL once thawed" 137 "$?"
out=$(it_ctl gc 2>&1); rc=$?
it_eq "cubbyctl gc after the timed out teardown: exit status" 0 "$rc"
it_match "cubbyctl gc reaped the kept record" "reaped session" "$out"
it_check_clean "after gc" "$S1"
rmdir "$SLOW"

it_finish
