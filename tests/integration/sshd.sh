#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A real sshd (private instance in the test netns, PAM service
# cubby-test-sshd, pam_cubby last, redirect mode) puts a sandboxed user
# into a container: probe, exit codes, signals, sftp, a pty with job
# control, the cgroups while a session runs, and nothing left afterwards.
IT_NEEDS="/usr/sbin/sshd ssh sftp ss pgrep /usr/bin/python3"
. "$(dirname "$0")/lib.sh"
it_init "$@"

it_sshd_start
S1=$IT_S1 N1=$IT_N1 A1=$IT_A1

# --- the harness itself: an unsandboxed user gets a host shell over ssh.
out=$(it_ssh -n "$N1" "$(it_probe)" 2>&1)
it_check_host "ssh $N1 (not sandboxed)" "$N1" "$out"
it_check_host "ssh $A1 (admin group)" "$A1" "$(it_ssh -n "$A1" "$(it_probe)" 2>&1)"

# --- probe in a sandbox
it_syslog_mark
out=$(it_ssh -n "$S1" "$(it_probe)" 2>&1); rc=$?
it_eq "ssh $S1 probe: exit status" 0 "$rc"
it_check_sandbox "ssh $S1" "$S1" "$out"
it_check_clean "after ssh $S1 probe" "$S1"
it_log "syslog of that session: $(it_syslog_since | tail -n 5 | tr '\n' '|')"

# --- exit status
it_ssh -n "$S1" 'exit 7'; rc=$?
it_eq "ssh $S1 'exit 7' returns 7" 7 "$rc"
out=$(it_ssh -n "$S1" 'echo to-stdout; echo to-stderr >&2' 2>"$IT_SCRATCH/stderr")
it_eq "ssh $S1: stdout is exactly the command's output" to-stdout "$out"
it_eq "ssh $S1: stderr is exactly the command's output (nothing printed on success)" \
        to-stderr "$(cat "$IT_SCRATCH/stderr")"

# --- a command killed by a signal: the container's init is SIGKILLed from
# the host (signals from inside its pid namespace cannot kill PID 1). The
# ssh client must see what it sees for the same on the host.
sig_rc() {
        local user=$1 bg pid rc
        it_ssh -n "$user" 'exec sleep 57' >/dev/null 2>&1 &
        bg=$!
        if ! pid=$(it_wait_proc "$user" sleep); then
                kill "$bg" 2>/dev/null; wait "$bg"
                echo "no-sleep-process"
                return
        fi
        kill -KILL "$pid"
        wait "$bg"; rc=$?
        echo "$rc"
}
base=$(sig_rc "$N1")
seen=$(sig_rc "$S1")
it_ne "ssh $N1 (host) 'exec sleep' SIGKILLed: ssh reports failure" 0 "$base"
it_eq "ssh $S1 (sandbox) 'exec sleep' SIGKILLed: ssh reports it as on the host" "$base" "$seen"
grep -a "Exit-signal\|exit-signal\|signal" "$IT_SSHD_DIR/log" | tail -n 3 >&2

# --- sftp put, then read it back through a sandboxed shell
head -c 3000 /dev/urandom | base64 >"$IT_SCRATCH/sftp-src"
printf 'put %s cubby-it-sftp.txt\n' "$IT_SCRATCH/sftp-src" >"$IT_SCRATCH/sftp-batch"
it_sftp "$S1" "$IT_SCRATCH/sftp-batch" >"$IT_SCRATCH/sftp-out" 2>&1 </dev/null; rc=$?
it_eq "sftp put as $S1: exit status" 0 "$rc"
[ "$rc" = 0 ] || cat "$IT_SCRATCH/sftp-out"
it_eq "ssh $S1 cat reads back the sftp upload" "$(cat "$IT_SCRATCH/sftp-src")" \
        "$(it_ssh -n "$S1" 'cat cubby-it-sftp.txt' 2>&1)"

# --- a pty session: job control works
pty_out=$(printf '%s\n' \
        'echo "@""@flags=$-"' \
        'sleep 301 &' \
        'jobs' \
        'kill %1' \
        'wait' \
        'echo "@""@jobs_after=$(jobs | wc -l)"' \
        'echo "@""@ttypid=$$"' \
        'echo "@""@done=yes"' \
        'exit' | it_ssh -tt "$S1" 2>&1 | tr -d '\r')
it_eq "ssh -tt $S1: session completed" yes "$(it_get done "$pty_out")"
it_match "ssh -tt $S1: interactive shell has job control (\$- contains m)" 'm' "$(it_get flags "$pty_out")"
it_nomatch "ssh -tt $S1: no 'no job control' message" 'no job control|cannot set terminal process group' "$pty_out"
it_match "ssh -tt $S1: background job listed by jobs" 'Running +sleep 301' "$pty_out"
it_eq "ssh -tt $S1: background job killed, none left" 0 "$(it_get jobs_after "$pty_out")"
it_eq "ssh -tt $S1: interactive shell is PID 1" 1 "$(it_get ttypid "$pty_out")"
it_nomatch "ssh -tt $S1: no error from the shell about the terminal" 'Inappropriate ioctl|cannot access tty' "$pty_out"

# An interactive shell must not be hung up at startup (a SIGHUP left
# pending by the helper letting go of the tty killed ~50% of them): five
# sessions, input typed after a second.
ok=0
for i in 1 2 3 4 5; do
        o=$( { sleep 1; echo 'echo "@""@alive=yes"'; echo exit; } | it_ssh -tt "$S1" 2>&1)
        [ "$(it_get alive "$o")" = yes ] && ok=$((ok + 1))
done
it_eq "ssh -tt $S1: interactive shells survive startup (5 sessions)" 5 "$ok"

# --- cgroups while a session runs
it_ssh -n "$S1" 'sleep 6' >/dev/null 2>&1 &
bg=$!
if pid=$(it_wait_proc "$S1" sleep); then
        it_pass "ssh $S1 'sleep 6': sandbox process seen on the host (pid $pid)"
        it_check_session_cgroups "ssh $S1 'sleep 6'" "$S1" "$pid"
        it_ne "ssh $S1: a session record exists while the session runs" "" "$(it_records "$S1")"
else
        it_fail "ssh $S1 'sleep 6': sandbox process seen on the host" "a sleep of uid $(it_uid "$S1")" "none within 10 s"
fi
wait "$bg"
it_eq "ssh $S1 'sleep 6': exit status" 0 "$?"
it_check_clean "after ssh $S1 'sleep 6'" "$S1"

# --- two users at once: each sees only their own home
it_ssh -n "$IT_S2" 'sleep 5' >/dev/null 2>&1 &
bg=$!
if it_wait_proc "$IT_S2" sleep >/dev/null; then
        it_pass "$IT_S2's session runs"
else
        it_fail "$IT_S2's session runs" "a sleep of $IT_S2" "none within 10 s"
fi
out=$(it_ssh -n "$S1" "$(it_probe)" 2>&1)
it_eq "ssh $S1 while $IT_S2 is logged in: /home shows only $S1" "$S1" "$(it_get home "$out")"
it_eq "ssh $S1 while $IT_S2 is logged in: \$\$ is 1" 1 "$(it_get pid "$out")"
wait "$bg"
it_eq "$IT_S2's concurrent session: exit status" 0 "$?"
it_check_clean "after the concurrent sessions ($IT_S2)" "$IT_S2"
it_check_clean "after the concurrent sessions ($S1)" "$S1"

# --- budgets (docs/THREATS.md, E): pids.max 128 holds a fork loop; a memory hog
# dies inside; everything the login started dies with its shell.
out=$(it_ssh -n "$S1" '/usr/bin/python3 -c "
import os, time
n = 0
for i in range(300):
    try:
        p = os.fork()
    except OSError:
        break
    if p == 0:
        time.sleep(30)
        os._exit(0)
    n += 1
print(\"forked=%d\" % n)
"' 2>&1)
f=$(printf '%s\n' "$out" | sed -n 's/^forked=//p')
it_int_lt "fork loop in the sandbox stops below pids.max 128" 128 "$f"
it_ne "fork loop in the sandbox could fork at all" 0 "${f:-0}"
it_check_clean "after the fork loop (its children die with PID 1)" "$S1"
out=$(it_ssh -n "$S1" '/usr/bin/python3 -c "b = b\"x\" * (400 << 20); print(\"hog-survived\")"' 2>&1); rc=$?
it_ne "memory hog of 400M under memory = 256M: fails" 0 "$rc"
it_nomatch "memory hog of 400M under memory = 256M: does not complete" 'hog-survived' "$out"
it_eq "sshd still runs after the hog" yes "$(kill -0 "$IT_SSHD_PID" 2>/dev/null && echo yes || echo no)"
it_eq "ssh still works after the hog" 1 "$(it_get pid "$(it_ssh -n "$S1" "$(it_probe)" 2>&1)")"
it_check_clean "after the memory hog" "$S1"

# --- no nested user namespaces, no setuid inside
out=$(it_ssh -n "$S1" 'unshare -U true && echo nested-userns-ok; su -c true root </dev/null && echo su-ok' 2>&1)
it_nomatch "sandbox: no nested user namespace" 'nested-userns-ok' "$out"
it_nomatch "sandbox: su to root does not work" 'su-ok' "$out"

# --- mounts and /dev inside (docs/THREATS.md, S5 and D): every mount nosuid and nodev
# except the device nodes and devpts; /dev has only the safe devices.
out=$(it_ssh -n "$S1" 'awk "{ print \"@@m \" \$5 \" \" \$6 }" /proc/self/mountinfo; find /dev -xdev \( -type c -o -type b \) | sed "s/^/@@d /"; find /dev/ -mindepth 1 -maxdepth 1 -type b | sed "s/^/@@b /"' 2>&1)
devs_ok='^/dev/(null|zero|full|random|urandom|tty|ptmx|console)$'
bad=
while read -r tag target opts; do
        [ "$tag" = "@@m" ] || continue
        case ",$opts," in *,nosuid,*) nosuid=1 ;; *) nosuid= ;; esac
        case ",$opts," in *,nodev,*) nodev=1 ;; *) nodev= ;; esac
        if [[ $target =~ $devs_ok ]] || [[ $target == /dev/pts ]]; then
                [ -n "$nosuid" ] || bad+="$target($opts) "
        elif [ -z "$nosuid" ] || [ -z "$nodev" ]; then
                bad+="$target($opts) "
        fi
done <<<"$(tr -d '\r' <<<"$out")"
it_ne "sandbox mount table read" "" "$(grep '^@@m' <<<"$out")"
it_empty "sandbox: every mount is nosuid, and nodev except device nodes and devpts" "$bad"
it_empty "sandbox: /dev holds only null zero full random urandom tty ptmx console (and pts/)" \
        "$(awk '$1 == "@@d" { print $2 }' <<<"$out" | grep -Ev "$devs_ok|^/dev/pts/" | tr '\n' ' ')"
out=$(it_ssh -n "$S1" 'touch /etc/cubby-it-x 2>/dev/null && echo wrote-etc; { : > /usr/cubby-it-x; } 2>/dev/null && echo wrote-usr; echo done' 2>&1)
it_eq "sandbox: the root file system is read-only" done "$out"

# --- the home persists: visible in the next session
it_ssh -n "$S1" 'echo persisted-$((6*7)) > cubby-it-persist.txt' </dev/null
it_eq "a file written in one session is there in the next" persisted-42 \
        "$(it_ssh -n "$S1" 'cat cubby-it-persist.txt' 2>&1)"
it_check_clean "at the end" "$S1"

it_finish
