#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# container = user against a hostile student, through the real sshd: from
# inside their container the student signals and ptraces cubby-init,
# kill(-1)s, looks for the join's supervisor and anything of the host,
# and plants symlinks and fifos where the next channel's agent socket
# goes (helper/agent.c); a stop of one user's container signals nothing
# of that user outside it and nothing of another user.
IT_NEEDS="/usr/sbin/sshd ssh ssh-agent ssh-add pgrep /usr/bin/python3"
. "$(dirname "$0")/lib.sh"
. "$IT_LIBDIR/lib-extra.sh"
it_init "$@"

S1=$IT_S1 S2=$IT_S2
# a third student, for the policy change (a container of its own, never
# stopped before)
N1=${IT_P}h1
hx_add_student "$N1"
NET="nsenter --net=$IT_NETNS_PATH"
it_policy_write "container = user" "linger = always"
it_sshd_start
sed -i -e 's/^AllowAgentForwarding no/AllowAgentForwarding yes/' "$IT_SSHD_DIR/sshd_config"
: >"$IT_SCRATCH/sshd.reload"
kill -HUP "$IT_SSHD_PID"
for i in $(seq 1 100); do
        sleep 0.1
        $NET ss -Hltn "sport = :$IT_SSH_PORT" 2>/dev/null | grep -q LISTEN && break
done

ct_field() { sed -n "s/^$2=//p" "$IT_RUNDIR/containers/u$(it_uid "$1")" 2>/dev/null; }
hx_on_exit "hx_ctl stop $S1 >/dev/null 2>&1; hx_ctl stop $S2 >/dev/null 2>&1; hx_ctl stop $N1 >/dev/null 2>&1"
u1=$(it_uid "$S1")
un=$(it_uid "$N1")

# --- a policy tightened while the container runs: the next login never
# joins a container with more than the policy now gives (network = nat,
# then none; linger = always keeps the old container): the old one is
# stopped (no other session uses it) and a new one started
ifaces() { it_ssh -n "$1" 'echo "@@if=$(awk -F: "NR > 2 { gsub(/ /, \"\", \$1); print \$1 }" /proc/net/dev | sort | tr "\n" " ")"' 2>&1; }
it_policy_write "container = user" "linger = always" "network = nat" \
        "[global]" "bridge = cbh$IT_ID" "subnet = 10.214.0.0/16"
o=$(ifaces "$N1")
it_match "network = nat: the container has an interface besides lo" '[a-z]+[0-9]' "$(it_get if "$o" | sed 's/lo //')"
nat_init=$(ct_field "$N1" init_pid)
it_ssh -n "$N1" 'nohup sleep 303 >/dev/null 2>&1 &' >/dev/null 2>&1
# a connection of N1 stays open across the change (a ControlMaster)
nsock=$IT_SCRATCH/n1.sock
$NET ssh -F /dev/null -i "$IT_SSH_KEY" -p "$IT_SSH_PORT" "${IT_SSH_OPTS[@]}" \
        -o ControlMaster=yes -o ControlPath="$nsock" -o ControlPersist=yes -fN "$N1@127.0.0.1"
hx_on_exit "$NET ssh -F /dev/null -o ControlPath=$nsock -O exit $N1@127.0.0.1 >/dev/null 2>&1"
it_policy_write "container = user" "linger = always" "network = none"
o=$(ifaces "$N1")
it_nomatch "network = none now, another connection open: no login with an interface besides lo" \
        '@@if=.*[a-z]+[0-9]' "$o"
it_match "network = none now, another connection open: refused, the user is told" \
        'runs under an earlier policy and is still in use' "$o"
it_eq "network = none now, another connection open: the old container is left to it" "$nat_init" \
        "$(ct_field "$N1" init_pid)"
$NET ssh -F /dev/null -o ControlPath="$nsock" -O exit "$N1@127.0.0.1" >/dev/null 2>&1
for i in $(seq 1 50); do [ -z "$(it_records "$N1")" ] && break; sleep 0.1; done
o=$(ifaces "$N1")
it_log "network = none, the next login: $o"
it_nomatch "network = none now: the next login has no interface besides lo" '@@if=.*[a-z]+[0-9]' "$o"
it_eq "network = none now: the old container's jobs are gone" "" "$(pgrep -u "$un" -f '^sleep 303$')"
for i in $(seq 1 50); do [ "$(awk '/^State:/ { print $2 }' "/proc/$nat_init/status" 2>/dev/null)" = S ] || break; sleep 0.1; done
it_ne "network = none now: the old container's init has ended" S \
        "$(awk '/^State:/ { print $2 }' "/proc/$nat_init/status" 2>/dev/null)"
it_match "network = none now: its stop is logged (reason=policy)" "event=container_stop uid=$un .*reason=policy" \
        "$(cat "$IT_SCRATCH/syslog")"
it_eq "network = none now: the next login gets in, loopback only" lo "$(it_get if "$o" | xargs)"
it_ne "network = none now: a new container" "$nat_init" "$(ct_field "$N1" init_pid)"
it_eq "network = none now: the new container's init is cubby-init" cubby-init \
        "$(cat "/proc/$(ct_field "$N1" init_pid)/comm" 2>/dev/null)"
hx_ctl stop "$N1" >/dev/null 2>&1
it_policy_write "container = user" "linger = always"

# both containers up
o=$(it_ssh -n "$S1" 'echo "@@pidns=$(readlink /proc/self/ns/pid)"' 2>&1)
pidns1=$(it_get pidns "$o")
it_ssh -n "$S2" true >/dev/null 2>&1
init1=$(ct_field "$S1" init_pid)
init2=$(ct_field "$S2" init_pid)
it_eq "$S1's container runs cubby-init" cubby-init "$(cat "/proc/$init1/comm" 2>/dev/null)"
it_eq "$S2's container runs cubby-init" cubby-init "$(cat "/proc/$init2/comm" 2>/dev/null)"

# --- a host process of $S1 outside any container (a decoy for signals)
it_as "$S1" sleep 301 &
host_bg=$!
for i in $(seq 1 50); do hp=$(pgrep -n -u "$u1" -f '^sleep 301$'); [ -n "$hp" ] && break; sleep 0.1; done
it_ne "a host process of $S1 runs (decoy)" "" "$hp"

# --- PID 1 from inside: signals, ptrace, its /proc
probe=$IT_SCRATCH/probe.py
cat >"$probe" <<'PY'
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(16, 1, None, None)          # PTRACE_ATTACH
print("@@ptrace=%d" % (0 if r == 0 else ctypes.get_errno()))
r = libc.ptrace(0x4206, 1, None, None)      # PTRACE_SEIZE
print("@@seize=%d" % (0 if r == 0 else ctypes.get_errno()))
for p in ("/proc/1/environ", "/proc/1/mem", "/proc/1/fd"):
    try:
        if p.endswith("fd"):
            os.listdir(p)
        else:
            open(p, "rb").read(1)
        print("@@open=%s" % p)
    except OSError:
        pass
for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGSEGV, signal.SIGKILL, signal.SIGSTOP):
    try:
        os.kill(1, s)
    except OSError:
        pass
comms = []
for d in os.listdir("/proc"):
    if d.isdigit():
        try:
            comms.append(open("/proc/%s/comm" % d).read().strip())
        except OSError:
            pass
print("@@comms=" + " ".join(sorted(comms)))
PY
o=$(it_ssh "$S1" python3 - <"$probe" 2>&1)
it_log "probe: $(tr '\n' ' ' <<<"$o")"
it_ne "inside: PTRACE_ATTACH of PID 1 fails" 0 "$(it_get ptrace "$o")"
it_ne "inside: PTRACE_SEIZE of PID 1 fails" 0 "$(it_get seize "$o")"
it_empty "inside: /proc/1/environ, mem and fd cannot be read" "$(it_get open "$o")"
it_nomatch "inside: no supervisor, sshd or host process is seen" \
        '(^| )(cubby-shell|sshd|cubby-test-sshd|systemd|cron|init)( |$)' "$(it_get comms "$o")"
sleep 0.5
it_eq "signals to PID 1 from inside: the same init lives on" cubby-init "$(cat "/proc/$init1/comm" 2>/dev/null)"
it_eq "signals to PID 1: the record still names it" "$init1" "$(ct_field "$S1" init_pid)"
it_eq "signals to PID 1: not stopped" "" "$(awk '/^State:/ && $2 == "T" { print "stopped" }' "/proc/$init1/status")"

# --- kill -KILL -1 from inside: everything of the container the user may
# signal, and nothing outside it (the supervisor, the host decoy, sshd,
# the other user's container)
it_ssh -n "$S1" 'nohup sleep 302 >/dev/null 2>&1 & sleep 0.2; kill -KILL -1' >/dev/null 2>&1
sleep 0.5
it_eq "kill -1 inside: the container's jobs are gone" "" "$(pgrep -u "$u1" -f '^sleep 302$')"
it_eq "kill -1 inside: the host process of $S1 lives on" S "$(awk '/^State:/ { print $2 }' "/proc/$hp/status" 2>/dev/null)"
it_eq "kill -1 inside: the init lives on" cubby-init "$(cat "/proc/$init1/comm" 2>/dev/null)"
it_eq "kill -1 inside: $S2's init lives on" cubby-init "$(cat "/proc/$init2/comm" 2>/dev/null)"
it_eq "kill -1 inside: sshd lives on" 0 "$(kill -0 "$IT_SSHD_PID" 2>/dev/null; echo $?)"
o=$(it_ssh -n "$S1" 'echo "@@pidns=$(readlink /proc/self/ns/pid)"' 2>&1)
it_eq "kill -1 inside: the next login joins the same container" "$pidns1" "$(it_get pidns "$o")"

# --- the agent socket's path, planted: a ControlMaster connection with -A,
# whose channels all get the same SSH_AUTH_SOCK
AG=$IT_SCRATCH/agent.sock
$NET ssh-agent -a "$AG" >/dev/null || it_fatal "ssh-agent"
hx_on_exit "SSH_AUTH_SOCK=$AG ssh-agent -k >/dev/null 2>&1"
SSH_AUTH_SOCK=$AG ssh-add -q "$IT_SSH_KEY" 2>/dev/null || it_fatal "ssh-add"
sock=$IT_SCRATCH/cm.sock
SSH_AUTH_SOCK=$AG $NET ssh -F /dev/null -i "$IT_SSH_KEY" -p "$IT_SSH_PORT" "${IT_SSH_OPTS[@]}" -A \
        -o ControlMaster=yes -o ControlPath="$sock" -o ControlPersist=yes -fN "$S1@127.0.0.1"
hx_on_exit "$NET ssh -F /dev/null -o ControlPath=$sock -O exit $S1@127.0.0.1 >/dev/null 2>&1"
cm() { SSH_AUTH_SOCK=$AG timeout 20 $NET ssh -F /dev/null -o ControlPath="$sock" -A \
        "${IT_SSH_OPTS[@]}" "$S1@127.0.0.1" "$@"; }
o=$(cm 'echo "@@sock=$SSH_AUTH_SOCK"; ssh-add -l >/dev/null 2>&1; echo "@@rc=$?"' 2>&1)
AGSOCK=$(it_get sock "$o")
it_match "ControlMaster -A, channel 1: SSH_AUTH_SOCK in /tmp/ssh-*" '^/tmp/ssh-[A-Za-z0-9]+/agent\.[0-9]+$' "$AGSOCK"
it_eq "ControlMaster -A, channel 1: the agent answers" 0 "$(it_get rc "$o")"
if [ -n "$AGSOCK" ]; then
        d=${AGSOCK%/*} f=${AGSOCK##*/}
        # plant P: P (shell) run in one channel; the next channel's output
        plant() { cm "$1; echo planted" >/dev/null 2>&1
                cm "echo \"@@sock=\$SSH_AUTH_SOCK\"; $2" 2>&1; }
        # the dir moved away, a symlink to the runtime dir in its place
        o=$(plant "mv $d /tmp/moved-1 && ln -s /run/user/$u1 $d" "ls -A /run/user/$u1")
        it_empty "planted symlink dir: no SSH_AUTH_SOCK" "$(it_get sock "$o")"
        it_match "planted symlink dir: the user is told" 'agent forwarding is not available' "$o"
        it_nomatch "planted symlink dir: nothing made through it" "$f" "$o"
        # a symlink to a dir of the user's own, 0700
        o=$(plant "rm -f $d; mkdir -m 0700 /tmp/other-1; ln -s /tmp/other-1 $d" "ls -A /tmp/other-1")
        it_empty "planted symlink to a dir of the user's: no SSH_AUTH_SOCK" "$(it_get sock "$o")"
        it_nomatch "planted symlink to a dir of the user's: nothing made through it" "$f" "$o"
        # a dir of the user's with a fifo at the socket's name
        o=$(plant "rm -f $d; mkdir -m 0700 $d; mkfifo $d/$f" "stat -c %F $d/$f")
        it_empty "planted fifo: no SSH_AUTH_SOCK" "$(it_get sock "$o")"
        it_match "planted fifo: still a fifo (nothing mounted on it)" 'fifo' "$o"
        # a symlink at the socket's name, to a file of the user's
        o=$(plant "rm -rf $d; mkdir -m 0700 $d; : >/tmp/target-1; ln -s /tmp/target-1 $d/$f" \
                "stat -c %F /tmp/target-1")
        it_empty "planted symlink socket: no SSH_AUTH_SOCK" "$(it_get sock "$o")"
        it_match "planted symlink socket: its target untouched" 'regular empty file' "$o"
        # a dir left 0755 (others could reach the socket)
        o=$(plant "rm -rf $d; mkdir -m 0755 $d" "ls -A $d")
        it_empty "planted 0755 dir: no SSH_AUTH_SOCK" "$(it_get sock "$o")"
        it_nomatch "planted 0755 dir: nothing mounted in it" "$f" "$o"
        # a socket of the user's own at that name
        o=$(plant "rm -rf $d; mkdir -m 0700 $d; python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' $d/$f" true)
        it_empty "planted socket: no SSH_AUTH_SOCK" "$(it_get sock "$o")"
        # cleaned up: the next channel gets the agent again
        o=$(cm "rm -rf $d /tmp/moved-1 /tmp/other-1 /tmp/target-1 2>/dev/null; echo cleaned" 2>&1)
        o=$(cm 'echo "@@sock=$SSH_AUTH_SOCK"; ssh-add -l >/dev/null 2>&1; echo "@@rc=$?"' 2>&1)
        it_eq "after the plants are gone: the agent again" "$AGSOCK 0" "$(it_get sock "$o") $(it_get rc "$o")"
fi
$NET ssh -F /dev/null -o ControlPath="$sock" -O exit "$S1@127.0.0.1" >/dev/null 2>&1

# --- a stop of $S1's container: nothing of $S1 outside it, nothing of $S2
o=$(hx_ctl stop "$S1" 2>&1)
it_log "cubbyctl stop $S1: $o"
for i in $(seq 1 50); do [ -e "/proc/$init1" ] || break; sleep 0.1; done
it_eq "cubbyctl stop $S1: its init is gone" "" "$(cat "/proc/$init1/comm" 2>/dev/null)"
it_eq "cubbyctl stop $S1: $S1's host process lives on" S "$(awk '/^State:/ { print $2 }' "/proc/$hp/status" 2>/dev/null)"
it_eq "cubbyctl stop $S1: $S2's init lives on" cubby-init "$(cat "/proc/$init2/comm" 2>/dev/null)"
kill "$host_bg" 2>/dev/null
pkill -u "$u1" -f '^sleep 301$'
wait "$host_bg" 2>/dev/null

# --- cubbyctl stop while a connection of the user stays open (a
# ControlMaster, no shell): the tree of that live session stays, and the
# next login starts a new container in it
psock=$IT_SCRATCH/keep.sock
$NET ssh -F /dev/null -i "$IT_SSH_KEY" -p "$IT_SSH_PORT" "${IT_SSH_OPTS[@]}" \
        -o ControlMaster=yes -o ControlPath="$psock" -o ControlPersist=yes -fN "$S2@127.0.0.1"
hx_on_exit "$NET ssh -F /dev/null -o ControlPath=$psock -O exit $S2@127.0.0.1 >/dev/null 2>&1"
for i in $(seq 1 50); do [ -n "$(it_records "$S2")" ] && break; sleep 0.1; done
hx_ctl stop "$S2" >/dev/null 2>&1
o=$(it_ssh -n "$S2" 'echo "@@ok=$(cat /proc/1/comm)"' 2>&1)
it_eq "stop with a connection open, then a login: a new container" cubby-init "$(it_get ok "$o")"
it_ne "stop with a connection open: the new container is not the old one" "$init2" "$(ct_field "$S2" init_pid)"
$NET ssh -F /dev/null -o ControlPath="$psock" -O exit "$S2@127.0.0.1" >/dev/null 2>&1

hx_ctl stop "$S2" >/dev/null 2>&1
it_check_clean "after cubbyctl stop $S1" "$S1"
it_check_clean "after cubbyctl stop $S2" "$S2"
it_check_clean "after cubbyctl stop $N1" "$N1"
it_finish
