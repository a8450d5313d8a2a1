#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs/THREATS.md, A (invocation) and S3: environment, argv, fds, stdio, cwd,
# rlimits, signals, ptrace, direct invocation, from inside a sandbox, under
# NO_NEW_PRIVS. The helper trusts nothing it was given.
IT_NEEDS="su pgrep gcc prlimit setpriv"
. "$(dirname "$0")/seclib.sh"
sec_init "$@"
S1=$IT_S1 N1=$IT_N1
H1=$(getent passwd "$S1" | cut -d: -f6)
RAN=cubby-sec-ran

test_A_hostile_environment() {
        local so=$H1/.cubby-sec-preload.so out base uid
        uid=$(it_uid "$S1")
        printf '%s\n' '#include <stdio.h>' '#include <unistd.h>' \
                '__attribute__((constructor)) static void c(void) { fprintf(stderr, "PRELOAD-RAN ruid=%d euid=%d\n", (int)getuid(), (int)geteuid()); }' \
                >"$IT_SCRATCH/preload.c"
        gcc -shared -fPIC -o "$so" "$IT_SCRATCH/preload.c" || { sec_skip "cannot build the preload library"; return; }
        chmod 0755 "$so"
        mkdir -p "$H1/evil"; printf '#!/bin/sh\necho EVIL-PATH-RAN\n' >"$H1/evil/id"; chmod 0755 "$H1/evil" "$H1/evil/id"
        local hostile=(LD_PRELOAD="$so" LD_LIBRARY_PATH="$H1/evil" LD_AUDIT="$so" GCONV_PATH="$H1/evil"
                GLIBC_TUNABLES="glibc.malloc.mxfast=glibc.malloc.mxfast=$(printf 'A%.0s' $(seq 1 600))"
                PATH="$H1/evil:/usr/bin:/bin" BASH_ENV="$H1/evil/id" ENV="$H1/evil/id"
                SHELLOPTS=xtrace PS4='$(echo PS4-RAN)' IFS=/ TMPDIR=/etc MALLOC_CHECK_=3
                LANG='C;touch /tmp/x' TERM='xterm$(echo TERM-RAN)' CUBBY_RUNDIR=/tmp HOME=/etc)
        # su (not su -) keeps the caller's environment for the shell: the
        # helper must allow-list it.
        out=$(env "${hostile[@]}" timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
                su "$S1" -c 'echo @@pid=$$; echo @@env-begin; env; echo @@env-end; id -u; echo @@home=$HOME' \
                </dev/null 2>&1)
        base=$(grep -c 'PRELOAD-RAN ruid=0' <<<"$out")
        sec_sandboxed "hostile env" "$out"
        # The control: root's own su runs the preload. Without it, the
        # absence of the user's line below would prove nothing.
        if [ "$base" -gt 0 ]; then
                it_pass "hostile env: LD_PRELOAD works for root's own su (the test can see a preload)"
                it_nomatch "hostile env: the preload never ran as the user or in the helper" "PRELOAD-RAN ruid=$uid" "$out"
        else
                sec_skip "the preload did not run even in root's own su, so its absence in the sandbox shows nothing: $(it_clip "$out")"
        fi
        local env_in
        env_in=$(sed -n '/^@@env-begin/,/^@@env-end/p' <<<"$out")
        it_nomatch "hostile env: no LD_*, GCONV_PATH, GLIBC_TUNABLES, BASH_ENV, ENV, SHELLOPTS, PS4, IFS, TMPDIR, MALLOC_* inside" \
                '^(LD_|GCONV_PATH|GLIBC_TUNABLES|BASH_ENV|ENV=|SHELLOPTS|PS4|IFS|TMPDIR|MALLOC_|CUBBY_)' "$env_in"
        it_nomatch "hostile env: PATH inside is the fixed default" "^PATH=.*evil" "$env_in"
        it_nomatch "hostile env: no hostile code ran (PATH, BASH_ENV, PS4, TERM)" 'EVIL-PATH-RAN|PS4-RAN|TERM-RAN' "$out"
        it_nomatch "hostile env: the invalid LANG/TERM were dropped" "^(LANG=C;|TERM=xterm\\$)" "$env_in"
        it_eq "hostile env: id -u inside is the user's" "$uid" "$(grep -x '[0-9]*' <<<"$out" | tail -n1)"
        it_eq "hostile env: HOME inside is the user's" "$H1" "$(it_get home "$out")"
        rm -rf "$so" "$H1/evil"
        it_check_clean "hostile env" "$S1"
}

test_A_argc0_and_odd_argv() {
        local out rc
        # argc == 0 (CVE-2021-4034): refused before anything is trusted
        out=$(it_as "$S1" "$SECPROBE" noargv "$CUBBY_HELPER" 2>&1 </dev/null); rc=$?
        it_ne "argc == 0: helper exits non-zero" 0 "$rc"
        it_match "argc == 0: helper refuses with a message" 'cubby-shell' "$out"
        # odd argv shapes through a real su session (with a valid record):
        # su passes extra arguments after the user name to the shell
        local args
        for args in "-- --rcfile /etc/passwd -i" "-- -x" "-- /etc/passwd" "-c echo -- extra"; do
                # shellcheck disable=SC2086 # word splitting wanted
                out=$(it_su "$S1" $args </dev/null 2>&1); rc=$?
                it_ne "odd argv 'su $S1 $args': refused" 0 "$rc"
                it_match "odd argv 'su $S1 $args': the helper says why" 'unsupported arguments|cubby' "$out"
        done
        out=$(it_as "$S1" "$SECPROBE" argv "$CUBBY_HELPER" -bash -c "echo $RAN" 2>&1 </dev/null); rc=$?
        it_nomatch "argv '-bash -c CMD' run directly: nothing ran" "$RAN" "$out"
        it_check_clean "odd argv" "$S1"
}

test_A_inherited_fds() {
        local out bg sp fds links
        echo cubby-sec-secret >"$IT_SCRATCH/secret"; chmod 0600 "$IT_SCRATCH/secret"
        # root leaves 20 fds to a root-only file open across su: none may
        # reach the sandbox. The container's PID 1 (sleep, exec'd by bash
        # -c) is inspected from the host.
        timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" "$SECPROBE" keepfds "$IT_SCRATCH/secret" 20 -- \
                su - "$S1" -c 'exec sleep 6' </dev/null >/dev/null 2>&1 &
        bg=$!
        if sp=$(sec_pid_of_sandbox "$S1" sleep); then
                fds=$(ls "/proc/$sp/fd" | sort -n | tr '\n' ' ')
                links=$(for f in /proc/"$sp"/fd/*; do readlink "$f"; done)
                it_eq "inherited fds: the container's first process has only fds 0 1 2" "0 1 2 " "$fds"
                it_nomatch "inherited fds: the root-only file is not open inside" 'secret' "$links"
                kill -KILL "$sp"
        else
                it_fail "inherited fds: session started" "a sleep of $S1" "none"
        fi
        wait "$bg"
        out=$(timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" "$SECPROBE" keepfds "$IT_SCRATCH/secret" 20 -- \
                su - "$S1" -c 'echo @@pid=$$; for f in 3 4 5 6 7 8 9 10 20; do cat /proc/self/fd/$f 2>/dev/null; done; echo @@end=1' \
                </dev/null 2>&1)
        sec_sandboxed "inherited fds" "$out"
        it_nomatch "inherited fds: the root-only file cannot be read through an inherited fd" 'cubby-sec-secret' "$out"
        it_check_clean "inherited fds" "$S1"
}

test_A_closed_stdio() {
        local rc
        # fds 0-2 closed: whatever the helper opens first must not become
        # the shell's stdio (the record, a mount fd, ...)
        timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" "$SECPROBE" closestdio -- \
                su - "$S1" -c "ls -l /proc/self/fd/ >/tmp/x 2>&1; readlink /proc/1/fd/0 /proc/1/fd/1 /proc/1/fd/2 >~/cubby-sec-stdio 2>&1"
        rc=$?
        it_in "closed stdio: su ends (0 or a refusal, no hang)" "$rc" 0 1
        local f=$IT_STATEDIR/users/$S1/upper/cubby-sec-stdio
        if [ -e "$f" ]; then
                it_nomatch "closed stdio: the shell's stdio is /dev/null or nothing, never a file of the helper" \
                        'sessions|cubby|anchor|/run/|/proc/|mnt:|pidfd|pipe' "$(cat "$f")"
                rm -f "$f"
        else
                it_pass "closed stdio: the shell had no stdio to report (refused or /dev/null)"
        fi
        it_check_clean "closed stdio" "$S1"
}

test_A_cwd_leak() {
        local out
        mkdir -p "$IT_SCRATCH/cwd-outside" && chmod 0755 "$IT_SCRATCH/cwd-outside"
        # runc CVE-2024-21626: a cwd outside the container must not follow
        # the shell in. `su` (no -) keeps the caller's cwd.
        out=$(cd "$IT_SCRATCH/cwd-outside" && timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
                su "$S1" -c 'echo @@pid=$$; echo @@cwd=$(readlink /proc/self/cwd); echo @@cwd1=$(readlink /proc/1/cwd); echo @@pwd=$PWD; ls ../ 2>&1 | head -n 3; echo @@up=$(cd ..; cd ..; cd ..; readlink /proc/self/cwd)' \
                </dev/null 2>&1)
        sec_sandboxed "cwd leak" "$out"
        it_nomatch "cwd leak: cwd inside never points outside" 'cwd-outside|cubby-it|/var/tmp/cubby' \
                "$(it_get cwd "$out") $(it_get cwd1 "$out") $(it_get up "$out")"
        it_match "cwd leak: /proc/self/cwd is inside the container's tree" '^/' "$(it_get cwd "$out")"
        it_eq "cwd leak: .. of .. of .. is the container's /" / "$(it_get up "$out")"
        # the same from a directory fd kept open by the caller
        out=$(cd "$IT_SCRATCH/cwd-outside" && timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
                "$SECPROBE" keepfds . 3 -- su "$S1" -c 'echo @@pid=$$; for f in /proc/self/fd/* /proc/1/fd/*; do readlink $f; done' \
                </dev/null 2>&1)
        it_nomatch "cwd leak: no directory fd of the caller inside" 'cwd-outside' "$out"
        it_check_clean "cwd leak" "$S1"
}

test_A_tiny_rlimits() {
        local out rc lim base
        touch "$IT_SCRATCH/rlimit-mark"
        # su passes the caller's rlimits to PAM and the helper; root may set
        # any. Whatever su itself survives, the login is a sandbox or a
        # refusal, and nothing half made is left.
        for lim in "--nofile=4" "--fsize=0" "--nproc=1" "--nofile=4 --fsize=0 --nproc=1 --as=67108864" "--stack=16384" "--core=0 --memlock=0"; do
                # shellcheck disable=SC2086
                base=$(timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" prlimit $lim -- \
                        su - "$N1" -c 'echo @@ok=yes' </dev/null 2>&1)
                # shellcheck disable=SC2086
                out=$(timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" prlimit $lim -- \
                        su - "$S1" -c 'echo @@pid=$$; echo @@ok=yes' </dev/null 2>&1); rc=$?
                sec_not_host "rlimits $lim" "$out"
                if [ "$(it_get ok "$base")" != yes ]; then
                        it_log "rlimits $lim: su itself fails for an unsandboxed user too (baseline); only S2/S7 checked"
                elif [ "$(it_get ok "$out")" = yes ]; then
                        sec_sandboxed "rlimits $lim (login completed)" "$out"
                elif grep -q cubby <<<"$out"; then
                        it_pass "rlimits $lim: refused with a message (rc $rc)"
                else
                        # e.g. a hard RLIMIT_FSIZE of 0 that root cannot raise
                        # (no CAP_SYS_RESOURCE here): su killed by SIGXFSZ (rc
                        # 153) inside pam_cubby's writes, with no refusal
                        # message and no log line, while the same su for an
                        # unsandboxed user works
                        sec_broken "S2/S8 rlimits $lim: a sandboxed login that cannot be set up is refused with a message and an incident id (the unsandboxed baseline worked)" \
                                "a 'cubby: login refused' line" "rc $rc, output '$(it_clip "$out")'"
                fi
                it_check_clean "rlimits $lim" "$S1"
        done
        it_empty "rlimits: no truncated record left" "$(it_records "$S1")"
        # temp files of writes that died half way (the module's last-good
        # copy and records are written as temp + rename)
        local tmp
        tmp=$(find "$IT_BRUNDIR" "$IT_RUNDIR" -name '.*' -newer "$IT_SCRATCH/rlimit-mark" 2>/dev/null | tr '\n' ' ')
        if [ -n "$tmp" ]; then
                sec_broken "S7 rlimits: no half-written temp file left in the run dirs" "none" "$tmp"
                rm -f $tmp
        else
                it_pass "rlimits: no half-written temp file left in the run dirs"
        fi
}

test_A_signals_during_setup() {
        local i out uid bg
        uid=$(it_uid "$S1")
        # the user sends every catchable signal to all their processes while
        # logins are being set up: each login is a sandbox or a refusal
        ( end=$((SECONDS + 6)); while [ $SECONDS -lt $end ]; do
                for s in HUP INT QUIT USR1 USR2 ALRM TERM CONT TSTP TTIN TTOU WINCH; do
                        setpriv --reuid="$uid" --regid="$(it_gid "$S1")" --clear-groups kill -s "$s" -1 2>/dev/null
                done
          done ) &
        bg=$!
        for i in 1 2 3 4 5; do
                out=$(sec_su "$S1" 'echo @@ok=yes')
                sec_not_host "signal storm login $i" "$out"
        done
        kill "$bg" 2>/dev/null; wait "$bg" 2>/dev/null
        it_check_clean "signal storm" "$S1"
}

test_A_ptrace_helper() {
        local bg sup sp out
        # the supervisor (the helper after setup) runs as the user but is
        # not dumpable: the user can neither trace it nor read its memory
        it_su - "$S1" -c 'sleep 8' </dev/null >/dev/null 2>&1 &
        bg=$!
        if ! sp=$(sec_pid_of_sandbox "$S1" sleep); then
                it_fail "ptrace: session started" "a sleep of $S1" "none"; wait "$bg"; return
        fi
        # (its exe's name depends on how the redirect reached it:
        # compare the inode)
        local want
        want=$(stat -L -c '%d:%i' "$CUBBY_HELPER")
        sup=$sp
        for _ in 1 2 3; do
                sup=$(ps -o ppid= -p "$sup" | tr -d ' ')
                [ "$(stat -L -c '%d:%i' "/proc/$sup/exe" 2>/dev/null)" = "$want" ] && break
        done
        it_eq "ptrace: supervisor found (the helper)" "$want" "$(stat -L -c '%d:%i' "/proc/$sup/exe" 2>/dev/null)"
        it_eq "ptrace: the supervisor runs as the user" "$(it_uid "$S1")" "$(awk '/^Uid:/ {print $2}' "/proc/$sup/status")"
        out=$(it_as "$S1" "$SECPROBE" ptrace "$sup" 2>&1)
        it_match "ptrace: PTRACE_ATTACH to the supervisor refused" 'ptrace_attach=E(PERM|ACCES)' "$out"
        it_match "ptrace: /proc/PID/mem of the supervisor refused" 'open_mem=E(PERM|ACCES)' "$out"
        it_match "ptrace: /proc/PID/environ of the supervisor refused" 'read_environ=E(PERM|ACCES)' "$out"
        kill -KILL "$sp" 2>/dev/null
        wait "$bg"
        it_check_clean "ptrace" "$S1"
}

test_A_direct_invocation() {
        local u out rc
        for u in "$S1" "$N1"; do
                out=$(it_as "$u" "$CUBBY_HELPER" -c "echo $RAN" 2>&1 </dev/null); rc=$?
                it_ne "direct invocation by $u: non-zero exit" 0 "$rc"
                it_nomatch "direct invocation by $u: nothing ran" "$RAN" "$out"
        done
        # a fake session opener: the user's own process whose child is
        # the helper has no root-owned record
        out=$(it_as "$S1" bash -c "$CUBBY_HELPER -c 'echo $RAN'" 2>&1 </dev/null)
        it_nomatch "direct invocation below a user shell: nothing ran" "$RAN" "$out"
        # The refusal goes to syslog (authpriv.err = <83>) under the
        # helper's fixed ident with the incident id the user was shown;
        # argv[0], which the user chooses, is neither the ident nor logged.
        if [ ! -S /dev/log ] || [ -z "${IT_SYSLOG_PID:-}" ]; then
                echo "SKIP: direct invocation: syslog lines (no private /dev/log listener)"
                return
        fi
        local id log forged='forged[1]: cubby: event=session_start'
        it_syslog_mark
        out=$(it_as "$S1" bash -c "exec -a '$forged' $CUBBY_HELPER -c 'echo $RAN'" 2>&1 </dev/null)
        id=$(grep -Eo 'incident [0-9a-f]{16}' <<<"$out" | cut -d' ' -f2)
        it_match "direct invocation: the user is shown an incident id" '^[0-9a-f]{16}$' "$id"
        # the listener writes each datagram as it comes: wait for the line
        # (bounded: 100 x 50 ms)
        for _ in $(seq 1 100); do
                log=$(it_syslog_since)
                grep -q "event=helper_failed incident=${id:-none}" <<<"$log" && break
                sleep 0.05
        done
        it_match "direct invocation: syslog has the refusal with that incident id" \
                "^<83>.* cubby-shell\[[0-9]+\]: cubby: event=helper_failed incident=${id:-none} uid=$(it_uid "$S1") " "$log"
        it_nomatch "direct invocation: argv[0] reaches neither the ident nor the line" 'forged' "$log"
}

test_A_from_inside_sandbox() {
        local out
        # a setuid-root copy of the helper where the sandbox can exec it
        # (the user's home, lower layer); and the installed one's path
        install -m 4755 -o root -g root "$CUBBY_HELPER" "$H1/cubby-sec-helper" || { sec_skip "cannot copy the helper"; return; }
        out=$(sec_su "$S1" "echo @@installed=\$(test -e $CUBBY_HELPER && echo visible || echo hidden);
                ~/cubby-sec-helper -c 'echo @@euid=\$(id -u)' 2>&1; echo @@rc=\$?;
                ~/cubby-sec-helper 2>&1 </dev/null; echo @@rc2=\$?")
        sec_sandboxed "from inside" "$out"
        it_eq "from inside: the installed helper is not visible inside" hidden "$(it_get installed "$out")"
        it_ne "from inside: setuid copy of the helper exits non-zero" 0 "$(it_get rc "$out")"
        it_eq "from inside: it never ran a shell" "" "$(it_get euid "$out")"
        it_match "from inside: it refuses (no privileges: nosuid + NoNewPrivs)" 'not installed setuid root|refusing' "$out"
        rm -f "$H1/cubby-sec-helper"
        it_check_clean "from inside" "$S1"
}

test_A_no_new_privs() {
        local out rc
        out=$(it_as "$S1" setpriv --no-new-privs "$CUBBY_HELPER" -c "echo $RAN" 2>&1 </dev/null); rc=$?
        it_ne "NO_NEW_PRIVS, direct: refused" 0 "$rc"
        it_nomatch "NO_NEW_PRIVS, direct: nothing ran" "$RAN" "$out"
        # root's su under NO_NEW_PRIVS: the shell exec cannot gain root,
        # so the helper must refuse rather than run the shell on the host
        out=$(timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" setpriv --no-new-privs \
                su - "$S1" -c "echo @@pid=\$\$; echo $RAN" </dev/null 2>&1); rc=$?
        sec_not_host "NO_NEW_PRIVS su - $S1" "$out"
        if [ "$(it_get pid "$out")" != 1 ]; then
                it_nomatch "NO_NEW_PRIVS su - $S1: the command never ran" "$RAN" "$out"
                it_ne "NO_NEW_PRIVS su - $S1: refused" 0 "$rc"
        fi
        it_check_clean "NO_NEW_PRIVS" "$S1"
}

for t in test_A_hostile_environment test_A_argc0_and_odd_argv test_A_inherited_fds \
         test_A_closed_stdio test_A_cwd_leak test_A_tiny_rlimits test_A_signals_during_setup \
         test_A_ptrace_helper test_A_direct_invocation test_A_from_inside_sandbox test_A_no_new_privs; do
        sec_test "$t"
done
sec_finish
