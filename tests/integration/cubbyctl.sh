#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cubbyctl against live sessions made through real logins: list
# (text and --json), show, kill ID (the user's other sessions survive),
# kill USER, explain, check (sshd -T with and without the Match block),
# max_sessions, and the log lines of a session.
IT_NEEDS="/usr/sbin/sshd ssh pgrep python3"
. "$(dirname "$0")/lib.sh"
it_init "$@"

it_sshd_start
S1=$IT_S1
S2=$IT_S2
it_ctl() { timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" "$CUBBY_CTL" --config "$IT_CONF" "$@"; }
json_ok() { python3 -c 'import json, sys; json.load(sys.stdin)' >/dev/null 2>&1; }
# count_sessions USER: live sessions of USER in `cubbyctl list`
count_sessions() { it_ctl list 2>/dev/null | awk -v u="$1" '$2 == u && $9 == "live"' | wc -l; }
# wait_sessions USER N: until USER has N live sessions (10 s at most)
wait_sessions() {
	local i
	for i in $(seq 1 100); do
		[ "$(count_sessions "$1")" -eq "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
# wait_gone PID: until the background ssh PID has exited (10 s at most)
wait_gone() {
	local i
	for i in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# --- three live sessions: two of S1, one of S2
it_syslog_mark
it_ssh -n "$S1" 'exec sleep 60' >/dev/null 2>&1 &
a=$!
it_ssh -n "$S1" 'exec sleep 61' >/dev/null 2>&1 &
b=$!
it_ssh -n "$S2" 'exec sleep 62' >/dev/null 2>&1 &
c=$!
wait_sessions "$S1" 2
it_eq "list: two live sessions of $S1" 2 "$(count_sessions "$S1")"
wait_sessions "$S2" 1
it_eq "list: one live session of $S2" 1 "$(count_sessions "$S2")"
out=$(it_ctl list)
it_match "list: header names the columns" '^ID +USER +UID +SERVICE +RHOST' "$out"
it_match "list: the service and remote host of $S1's session" "$S1 .* cubby-test-sshd +127\.0\.0\.1" "$out"

json=$(it_ctl --json list)
printf '%s' "$json" | json_ok
it_eq "list --json is valid JSON" 0 "$?"
it_match "list --json names $S1 with its uid" "\"user\":\"$S1\",\"uid\":$(it_uid "$S1")" "$json"
it_match "list --json carries memory and cpu" '"memory_bytes":[0-9]+,"cpu_ms":' "$json"

log=$(it_syslog_since)
it_match "syslog: session_start of $S1 with a session id and setup time" \
	"event=session_start session=[0-9a-f]{16} uid=$(it_uid "$S1") user=$S1 service=cubby-test-sshd rhost=127\.0\.0\.1 .*setup_ms=" "$log"
it_match "syslog: session_start of $S1 carries the module's step times" \
	"event=session_start .*user=$S1 .*steps_us=user:[0-9]+,conf:[0-9]+,policy:[0-9]+,.*,redirect:[0-9]+" "$log"
it_match "syslog: container_start of $S1 carries the helper's step times, each setup step" \
	"event=container_start session=[0-9a-f]{16} uid=$(it_uid "$S1") user=$S1 pid=[0-9]+ setup_ms=[0-9.]+ steps_us=record:[0-9]+,cgjoin:[0-9]+,tty:[0-9]+,root:[0-9]+,cgopen:[0-9]+,clone:[0-9]+,staging_idmap:[0-9]+,net:[0-9]+,release:[0-9]+$" "$log"

# --- show ID
ids=$(it_ctl list | awk -v u="$S1" '$2 == u { print $1 }')
id1=$(printf '%s\n' "$ids" | head -n 1)
out=$(it_ctl show "$id1")
it_match "show $id1: the record" "^record=[0-9]+-[0-9]+" "$out"
it_match "show $id1: names $S1" "^user=$S1$" "$out"
json=$(it_ctl --json show "$id1")
printf '%s' "$json" | json_ok
it_eq "show --json is valid JSON" 0 "$?"
it_ctl show 0000000000000000 >/dev/null 2>&1
it_eq "show of an unknown id: exit 1" 1 "$?"

# --- kill ID ends that session only
it_syslog_mark
out=$(it_ctl kill "$id1"); rc=$?
it_eq "kill $id1: exit 0" 0 "$rc"
it_match "kill $id1: says so" "killed session $id1" "$out"
wait_sessions "$S1" 1
it_eq "kill $id1: $S1 has one session left" 1 "$(count_sessions "$S1")"
it_eq "kill $id1: $S2's session untouched" 1 "$(count_sessions "$S2")"
n_alive=0
kill -0 "$a" 2>/dev/null && n_alive=$((n_alive + 1))
kill -0 "$b" 2>/dev/null && n_alive=$((n_alive + 1))
it_eq "kill $id1: one of $S1's two ssh clients is still connected" 1 "$n_alive"
it_match "syslog: session_killed for $id1" "event=session_killed session=$id1" "$(it_syslog_since)"

# --- kill USER ends the rest of that user's sessions, not the others'
out=$(it_ctl kill "$S1"); rc=$?
it_eq "kill $S1: exit 0" 0 "$rc"
wait_sessions "$S1" 0
it_eq "kill $S1: no session of $S1 left" 0 "$(count_sessions "$S1")"
wait_gone "$a"; wait_gone "$b"
it_eq "kill $S1: its ssh clients ended" "no" "$( (kill -0 "$a" || kill -0 "$b") 2>/dev/null && echo yes || echo no)"
it_eq "kill $S1: $S2's session untouched" 1 "$(count_sessions "$S2")"
it_ctl kill "${IT_P}nosuchuser" >/dev/null 2>&1
it_eq "kill of an unknown user: exit 1" 1 "$?"
it_ctl kill "$S2" >/dev/null
wait_gone "$c"
it_check_clean "after kill" "$S1"
it_check_clean "after kill" "$S2"

# --- explain
out=$(it_ctl explain "$S1")
it_match "explain $S1: sandboxed, from the students section" "^sandbox +yes +# $IT_CONF:[0-9]+" "$out"
it_match "explain $S1: memory 256M" "^memory +268435456 " "$out"
json=$(it_ctl --json explain "$S1")
printf '%s' "$json" | json_ok
it_eq "explain --json is valid JSON" 0 "$?"
it_match "explain --json: sandbox yes" '"sandbox":\{"value":"yes"' "$json"
it_match "explain $S1: seccomp yes by default" '^seccomp +yes +# default' "$out"
it_policy_write "[user $S1]" "seccomp = allow_io_uring"
out=$(it_ctl explain "$S1")
it_match "explain $S1: seccomp allow_io_uring, from the user section" "^seccomp +allow_io_uring +# $IT_CONF:[0-9]+" "$out"
it_policy_write
out=$(it_ctl explain "$IT_A1")
it_match "explain $IT_A1: admin group, never sandboxed" 'never sandboxed' "$out"
it_match "explain $IT_A1: sandbox no" "^sandbox +no" "$out"
out=$(it_ctl explain "$IT_N1")
it_match "explain $IT_N1: not sandboxed by the policy" "^sandbox +no" "$out"

# --- check: sshd's effective settings for a sandboxed user
printf 'PermitTunnel no\n' >"$IT_SCRATCH/sshd-open"
out=$(it_ctl check --sshd-config "$IT_SCRATCH/sshd-open" 2>&1); rc=$?
it_eq "check with forwarding left on for sandboxed users: exit 1" 1 "$rc"
it_match "check names the forwarding setting" 'allowtcpforwarding yes for sandboxed user' "$out"
cat >"$IT_SCRATCH/sshd-closed" <<EOF
Subsystem sftp /usr/lib/openssh/sftp-server
Match Group $IT_G_STUDENTS
	AllowTcpForwarding no
	AllowStreamLocalForwarding no
	X11Forwarding no
	AllowAgentForwarding no
	PermitTunnel no
	PermitUserRC no
EOF
out=$(it_ctl check --sshd-config "$IT_SCRATCH/sshd-closed" 2>&1); rc=$?
it_eq "check with the Match block: exit 0" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out"
printf 'Subsystem sftp internal-sftp\n' >"$IT_SCRATCH/sshd-internal"
cat "$IT_SCRATCH/sshd-closed" | tail -n +2 >>"$IT_SCRATCH/sshd-internal"
out=$(it_ctl check --sshd-config "$IT_SCRATCH/sshd-internal" 2>&1)
it_match "check refuses internal-sftp" 'internal-sftp' "$out"
json=$(it_ctl --json check --sshd-config "$IT_SCRATCH/sshd-closed")
printf '%s' "$json" | json_ok
it_eq "check --json is valid JSON" 0 "$?"

# --- max_sessions: the second concurrent login of S1 is refused
it_policy_write "max_sessions = 1"
it_ssh -n "$S1" 'exec sleep 30' >/dev/null 2>&1 &
a=$!
wait_sessions "$S1" 1
it_syslog_mark
out=$(it_ssh -n "$S1" 'echo "@@pid=$$"' 2>&1); rc=$?
it_ne "max_sessions = 1: the second login fails" 0 "$rc"
it_nomatch "max_sessions = 1: its command did not run" '@@pid=' "$out"
it_match "max_sessions = 1: refused with the reason" 'reason="too many sessions' "$(it_syslog_since)"
it_ctl kill "$S1" >/dev/null
wait_gone "$a"
out=$(it_ssh -n "$S1" 'echo "@@pid=$$"' 2>&1)
it_eq "max_sessions = 1: a login after the first ended works" 1 "$(it_get pid "$out")"
it_policy_write
it_check_clean "at the end" "$S1"

it_finish
