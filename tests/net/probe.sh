#!/bin/bash
# The per-container network with real packets: a "host" namespace (the
# bridge, NAT and filter from cubbyctl net up, ext0 towards the outside) and
# an "outside" namespace (198.51.100.2, plus 169.254.169.254 and a fake
# resolver at 10.99.0.53 inside the denied 10/8); netprobe (helper/net.c)
# makes the containers and probes. Then net down leaves nothing.
set -u
CUBBYCTL=$1
NETPROBE=$2
. "$(dirname "$0")/lib.sh"

R=cbt-host-$$
O=cbt-out-$$
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

CONF=$TMP/cubby.conf
cat >"$CONF" <<EOC
[global]
run_dir = $TMP/run
bridge = cubby0
subnet = 10.213.0.0/16
dns = 10.99.0.53
gateway_ports = 8765
EOC

in_ns "$R" "$CUBBYCTL" --config "$CONF" net up; ok $? "net up in the host namespace"
in_ns "$R" "$NETPROBE" --host-ns /run/netns/"$R" --bridge cubby0 --subnet 10.213.0.0/16 --outside-ns /run/netns/"$O" \
        --outside 198.51.100.2 --router 198.51.100.1 --meta 169.254.169.254 \
        --resolver 10.99.0.53 --port 8765 --closed-port 8766 --bench 20 >"$TMP/probe.out"
rc=$?
sed -e '/passed, .* failed$/d' "$TMP/probe.out"
ok $rc "netprobe"
leftover=$(in_ns "$R" ip -br link | awk '$1 ~ /^cb/ {print $1}')
[ -z "$leftover" ]; ok $? "no veth left on the host side ($leftover)"
in_ns "$R" "$CUBBYCTL" --config "$CONF" net down; ok $? "net down"
[ -z "$(in_ns "$R" nft list ruleset)" ]; ok $? "no nft table left"
[ "$(in_ns "$R" ip -br link | awk '{print $1}' | sort | tr '\n' ' ')" = "ext0@if2 lo " ]
ok $? "only lo and ext0 left"
finish
