#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cubbyctl stop --all (what cubby-shutdown.service runs on the way down):
# two per-user containers made by real ssh logins (container = user,
# linger = always), one lingering with a job and no session, one with a
# login still open. `stop --all --json` stops both through the path of
# `stop USER` (event container_stop, reason admin, one per user, the
# open login ends with it), reports each, exits 0, and leaves nothing of
# either; with no container left it exits 0 and stops nothing. A record it
# must not trust (not root's) is a real failure: reported for its uid,
# exit 1, and the other container is stopped all the same.
IT_NEEDS="/usr/sbin/sshd ssh pgrep python3"
. "$(dirname "$0")/lib.sh"
. "$IT_LIBDIR/lib-extra.sh"
it_init "$@"

S1=$IT_S1 S2=$IT_S2
U1=$(it_uid "$S1")
U2=$(it_uid "$S2")
it_policy_write "container = user" "linger = always" "stop_grace = 2s"
it_sshd_start
hx_on_exit "hx_ctl stop $S1; hx_ctl stop $S2; rm -f $IT_RUNDIR/containers/u$(it_uid "$IT_N1")"
# json_get JSON EXPR: a python expression on the parsed value v
json_get() {
	python3 -c 'import json, sys; v = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}
ct_init() { sed -n 's/^init_pid=//p' "$IT_RUNDIR/containers/u$1" 2>/dev/null; }

# linger USER TAG: an ssh login that leaves `sleep TAG` running in the
# user's container and logs out; the container lingers.
linger() {
	local out
	out=$(it_ssh -n "$1" "setsid nohup sleep $2 </dev/null >/dev/null 2>&1 & echo started" 2>&1)
	it_eq "ssh $1: a job started in the container, logged out" started "$(printf '%s' "$out" | tail -n1)"
}

# --- two containers: one lingering with a job, one with a login open
linger "$S1" 601
it_ssh -n "$S2" 'echo "@@B"; exec sleep 602' >"$IT_SCRATCH/b.out" 2>&1 &
bg_b=$!
for i in $(seq 1 100); do grep -q '^@@B' "$IT_SCRATCH/b.out" 2>/dev/null && break; sleep 0.1; done
init1=$(ct_init "$U1")
init2=$(ct_init "$U2")
it_eq "$S1's container runs (cubby-init), no session" cubby-init "$(cat "/proc/$init1/comm" 2>/dev/null)"
it_eq "$S2's container runs (cubby-init), its login open" cubby-init "$(cat "/proc/$init2/comm" 2>/dev/null)"
it_ne "$S1's job runs" "" "$(pgrep -u "$U1" -xf 'sleep 601')"
out=$(hx_ctl list 2>&1)
it_match "list: $S1's container" "^u$U1 +$S1 " "$out"
it_match "list: $S2's container" "^u$U2 +$S2 " "$out"

# --- stop --all: both, each reported, exit 0
it_syslog_mark
json=$(hx_ctl --json stop --all 2>"$IT_SCRATCH/err"); rc=$?
it_eq "stop --all: exit 0" 0 "$rc"
it_empty "stop --all: nothing on stderr" "$(cat "$IT_SCRATCH/err")"
it_eq "stop --all --json: 2 stopped, 0 failed" "2 0" "$(json_get "$json" '"%d %d" % (v["stopped"], v["failed"])')"
it_eq "stop --all --json: one entry per user, each stopped" "$S1:$U1:True $S2:$U2:True" \
	"$(json_get "$json" '" ".join(sorted("%s:%d:%s" % (e["user"], e["uid"], e["stopped"]) for e in v["containers"]))')"
it_match "stop --all --json: each with its duration" '^[0-9]+ [0-9]+$' \
	"$(json_get "$json" '" ".join(str(e["duration_ms"]) for e in v["containers"])')"
log=$(it_syslog_since)
it_match "stop --all: $S1's stop logged as container_stop (reason admin)" "event=container_stop .*uid=$U1 .*reason=admin|event=container_stop .*reason=admin.*uid=$U1 " "$log"
it_match "stop --all: $S2's stop logged as container_stop (reason admin)" "event=container_stop .*uid=$U2 .*reason=admin|event=container_stop .*reason=admin.*uid=$U2 " "$log"
for i in $(seq 1 100); do kill -0 "$bg_b" 2>/dev/null || break; sleep 0.1; done
kill -0 "$bg_b" 2>/dev/null
it_ne "stop --all: $S2's open login ended with its container" 0 "$?"
kill "$bg_b" 2>/dev/null
wait "$bg_b" 2>/dev/null
it_empty "stop --all: no container record left" "$(ls -A "$IT_RUNDIR/containers" 2>/dev/null)"
out=$(hx_ctl list 2>&1)
it_nomatch "list after stop --all: no container" "^u($U1|$U2) " "$out"
it_check_clean "after stop --all" "$S1"
it_check_clean "after stop --all" "$S2"

# --- nothing to stop: exit 0
out=$(hx_ctl stop --all 2>&1); rc=$?
it_eq "stop --all with no container: exit 0" 0 "$rc"
it_eq "stop --all with no container: says so" "stop --all: 0 stopped, 0 failed" "$out"

# --- a record that is not root's: a failure, and the rest still stopped
linger "$S1" 603
init1=$(ct_init "$U1")
it_eq "$S1's container runs again" cubby-init "$(cat "/proc/$init1/comm" 2>/dev/null)"
N1UID=$(it_uid "$IT_N1")
install -m 0600 -o "$N1UID" /dev/null "$IT_RUNDIR/containers/u$N1UID"
out=$(hx_ctl stop --all 2>"$IT_SCRATCH/err"); rc=$?
it_eq "stop --all with an untrusted record: exit 1" 1 "$rc"
it_match "stop --all: $S1's container stopped all the same" "^stopped the container of $S1 \(uid $U1\) in [0-9]+ ms$" "$out"
it_match "stop --all: the failure reported for its uid" "^could not stop the container of $IT_N1 \(uid $N1UID\): Operation not permitted$" "$out"
it_match "stop --all: the count" "^stop --all: 1 stopped, 1 failed$" "$out"
it_match "stop --all: the failure on stderr" "cannot stop the container of $IT_N1: Operation not permitted" "$(cat "$IT_SCRATCH/err")"
rm -f "$IT_RUNDIR/containers/u$N1UID"
it_empty "$S1's container record is gone" "$(ls -A "$IT_RUNDIR/containers" 2>/dev/null)"
it_check_clean "after stop --all with a failure" "$S1"
it_finish
