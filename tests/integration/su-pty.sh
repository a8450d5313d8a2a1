#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# `su - STUDENT` typed at root's terminal: the
# sandbox gets a pty of its own, relayed by the supervisor, and never an
# fd of root's terminal.
#  - a student process in the su session hands its terminal fd over a
#    unix socket to the student's process in a second session; after su
#    ended that fd gives nothing and root's next line reaches root;
#  - after an interactive su ends, root's terminal has root's foreground
#    group and modes again, and root's shell can read it (no EIO);
#  - through the relay: window size, Ctrl-C, Ctrl-Z, raw mode, exit
#    status, Ctrl-D, a signal death, su -c, pipes on stdin (no pty for
#    them);
#  - without any terminal fd, su in root's terminal session: /dev/tty
#    inside is not root's terminal.
# Root's terminal is a pty held by tests/integration/ptydrive.py.
IT_NEEDS="su python3 ps stty pgrep"
. "$(dirname "$0")/lib.sh"
it_init "$@"

S1=$IT_S1
DRIVE=$IT_LIBDIR/ptydrive.py
W=$IT_SCRATCH/pty
mkdir -p "$W"

# Root's side: a script run as the leader of the terminal's session (as a
# login shell is). It reports what su returned, whether the terminal's
# modes and foreground group are root's again, then reads one line.
cat >"$W/caller.sh" <<'EOS'
before=$(stty -g)
echo "@@caller=start"
"$@"
rc=$?
after=$(stty -g)
if [ "$before" = "$after" ]; then m=same; else m="changed:$before:$after"; fi
echo "@@su_rc=$rc"
echo "@@modes=$m"
echo "@@fg=$(ps -o tpgid= -p $$ | tr -d ' ') @@pgrp=$(ps -o pgid= -p $$ | tr -d ' ')"
echo "@@caller_ready=1"
if IFS= read -r -t 15 line; then echo "@@root_got=[$line]"; else echo "@@root_got=failed-$?"; fi
EOS

# drive NAME CALLER-ARGS...: steps from $W/NAME.steps; output in $W/NAME.out
drive() {
        local name=$1; shift
        timeout -k 5 120 nsenter --net="$IT_NETNS_PATH" python3 "$DRIVE" "$W/$name.steps" -- \
                /bin/bash --norc --noprofile "$W/caller.sh" "$@" >"$W/$name.out" 2>&1
}

# The common end: root's terminal is root's again.
check_caller() {
        local what=$1 out=$2 want_rc=$3 line=$4
        it_eq "$what: su's exit status" "$want_rc" "$(it_get su_rc "$out")"
        it_eq "$what: root's terminal modes as before su" same "$(it_get modes "$out")"
        it_eq "$what: root's terminal's foreground group is root's shell's" \
                "$(it_get pgrp "$out")" "$(it_get fg "$out")"
        it_eq "$what: root's next line reaches root (no EIO, nobody else read it)" \
                "[$line]" "$(it_get root_got "$out")"
        it_empty "$what: every step of the terminal script happened" "$(it_get drive_step "$out")"
        [ -z "$(it_get drive_step "$out")" ] || printf '%s\n' "---- $what: the terminal's output" "$out" | cat -A | tail -n 40
}

# --- the student's two programs, put in the student's home (shared by the
# student's sessions) through su without a terminal
cat >"$W/recv.py" <<'EOF'
import array, errno, os, select, socket, time
def say(s):
    print("@@" + s, flush=True)
path = os.path.expanduser("~/fdpass.sock")
try:
    os.unlink(path)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
srv.settimeout(90)
say("recv_listening=1")
c, _ = srv.accept()
c.settimeout(90)
_, anc, _, _ = c.recvmsg(16, socket.CMSG_SPACE(4))
fd = [array.array("i", d[:4])[0] for l, t, d in anc if l == socket.SOL_SOCKET and t == socket.SCM_RIGHTS][0]
st = os.fstat(fd)
say("recv_tty=%d:%d:%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev), os.major(st.st_rdev), os.minor(st.st_rdev)))
while c.recv(16):
    pass
say("recv_session_ended=1")
# su returns a moment after the container's end (the supervisor drains
# what the session wrote last): act when root has its terminal back
time.sleep(3)
try:
    os.write(fd, b"\r\nFAKE-PROMPT# ")
    say("recv_write=ok")
except OSError as e:
    say("recv_write=" + errno.errorcode[e.errno])
say("recv_reading=1")
got, res, end = b"", "nothing", time.monotonic() + 8
while time.monotonic() < end and b"\n" not in got:
    if not select.select([fd], [], [], max(0, end - time.monotonic()))[0]:
        break
    try:
        d = os.read(fd, 256)
    except OSError as e:
        res = errno.errorcode[e.errno]
        break
    if not d:
        res = "eof"
        break
    got += d
say("recv_read=" + (repr(got) if got else res))
EOF
cat >"$W/send.py" <<'EOF'
import array, os, socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
for i in range(300):
    try:
        s.connect(os.path.expanduser("~/fdpass.sock"))
        break
    except OSError:
        time.sleep(0.1)
s.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [0]).tobytes())])
print("@@" + "sent=1", flush=True)
time.sleep(600)
EOF
for f in recv.py send.py; do
        it_su - "$S1" -c "cat >~/$f" <"$W/$f" || it_fatal "cannot put $f into $S1's home"
done

# --- 1. the terminal fd handed to another session of the student
it_su - "$S1" -c 'exec python3 ~/recv.py' </dev/null >"$W/recv.out" 2>&1 &
recv_pid=$!
for i in $(seq 1 100); do grep -q recv_listening "$W/recv.out" && break; sleep 0.1; done
cat >"$W/fdpass.steps" <<EOF
expect 20 @@caller=start
send echo @@""in=\$\$\n
expect 30 @@in=1
send python3 ~/send.py &\n
expect 30 @@sent=1
send exit\n
expect 30 @@caller_ready=1
waitgrep 30 $W/recv.out @@recv_reading=1
send secret-for-root\n
expect 20 @@root_got=
EOF
drive fdpass su - "$S1"
wait "$recv_pid"
out=$(cat "$W/fdpass.out") recv=$(cat "$W/recv.out")
it_match "fd passing: the second session received a terminal fd" '^[0-9]+:[0-9]+:136:[0-9]+$' "$(it_get recv_tty "$recv")"
it_ne "fd passing: the fd handed out is not root's terminal (devpts instance and pty)" \
        "$(it_get drive_tty "$out")" "$(it_get recv_tty "$recv")"
it_eq "fd passing: the second session saw the su session end" 1 "$(it_get recv_session_ended "$recv")"
it_in "fd passing: writing to it after su ended fails" "$(it_get recv_write "$recv")" EIO EBADF ENXIO
it_nomatch "fd passing: nothing it wrote reached root's terminal" 'FAKE-PROMPT' "$out"
it_in "fd passing: reading from it gives nothing" "$(it_get recv_read "$recv")" EIO eof nothing
check_caller "fd passing" "$out" 0 secret-for-root
it_check_clean "after the fd passing check" "$S1"

# --- 2. root's terminal after an interactive su that ended with Ctrl-D
cat >"$W/eio.steps" <<'EOF'
expect 20 @@caller=start
send PS1='@@''ready> '; echo @@""in=$$ @@""tty=$(tty) @@""console=$([ /dev/console -ef "$(tty)" ] && echo same || echo other)\n
expect 30 @@in=1
# Ctrl-D at the prompt (readline's mode): typed while the shell still runs
# the echo, the switch from the pty's canonical mode can lose it
expect 30 @@ready>
send \x04
expect 30 @@caller_ready=1
send typed-after-su\n
expect 20 @@root_got=
EOF
drive eio su - "$S1"
out=$(cat "$W/eio.out")
it_eq "interactive su: the shell inside is PID 1" 1 "$(it_get in "$out")"
it_match "interactive su: the shell inside has a pty of its own" '^/dev/pts/[0-9]+$' "$(it_get tty "$out")"
it_eq "interactive su: /dev/console inside is that pty" same "$(it_get console "$out")"
check_caller "interactive su ended by Ctrl-D" "$out" 0 typed-after-su
it_check_clean "after the Ctrl-D check" "$S1"

# --- 3. job control, window size, raw mode and the exit status through
# the relay
cat >"$W/jobs.steps" <<'EOF'
expect 20 @@caller=start
send echo @@""in=$$\n
expect 30 @@in=1
winsize 33 101
sleep 1
send echo @@""size=$(stty size | tr ' ' x)\n
expect 20 @@size=
send bash -c 'trap "echo @@""trapped; exit 3" INT; echo @@""armed1; sleep 100 & wait'\n
expect 20 @@armed1
send \x03
expect 20 @@trapped
send bash -c 'echo @@""armed2; exec sleep 101'\n
expect 20 @@armed2
sleep 0.5
send \x1a
expect 20 Stopped
send echo @@""jobs=$(jobs -s | wc -l); kill -9 %1; wait %1 2>/dev/null\n
expect 20 @@jobs=
send python3 -c 'import os,termios,tty; s=termios.tcgetattr(0); tty.setraw(0); print("@@" "rawready", end="", flush=True); c=os.read(0,1); termios.tcsetattr(0,termios.TCSANOW,s); print("@@" "raw=%d" % c[0])'\n
expect 20 @@rawready
send \x03
expect 20 @@raw=
send exit 7\n
expect 30 @@caller_ready=1
send after-exit-7\n
expect 20 @@root_got=
EOF
drive jobs su - "$S1"
out=$(cat "$W/jobs.out")
it_eq "relay: TIOCSWINSZ on root's terminal reaches the pty (stty size)" 33x101 "$(it_get size "$out")"
it_match "relay: Ctrl-C interrupts the foreground job inside" '@@trapped' "$out"
it_eq "relay: Ctrl-Z stops the foreground job inside" 1 "$(it_get jobs "$out")"
it_eq "relay: a raw-mode program reads Ctrl-C as a byte" 3 "$(it_get raw "$out")"
check_caller "exit 7" "$out" 7 after-exit-7
it_check_clean "after the job control check" "$S1"

# --- 4. the shell inside killed: su dies of the signal, root's terminal
# is root's again
cat >"$W/kill.steps" <<'EOF'
expect 20 @@caller=start
send echo @@""in=$$\n
expect 30 @@in=1
send exec sleep 300\n
expect 60 @@caller_ready=1
send after-kill\n
expect 20 @@root_got=
EOF
drive kill su - "$S1" &
bg=$!
if pid=$(it_wait_proc "$S1" sleep); then
        sleep 0.5
        kill -KILL "$pid"
else
        it_fail "signal death: the sandbox's sleep seen on the host" "a sleep of $S1" "none within 10 s"
fi
wait "$bg"
out=$(cat "$W/kill.out")
check_caller "SIGKILL of the shell inside" "$out" 137 after-kill
it_check_clean "after the signal death check" "$S1"

# --- the supervisor SIGKILLed (by root: the student has no process that
# can signal it): the container dies with it, su returns, nothing is left;
# root's terminal stays in raw mode then (SECURITY.md), but is root's
cat >"$W/supkill.steps" <<'EOF'
expect 20 @@caller=start
send echo @@""in=$$\n
expect 30 @@in=1
send exec sleep 301\n
expect 60 @@caller_ready=1
send after-supervisor\n
expect 20 @@root_got=
EOF
drive supkill su - "$S1" &
bg=$!
if pid=$(it_wait_proc "$S1" sleep); then
        sup=$(ps -o ppid= -p "$pid" | tr -d ' ')
        it_eq "supervisor found (the helper's inode)" "$(stat -L -c '%d:%i' "$CUBBY_HELPER")" \
                "$(stat -L -c '%d:%i' "/proc/$sup/exe" 2>&1)"
        kill -KILL "$sup"
else
        it_fail "supervisor SIGKILL: the sandbox's sleep seen on the host" "a sleep of $S1" "none within 10 s"
fi
wait "$bg"
out=$(cat "$W/supkill.out")
it_eq "supervisor SIGKILL: su returns (its child was killed)" 137 "$(it_get su_rc "$out")"
it_eq "supervisor SIGKILL: root's terminal's foreground group is root's shell's" \
        "$(it_get pgrp "$out")" "$(it_get fg "$out")"
it_eq "supervisor SIGKILL: root's next line reaches root" "[after-supervisor]" "$(it_get root_got "$out")"
it_check_clean "after the supervisor SIGKILL" "$S1"

# --- 5. stdin a pipe, stdout root's terminal: the pipe goes straight in,
# only the terminal fds get the pty
cat >"$W/pipe.steps" <<'EOF'
expect 20 @@caller=start
expect 30 @@caller_ready=1
send after-pipe\n
expect 20 @@root_got=
EOF
cat >"$W/pipe.sh" <<EOS
echo piped-data | su - $S1 -c 'read -r l; echo "@@""read=\$l"; [ -t 0 ] && echo "@@""in_tty=yes" || echo "@@""in_tty=no"; [ -t 1 ] && echo "@@""out_tty=yes" || echo "@@""out_tty=no"'
EOS
drive pipe /bin/bash "$W/pipe.sh"
out=$(cat "$W/pipe.out")
it_eq "pipe on stdin: the command reads the pipe" piped-data "$(it_get read "$out")"
it_eq "pipe on stdin: stdin inside is not a terminal" no "$(it_get in_tty "$out")"
it_eq "pipe on stdin: stdout inside is a terminal (the pty)" yes "$(it_get out_tty "$out")"
check_caller "pipe on stdin" "$out" 0 after-pipe

# --- 6. su -c at a terminal: util-linux su makes the helper a session of
# its own; the relay still reads root's terminal (su is in its foreground)
cat >"$W/dashc.steps" <<'EOF'
expect 20 @@caller=start
expect 30 @@asking=1
send typed-into-dash-c\n
expect 30 @@caller_ready=1
send after-dash-c\n
expect 20 @@root_got=
EOF
drive dashc su - "$S1" -c 'echo "@@asking=1"; read -r l; echo "@@got=$l @@tty=$(tty) @@size=$(stty size | tr " " x)"'
out=$(cat "$W/dashc.out")
it_eq "su -c at a terminal: the command reads what root types" typed-into-dash-c "$(it_get got "$out")"
it_match "su -c at a terminal: a pty of its own" '^/dev/pts/[0-9]+$' "$(it_get tty "$out")"
it_eq "su -c at a terminal: the pty has the terminal's size" 24x80 "$(it_get size "$out")"
check_caller "su -c at a terminal" "$out" 0 after-dash-c

# --- 7. no terminal fd at all, su still in root's terminal session:
# /dev/tty inside must not open root's terminal
cat >"$W/devtty.sh" <<EOS
echo 'if exec 3<>/dev/tty; then echo "@@""devtty=open"; else echo "@@""devtty=closed"; fi' \
        | su - $S1 >$W/devtty.inner 2>&1
EOS
drive pipe /bin/bash "$W/devtty.sh"
out=$(cat "$W/pipe.out")
it_eq "no terminal fd: /dev/tty inside does not open root's terminal" closed \
        "$(it_get devtty "$(cat "$W/devtty.inner")")"
check_caller "no terminal fd" "$out" 0 after-pipe
it_check_clean "after the pipe checks" "$S1"

# --- 8. the same su -c under network = nat (the module brings the host
# network up in the test's netns; the helper logs a lease before the
# relay starts: the master must survive whatever else the helper opened
# and closed, e.g. its syslog socket)
it_policy_write "network = nat" "[global]" "bridge = cubby0" "subnet = 10.213.0.0/16" "dns = 198.51.100.2"
drive dashc su - "$S1" -c 'echo "@@asking=1"; read -r l; echo "@@got=$l @@tty=$(tty) @@size=$(stty size | tr " " x)"; head -c 300000 /dev/zero | tr "\\0" Q; echo'
out=$(cat "$W/dashc.out")
it_eq "network = nat: the command reads what root types" typed-into-dash-c "$(it_get got "$out")"
it_eq "network = nat: 300000 bytes of output pass the relay" 300000 "$(tr -cd Q <<<"$out" | wc -c)"
check_caller "network = nat" "$out" 0 after-dash-c
it_policy_write
it_check_clean "after the network = nat check" "$S1"

it_finish
