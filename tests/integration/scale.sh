#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Scale, bounded for the default suite: while another user holds N
# sessions, a login with max_sessions set reads only its own user's session
# records (counted from the openat calls of the whole login, su, module and
# helper, under strace); then all N end at once (cubbyctl kill) and every
# close_session finishes: no timeout in syslog, no record, cgroup or
# process left. The large runs (1023, 2000) are bench/run's.
IT_NEEDS="su strace"
. "$(dirname "$0")/lib.sh"
it_init "$@"

N=${CUBBY_SCALE_HELD:-60}
S1=$IT_S1
S2=$IT_S2
uid2=$(it_uid "$S2")
it_ctl() { timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" "$CUBBY_CTL" --config "$IT_CONF" "$@"; }
# records naming a user in the compiled-in sessions dir (in its user dir,
# or directly there as an older cubby kept them)
nrec() { grep -lx -F "user=$1" "$IT_BRUNDIR"/sessions/* "$IT_BRUNDIR"/sessions/u*/* 2>/dev/null | wc -l; }

it_policy_write "max_sessions = $((N + 10))"

# --- N sessions of S2, held (each su waits in the sandbox)
pids=()
for i in $(seq 1 "$N"); do
	it_su "$S2" -c 'exec sleep 300' </dev/null >/dev/null 2>&1 &
	pids+=($!)
	# a few at a time: the machine has two CPUs
	[ $((i % 8)) = 0 ] && sleep 0.3
done
for i in $(seq 1 300); do
	[ "$(nrec "$S2")" -ge "$N" ] && break
	sleep 0.1
done
it_eq "$N sessions of $S2 held" "$N" "$(nrec "$S2")"

# --- a login of S1 opens only S1's records. gc (throttled, at most every
# 10 s) reads every record by design: a traced login during which gc ran
# (it opened gc.lock) is taken again.
trace=$IT_SCRATCH/login.strace
for try in 1 2 3 4; do
	rm -f "$trace"
	out=$(timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
		strace -f -qq -e trace=openat -o "$trace" su "$S1" -c 'echo "@@pid=$$"' </dev/null 2>&1)
	grep -q '"gc.lock"' "$trace" || break
	it_log "gc ran during traced login $try: again"
	sleep 1
done
it_eq "the traced login of $S1 is sandboxed" 1 "$(it_get pid "$out")"
it_empty "gc did not run during the counted login" "$(grep '"gc.lock"' "$trace")"
opened=$(grep -cE 'openat\([0-9A-Z_]+, "[0-9]+-[0-9]+",' "$trace")
it_log "record opens in the login of $S1 with $N of $S2 held: $opened"
# its own record is opened by the module and the helper; none of S2's
it_int_lt "a login opens at most a few records, not the $N of another user" 8 "$opened"

# --- all N end at once: every close_session finishes
it_syslog_mark
start=$(date +%s.%N)
it_ctl kill "$S2" >/dev/null
for i in $(seq 1 300); do
	left=0
	for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left=$((left + 1)); done
	[ "$left" = 0 ] && break
	sleep 0.1
done
it_eq "all $N su of $S2 returned" 0 "$left"
for i in $(seq 1 100); do
	[ "$(nrec "$S2")" = 0 ] && break
	sleep 0.1
done
it_log "mass logout of $N: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s until no record"
log=$(it_syslog_since)
it_eq "$N session_end lines" "$N" "$(printf '%s\n' "$log" | grep -c "event=session_end.*user=$S2 ")"
it_empty "no session_end with an error" "$(printf '%s\n' "$log" | grep "event=session_end.*user=$S2 " | grep -v 'result=0' | head -n 3)"
it_empty "no timeout in syslog" "$(printf '%s\n' "$log" | grep -i 'time[d ]*out' | head -n 3)"
it_check_clean "after the mass logout" "$S2"
it_empty "no empty user dir left in the sessions dir" "$(ls -d "$IT_BRUNDIR/sessions/u$uid2" 2>/dev/null)"
it_policy_write
it_check_clean "at the end" "$S1"

it_finish
