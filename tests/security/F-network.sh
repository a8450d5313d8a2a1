#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs/THREATS.md, F (network), network = nat: the module and helper bring up
# cubby's bridge and NAT inside the test netns (the "host" here); a fake
# outside host in a namespace of ours (198.51.100.2, plus 169.254.169.254
# and 10.99.0.53 in a denied private range). The invariants: the outside
# is reachable (NAT works), metadata, private ranges, the gateway's closed
# ports and other sandboxes are not, and a sandbox cannot spoof.
# CUBBY_NET_MODE=routed: the same with network_mode = routed (no bridge).
IT_NEEDS="su pgrep ip nft /usr/bin/python3"
. "$(dirname "$0")/seclib.sh"
sec_init "$@"
S1=$IT_S1 S2=$IT_S2
OUT_NS=cubby-$IT_ID-o
SUBNET=10.213.0.0/16
GW=10.213.0.1
# the outside namespace is ours too: removed before the harness's cleanup
# (which keeps the exit status it is given)
trap 'sec_rc=$?; stop_listeners; ip netns del "$OUT_NS" 2>/dev/null; rm -rf "$SEC_PROBEDIR"; (exit $sec_rc); it_cleanup inner' EXIT

in_host() { nsenter --net="$IT_NETNS_PATH" "$@"; }
in_out() { nsenter --net="/run/netns/$OUT_NS" "$@"; }

# listener NETNS_PATH PORT TEXT SECONDS: a TCP server that greets, bounded
# by its own deadline; nsenter execs python, so $! is the server itself,
# and the harness's lock fd (9) is not passed on.
listener() {
        nsenter --net="$1" /usr/bin/python3 -c '
import socket, sys, time
end = time.time() + float(sys.argv[3])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(16); s.settimeout(0.5)
while time.time() < end:
    try:
        c, a = s.accept()
    except socket.timeout:
        continue
    c.sendall((sys.argv[2] + " from=" + a[0] + "\n").encode()); c.close()
' "$2" "$3" "$4" >/dev/null 2>&1 </dev/null 9>&- &
        SEC_LISTENERS+=($!)
}
SEC_LISTENERS=()
stop_listeners() { local p; for p in "${SEC_LISTENERS[@]}"; do kill -KILL "$p" 2>/dev/null; done; }

setup_net() {
        ip netns add "$OUT_NS" || return 1
        in_out ip link set lo up
        in_host ip link add ext0 type veth peer name eth0 netns "$OUT_NS" || return 1
        in_host ip addr add 198.51.100.1/24 dev ext0
        in_host ip link set ext0 up
        in_out ip addr add 198.51.100.2/24 dev eth0
        in_out ip addr add 169.254.169.254/32 dev lo
        in_out ip addr add 10.99.0.53/32 dev lo
        in_out ip link set eth0 up
        in_host ip route add 169.254.169.254/32 via 198.51.100.2
        in_host ip route add 10.99.0.53/32 via 198.51.100.2
        listener "/run/netns/$OUT_NS" 8080 outside-greets 90
        listener "$IT_NETNS_PATH" 8081 host-greets 90
        mkdir -p -m 0755 "$IT_SCRATCH/etc"
        it_policy_write "network = nat"
        sed -i "s|^\[global\]\$|[global]\nnetwork_mode = ${CUBBY_NET_MODE:-bridge}\nbridge = cubby0\nsubnet = $SUBNET\ndns = 10.99.0.53\ngateway_ports = 53|" "$IT_CONF"
        sleep 0.5
}

# probe inside: connect to IP:PORT, print what was read
conn() { echo "r=\$(timeout 3 bash -c 'exec 3<>/dev/tcp/$1/$2 && head -n1 <&3' 2>/dev/null); echo \"@@c_$3=\$r\";"; }

test_F_network_escapes() {
        local out base
        setup_net || { sec_skip "cannot build the test network (veth/netns)"; return; }
        base=$(in_host bash -c "exec 3<>/dev/tcp/198.51.100.2/8080 && head -n1 <&3" 2>&1)
        it_match "baseline: the outside listener answers the host" 'outside-greets' "$base"
        base=$(in_host bash -c "exec 3<>/dev/tcp/169.254.169.254/8080 && head -n1 <&3" 2>&1)
        it_match "baseline: the fake metadata address answers the host" 'outside-greets' "$base"
        out=$(sec_su "$S1" "echo @@ifs=\$(ls /sys/class/net | tr '\n' ' ');
                $(conn 198.51.100.2 8080 out) $(conn 169.254.169.254 8080 meta) $(conn 10.99.0.53 8080 priv)
                $(conn $GW 8081 gw) $(conn 198.51.100.1 8081 hostaddr) $(conn 127.0.0.1 8081 lo)
                echo @@end=1")
        sec_sandboxed "network" "$out"
        if [ -z "$(it_get c_out "$out")" ]; then
                it_log "sandbox output: $(it_clip "$out")"
                sec_skip "the sandbox has no working NAT here (the positive control failed): nothing proven"
                return
        fi
        it_match "network: the outside is reachable through NAT (positive control)" 'outside-greets from=198\.51\.100\.1' "$(it_get c_out "$out")"
        it_eq "network: 169.254.169.254 (metadata) unreachable" "" "$(it_get c_meta "$out")"
        it_eq "network: a denied private range (10.99.0.53) unreachable" "" "$(it_get c_priv "$out")"
        it_eq "network: the gateway's closed port unreachable" "" "$(it_get c_gw "$out")"
        it_eq "network: the host's other address unreachable" "" "$(it_get c_hostaddr "$out")"
        it_eq "network: 127.0.0.1 inside is the sandbox's own" "" "$(it_get c_lo "$out")"
}

test_F_sandbox_to_sandbox() {
        local bg sp ip out
        it_su - "$S2" -c "timeout 12 /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind((\"0.0.0.0\", 8090)); s.listen(4); c, a = s.accept(); c.sendall(b\"sandbox-greets\\n\")'" \
                </dev/null >/dev/null 2>&1 &
        bg=$!
        if ! sp=$(sec_pid_of_sandbox "$S2" python3); then it_fail "sandbox listener" "running" "none"; wait "$bg"; return; fi
        sleep 0.5
        ip=$(nsenter -t "$sp" -n ip -4 -o addr show dev eth0 2>/dev/null | awk '{ print $4 }' | cut -d/ -f1)
        it_match "the second sandbox has an address in the subnet" '^10\.213\.' "$ip"
        out=$(sec_su "$S1" "$(conn "$ip" 8090 peer) echo @@end=1")
        it_eq "sandbox to sandbox: unreachable" "" "$(it_get c_peer "$out")"
        kill "$bg" 2>/dev/null; kill -KILL "$sp" 2>/dev/null; wait "$bg"
        it_check_clean "sandbox to sandbox" "$S2"
}

test_F_spoofing() {
        local out
        out=$(sec_su "$S1" "ip addr add 10.213.250.250/16 dev eth0 2>/dev/null; echo @@addr=\$?; ip link set eth0 address 02:00:00:00:00:01 2>/dev/null; echo @@mac=\$?; ip route add default via 10.213.0.99 2>/dev/null; echo @@route=\$?; $SECPROBE kernel | grep -E 'socket'")
        sec_sandboxed "spoofing" "$out"
        it_ne "spoofing: adding another source address fails" 0 "$(it_get addr "$out")"
        it_ne "spoofing: changing the MAC address fails" 0 "$(it_get mac "$out")"
        it_ne "spoofing: changing routes fails" 0 "$(it_get route "$out")"
        it_match "spoofing: no raw IP socket (forged headers)" '^raw_socket=EPERM' "$out"
        it_match "spoofing: no packet socket (forged frames, ARP)" '^packet_socket=EPERM' "$out"
        it_check_clean "spoofing" "$S1"
}

for t in test_F_network_escapes test_F_sandbox_to_sandbox test_F_spoofing; do
        sec_test "$t"
done
sec_finish
