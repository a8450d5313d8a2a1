#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs/THREATS.md, E (resources) and S6: a fork bomb stops at pids.max and the host
# stays responsive; a memory hog is OOM-killed inside while the shell, su,
# sshd and the supervisor survive; a CPU hog is held to its quota; writing
# a parent's cgroup.procs from inside fails.
IT_NEEDS="su pgrep /usr/sbin/sshd ssh ss"
. "$(dirname "$0")/seclib.sh"
sec_init "$@"
S1=$IT_S1

# ms for the host to start a process
host_latency_ms() { local t0; t0=$(date +%s%N); /bin/true; echo $(( ($(date +%s%N) - t0) / 1000000 )); }

test_E_fork_bomb() {
        local bg out worst=0 l i t0
        t0=$SECONDS
        it_su - "$S1" -c "$SECPROBE forkbomb 8" </dev/null >"$IT_SCRATCH/bomb.out" 2>&1 &
        bg=$!
        sleep 2
        for i in $(seq 1 10); do l=$(host_latency_ms); [ "$l" -gt "$worst" ] && worst=$l; sleep 0.3; done
        it_log "fork bomb: worst host process start latency ${worst} ms"
        it_int_lt "fork bomb: the host stays responsive (process start under 1 s)" 1000 "$worst"
        local uid; uid=$(it_uid "$S1")
        it_int_lt "fork bomb: the user's processes stay within pids.max 128 (+ supervisor)" 131 "$(pgrep -U "$uid" | wc -l)"
        wait "$bg"
        out=$(cat "$IT_SCRATCH/bomb.out")
        it_match "fork bomb: fork was refused inside (EAGAIN)" 'refused=EAGAIN' "$out"
        it_int_lt "fork bomb: the session ended on time" 30 $((SECONDS - t0))
        it_check_clean "fork bomb" "$S1"
}

test_E_memory_hog() {
        local out rc
        it_sshd_start
        out=$(sec_su "$S1" "$SECPROBE hog 400; echo @@hog_rc=\$?; echo @@shell=alive"); rc=$?
        sec_sandboxed "memory hog" "$out"
        it_nomatch "memory hog of 400M under memory = 256M: killed" 'hog-survived' "$out"
        it_eq "memory hog: killed by SIGKILL (the OOM killer, inside the user's memory cgroup)" 137 "$(it_get hog_rc "$out")"
        it_eq "memory hog: the container's shell survived" alive "$(it_get shell "$out")"
        it_eq "memory hog: su and the supervisor survived (exit 0)" 0 "$rc"
        out=$(it_ssh -n "$S1" "$SECPROBE hog 400; echo @@shell=alive" 2>&1); rc=$?
        it_eq "memory hog over ssh: the shell survived" alive "$(it_get shell "$out")"
        it_eq "memory hog over ssh: sshd still runs" yes "$(kill -0 "$IT_SSHD_PID" 2>/dev/null && echo yes || echo no)"
        it_eq "memory hog over ssh: a new login works" 1 "$(it_get pid "$(it_ssh -n "$S1" 'echo @@pid=$$' 2>&1)")"
        it_check_clean "memory hog" "$S1"
}

test_E_cpu_hog() {
        local out
        # cpu = 0.5: a busy loop of 4 s gets about 2 s of CPU
        out=$(sec_su "$S1" 'TIMEFORMAT="@@cpu=%U+%S"; time timeout 4 sh -c "while :; do :; done"' 2>&1)
        local cpu; cpu=$(it_get cpu "$out" | tr -d ' ' | bc 2>/dev/null || it_get cpu "$out")
        it_log "cpu hog: $cpu s of CPU in 4 s (quota 0.5)"
        it_eq "cpu hog: held to the quota (under 3 s of CPU in 4 s)" 1 "$(echo "$cpu < 3.0" | bc 2>/dev/null)"
        it_check_clean "cpu hog" "$S1"
}

test_E_cgroup_escape() {
        local out bg sp before after h
        out=$(sec_su "$S1" 'echo @@cgmount=$(awk "\$5 ~ \"^/sys/fs/cgroup\"" /proc/self/mountinfo | wc -l); for f in /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/*/cgroup.procs /sys/fs/cgroup/*/../cgroup.procs /sys/fs/cgroup/unified/cgroup.procs; do [ -e "$f" ] || continue; echo $$ >"$f" 2>/dev/null && echo "@@escaped=$f"; done; mkdir /sys/fs/cgroup/x 2>/dev/null && echo @@mkdir=yes; echo @@self=$(tr "\n" ";" </proc/self/cgroup); echo @@end=1')
        sec_sandboxed "cgroup escape" "$out"
        it_eq "cgroup escape: no write to any cgroup.procs succeeded" "" "$(it_get escaped "$out")"
        it_eq "cgroup escape: no cgroup can be made" "" "$(it_get mkdir "$out")"
        it_nomatch "cgroup escape: /proc/self/cgroup inside shows only / (namespace rooted at the session)" ':/[^;]' "$(it_get self "$out")"
        # from the host: the process stays in its session cgroup after trying
        it_su - "$S1" -c 'for f in /sys/fs/cgroup/*/cgroup.procs; do echo $$ >$f; done 2>/dev/null; exec sleep 4' </dev/null >/dev/null 2>&1 &
        bg=$!
        if sp=$(sec_pid_of_sandbox "$S1" sleep); then
                it_check_session_cgroups "after the escape attempt" "$S1" "$sp"
        fi
        wait "$bg"
        it_check_clean "cgroup escape" "$S1"
}

for t in test_E_fork_bomb test_E_memory_hog test_E_cpu_hog test_E_cgroup_escape; do
        sec_test "$t"
done
sec_finish
