#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The sandbox network through real logins (sshd, su),
# all inside network namespaces the test made (docs/TESTING.md, rule 1):
#
#   fake outside host            test netns cubby-<id> (the "host": sshd,    sandboxes
#   (own netns, held by          su, cubbyctl, bridge, nft, a router)
#   its python3 process)
#   eth0 198.51.100.2/24 ------- hno<id> 198.51.100.1/24, default route
#   lo 169.254.169.254,                  cubby0 10.213.0.1/16 ------------- eth0 10.213.x.y
#      192.168.77.1
#   TCP echo-peer :PORT_OUT,
#   DNS :53 (test.example)
#
# network = nat: eth0 in the subnet; the outside host reached, seeing the
# router's address (NAT); another sandbox unreachable; the host's bridge
# address unreachable except gateway_ports; the deny list (169.254.169.254,
# 192.168.0.0/16 on the outside host) unreachable; DNS through the fake
# resolver; pool exhaustion refuses, leaving nothing; network_fallback =
# none gives loopback only when the bridge cannot be used, refuse
# otherwise; after logout no veth, lease or nft element; net down leaves
# no bridge and no table. Prints the time the network adds to a login.
#
# CUBBY_NET_MODE=routed (the test network-routed) runs the same with
# network_mode = routed: no bridge; each host end carries the gateway
# address with its sandbox as point-to-point peer. There, also: a source
# forged by a sandbox (outside the subnet, or another sandbox's address)
# never leaves the host (bridge mode drops only the first); net down with a
# sandbox running removes its host end and route; a net.state left by
# bridge mode makes the network unusable (refuse / fallback none).
IT_NEEDS="/usr/sbin/sshd ssh su ss pgrep nft /usr/bin/python3"
. "$(dirname "$0")/lib.sh"
it_init "$@"
. "$(dirname "$0")/lib-extra.sh"

S1=$IT_S1 S2=$IT_S2
NET="nsenter --net=$IT_NETNS_PATH"
MODE=${CUBBY_NET_MODE:-bridge}
BLOCKERS=()
case $MODE in bridge|routed) ;; *) it_fatal "CUBBY_NET_MODE=$MODE: bridge or routed" ;; esac
it_log "network_mode = $MODE"
BR=cubby0
SUBNET=10.213.0.0/16
GW=10.213.0.1
OUT_IF=hno$IT_ID                # our end of the link to the fake outside host
OUT_ME=198.51.100.1
OUT_HOST=198.51.100.2
DNS_NAME=test.example
DNS_ANSWER=203.0.113.77
PORT_OUT=$((20000 + RANDOM % 10000))
PH_CLOSED=$((30000 + RANDOM % 5000))    # on the host, not in gateway_ports
PH_OPEN=$((35000 + RANDOM % 5000))      # on the host, in gateway_ports
PS2=$((40000 + RANDOM % 5000))          # in the second sandbox
# ex_addr ADDR PREFIX: field 4 of `ip -4 -o addr` on eth0: ADDR/PREFIX on a
# bridge; routed, the address is point-to-point ("ADDR peer GW/32").
ex_addr() { if [ "$MODE" = routed ]; then echo "$1"; else echo "$1/$2"; fi; }

# ------------------------------------------------------------ the fake outside host
cat >"$IT_SCRATCH/fakehost.py" <<'EOF'
# A fake host on the outside: TCP on PORT answers "peer=<source address>";
# UDP 53 answers A NAME with ANSWER (and logs who asked). Stops by itself.
import socket, struct, sys, threading, time
port, name, answer, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
deadline = time.time() + 1200

def tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(64)
    while True:
        c, a = s.accept()
        try:
            c.sendall(("peer=%s\n" % a[0]).encode())
        finally:
            c.close()

def dns(addr):
    # one socket per address: a reply must come from the address asked
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(300):  # the address is configured after the start
        try:
            s.bind((addr, 53))
            break
        except OSError:
            time.sleep(0.1)
    while True:
        q, a = s.recvfrom(2048)
        if len(q) < 12:
            continue
        qid, flags, qd = struct.unpack("!HHH", q[:6])
        i, labels = 12, []
        while i < len(q) and q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode(errors="replace"))
            i += 1 + q[i]
        qtype, = struct.unpack("!H", q[i + 1:i + 3])
        question = q[12:i + 5]
        qname = ".".join(labels).lower()
        with open(log, "a") as f:
            f.write("%s %s %d to %s\n" % (a[0], qname, qtype, addr))
        hdr_flags = 0x8180 | (flags & 0x0100)
        if qname != name:
            s.sendto(struct.pack("!HHHHHH", qid, hdr_flags | 3, 1, 0, 0, 0) + question, a)
        elif qtype == 1:
            rr = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(answer)
            s.sendto(struct.pack("!HHHHHH", qid, hdr_flags, 1, 1, 0, 0) + question + rr, a)
        else:
            s.sendto(struct.pack("!HHHHHH", qid, hdr_flags, 1, 0, 0, 0) + question, a)

if port:
    threading.Thread(target=tcp, daemon=True).start()
for a in sys.argv[5].split(","):
    threading.Thread(target=dns, args=(a,), daemon=True).start()
while time.time() < deadline:
    time.sleep(1)
EOF
# A listener for the test netns (the host's bridge address) and for a
# sandbox: answers "<tag>" on each port. Stops by itself.
cat >"$IT_SCRATCH/listen.py" <<'EOF'
import socket, sys, threading, time
tag, ports, secs = sys.argv[1], [int(p) for p in sys.argv[2].split(",")], float(sys.argv[3])
def serve(p):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", p))
    s.listen(16)
    while True:
        c, a = s.accept()
        c.sendall(("%s-%d\n" % (tag, p)).encode())
        c.close()
for p in ports:
    threading.Thread(target=serve, args=(p,), daemon=True).start()
print("listening", flush=True)
time.sleep(secs)
EOF
chmod 0644 "$IT_SCRATCH/fakehost.py" "$IT_SCRATCH/listen.py"

# The outside host's netns lives as long as its process (killed with us:
# pdeathsig), so nothing of it can outlive the test.
setpriv --pdeathsig KILL unshare -n /usr/bin/python3 "$IT_SCRATCH/fakehost.py" \
        "$PORT_OUT" "$DNS_NAME" "$DNS_ANSWER" "$IT_SCRATCH/dns.log" "$OUT_HOST" >"$IT_SCRATCH/fakehost.log" 2>&1 &
FH_PID=$!
hx_on_exit "kill -KILL $FH_PID"
for i in $(seq 1 50); do
        [ "$(readlink "/proc/$FH_PID/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
        sleep 0.1
done
FH_NS=$(readlink "/proc/$FH_PID/ns/net")
own_ns=$(readlink /proc/self/ns/net)
[ -n "$FH_NS" ] && [ "$FH_NS" != "$own_ns" ] && [ "$FH_NS" != "$IT_TESTNET_NS" ] \
        && [ "$FH_NS" != "$(readlink /proc/1/ns/net)" ] \
        || it_fatal "the fake outside host's netns ($FH_NS) is not a new one"
FH="nsenter --net=/proc/$FH_PID/ns/net"
$NET ip link add "$OUT_IF" type veth peer name eth0 netns "$FH_PID" || it_fatal "veth to the outside host"
[ "$(readlink "/proc/$FH_PID/ns/net")" = "$FH_NS" ] || it_fatal "outside host changed"
$FH ip link set lo up && $FH ip link set eth0 up \
        && $FH ip addr add "$OUT_HOST/24" dev eth0 \
        && $FH ip addr add 169.254.169.254/32 dev lo \
        && $FH ip addr add 192.168.77.1/32 dev lo \
        && $NET ip addr add "$OUT_ME/24" dev "$OUT_IF" \
        && $NET ip link set "$OUT_IF" up \
        && $NET ip route add default via "$OUT_HOST" \
        || it_fatal "configuring the outside link"
# A second resolver on the outside host, on a denied address. (In one
# process with the first, its replies left with the first's address.)
$FH setpriv --pdeathsig KILL /usr/bin/python3 "$IT_SCRATCH/fakehost.py" \
        0 "$DNS_NAME" "$DNS_ANSWER" "$IT_SCRATCH/dns.log" 192.168.77.1 >>"$IT_SCRATCH/fakehost.log" 2>&1 &
hx_on_exit "kill -KILL $!"
# The outside host needs a way back only to the router: NAT does the rest.
FWD_BEFORE=$($NET cat /proc/sys/net/ipv4/ip_forward)

# host-side listener on every address of the test netns
$NET setpriv --pdeathsig KILL /usr/bin/python3 "$IT_SCRATCH/listen.py" host "$PH_CLOSED,$PH_OPEN" 1200 \
        >"$IT_SCRATCH/hostlisten.log" 2>&1 &
HL_PID=$!
hx_on_exit "kill -KILL $HL_PID"

# tcp_from_ns ADDR PORT: the first line a listener sends, from the test netns.
tcp_from_ns() {
        $NET timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2 && head -n1 <&3" 2>/dev/null || echo unreachable
}
# The function the sandboxes use (bash's /dev/tcp, 3 s).
TCPFN='tcp() { timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2 && head -n1 <&3" 2>/dev/null || echo unreachable; }'

for i in $(seq 1 50); do grep -q listening "$IT_SCRATCH/hostlisten.log" && break; sleep 0.1; done
it_eq "control: the outside host answers the router" "peer=$OUT_ME" "$(tcp_from_ns "$OUT_HOST" "$PORT_OUT")"
it_eq "control: 169.254.169.254 on the outside host answers the router" "peer=$OUT_ME" \
        "$(tcp_from_ns 169.254.169.254 "$PORT_OUT")"
it_eq "control: 192.168.77.1 on the outside host answers the router" "peer=$OUT_ME" \
        "$(tcp_from_ns 192.168.77.1 "$PORT_OUT")"

policy() {
        it_policy_write "network = nat" "$@" \
                "[global]" "network_mode = $MODE" "bridge = $BR" "subnet = ${SUBNET_OVERRIDE:-$SUBNET}" "dns = $OUT_HOST" \
                "gateway_ports = $PH_OPEN"
}
policy
it_sshd_start
it_match "cubbyctl explain $S1: network_mode (a [global] key) shown" "^network_mode +$MODE +# \[global\]" \
        "$(hx_ctl explain "$S1" 2>&1)"
it_match "cubbyctl --json explain $S1: network_mode" "\"network_mode\":\{\"value\":\"$MODE\"" \
        "$(hx_ctl --json explain "$S1" 2>&1)"

# cb* host ends of veths in the test netns; leases naming USER
veths() { $NET ip -o link show type veth 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^cb' | sort | tr '\n' ' '; }
leases_of() { it_leases | grep -F " $1 "; }
# wait_clean WHAT USER ADDR: after logout, no veth (2 s), lease or nft element.
wait_clean() {
        local what=$1 user=$2 addr=$3 v i
        for i in $(seq 1 20); do v=$(veths); [ -z "$v" ] && break; sleep 0.1; done
        it_eq "$what: no veth left in the test netns (waited up to 2 s)" "" "$v"
        # the lease goes last in close_session, after the record
        for i in $(seq 1 20); do [ -z "$(leases_of "$user")" ] && break; sleep 0.1; done
        it_eq "$what: no lease of $user left (waited up to 2 s)" "" "$(leases_of "$user")"
        if [ -n "$addr" ]; then
                it_nomatch "$what: no nft element names $addr" "(^|[^0-9.])${addr//./\\.}([^0-9]|$)" \
                        "$($NET nft list ruleset 2>&1)"
        fi
        it_check_clean "$what" "$user"
}

# check_user_gone WHAT USER: it_check_clean for one user while another
# user's session runs (it_check_clean counts every home mount).
check_user_gone() {
        local what=$1 user=$2 uid h left=
        uid=$(it_uid "$user")
        hx_wait_gone "$user" 50      # sshd's refused session child is reaped soon
        it_cg_hier
        for h in "${!IT_CG_MNT[@]}"; do
                [ -e "$(it_cg_dir "$h" "u$uid")" ] && left+="$(it_cg_dir "$h" "u$uid") "
        done
        it_empty "$what: no u$uid cgroup" "$left"
        it_empty "$what: no process of $user" "$(pgrep -a -U "$uid"; pgrep -a -u "$uid")"
        it_empty "$what: no session record of $user" "$(it_records "$user")"
        it_empty "$what: no mount naming $user" "$(hx_mounts_naming "/$user")"
}

# ------------------------------------------------------------ a nat login
PROBE="$TCPFN"'
p=@@
echo "${p}ifs=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort | tr "\n" " ")"
echo "${p}addr=$(ip -4 -o addr show dev eth0 2>/dev/null | awk "{ print \$4 }")"
echo "${p}peer=$(ip -4 -o addr show dev eth0 2>/dev/null | awk "{ print \$5, \$6 }")"
echo "${p}route=$(ip -4 route show default 2>/dev/null)"
echo "${p}netns=$(readlink /proc/self/ns/net)"
echo "${p}out=$(tcp '"$OUT_HOST $PORT_OUT"')"
echo "${p}meta=$(tcp 169.254.169.254 '"$PORT_OUT"')"
echo "${p}private=$(tcp 192.168.77.1 '"$PORT_OUT"')"
echo "${p}hclosed=$(tcp '"$GW $PH_CLOSED"')"
echo "${p}hopen=$(tcp '"$GW $PH_OPEN"')"
echo "${p}hother_open=$(tcp '"$OUT_ME $PH_OPEN"')"
echo "${p}resolv=$(grep ^nameserver /etc/resolv.conf | tr "\n" " ")"
echo "${p}dns=$(getent hosts '"$DNS_NAME"' | tr -s " " | tr "\n" " ")"
echo "${p}done=yes"'
t0=$(hx_time_ms)
out=$(it_ssh -n "$S1" "$PROBE" 2>&1); rc=$?
t1=$(hx_time_ms)
it_log "first nat login (brings the network up): $((t1 - t0)) ms"
it_eq "ssh $S1 (network = nat): exit status" 0 "$rc"
it_eq "ssh $S1: probe completed" yes "$(it_get done "$out")"
[ "$(it_get done "$out")" = yes ] || echo "$out"
addr=$(it_get addr "$out"); a=${addr%/*}
if [ "$MODE" = routed ]; then
        it_match "ssh $S1: eth0 has an address in $SUBNET (point-to-point)" '^10\.213\.[0-9]+\.[0-9]+$' "$addr"
        it_eq "ssh $S1: eth0's peer is the gateway" "peer $GW/32" "$(it_get peer "$out")"
else
        it_match "ssh $S1: eth0 has an address in $SUBNET" '^10\.213\.[0-9]+\.[0-9]+/16$' "$addr"
fi
it_ne "ssh $S1: the address is not the gateway's" "$GW" "$a"
it_eq "ssh $S1: interfaces are eth0 and lo" "eth0 lo" "$(it_get ifs "$out")"
it_match "ssh $S1: default route via the gateway" "^default via $GW dev eth0" "$(it_get route "$out")"
it_ne "ssh $S1: its netns is not the test netns" "$IT_TESTNET_NS" "$(it_get netns "$out")"
it_eq "ssh $S1: the outside host is reached and sees the router's address (NAT)" "peer=$OUT_ME" "$(it_get out "$out")"
it_eq "ssh $S1: 169.254.169.254 on the outside host is not reachable (deny)" unreachable "$(it_get meta "$out")"
it_eq "ssh $S1: 192.168.77.1 on the outside host is not reachable (deny)" unreachable "$(it_get private "$out")"
it_eq "ssh $S1: a host port on the gateway not in gateway_ports is not reachable" unreachable "$(it_get hclosed "$out")"
it_eq "ssh $S1: a host port in gateway_ports is reachable on the gateway" "host-$PH_OPEN" "$(it_get hopen "$out")"
it_eq "ssh $S1: gateway_ports open only on the gateway, not the host's other addresses" unreachable "$(it_get hother_open "$out")"
it_eq "ssh $S1: resolv.conf names the configured resolver" "nameserver $OUT_HOST" "$(it_get resolv "$out")"
it_eq "ssh $S1: getent hosts $DNS_NAME answers through the fake resolver" "$DNS_ANSWER $DNS_NAME" "$(it_get dns "$out")"
it_match "the fake resolver was asked, from the router's address (NAT)" "^$OUT_ME $DNS_NAME " "$(cat "$IT_SCRATCH/dns.log" 2>/dev/null)"
# (routed: the gateway address exists only on live host ends; this control
# runs in the two-sandbox part below)
[ "$MODE" = bridge ] && it_eq "control: the host's own listener answers on the gateway address" "host-$PH_CLOSED" "$(tcp_from_ns "$GW" "$PH_CLOSED")"
wait_clean "after the nat login of $S1" "$S1" "$a"
st=$(hx_ctl net status 2>&1)
it_match "cubbyctl net status: up" '^network: +up' "$st"

# ------------------------------------------------------------ a flushed ruleset
# `nft flush ruleset` behind cubby's back (Debian's nftables.conf begins
# with it; `systemctl reload nftables` runs it): the next login sees cubby's
# tables missing and puts them back before its sandbox starts, so NAT, the
# deny list, the gateway's closed ports (and, routed, the isolation) hold.
$NET nft flush ruleset
it_eq "flushed: no cubby table left in the test netns" "" "$($NET nft list tables 2>/dev/null | grep cubby)"
out=$(it_ssh -n "$S1" "$PROBE" 2>&1); rc=$?
it_eq "after a flush: ssh $S1 exit status" 0 "$rc"
it_match "after a flush: the login put inet cubby back" 'table inet cubby' "$($NET nft list tables 2>&1)"
if [ "$MODE" = bridge ]; then
        it_match "after a flush: the login put bridge cubby back" 'table bridge cubby' "$($NET nft list tables 2>&1)"
fi
it_eq "after a flush: the outside host still sees the router's address (NAT)" "peer=$OUT_ME" "$(it_get out "$out")"
it_eq "after a flush: 169.254.169.254 is still denied" unreachable "$(it_get meta "$out")"
it_eq "after a flush: a gateway port not in gateway_ports is still closed" unreachable "$(it_get hclosed "$out")"
wait_clean "after the login that restored the ruleset" "$S1" "$(it_get addr "$out" | cut -d/ -f1)"

# ------------------------------------------------------------ two sandboxes
# S2 serves on PS2 inside its sandbox; S1's sandbox must not reach it.
# (the scratch dir is invisible inside: the listener travels in the command)
it_ssh -n "$S2" 'p=@@; echo "${p}addr=$(ip -4 -o addr show dev eth0 | awk "{ print \$4 }")"; echo '"$(base64 -w0 "$IT_SCRATCH/listen.py")"' | base64 -d >/tmp/listen.py; exec /usr/bin/python3 /tmp/listen.py s2 '"$PS2"' 12' \
        >"$IT_SCRATCH/s2.out" 2>&1 &
bg=$!
for i in $(seq 1 150); do grep -q listening "$IT_SCRATCH/s2.out" 2>/dev/null && break; sleep 0.1; done
a2=$(it_get addr "$(cat "$IT_SCRATCH/s2.out")"); a2=${a2%/*}
it_match "second sandbox ($S2) has its own address" '^10\.213\.' "$a2"
if grep -q listening "$IT_SCRATCH/s2.out"; then
        it_eq "control: the host reaches the listener in $S2's sandbox" "s2-$PS2" "$(tcp_from_ns "$a2" "$PS2")"
        it_su - "$S1" -c "$TCPFN"'
                p=@@; echo "${p}addr=$(ip -4 -o addr show dev eth0 | awk "{ print \$4 }")"
                echo "${p}s2=$(tcp '"$a2 $PS2"')"; sleep 3' </dev/null >"$IT_SCRATCH/s1.out" 2>&1 &
        bg1=$!
        for i in $(seq 1 150); do grep -q '@@s2=' "$IT_SCRATCH/s1.out" && break; sleep 0.1; done
        it_eq "two sandboxes at once: two veths (host ends)" 2 "$(wc -w <<<"$(veths)")"
        # no IPv6 on a host end: no link-local address, no routes in the
        # host's IPv6 table (walked whole at each interface's removal)
        for v in $(veths); do
                it_eq "host end $v: IPv6 disabled" 1 "$($NET cat "/proc/sys/net/ipv6/conf/$v/disable_ipv6" 2>&1)"
                it_eq "host end $v: no IPv6 address" "" "$($NET ip -6 -o addr show dev "$v" 2>&1)"
                it_eq "host end $v: no IPv6 route" "" "$($NET ip -6 route show table all dev "$v" 2>&1)"
        done
        if [ "$MODE" = routed ]; then
                h2=$($NET ip -4 -o addr show | awk -v p="$a2/32" '$4 == "10.213.0.1" && $5 == "peer" && $6 == p { print $2 }')
                it_match "routed: a host end has the gateway address with $S2's sandbox as peer" '^cb[0-9a-f]{8}$' "$h2"
                it_match "routed: the host routes $a2/32 through that host end" "^${a2//./\\.} dev ${h2:-none} " \
                        "$($NET ip -4 route show "$a2/32")"
                it_eq "control: the host's own listener answers on the gateway address (a host end's)" \
                        "host-$PH_CLOSED" "$(tcp_from_ns "$GW" "$PH_CLOSED")"
                it_eq "routed: no bridge" no "$($NET ip link show "$BR" >/dev/null 2>&1 && echo yes || echo no)"
        fi
        it_eq "two sandboxes at once: two leases" 2 "$(it_leases | grep -cE '^10\.213\.')"
        it_log "leases while both ran: $(it_leases | tr '\n' '|')"
        wait "$bg1"
        out=$(cat "$IT_SCRATCH/s1.out")
        a1=$(it_get addr "$out"); a1=${a1%/*}
        it_ne "two sandboxes at once: different addresses" "$a2" "$a1"
        it_eq "su - $S1: the second sandbox ($S2) is not reachable from the first" unreachable "$(it_get s2 "$out")"
else
        it_fail "listener in $S2's sandbox started" listening "$(cat "$IT_SCRATCH/s2.out")"
fi
wait "$bg"
wait_clean "after the two sandboxes ($S2)" "$S2" "$a2"
wait_clean "after the two sandboxes ($S1)" "$S1" "${a1:-}"

# ------------------------------------------------------------ forged sources
# Two sandboxes held; from the first one's netns (entered as root by the
# test: a sandboxed user has no CAP_NET_RAW, this stands for a kernel bug),
# raw DNS queries to the fake resolver with its own source (the control:
# it arrives, NAT'd), a source outside the subnet, and the second
# sandbox's address. The resolver logs the name asked and who asked.
cat >"$IT_SCRATCH/spoof.py" <<'EOF'
import socket, struct, sys
src, dst, name = sys.argv[1], sys.argv[2], sys.argv[3]
q = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack("!HH", 1, 1)
udp = struct.pack("!HHHH", 40053, 53, 8 + len(q), 0) + q
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(ip + udp, (dst, 0))
EOF
it_ssh -n "$S1" 'sleep 25' >/dev/null 2>&1 &
sp1=$!
it_ssh -n "$S2" 'sleep 25' >/dev/null 2>&1 &
sp2=$!
p1=$(it_wait_proc "$S1" sleep) p2=$(it_wait_proc "$S2" sleep)
for i in $(seq 1 50); do [ -n "$(leases_of "$S1")" ] && [ -n "$(leases_of "$S2")" ] && break; sleep 0.1; done
l1=$(leases_of "$S1" | cut -d' ' -f1) l2=$(leases_of "$S2" | cut -d' ' -f1)
ns1=$(readlink "/proc/$p1/ns/net" 2>/dev/null)
if [ -n "$p1" ] && [ -n "$ns1" ] && [ "$ns1" != "$IT_TESTNET_NS" ] && [ "$ns1" != "$(readlink /proc/self/ns/net)" ] \
        && [ "$ns1" != "$(readlink /proc/1/ns/net)" ] && [ -n "$l1" ] && [ -n "$l2" ]; then
        SP="nsenter --net=/proc/$p1/ns/net /usr/bin/python3 $IT_SCRATCH/spoof.py"
        $SP "$l1" "$OUT_HOST" "own.$IT_ID.spoof"; it_eq "spoof probe: the raw send works in $S1's sandbox" 0 "$?"
        $SP 203.0.113.9 "$OUT_HOST" "outside.$IT_ID.spoof"
        $SP "$l2" "$OUT_HOST" "sibling.$IT_ID.spoof"
        # a last query with the sandbox's own source, sent after the others
        # on the same path: once it is logged, so is whatever of the
        # others got through (bounded wait on the log, not a fixed sleep)
        $SP "$l1" "$OUT_HOST" "last.$IT_ID.spoof"
        for i in $(seq 1 100); do
                grep -q "last\.$IT_ID\.spoof" "$IT_SCRATCH/dns.log" 2>/dev/null && break
                sleep 0.1
        done
        log=$(grep "\.$IT_ID\.spoof" "$IT_SCRATCH/dns.log" 2>/dev/null)
        it_log "spoof: the resolver got: $(tr '\n' '|' <<<"$log")"
        it_match "control: a raw query with $S1's own source arrives (NAT'd)" "^${OUT_ME//./\\.} own\.$IT_ID\.spoof " "$log"
        it_match "control: the last raw query with $S1's own source arrives (NAT'd)" "^${OUT_ME//./\\.} last\.$IT_ID\.spoof " "$log"
        it_nomatch "a query from $S1's sandbox with a source outside the subnet is dropped" "outside\.$IT_ID" "$log"
        if [ "$MODE" = routed ]; then
                it_nomatch "routed: a query from $S1's sandbox forged as $S2's address ($l2) is dropped" "sibling\.$IT_ID" "$log"
        else
                # Bridge mode checks only that the source is in the subnet:
                # a sandbox that can forge may use another sandbox's
                # address (a documented limit; routed mode drops it). What
                # the docs promise is asserted: it gets out masqueraded,
                # as the host's address, never with a sandbox's source. A
                # change that drops it must change the docs with this line.
                it_match "bridge: a query forged as $S2's address ($l2) gets out, masqueraded (docs: only the subnet is checked)" \
                        "^${OUT_ME//./\\.} sibling\.$IT_ID\.spoof " "$log"
        fi
else
        it_fail "spoof: two held sandboxes with leases" "$S1 $S2" "pids '$p1' '$p2', leases '$l1' '$l2', netns '$ns1'"
fi
[ -n "$p1" ] && kill -KILL "$p1" 2>/dev/null
[ -n "$p2" ] && kill -KILL "$p2" 2>/dev/null
wait "$sp1" "$sp2"
wait_clean "after the spoof probe ($S1)" "$S1" "${l1:-}"
wait_clean "after the spoof probe ($S2)" "$S2" "${l2:-}"

# ------------------------------------------------------------ time the network adds
# su - USER -c true, alternating network = nat and none (12 each, after
# one warm-up of each), so that drift hits both alike.
POL_NONE=("network = none" "[global]" "network_mode = $MODE" "bridge = $BR" "subnet = $SUBNET" "dns = $OUT_HOST" "gateway_ports = $PH_OPEN")
timed_su() {
        local t0 t1 o
        t0=$(hx_time_ms)
        o=$(it_su - "$S1" -c 'echo "@@pid=$$"' </dev/null 2>&1)
        t1=$(hx_time_ms)
        [ "$(it_get pid "$o")" = 1 ] || echo "$(it_clip "$o")" >>"$IT_SCRATCH/timing.bad"
        echo $((t1 - t0))
}
nat=(); none=(); : >"$IT_SCRATCH/timing.bad"
policy; timed_su >/dev/null
it_policy_write "${POL_NONE[@]}"; timed_su >/dev/null
for i in $(seq 1 12); do
        policy; nat+=("$(timed_su)")
        it_policy_write "${POL_NONE[@]}"; none+=("$(timed_su)")
done
policy
it_eq "timing: every login was a sandbox" "" "$(cat "$IT_SCRATCH/timing.bad")"
mnat=$(hx_median "${nat[@]}") mnone=$(hx_median "${none[@]}")
it_log "   nat samples (ms):  ${nat[*]}"
it_log "   none samples (ms): ${none[*]}"
echo "FIGURE: network adds $((mnat - mnone)) ms to a login (median of 12 su - USER -c true: nat $mnat ms, none $mnone ms)"
wait_clean "after the timing loops" "$S1" ""

# the first login after boot also brings the host side up (cubbyctl net up)
hx_ctl net down >/dev/null 2>&1
: >"$IT_SCRATCH/timing.bad"
cold=$(timed_su)
it_eq "timing: the login that brought the network up was a sandbox" "" "$(cat "$IT_SCRATCH/timing.bad")"
echo "FIGURE: the first nat login with the network down (the module runs cubbyctl net up): $cold ms"
wait_clean "after the cold login" "$S1" ""

# ------------------------------------------------------------ pool exhaustion
hx_ctl net down >/dev/null 2>&1
SUBNET_OVERRIDE=10.213.0.0/30 policy
UP1=$IT_STATEDIR/users/$S1/upper
rm -f "$UP1/hn-hold-end" "$UP1/hn-after.txt"
it_ssh -n "$S1" 'ip -4 -o addr show dev eth0 | awk "{ print \"@@addr=\" \$4 }"; for i in $(seq 1 150); do [ -e hn-hold-end ] && break; sleep 0.1; done; echo after > hn-after.txt' >"$IT_SCRATCH/hold.out" 2>&1 &
bg=$!
for i in $(seq 1 100); do [ -n "$(leases_of "$S1")" ] && break; sleep 0.1; done
it_match "/30 pool: the one address is leased to $S1" '^10\.213\.0\.2 ' "$(leases_of "$S1")"
t0=$(hx_time_ms)
out=$(it_su - "$S2" -c 'echo cubby-it-ran' </dev/null 2>&1); rc=$?
t1=$(hx_time_ms)
it_ne "/30 pool held: su - $S2 refused" 0 "$rc"
it_nomatch "/30 pool held: the command never ran" cubby-it-ran "$out"
it_match "/30 pool held: a clear message" 'pool is exhausted|no network address' "$out"
it_int_lt "/30 pool held: refused within 10 s ($((t1 - t0)) ms)" 10000 $((t1 - t0))
out=$(it_ssh -n "$S2" 'echo cubby-it-ran' 2>&1); rc=$?
it_ne "/30 pool held: ssh $S2 refused" 0 "$rc"
it_match "/30 pool held: ssh shows a clear message" 'pool is exhausted|no network address' "$out"
it_eq "/30 pool held: only $S1's veth" 1 "$(wc -w <<<"$(veths)")"
it_eq "/30 pool held: no lease of $S2" "" "$(leases_of "$S2")"
check_user_gone "/30 pool held: nothing of the refused $S2 left" "$S2"
out=$(it_su - "$S1" -c 'echo cubby-it-ran' </dev/null 2>&1); rc=$?
it_ne "/30 pool held: a second login of $S1 itself is refused" 0 "$rc"
it_match "/30 pool held: $S1 gets the clear message" 'pool is exhausted|no network address' "$out"
it_eq "/30 pool held: $S1's first session keeps its one overlay home" 1 "$(hx_overlays_on "$UP1")"
it_eq "/30 pool held: $S1's first session keeps its lease" 1 "$(leases_of "$S1" | wc -l)"
touch "$UP1/hn-hold-end"
wait "$bg"
it_eq "/30 pool held: $S1's first session still wrote to its home after the refusal" after \
        "$(cat "$UP1/hn-after.txt" 2>&1)"
it_eq "/30 pool: the holding session got 10.213.0.2/30" "$(ex_addr 10.213.0.2 30)" "$(it_get addr "$(cat "$IT_SCRATCH/hold.out")")"
wait_clean "/30 pool: after the holder's logout" "$S1" 10.213.0.2
out=$(it_su - "$S2" -c 'ip -4 -o addr show dev eth0 | awk "{ print \"@@addr=\" \$4 }"' </dev/null 2>&1)
it_eq "/30 pool freed: $S2 gets the address now" "$(ex_addr 10.213.0.2 30)" "$(it_get addr "$out")"
wait_clean "/30 pool: after $S2" "$S2" 10.213.0.2

# ------------------------------------------------------------ the helper killed
policy
hx_ctl net down >/dev/null 2>&1
it_ssh -n "$S1" 'sleep 27' >/dev/null 2>&1 &
bg=$!
helper=
if pid=$(it_wait_proc "$S1" sleep); then
        p=$pid
        for i in 1 2 3 4 5 6; do
                p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
                [ -n "$p" ] && [ "$p" -gt 1 ] || break
                # the first ancestor outside the sandbox's pid namespace
                # (its comm is the shell's name: the redirect leads the shell to the helper)
                [ "$(readlink "/proc/$p/ns/pid")" != "$(readlink "/proc/$pid/ns/pid")" ] && { helper=$p; break; }
        done
fi
if [ -n "$helper" ]; then
        ka=$(leases_of "$S1" | cut -d' ' -f1)
        it_match "helper killed: the session had a lease" '^10\.213\.' "$ka"
        it_log "helper killed: pid $helper ($(tr '\0' ' ' <"/proc/$helper/cmdline"), euid $(awk '/^Uid:/ { print $3 }' "/proc/$helper/status"))"
        kill -KILL "$helper"
        for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        it_eq "helper killed: the container dies with it" no "$(hx_yn kill -0 "$pid" 2>/dev/null)"
        wait "$bg"
        for i in $(seq 1 20); do v=$(veths); [ -z "$v" ] && break; sleep 0.1; done
        it_eq "helper killed: no veth left (waited up to 2 s)" "" "$v"
        it_log "helper killed: leases before gc: $(leases_of "$S1" | tr '\n' '|')"
        out=$(hx_ctl gc 2>&1)
        it_eq "helper killed: no lease of $S1 left after gc" "" "$(leases_of "$S1")"
        out=$(it_su - "$S1" -c 'ip -4 -o addr show dev eth0 | awk "{ print \"@@addr=\" \$4 }"' </dev/null 2>&1)
        it_match "helper killed: the next login gets an address" '^10\.213\.' "$(it_get addr "$out")"
        wait_clean "helper killed: after the next login" "$S1" ""
else
        it_fail "helper killed: found cubby-shell above the sandbox" "$CUBBY_HELPER" "none"
        pkill -KILL -U "$(it_uid "$S1")" -x sleep; wait "$bg"
fi

# ------------------------------------------------------------ dns = auto
# Only in this test's mount namespace: the host resolves through a
# loopback stub (systemd-resolved); the sandboxes must get its upstream.
mkdir -p "$IT_SCRATCH/fakeetc"
printf 'nameserver 127.0.0.53\nsearch cubby.test\n' >"$IT_SCRATCH/fakeetc/resolv.conf"
mount --bind "$IT_SCRATCH/fakeetc/resolv.conf" /etc/resolv.conf && mount --make-private /etc/resolv.conf \
        || it_fatal "bind over /etc/resolv.conf (private mount namespace)"
mount -t tmpfs -o mode=0755 cubby-it-sd /run/systemd && mount --make-private /run/systemd \
        || it_fatal "tmpfs over /run/systemd (private mount namespace)"
mkdir -p /run/systemd/resolve
printf 'nameserver %s\n' "$OUT_HOST" >/run/systemd/resolve/resolv.conf
DNSPROBE='p=@@; echo "${p}resolv=$(grep ^nameserver /etc/resolv.conf | tr "\n" " ")"; echo "${p}dns=$(getent hosts '"$DNS_NAME"' | tr -s " " | tr "\n" " ")"'
it_policy_write "network = nat" "[global]" "network_mode = $MODE" "bridge = $BR" "subnet = $SUBNET" "dns = auto"
out=$(it_su - "$S1" -c "$DNSPROBE" </dev/null 2>&1)
it_eq "dns = auto, host stub on 127.0.0.53: the sandbox uses the upstream" "nameserver $OUT_HOST" "$(it_get resolv "$out")"
it_eq "dns = auto, host stub: getent hosts $DNS_NAME works" "$DNS_ANSWER $DNS_NAME" "$(it_get dns "$out")"
# a resolver on a denied range (a LAN router): DNS to it works, TCP does not
hx_ctl net down >/dev/null 2>&1
printf 'nameserver 192.168.77.1\n' >"$IT_SCRATCH/fakeetc/resolv.conf"
# counters for the evidence (a table of the test's own, in the test netns)
$NET nft -f - <<'EOF_NFT' 2>/dev/null
table inet hndebug {
        chain pre { type filter hook prerouting priority -300; udp sport 53 counter; udp dport 53 counter; }
        chain fw { type filter hook forward priority -10; udp sport 53 counter; udp dport 53 counter; }
        chain post { type filter hook postrouting priority 300; udp sport 53 counter; udp dport 53 counter; }
}
EOF_NFT
out=$(it_su - "$S1" -c "$TCPFN; $DNSPROBE; echo \"\${p}tcp=\$(tcp 192.168.77.1 $PORT_OUT)\"" </dev/null 2>&1)
it_eq "dns = auto, host resolver 192.168.77.1: the sandbox uses it" "nameserver 192.168.77.1" "$(it_get resolv "$out")"
it_eq "dns = auto, resolver on a denied range: DNS to it works" "$DNS_ANSWER $DNS_NAME" "$(it_get dns "$out")"
if [ "$(it_get dns "$out")" != "$DNS_ANSWER $DNS_NAME" ]; then
        echo "---- evidence: the fake resolver's log"; tail -n 12 "$IT_SCRATCH/dns.log"
        echo "---- evidence: nft list table inet cubby (test netns)"; $NET nft list table inet cubby 2>&1 | sed -n '1,40p'
        echo "---- evidence: udp/53 counters in the test netns"; $NET nft list table inet hndebug 2>&1
        echo "---- evidence: conntrack"; $NET cat /proc/net/nf_conntrack 2>&1 | grep -E 'dport=53' | head
fi
it_eq "dns = auto, resolver on a denied range: other traffic to it is still denied" unreachable "$(it_get tcp "$out")"
umount /run/systemd; umount /etc/resolv.conf
hx_ctl net down >/dev/null 2>&1
wait_clean "after the dns = auto logins" "$S1" ""

# ------------------------------------------------------------ the bridge cannot be used
out=$(hx_ctl net down 2>&1)
it_eq "cubbyctl net down: exit status" 0 "$?"
if [ "$MODE" = routed ]; then
        # routed: links that are not veths in the way of the next host
        # ends (the lease cursor goes round: the next few addresses)
        nx=$(awk '$1 == "next" { print $2 }' "$IT_RUNDIR/leases.d/next" 2>/dev/null)
        IFS=. read -r o1 o2 o3 o4 <<<"${nx:-10.213.0.2}"
        BLOCKERS=()
        for i in 0 1 2 3 4 5; do
                BLOCKERS+=("$(printf 'cb%02x%02x%02x%02x' "$o1" "$o2" "$o3" $((o4 + i)))")
                $NET ip link add "${BLOCKERS[-1]}" type bridge || it_fatal "a blocker ${BLOCKERS[-1]}"
        done
        it_log "routed: host-end names taken by bridges: ${BLOCKERS[*]} (next lease ${nx:-none})"
        BROKEN="the host end's name is taken by a bridge"
else
        # (no dummy driver here: a veth pair, one end named like the bridge)
        $NET ip link add "$BR" type veth peer name "hnd$IT_ID" && $NET ip link set "$BR" up \
                || it_fatal "a non-bridge $BR in the test netns"
        BROKEN="$BR is not a bridge"
fi
it_policy_write "network = nat" "[user $S1]" "network_fallback = none" \
        "[global]" "network_mode = $MODE" "bridge = $BR" "subnet = $SUBNET" "dns = $OUT_HOST"
out=$(it_su - "$S1" -c 'p=@@; echo "${p}ifs=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort | tr "\n" " ")"; echo "${p}netns=$(readlink /proc/self/ns/net)"; echo "${p}done=yes"' </dev/null 2>&1); rc=$?
it_eq "$BROKEN, network_fallback = none: su - $S1 admitted" 0 "$rc"
it_eq "fallback none: loopback only" lo "$(it_get ifs "$out")"
it_ne "fallback none: not the test netns (never the host's network)" "$IT_TESTNET_NS" "$(it_get netns "$out")"
it_match "fallback none: the user is told" 'loopback only|network is not available' "$out"
it_eq "fallback none: no veth" "" "$(veths)"
it_eq "fallback none: no lease" "" "$(leases_of "$S1")"
it_check_clean "after fallback none" "$S1"
out=$(it_su - "$S2" -c 'echo cubby-it-ran' </dev/null 2>&1); rc=$?
it_ne "$BROKEN, network_fallback = refuse (default): su - $S2 refused" 0 "$rc"
it_nomatch "fallback refuse: the command never ran" cubby-it-ran "$out"
it_match "fallback refuse: a message" 'cubby' "$out"
it_eq "fallback refuse: no veth" "" "$(veths)"
it_eq "fallback refuse: no lease" "" "$(leases_of "$S2")"
it_check_clean "after fallback refuse" "$S2"
if [ "$MODE" = routed ]; then
        for b in "${BLOCKERS[@]}"; do $NET ip link del "$b"; done
        BLOCKERS=()
        # the host side left in bridge mode (its net.state) does not count
        # for routed logins, and net up refuses to switch without a down
        hx_ctl net down >/dev/null 2>&1
        printf 'cubby-net 1\nbridge_created 0\nip_forward 0\nmode bridge\n' >"$IT_RUNDIR/net.state"
        out=$(it_su - "$S2" -c 'echo cubby-it-ran' </dev/null 2>&1); rc=$?
        it_ne "routed, net.state says bridge mode: su - $S2 refused" 0 "$rc"
        it_nomatch "routed, net.state says bridge mode: the command never ran" cubby-it-ran "$out"
        it_check_clean "after the refusal (net.state of bridge mode)" "$S2"
        st=$(hx_ctl net up 2>&1); rc=$?
        it_ne "cubbyctl net up (net.state says bridge mode): refused" 0 "$rc"
        it_match "cubbyctl net up (net.state says bridge mode): says to run net down first" 'net down' "$st"
        rm -f "$IT_RUNDIR/net.state"
else
        st=$(hx_ctl net up 2>&1); rc=$?
        it_ne "cubbyctl net up ($BROKEN): refused" 0 "$rc"
        it_match "cubbyctl net up with a non-bridge $BR: says so" 'not a bridge' "$st"
        $NET ip link del "$BR"
fi

# ------------------------------------------------------------ net down leaves nothing
policy
out=$(it_su - "$S1" -c 'ip -4 -o addr show dev eth0' </dev/null 2>&1)
it_match "network back after the dummy is gone (login brings it up)" '10\.213\.' "$out"
if [ "$MODE" = routed ]; then
        # net down with a sandbox running: its host end and route go
        it_ssh -n "$S1" 'sleep 20' >/dev/null 2>&1 &
        bg=$!
        pd=$(it_wait_proc "$S1" sleep)
        for i in $(seq 1 50); do [ -n "$(veths)" ] && break; sleep 0.1; done
        it_eq "routed: a running sandbox has its host end" 1 "$(wc -w <<<"$(veths)")"
        it_match "routed: and its route" '^10\.213\.' "$($NET ip -4 route show | grep '^10\.213\.')"
        out=$(hx_ctl net down 2>&1); rc=$?
        it_eq "routed: net down with a sandbox running: exit status" 0 "$rc"
        it_match "routed: net down says what it removed" 'removed 1 sandbox host end' "$out"
        it_eq "routed: net down removed the host end" "" "$(veths)"
        it_eq "routed: net down removed the routes" "" "$($NET ip -4 route show table all | grep '10\.213\.')"
        [ -n "$pd" ] && kill -KILL "$pd" 2>/dev/null
        wait "$bg"
        wait_clean "routed: after the sandbox cut off by net down" "$S1" ""
        out=$(it_su - "$S1" -c 'ip -4 -o addr show dev eth0' </dev/null 2>&1)
        it_match "routed: the next login brings the network up again" '10\.213\.' "$out"
fi
out=$(hx_ctl net down 2>&1); rc=$?
it_eq "cubbyctl net down: exit status" 0 "$rc"
it_eq "after net down: no bridge $BR" no "$($NET ip link show "$BR" >/dev/null 2>&1 && echo yes || echo no)"
it_nomatch "after net down: no cubby nft table" 'cubby' "$($NET nft list tables 2>&1)"
it_eq "after net down: ip_forward as before net up" "$FWD_BEFORE" "$($NET cat /proc/sys/net/ipv4/ip_forward)"
it_eq "after net down: no veth" "" "$(veths)"
it_eq "after net down: no route or address of the subnet" "" "$($NET ip -4 route show table all | grep '10\.213\.')"
it_eq "after net down: no net.state" no "$(hx_yn test -e "$IT_RUNDIR/net.state")"
out=$(hx_ctl net down 2>&1); rc=$?
it_eq "cubbyctl net down twice: exit status" 0 "$rc"
# docs/TESTING.md, rule 1: nothing of ours in the machine's own namespace
it_eq "the machine's netns has no link of this test" "" \
        "$(ip -o link show 2>/dev/null | grep -F -e "$OUT_IF" | head -n 3)"

it_finish
