#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs/THREATS.md, G (lifecycle) and S2/S7: concurrent logins, a forged record,
# SIGKILL of the supervisor, teardown without close_session then gc, the
# su -s and cron bypasses, and a clean channel for scp/sftp.
IT_NEEDS="/usr/sbin/sshd ssh sftp scp su pgrep ss"
. "$(dirname "$0")/seclib.sh"
sec_init "$@"
S1=$IT_S1 N1=$IT_N1
RAN=cubby-sec-ran

test_G_concurrent_logins() {
        local i pids=() outs=() pidns=()
        for i in 1 2 3 4 5; do
                sec_su "$S1" 'echo @@ns=$(readlink /proc/self/ns/pid); sleep 2' >"$IT_SCRATCH/conc.$i" &
                pids+=($!)
        done
        for i in "${pids[@]}"; do wait "$i"; done
        for i in 1 2 3 4 5; do
                sec_sandboxed "concurrent login $i" "$(cat "$IT_SCRATCH/conc.$i")"
                pidns+=("$(it_get ns "$(cat "$IT_SCRATCH/conc.$i")")")
        done
        it_eq "concurrent logins: five distinct containers" 5 "$(printf '%s\n' "${pidns[@]}" | sort -u | grep -c .)"
        it_check_clean "concurrent logins" "$S1"
}

test_G_forged_record() {
        local uid ppid start out rc
        uid=$(it_uid "$S1")
        # the user writes a record for their own shell (the helper's
        # parent) in every place they can write, claiming no sandbox
        out=$(it_as "$S1" bash -c '
                ppid=$$; start=$(awk "{print \$22}" /proc/$$/stat)
                for d in /tmp/sessions /dev/shm/sessions "$HOME/sessions"; do
                        mkdir -p "$d" 2>/dev/null || continue
                        printf "version=1\nid=0123456789abcdef\nstate=ready\nopener=%s-%s\nuid=%s\ngid=%s\nuser=%s\nhome=/\nshell=/bin/bash\nmode=login-shell\nsandbox=no\nservice=su\nseccomp=no\nnetwork=none\ncreated=0\n" \
                                "$ppid" "$start" "$(id -u)" "$(id -g)" "$(id -un)" >"$d/$ppid-$start"
                done
                CUBBY_RUNDIR=/tmp RUNDIR=/tmp '"$CUBBY_HELPER"' -c "echo '"$RAN"'-\$(id -u)"; echo @@rc=$?
                rm -rf /tmp/sessions /dev/shm/sessions' 2>&1 </dev/null)
        it_nomatch "forged record in a user-writable dir: the helper ran nothing" "$RAN" "$out"
        it_ne "forged record: the helper refused" 0 "$(it_get rc "$out")"
        it_match "forged record: it says there is no session" 'no cubby session' "$out"
        # a record in the real dir that root did not write: the dir is 0700
        it_eq "the compiled-in sessions dir is root 0700" "root 700" "$(stat -c '%U %a' "$IT_BRUNDIR/sessions")"
}

test_G_supervisor_sigkill() {
        local bg sp sup t0
        it_su - "$S1" -c 'sleep 30; true' </dev/null >/dev/null 2>&1 &
        bg=$!
        if ! sp=$(sec_pid_of_sandbox "$S1" sleep); then it_fail "supervisor: session" "running" "none"; wait "$bg"; return; fi
        local init; init=$(ps -o ppid= -p "$sp" | tr -d ' ')
        sup=$(ps -o ppid= -p "$init" | tr -d ' ')
        it_eq "supervisor found (the helper's inode)" "$(stat -L -c '%d:%i' "$CUBBY_HELPER")" "$(stat -L -c '%d:%i' "/proc/$sup/exe")"
        t0=$SECONDS
        kill -KILL "$sup"
        if sec_wait_gone "$init" 5 && sec_wait_gone "$sp" 5; then
                it_pass "SIGKILL of the supervisor: the container died with it (PDEATHSIG)"
        else
                sec_broken "SIGKILL of the supervisor kills the container (PDEATHSIG)" "container gone within 5 s" "still running"
        fi
        wait "$bg"
        it_int_lt "SIGKILL of the supervisor: su ended promptly" 10 $((SECONDS - t0))
        it_check_clean "supervisor SIGKILL" "$S1"
}

test_G_teardown_without_close_session() {
        local bg sp su_pid out
        it_su - "$S1" -c 'sleep 30; true' </dev/null >/dev/null 2>&1 &
        bg=$!
        if ! sp=$(sec_pid_of_sandbox "$S1" sleep); then it_fail "teardown: session" "running" "none"; wait "$bg"; return; fi
        # the opener: su's root parent process (has the record)
        su_pid=$(pgrep -P "$(pgrep -f "nsenter --net=$IT_NETNS_PATH su - $S1" | head -n1)" -x su | head -n1)
        [ -n "$su_pid" ] || su_pid=$(pgrep -x su -U 0 | tail -n1)
        kill -KILL "$su_pid"
        sec_wait_gone "$sp" 10 && it_pass "opener SIGKILLed: the container is gone (the supervisor watched it)" \
                || sec_broken "opener SIGKILLed: the container ends" "gone" "still running"
        wait "$bg"
        it_ne "opener SIGKILLed: its record is still there (close_session never ran)" "" "$(it_records "$S1")"
        out=$("$CUBBY_CTL" --config "$IT_CONF" gc 2>&1); it_log "gc: $out"
        it_check_clean "after cubbyctl gc" "$S1"
        out=$("$CUBBY_CTL" --config "$IT_CONF" gc 2>&1)
        it_eq "cubbyctl gc a second time: exit 0 (idempotent)" 0 "$?"
        it_check_clean "after a second gc" "$S1"
        sec_sandboxed "a login after gc works" "$(sec_su "$S1" true)"
        it_check_clean "login after gc" "$S1"
}

test_G_su_shell_bypass() {
        local args out rc
        for args in "-s /bin/sh $S1" "-s /bin/bash $S1" "-m $S1" "-p $S1" "- $S1" "-l -s /usr/bin/bash $S1"; do
                # shellcheck disable=SC2086
                out=$(it_as "$N1" su $args -c "echo $RAN-\$(id -u)" </dev/null 2>&1); rc=$?
                it_ne "su $args by $N1: refused" 0 "$rc"
                it_nomatch "su $args by $N1: the command never ran" "$RAN" "$out"
        done
        # root choosing another shell gets what root asked for (root's own
        # choice); the sandboxed user themselves cannot
        out=$(it_as "$S1" su -s /bin/sh "$S1" -c "echo $RAN" </dev/null 2>&1)
        it_nomatch "su -s /bin/sh $S1 by $S1 itself: refused" "$RAN" "$out"
}

test_G_other_pam_services() {
        local svc out
        [ -x "${CUBBY_PAMDRIVE:-}" ] || { sec_skip "pamdrive not built"; return; }
        for svc in cron atd systemd-user; do
                rm -f "$IT_SCRATCH/pam-ran"
                out=$(timeout 30 "$CUBBY_PAMDRIVE" "$svc" "$S1" -- /bin/sh -c "touch $IT_SCRATCH/pam-ran" 2>&1); rc=$?
                it_eq "$svc session for sandboxed $S1: refused" 1 "$rc"
                it_match "$svc session for $S1: PAM_SESSION_ERR" 'open=PAM_SESSION_ERR' "$out"
                it_eq "$svc session for $S1: the job never ran" no "$([ -e "$IT_SCRATCH/pam-ran" ] && echo yes || echo no)"
                out=$(timeout 30 "$CUBBY_PAMDRIVE" "$svc" "$IT_A1" -- /bin/true 2>&1)
                it_match "$svc session for the admin: opens" 'open=PAM_SUCCESS' "$out"
        done
        it_check_clean "other PAM services" "$S1"
}

test_G_clean_channel() {
        local out rc f=$IT_SCRATCH/chan
        it_sshd_start
        out=$(it_ssh -n "$S1" true 2>&1); rc=$?
        it_eq "ssh $S1 true: exit 0, nothing printed" "0 " "$rc $out"
        head -c 200000 /dev/urandom >"$f.src"; chmod 0644 "$f.src"
        printf 'put %s cubby-sec-chan\nget cubby-sec-chan %s\n' "$f.src" "$f.sftp" >"$f.batch"
        out=$(it_sftp "$S1" "$f.batch" </dev/null 2>&1); rc=$?
        it_eq "sftp put+get: exit 0" 0 "$rc"
        it_eq "sftp: the file came back byte for byte" "$(md5sum <"$f.src")" "$(md5sum <"$f.sftp" 2>/dev/null)"
        out=$(timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" scp -q -O -F /dev/null -i "$IT_SSH_KEY" -P "$IT_SSH_PORT" \
                "${IT_SSH_OPTS[@]}" "$S1@127.0.0.1:cubby-sec-chan" "$f.scp" 2>&1); rc=$?
        it_eq "scp (legacy protocol, needs a clean channel): exit 0" 0 "$rc"
        it_eq "scp: the file came back byte for byte" "$(md5sum <"$f.src")" "$(md5sum <"$f.scp" 2>/dev/null)"
        if command -v rsync >/dev/null; then
                out=$(timeout 60 nsenter --net="$IT_NETNS_PATH" rsync -e "ssh -F /dev/null -i $IT_SSH_KEY -p $IT_SSH_PORT ${IT_SSH_OPTS[*]}" \
                        "$S1@127.0.0.1:cubby-sec-chan" "$f.rsync" 2>&1); rc=$?
                it_eq "rsync over ssh: exit 0" 0 "$rc"
                it_eq "rsync: the file came back byte for byte" "$(md5sum <"$f.src")" "$(md5sum <"$f.rsync" 2>/dev/null)"
        else
                sec_skip "rsync is not installed (tools/install-deps test installs it): rsync part not run"
        fi
        it_check_clean "clean channel" "$S1"
}

for t in test_G_concurrent_logins test_G_forged_record test_G_supervisor_sigkill \
         test_G_teardown_without_close_session test_G_su_shell_bypass test_G_other_pam_services \
         test_G_clean_channel; do
        sec_test "$t"
done
sec_finish
