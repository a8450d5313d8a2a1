#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# container = user over the real sshd with TCP and agent forwarding on:
# pam_cubby moves sshd's monitor into the container's network namespace,
# so every forward of the connection happens inside the container.
#
#   - an IDE-like flow (VS Code Remote-SSH without the IDE): connection 1
#     runs bash with a script on stdin that starts a server with nohup on
#     127.0.0.1:RANDOM inside and writes its port under the home;
#     connection 2 is `ssh -T -D PORT host bash` and reaches the server
#     through SOCKS5; the same over one ControlMaster connection; the
#     servers outlive both connections for the linger and are gone after it;
#   - ssh -L to 127.0.0.1 reaches the container's server, not a decoy on
#     sshd's own 127.0.0.1; -L to the gateway, to another sandbox's address
#     and to a deny-listed address gets nothing, while an allowed outside
#     address answers;
#   - ssh -R listens inside only (nothing on the host), a port below 1024
#     is refused;
#   - ssh -A: ssh-add -l inside lists the key; another user cannot use it;
#   - a second sshd whose setns(CLONE_NEWNET) fails (deny-setns) refuses
#     the session, and its -L forwards nothing on the host; a user whose
#     container cannot start is refused the same way;
#   - an admin's and root's -L go to the host's 127.0.0.1, as before.
# Prints what the namespace move adds to a login (sshd service vs the
# same login without the move: su).
IT_NEEDS="/usr/sbin/sshd ssh ssh-agent ssh-add ss pgrep nft /usr/bin/python3"
. "$(dirname "$0")/lib.sh"
. "$IT_LIBDIR/lib-extra.sh"
it_init "$@"
[ -x "${CUBBY_DENY_SETNS:-}" ] || it_fatal "CUBBY_DENY_SETNS is not set or not executable"

S1=$IT_S1 S2=$IT_S2 A1=$IT_A1
NET="nsenter --net=$IT_NETNS_PATH"
BR=cubby0
SUBNET=10.213.0.0/16
GW=10.213.0.1
OUT_IF=hfw$IT_ID
OUT_ME=198.51.100.1
OUT_HOST=198.51.100.2
PORT_OUT=$((20000 + RANDOM % 10000))
P_DECOY=$((30000 + RANDOM % 5000))     # sshd's own 127.0.0.1 and the container's
P_GW=$((35000 + RANDOM % 2000))        # on the host, not in gateway_ports
P_S2=$((37000 + RANDOM % 2000))        # in the second user's container
LINGER=8

ct_field() { sed -n "s/^$2=//p" "$IT_RUNDIR/containers/u$(it_uid "$1")" 2>/dev/null; }
hx_on_exit "hx_ct_kill $S1; hx_ct_kill $S2"

# ------------------------------------------------------------ helpers
cat >"$IT_SCRATCH/listen.py" <<'EOF'
# listen.py TAG ADDR PORT SECS: answer "TAG" to every connection
import socket, sys, time, threading
tag, addr, port, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((addr, port))
s.listen(16)
def serve():
    while True:
        c, a = s.accept()
        c.sendall((tag + "\n").encode())
        c.close()
threading.Thread(target=serve, daemon=True).start()
print("listening", flush=True)
time.sleep(secs)
EOF
cat >"$IT_SCRATCH/socks.py" <<'EOF'
# socks.py PROXYPORT HOST PORT: one line from HOST:PORT through SOCKS5 on
# 127.0.0.1:PROXYPORT, or "unreachable"
import socket, struct, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(b"\x05\x01\x00")
    if s.recv(2) != b"\x05\x00":
        raise OSError("no auth method")
    h = sys.argv[2].encode()
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(h)]) + h + struct.pack("!H", int(sys.argv[3])))
    r = s.recv(10)
    if len(r) < 2 or r[1] != 0:
        raise OSError("refused")
    print(s.makefile().readline().strip() or "unreachable")
except OSError:
    print("unreachable")
EOF
chmod 0644 "$IT_SCRATCH/listen.py" "$IT_SCRATCH/socks.py"
# tcp PORT [HOST]: one line from HOST:PORT in the test netns, or
# "unreachable" (no connection, nothing read in 4 s, or a forward that
# sshd could not open: ssh accepts, then closes)
tcp() {
        local l
        l=$($NET timeout 4 bash -c "exec 3<>/dev/tcp/${2:-127.0.0.1}/$1 && head -n1 <&3" 2>/dev/null)
        echo "${l:-unreachable}"
}
# bgkill PID: a background it_ssh (a subshell: timeout, then ssh) ended
bgkill() {
        pkill -TERM -P "$1" 2>/dev/null
        kill "$1" 2>/dev/null
        wait "$1" 2>/dev/null
}
# wait_listen PORT: until something listens on 127.0.0.1:PORT in the test netns
wait_listen() {
        local i
        for i in $(seq 1 100); do
                $NET ss -Hltn "sport = :$1" 2>/dev/null | grep -q LISTEN && return 0
                sleep 0.1
        done
        return 1
}
rand_port() { echo $((41000 + RANDOM % 20000)); }

# ------------------------------------------------------------ the outside host
setpriv --pdeathsig KILL unshare -n /usr/bin/python3 "$IT_SCRATCH/listen.py" outside 0.0.0.0 "$PORT_OUT" 900 \
        >"$IT_SCRATCH/outside.log" 2>&1 &
FH_PID=$!
hx_on_exit "kill -KILL $FH_PID"
for i in $(seq 1 50); do
        [ "$(readlink "/proc/$FH_PID/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
        sleep 0.1
done
FH_NS=$(readlink "/proc/$FH_PID/ns/net")
[ -n "$FH_NS" ] && [ "$FH_NS" != "$(readlink /proc/self/ns/net)" ] && [ "$FH_NS" != "$IT_TESTNET_NS" ] \
        || it_fatal "the outside host's netns ($FH_NS) is not a new one"
FH="nsenter --net=/proc/$FH_PID/ns/net"
$NET ip link add "$OUT_IF" type veth peer name eth0 netns "$FH_PID" || it_fatal "veth to the outside host"
$FH ip link set lo up && $FH ip link set eth0 up \
        && $FH ip addr add "$OUT_HOST/24" dev eth0 \
        && $FH ip addr add 192.168.77.1/32 dev lo \
        && $NET ip addr add "$OUT_ME/24" dev "$OUT_IF" \
        && $NET ip link set "$OUT_IF" up \
        && $NET ip route add 192.168.77.1/32 via "$OUT_HOST" \
        || it_fatal "configuring the outside link"

# decoys in the test netns (sshd's own): 127.0.0.1 and the gateway's port
$NET setpriv --pdeathsig KILL /usr/bin/python3 "$IT_SCRATCH/listen.py" decoy 127.0.0.1 "$P_DECOY" 900 \
        >"$IT_SCRATCH/decoy.log" 2>&1 &
hx_on_exit "kill -KILL $!"
$NET setpriv --pdeathsig KILL /usr/bin/python3 "$IT_SCRATCH/listen.py" gateway 0.0.0.0 "$P_GW" 900 \
        >"$IT_SCRATCH/gw.log" 2>&1 &
hx_on_exit "kill -KILL $!"
wait_listen "$P_DECOY" && wait_listen "$P_GW" || it_fatal "the decoys do not listen"
it_eq "control: the outside host answers from the test netns" outside "$(tcp "$PORT_OUT" "$OUT_HOST")"
it_eq "control: 192.168.77.1 (deny-listed) answers from the test netns" outside "$(tcp "$PORT_OUT" 192.168.77.1)"

# ------------------------------------------------------------ policy, sshd with forwarding
it_policy_write "container = user" "network = nat" "linger = ${LINGER}s" "stop_grace = 1s" \
        "[global]" "bridge = $BR" "subnet = $SUBNET" "dns = $OUT_HOST" "deny = 192.168.0.0/16"
it_sshd_start
# forwarding on, as the shipped snippet has it for container = user users
sed -i -e 's/^AllowTcpForwarding no/AllowTcpForwarding yes/' \
        -e 's/^AllowAgentForwarding no/AllowAgentForwarding yes/' "$IT_SSHD_DIR/sshd_config"
it_sshd_reload() {
        : >"$IT_SCRATCH/sshd.reload"
        kill -HUP "$IT_SSHD_PID"
        local i
        for i in $(seq 1 100); do
                sleep 0.1
                $NET ss -Hltn "sport = :$IT_SSH_PORT" 2>/dev/null | grep -q LISTEN && break
        done
}
it_sshd_reload

# ------------------------------------------------------------ IDE-like flow
# connection 1: a script on bash's stdin starts the server and exits
ide_script() { # ide_script TAG
        cat <<EOF
cat >"\$HOME/ide-server.py" <<'PY'
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
with open(os.path.expanduser("~/ide-$1.port.new"), "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(os.path.expanduser("~/ide-$1.port.new"), os.path.expanduser("~/ide-$1.port"))
while True:
    c, a = s.accept()
    c.sendall(b"ide-$1 netns=" + os.readlink("/proc/self/ns/net").encode() + b"\\n")
    c.close()
PY
rm -f "\$HOME/ide-$1.port"
nohup python3 "\$HOME/ide-server.py" ide-server-$1 >/dev/null 2>&1 </dev/null &
for i in \$(seq 1 50); do [ -s "\$HOME/ide-$1.port" ] && break; sleep 0.1; done
echo "@@port=\$(cat "\$HOME/ide-$1.port")"
echo "@@netns=\$(readlink /proc/self/ns/net)"
echo "@@xdg=\$XDG_RUNTIME_DIR \$(stat -c '%u %a' "\$XDG_RUNTIME_DIR") \$(stat -f -c %T "\$XDG_RUNTIME_DIR")"
exit 0
EOF
}
o=$(ide_script a | it_ssh "$S1" bash 2>&1)
PORT_A=$(it_get port "$o")
NETNS_S1=$(it_get netns "$o")
it_match "connection 1: the server started inside and wrote its port" '^[0-9]+$' "$PORT_A"
it_eq "XDG_RUNTIME_DIR inside: /run/user/UID, a tmpfs of the user's, 0700" \
        "/run/user/$(it_uid "$S1") $(it_uid "$S1") 700 tmpfs" "$(it_get xdg "$o")"
it_ne "connection 1: the shell is not in the test netns" "$(readlink "$IT_NETNS_PATH")" "$NETNS_S1"
it_empty "the server's port is not listening in the test netns (sshd's)" \
        "$($NET ss -Hltn "sport = :$PORT_A" 2>/dev/null)"
# connection 2: ssh -T -D PORT host bash, as Remote-SSH runs it
DP=$(rand_port)
it_ssh -T "-D127.0.0.1:$DP" -oExitOnForwardFailure=yes "$S1" bash < <(sleep 60) >"$IT_SCRATCH/d.out" 2>&1 &
bg_d=$!
wait_listen "$DP" || it_fail "ssh -D: the SOCKS port listens" "listening" "$(cat "$IT_SCRATCH/d.out")"
o=$($NET timeout 10 /usr/bin/python3 "$IT_SCRATCH/socks.py" "$DP" 127.0.0.1 "$PORT_A")
it_eq "ssh -T -D: SOCKS to 127.0.0.1:PORT reaches the server inside" "ide-a netns=$NETNS_S1" "$o"
o=$($NET timeout 10 /usr/bin/python3 "$IT_SCRATCH/socks.py" "$DP" localhost "$PORT_A")
it_eq "ssh -T -D: SOCKS to localhost:PORT (a name) reaches it too" "ide-a netns=$NETNS_S1" "$o"
o=$($NET timeout 10 /usr/bin/python3 "$IT_SCRATCH/socks.py" "$DP" 127.0.0.1 "$P_DECOY")
it_eq "ssh -T -D: SOCKS to 127.0.0.1:DECOY does not reach sshd's 127.0.0.1" unreachable "$o"
MON=$(pgrep -P "$IT_SSHD_PID" -f "sshd.*$S1" | head -n1)
[ -n "$MON" ] && it_eq "sshd's monitor of the connection is in the container's netns" "$NETNS_S1" \
        "$(readlink "/proc/$MON/ns/net")"
bgkill "$bg_d"

# the same over one ControlMaster connection
sock=$IT_SCRATCH/cm.sock
$NET ssh -F /dev/null -i "$IT_SSH_KEY" -p "$IT_SSH_PORT" "${IT_SSH_OPTS[@]}" \
        -o ControlMaster=yes -o ControlPath="$sock" -o ControlPersist=yes -fN "$S1@127.0.0.1"
# cm [OPTIONS starting with -]... [COMMAND...]: through the master
cm() {
        local o=()
        while [ $# -gt 0 ] && [[ $1 == -* ]]; do o+=("$1"); shift; done
        timeout 20 $NET ssh -F /dev/null -o ControlPath="$sock" "${IT_SSH_OPTS[@]}" "${o[@]}" "$S1@127.0.0.1" "$@"
}
o=$(ide_script b | cm -T bash 2>&1)
PORT_B=$(it_get port "$o")
it_match "ControlMaster: a channel started a second server" '^[0-9]+$' "$PORT_B"
DP2=$(rand_port)
cm -Oforward "-D127.0.0.1:$DP2" >/dev/null 2>&1
wait_listen "$DP2"
o=$($NET timeout 10 /usr/bin/python3 "$IT_SCRATCH/socks.py" "$DP2" 127.0.0.1 "$PORT_B")
it_eq "ControlMaster: -D added to the master reaches the server inside" "ide-b netns=$NETNS_S1" "$o"
o=$($NET timeout 10 /usr/bin/python3 "$IT_SCRATCH/socks.py" "$DP2" 127.0.0.1 "$PORT_A")
it_eq "ControlMaster: and the first connection's server" "ide-a netns=$NETNS_S1" "$o"

# ------------------------------------------------------------ -L: the container's 127.0.0.1, the rules
o=$(it_ssh -n "$S2" "nohup python3 - >/dev/null 2>&1 <<'EOF' &
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', $P_S2)); s.listen(8)
while True:
    c, a = s.accept(); c.sendall(b's2-server\n'); c.close()
EOF
sleep 1; ip -4 -o addr show dev eth0 | awk '{ print \"@@addr=\" \$4 }'" 2>&1)
ADDR_S2=$(it_get addr "$o"); ADDR_S2=${ADDR_S2%/*}
it_match "$S2's container has an address" '^10\.213\.' "$ADDR_S2"
it_eq "control: $S2's server answers the test netns (the host)" s2-server "$(tcp "$P_S2" "$ADDR_S2")"
# a session of $S2 keeps its container (and server) up meanwhile
it_ssh -n "$S2" 'sleep 120' >/dev/null 2>&1 &
bg_s2=$!
# the container's own server on the decoy's port, inside (its /var/tmp
# is its own: the script goes through the home)
it_ssh "$S1" "cat >listen.py; nohup python3 listen.py inside 127.0.0.1 $P_DECOY 600 >/dev/null 2>&1 & sleep 1" \
        <"$IT_SCRATCH/listen.py" >/dev/null 2>&1
L1=$(rand_port) L2=$((L1 + 1)) L3=$((L1 + 2)) L4=$((L1 + 3)) L5=$((L1 + 4))
it_ssh -n -N -oExitOnForwardFailure=yes "-L127.0.0.1:$L1:127.0.0.1:$P_DECOY" \
        "-L127.0.0.1:$L2:$GW:$P_GW" "-L127.0.0.1:$L3:$ADDR_S2:$P_S2" \
        "-L127.0.0.1:$L4:192.168.77.1:$PORT_OUT" "-L127.0.0.1:$L5:$OUT_HOST:$PORT_OUT" "$S1" \
        >"$IT_SCRATCH/l.out" 2>&1 &
bg_l=$!
wait_listen "$L5"
it_eq "ssh -L to 127.0.0.1: the container's server, not the decoy on sshd's 127.0.0.1" inside "$(tcp "$L1")"
it_eq "ssh -L to the gateway's port (not in gateway_ports): nothing" unreachable "$(tcp "$L2")"
it_eq "ssh -L to $S2's container: nothing" unreachable "$(tcp "$L3")"
it_eq "ssh -L to a deny-listed address: nothing" unreachable "$(tcp "$L4")"
it_eq "ssh -L to an allowed outside address: answers (control)" outside "$(tcp "$L5")"
bgkill "$bg_l"
bgkill "$bg_s2"

# ------------------------------------------------------------ -R: inside only, no port below 1024
R1=$(rand_port) RT=$(rand_port)
$NET setpriv --pdeathsig KILL /usr/bin/python3 "$IT_SCRATCH/listen.py" client-side 127.0.0.1 "$RT" 120 \
        >/dev/null 2>&1 &
hx_on_exit "kill -KILL $!"
wait_listen "$RT"
it_ssh -n -N -oExitOnForwardFailure=yes "-R127.0.0.1:$R1:127.0.0.1:$RT" "$S1" >"$IT_SCRATCH/r.out" 2>&1 &
bg_r=$!
sleep 2
o=$(it_ssh -n "$S1" "timeout 4 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$R1 && head -n1 <&3' || echo unreachable" 2>&1)
it_eq "ssh -R: the port listens inside the container (reaches the client's side)" client-side "$o"
it_empty "ssh -R: nothing listens on the host (test netns) on that port" \
        "$($NET ss -Hltn "sport = :$R1" 2>/dev/null)"
bgkill "$bg_r"
o=$(it_ssh -n -oExitOnForwardFailure=yes "-R127.0.0.1:81:127.0.0.1:$RT" "$S1" 'echo "@@ran=yes"' 2>&1)
it_ne "ssh -R to port 81: refused" yes "$(it_get ran "$o")"
it_match "ssh -R to port 81: ssh says the forward failed" 'forwarding failed' "$o"

# ------------------------------------------------------------ -A: the agent inside
AG=$IT_SCRATCH/client/agent.sock
$NET ssh-agent -a "$AG" >/dev/null || it_fatal "ssh-agent"
hx_on_exit "SSH_AUTH_SOCK=$AG ssh-agent -k"
SSH_AUTH_SOCK=$AG ssh-add -q "$IT_SSH_KEY" 2>/dev/null || it_fatal "ssh-add"
fp=$(ssh-keygen -lf "$IT_SSH_KEY.pub" | awk '{ print $2 }')
SSH_AUTH_SOCK=$AG it_ssh -n -A "$S1" 'echo "@@sock=$SSH_AUTH_SOCK"; echo "@@list=$(ssh-add -l 2>&1 | tr "\n" " ")"; echo "@@dir=$(stat -c "%u %a" "$(dirname "$SSH_AUTH_SOCK")")"; sleep 20' \
        >"$IT_SCRATCH/a.out" 2>&1 &
bg_a=$!
for i in $(seq 1 100); do grep -q '^@@dir' "$IT_SCRATCH/a.out" 2>/dev/null && break; sleep 0.1; done
o=$(cat "$IT_SCRATCH/a.out")
AGSOCK=$(it_get sock "$o")
it_ne "ssh -A: SSH_AUTH_SOCK is set inside" "" "$AGSOCK"
it_eq "ssh -A: ssh-add -l inside lists the key" "$fp" "$(it_get list "$o" | awk '{ print $2 }')"
it_eq "ssh -A: its directory inside is the user's, 0700" "$(it_uid "$S1") 700" "$(it_get dir "$o")"
o=$(it_ssh -n "$S2" "SSH_AUTH_SOCK=$AGSOCK ssh-add -l 2>&1; echo \"@@rc=\$?\"" 2>&1)
it_ne "ssh -A: $S2 (its own container) cannot use $S1's agent at that path" 0 "$(it_get rc "$o")"
o=$(it_as "$S2" env SSH_AUTH_SOCK="$AGSOCK" ssh-add -l 2>&1; echo "@@rc=$?")
it_ne "ssh -A: $S2 on the host cannot use the socket sshd made" 0 "$(it_get rc "$o")"
bgkill "$bg_a"

# ------------------------------------------------------------ linger: the servers outlive, then stop
$NET ssh -F /dev/null -o ControlPath="$sock" -O exit "$S1@127.0.0.1" 2>/dev/null
u1=$(it_uid "$S1")
for i in $(seq 1 50); do [ -z "$(it_records "$S1")" ] && break; sleep 0.1; done
it_empty "every connection of $S1 closed: no session record" "$(it_records "$S1")"
it_eq "after both connections: the servers still run (linger ${LINGER}s)" 2 \
        "$(pgrep -u "$u1" -fc '^python3 .*ide-server.py')"
for i in $(seq 1 $((LINGER * 10 + 200))); do
        # the stop removes the record last
        [ -z "$(pgrep -u "$u1" -f 'ide-server.py')" ] && [ -z "$(ct_field "$S1" init_pid)" ] && break
        sleep 0.1
done
it_empty "after the linger: the servers are gone" "$(pgrep -u "$u1" -af 'ide-server.py')"
it_empty "after the linger: no container record of $S1" "$(ct_field "$S1" init_pid)"

# ------------------------------------------------------------ what the move costs
# The same login of a container = user user (joining its running
# container) through the same sshd binary and config, once as
# cubby-test-sshd (the move) and once under a PAM service whose name does
# not say sshd (no move), alternating; wall time of `ssh USER true`.
it_policy_write "container = user" "network = nat" "linger = 10m" \
        "services = cubby-test-sshd cubby-test-sshdnm sshd su su-l login" \
        "[global]" "bridge = $BR" "subnet = $SUBNET" "dns = $OUT_HOST" "deny = 192.168.0.0/16"
cp "$IT_PAMD/cubby-test-sshd" "$IT_PAMD/cubby-test-sshdnm"
ln -sf /usr/sbin/sshd "$IT_SCRATCH/cubby-test-sshdnm"
sed -e "s/^Port .*/Port $((IT_SSH_PORT + 2))/" -e "s|^PidFile .*|PidFile $IT_SSHD_DIR/sshd3.pid|" \
        "$IT_SSHD_DIR/sshd_config" >"$IT_SSHD_DIR/sshd3_config"
$NET "$IT_SCRATCH/cubby-test-sshdnm" -f "$IT_SSHD_DIR/sshd3_config" -E "$IT_SSHD_DIR/log3" \
        || it_fatal "the third sshd did not start"
for i in $(seq 1 100); do [ -s "$IT_SSHD_DIR/sshd3.pid" ] && break; sleep 0.1; done
hx_on_exit "kill $(cat "$IT_SSHD_DIR/sshd3.pid" 2>/dev/null)"
wait_listen "$((IT_SSH_PORT + 2))"
login_ms() { # login_ms PORT: wall ms of ssh S1 true
        local t0 t1
        t0=$(hx_time_ms)
        timeout 20 $NET ssh -F /dev/null -i "$IT_SSH_KEY" -p "$1" "${IT_SSH_OPTS[@]}" -n "$S1@127.0.0.1" true \
                >/dev/null 2>&1 || { echo fail; return; }
        t1=$(hx_time_ms)
        echo $((t1 - t0))
}
o=$(timeout 20 $NET ssh -F /dev/null -i "$IT_SSH_KEY" -p "$((IT_SSH_PORT + 2))" "${IT_SSH_OPTS[@]}" -n \
        "$S1@127.0.0.1" 'echo "@@net=$(readlink /proc/self/ns/net)"' 2>&1)
it_ne "control: a login through the other PAM service joins the container too" "" "$(it_get net "$o")"
login_ms "$IT_SSH_PORT" >/dev/null; login_ms "$((IT_SSH_PORT + 2))" >/dev/null
it_syslog_mark
mv_ms=() nomv_ms=()
for i in $(seq 1 15); do
        mv_ms+=("$(login_ms "$IT_SSH_PORT")")
        nomv_ms+=("$(login_ms "$((IT_SSH_PORT + 2))")")
done
it_nomatch "every timed login worked" fail "${mv_ms[*]} ${nomv_ms[*]}"
mv_us=$(it_syslog_since | grep -ao 'event=session_start .*net_move_us=[0-9]*' | sed 's/.*net_move_us=//')
it_match "session_start logs the move's time (net_move_us) for sshd" '^[0-9]+$' "$(head -n1 <<<"$mv_us")"
echo "FIGURE: the move itself (net_move_us of session_start), p50 of $(wc -l <<<"$mv_us"): $(hx_median $mv_us) us"
echo "FIGURE: ssh $S1 true, container = user (joins), p50 of 15: $(hx_median "${mv_ms[@]}") ms with the move into the container's netns, $(hx_median "${nomv_ms[@]}") ms without (same sshd, another PAM service)"
kill "$(cat "$IT_SSHD_DIR/sshd3.pid")" 2>/dev/null

# ------------------------------------------------------------ failures refuse; nothing on the host
# a second sshd on another port whose setns(CLONE_NEWNET) fails; $S1's
# container is started first by the normal one (its start needs setns)
it_ssh -n "$S1" true >/dev/null 2>&1
it_ssh -n "$S1" 'nohup sleep 300 >/dev/null 2>&1 &' >/dev/null 2>&1
sed -e "s/^Port .*/Port $((IT_SSH_PORT + 1))/" -e "s|^PidFile .*|PidFile $IT_SSHD_DIR/sshd2.pid|" \
        "$IT_SSHD_DIR/sshd_config" >"$IT_SSHD_DIR/sshd2_config"
$NET "$CUBBY_DENY_SETNS" "$IT_SCRATCH/cubby-test-sshd" -f "$IT_SSHD_DIR/sshd2_config" -E "$IT_SSHD_DIR/log2" \
        || it_fatal "the second sshd did not start"
for i in $(seq 1 100); do [ -s "$IT_SSHD_DIR/sshd2.pid" ] && break; sleep 0.1; done
hx_on_exit "kill $(cat "$IT_SSHD_DIR/sshd2.pid" 2>/dev/null)"
wait_listen "$((IT_SSH_PORT + 1))"
it_syslog_mark
LF=$(rand_port)
o=$(timeout 20 $NET ssh -F /dev/null -i "$IT_SSH_KEY" -p "$((IT_SSH_PORT + 1))" "${IT_SSH_OPTS[@]}" \
        "-L127.0.0.1:$LF:127.0.0.1:$P_DECOY" "$S1@127.0.0.1" "echo @@ran=yes; sleep 3" 2>&1 &
        sleep 1.5; echo "@@fwd=$(tcp "$LF")"; wait)
it_ne "setns into the container's netns fails: the session is refused" yes "$(it_get ran "$o")"
it_ne "setns fails: -L never reaches the host's 127.0.0.1 (the decoy)" decoy "$(it_get fwd "$o")"
it_match "setns fails: logged as session_refused" 'session_refused.*network namespace' "$(it_syslog_since)"
for i in $(seq 1 30); do [ -z "$(it_records "$S1")" ] && break; sleep 0.1; done
it_empty "setns fails: no session record of $S1 left" "$(it_records "$S1")"
it_ne "setns fails: $S1's container still runs (the nohup job)" "" "$(pgrep -u "$(it_uid "$S1")" -f '^sleep 300$')"
kill "$(cat "$IT_SSHD_DIR/sshd2.pid")" 2>/dev/null
# no usable container record directory: the container cannot be checked
ctdir=$IT_RUNDIR/containers
chown "$S2" "$ctdir"
o=$(it_ssh "-L127.0.0.1:$LF:127.0.0.1:$P_DECOY" "$S2" "echo @@ran=yes; sleep 3" 2>&1 &
        sleep 1.5; echo "@@fwd=$(tcp "$LF")"; wait)
chown root "$ctdir"
it_ne "no usable container for $S2: the session is refused" yes "$(it_get ran "$o")"
it_ne "no usable container: -L never reaches the host's 127.0.0.1" decoy "$(it_get fwd "$o")"

# ------------------------------------------------------------ admins forward on the host
o=$(it_ssh "-L127.0.0.1:$LF:127.0.0.1:$P_DECOY" "$A1" "echo @@ran=yes; sleep 3" 2>&1 &
        sleep 1.5; echo "@@fwd=$(tcp "$LF")"; wait)
it_eq "admin $A1: the login runs" yes "$(it_get ran "$o")"
it_eq "admin $A1: -L reaches the host's 127.0.0.1, as before" decoy "$(it_get fwd "$o")"

# root too (key only, this test's sshd in its own netns)
install -m 0644 -o root -g root "$IT_SSH_KEY.pub" "$IT_SCRATCH/keys/root"
sed -i 's/^PermitRootLogin no/PermitRootLogin prohibit-password/' "$IT_SSHD_DIR/sshd_config"
it_sshd_reload
o=$(it_ssh "-L127.0.0.1:$LF:127.0.0.1:$P_DECOY" root "echo @@ran=yes; sleep 3" 2>&1 &
        sleep 1.5; echo "@@fwd=$(tcp "$LF")"; wait)
it_eq "root: the login runs" yes "$(it_get ran "$o")"
it_eq "root: -L reaches the host's 127.0.0.1, as before" decoy "$(it_get fwd "$o")"
sed -i 's/^PermitRootLogin prohibit-password/PermitRootLogin no/' "$IT_SSHD_DIR/sshd_config"
it_sshd_reload

hx_ct_kill "$S1"
it_finish
