#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Session lifecycle over the private sshd (docs/THREATS.md, G and S7): concurrent
# logins of one user, several channels on one connection (ControlMaster),
# background jobs dying with the shell, the opener killed without
# close_session and `cubbyctl gc` cleaning up, and scp's legacy protocol
# needing a clean channel.
IT_NEEDS="/usr/sbin/sshd ssh scp ss pgrep"
. "$(dirname "$0")/lib.sh"
it_init "$@"

it_sshd_start
S1=$IT_S1
uid=$(it_uid "$S1")
it_cg_hier
PIDS_U=$(it_cg_dir pids "u$uid")
it_ctl() { timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" "$CUBBY_CTL" --config "$IT_CONF" "$@"; }
# it_wait_count USER COMM N: wait (10 s max) until USER has N processes COMM.
it_wait_count() {
        local i
        for i in $(seq 1 100); do
                [ "$(pgrep -c -U "$(it_uid "$1")" -x "$2")" -ge "$3" ] && return 0
                sleep 0.1
        done
        return 1
}
sess_of() { awk -F: '$2 == "pids" { n = split($3, p, "/"); print p[n] }' "/proc/$1/cgroup"; }

# --- two logins of one user at once: two containers, one u<uid>
it_ssh -n "$S1" 'exec sleep 4' >/dev/null 2>&1 &
b1=$!
it_ssh -n "$S1" 'exec sleep 9' >/dev/null 2>&1 &
b2=$!
if it_wait_count "$S1" sleep 2; then
        p1=$(pgrep -U "$uid" -x -f 'sleep 4'); p2=$(pgrep -U "$uid" -x -f 'sleep 9')
        it_ne "two logins of $S1: different pid namespaces" "$(readlink "/proc/$p1/ns/pid")" "$(readlink "/proc/$p2/ns/pid")"
        it_ne "two logins of $S1: different session cgroups" "$(sess_of "$p1")" "$(sess_of "$p2")"
        s2=$(sess_of "$p2")
        wait "$b1"
        it_eq "two logins of $S1: the first ends normally" 0 "$?"
        sleep 0.5
        it_eq "after the first logout: the second container still runs" yes \
                "$(kill -0 "$p2" 2>/dev/null && echo yes || echo no)"
        it_eq "after the first logout: u$uid is still there" yes "$([ -d "$PIDS_U" ] && echo yes || echo no)"
        it_eq "after the first logout: the second session's cgroup is still there" yes \
                "$([ -d "$PIDS_U/$s2" ] && echo yes || echo no)"
        it_eq "after the first logout: pids.max on u$uid unchanged" 128 "$(cat "$PIDS_U/pids.max" 2>&1)"
else
        it_fail "two logins of $S1 run at once" "2 sleeps of $S1" "$(pgrep -a -U "$uid")"
fi
wait "$b2"
it_eq "two logins of $S1: the second ends normally" 0 "$?"
it_check_clean "after two concurrent logins" "$S1"

# --- one connection, several channels: each channel its own container
CM=$IT_SCRATCH/cm-%r
it_ssh -f -N -oControlMaster=yes "-oControlPath=$CM" -oControlPersist=no "$S1" </dev/null
it_eq "ControlMaster connection for $S1 established" 0 "$?"
out1=$(it_ssh -n "-oControlPath=$CM" "$S1" 'echo "@@pid=$$ @@ns=$(readlink /proc/self/ns/pid)"; sleep 2' 2>&1 &
       c=$!
       it_ssh -n "-oControlPath=$CM" "$S1" 'echo "@@pid=$$ @@ns=$(readlink /proc/self/ns/pid)"; sleep 2' 2>&1; wait "$c")
it_eq "two channels on one connection: both shells are PID 1" "1 1" \
        "$(grep -ao '@@pid=[0-9]*' <<<"$out1" | cut -d= -f2 | tr '\n' ' ' | sed 's/ $//')"
it_eq "two channels on one connection: two pid namespaces" 2 \
        "$(grep -ao '@@ns=[^ ]*' <<<"$out1" | sort -u | wc -l)"
it_ssh -n "-oControlPath=$CM" -Oexit "$S1" >/dev/null 2>&1
it_check_clean "after the multiplexed connection" "$S1"

# --- background jobs die with the shell (the shell is PID 1)
out=$(it_ssh -n "$S1" 'nohup sleep 78 >/dev/null 2>&1 & setsid sleep 79 >/dev/null 2>&1 & echo started' 2>&1)
it_eq "nohup/setsid jobs started" started "$out"
sleep 1
it_empty "nohup/setsid jobs are gone after logout" "$(pgrep -a -U "$uid" -x sleep)"
it_check_clean "after the background jobs" "$S1"

# --- the opener dies without close_session: the container ends, gc cleans
it_ssh -n "$S1" 'sleep 61' >/dev/null 2>&1 &
bg=$!
if pid=$(it_wait_proc "$S1" sleep); then
        list=$(it_ctl list 2>&1)
        it_match "cubbyctl list shows the running session of $S1" "$S1" "$list"
        # The opener is sshd's per-connection monitor: the root process
        # "sshd: USER [priv]" that is an ancestor of the sandbox.
        opener=
        p=$pid
        for i in 1 2 3 4 5 6; do
                p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
                [ -n "$p" ] && [ "$p" -gt 1 ] || break
                if grep -q "\[priv\]" "/proc/$p/cmdline" 2>/dev/null; then opener=$p; break; fi
        done
        if [ -n "$opener" ]; then
                kill -KILL "$opener"
                for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
                it_eq "opener (sshd monitor) killed: the container is gone within 5 s" no \
                        "$(kill -0 "$pid" 2>/dev/null && echo yes || echo no)"
                wait "$bg"
                it_log "before gc: records of $S1: $(it_records "$S1" | wc -l), u$uid $([ -d "$PIDS_U" ] && echo present || echo absent)"
                out=$(it_ctl gc 2>&1); rc=$?
                it_eq "cubbyctl gc after a crashed opener: exit status" 0 "$rc"
                [ "$rc" = 0 ] || echo "$out"
                it_check_clean "after the crashed opener and gc" "$S1"
                out=$(it_ctl gc 2>&1); rc=$?
                it_eq "cubbyctl gc a second time: exit status" 0 "$rc"
        else
                it_fail "found the sshd monitor above the sandbox" "an ancestor 'sshd: $S1 [priv]'" "none"
                kill "$bg"; wait "$bg"
        fi
else
        it_fail "ssh $S1 'sleep 61' runs" "a sleep of $S1" "none within 10 s"
        wait "$bg"
fi

# --- a burst of short logins of one user: u<uid> is made and removed under
# concurrent opens and closes; every login must get its sandbox.
ok=0; fails=
for round in 1 2 3 4 5; do
        pids=()
        for i in $(seq 1 8); do
                it_ssh -n "$S1" 'echo "@@pid=$$"' >"$IT_SCRATCH/burst.$i" 2>&1 &
                pids+=($!)
        done
        wait "${pids[@]}"       # not a bare wait: the syslog listener is a child too
        for i in $(seq 1 8); do
                if [ "$(it_get pid "$(cat "$IT_SCRATCH/burst.$i")")" = 1 ]; then ok=$((ok + 1))
                else fails+="$(cat "$IT_SCRATCH/burst.$i") | "; fi
        done
done
it_eq "5 bursts of 8 concurrent logins: all sandboxed" 40 "$ok"
[ -z "$fails" ] || echo "burst failures: $fails"
it_check_clean "after the login bursts" "$S1"

# --- scp's legacy protocol runs `scp -t` through the shell: the channel
# must carry nothing but scp's own bytes
head -c 2000 /dev/urandom | base64 >"$IT_SCRATCH/scp-src"
out=$(timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" scp -O -F /dev/null -i "$IT_SSH_KEY" \
        -P "$IT_SSH_PORT" "${IT_SSH_OPTS[@]}" "$IT_SCRATCH/scp-src" "$S1@127.0.0.1:cubby-it-scp.txt" 2>&1 </dev/null)
it_eq "scp -O to $S1: exit status and no output" "0 " "$? $out"
it_eq "ssh $S1 cat reads back the scp upload" "$(cat "$IT_SCRATCH/scp-src")" "$(it_ssh -n "$S1" 'cat cubby-it-scp.txt' 2>&1)"
it_check_clean "at the end" "$S1"

it_finish
