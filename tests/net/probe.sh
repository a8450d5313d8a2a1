#!/bin/bash
# The per-container network with real packets, in both network modes: a
# "host" namespace (the bridge or the routed host ends, NAT and filter from
# cubbyctl net up, ext0 towards the outside) and an "outside" namespace
# (198.51.100.2, plus 169.254.169.254 and a fake resolver at 10.99.0.53
# inside the denied 10/8); netprobe (helper/veth.c) makes the containers and
# probes. Then net down leaves nothing (routed: no host end, no route).
# NETPROBE_PRELOAD=N (not in CI): also time setups with N veths held.
set -u
CUBBYCTL=$1
NETPROBE=$2
. "$(dirname "$0")/lib.sh"

# run_mode bridge|routed: fresh namespaces, net up, netprobe, net down.
run_mode() {
        local mode=$1 R=cbt-host-$$-$1 O=cbt-out-$$-$1 CONF=$TMP/cubby-$1.conf rc leftover flag=
        make_netns "$R"
        make_netns "$O"
        set -e
        in_ns "$R" ip link set lo up
        in_ns "$R" ip link add ext0 type veth peer name eth0 netns "$O"
        in_ns "$R" ip addr add 198.51.100.1/24 dev ext0
        in_ns "$R" ip link set ext0 up
        in_ns "$O" ip link set lo up
        in_ns "$O" ip addr add 198.51.100.2/24 dev eth0
        in_ns "$O" ip addr add 169.254.169.254/32 dev lo
        in_ns "$O" ip addr add 10.99.0.53/32 dev lo
        in_ns "$O" ip link set eth0 up
        in_ns "$R" ip route add 169.254.169.254/32 via 198.51.100.2
        in_ns "$R" ip route add 10.99.0.53/32 via 198.51.100.2
        set +e
        cat >"$CONF" <<EOC
[global]
run_dir = $TMP/run-$mode
network_mode = $mode
bridge = cubby0
subnet = 10.213.0.0/16
dns = 10.99.0.53
gateway_ports = 8765
EOC
        [ "$mode" = routed ] && flag=--routed
        in_ns "$R" "$CUBBYCTL" --config "$CONF" net up; ok $? "$mode: net up in the host namespace"
        in_ns "$R" "$NETPROBE" --host-ns /run/netns/"$R" --bridge cubby0 --subnet 10.213.0.0/16 --outside-ns /run/netns/"$O" \
                --outside 198.51.100.2 --router 198.51.100.1 --meta 169.254.169.254 \
                --resolver 10.99.0.53 --port 8765 --closed-port 8766 --bench 20 $flag \
                --preload "${NETPROBE_PRELOAD:-0}" >"$TMP/probe-$mode.out"
        rc=$?
        sed -e '/passed, .* failed$/d' -e "s/^\(ok\|not ok\) - /\1 - $mode: /" -e "s/^# /# $mode: /" "$TMP/probe-$mode.out"
        ok $rc "$mode: netprobe"
        leftover=$(in_ns "$R" ip -br link | awk '$1 ~ /^cb/ {print $1}')
        [ -z "$leftover" ]; ok $? "$mode: no veth left on the host side ($leftover)"
        if [ "$mode" = routed ]; then
                leftover=$(in_ns "$R" ip -4 route show table all | grep '10\.213\.')
                [ -z "$leftover" ]; ok $? "$mode: no route or address of the subnet left once the containers are gone ($leftover)"
        fi
        in_ns "$R" "$CUBBYCTL" --config "$CONF" net down; ok $? "$mode: net down"
        [ -z "$(in_ns "$R" nft list ruleset)" ]; ok $? "$mode: no nft table left"
        [ "$(in_ns "$R" ip -br link | awk '{print $1}' | sort | tr '\n' ' ')" = "ext0@if2 lo " ]
        ok $? "$mode: only lo and ext0 left"
        [ -z "$(in_ns "$R" ip -4 route show table all | grep '10\.213\.')" ]; ok $? "$mode: no route of the subnet left"
}
run_mode bridge
run_mode routed
finish
