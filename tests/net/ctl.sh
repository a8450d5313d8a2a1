#!/bin/bash
# cubbyctl net up (twice: idempotent), status, a config change, down (leaves
# nothing), and the refusal of a bridge name taken by another interface;
# then network_mode = routed: no bridge, the anti-spoofing chain, a mode
# switch refused without down, down removing the host ends; all in a test
# network namespace.
set -u
CUBBYCTL=$1
. "$(dirname "$0")/lib.sh"

NS=cbt-ctl-$$
make_netns "$NS"
CONF=$TMP/cubby.conf
write_conf() {
        cat >"$CONF" <<EOC
[global]
run_dir = $TMP/run
network_mode = ${MODE:-bridge}
bridge = cubby0
subnet = 10.213.0.0/16
dns = 203.0.113.53
gateway_ports = $1
EOC
}
ctl() { in_ns "$NS" "$CUBBYCTL" --config "$CONF" net "$@"; }
host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
ns_fwd=$(in_ns "$NS" cat /proc/sys/net/ipv4/ip_forward)

write_conf 8765
t0=$(now_ms); ctl up; rc=$?; t1=$(now_ms)
ok $rc "net up (cold)"
cold=$((t1 - t0))
rules1=$(in_ns "$NS" nft list ruleset)
t0=$(now_ms); ctl up; rc=$?; t1=$(now_ms)
ok $rc "net up again (warm)"
warm=$((t1 - t0))
echo "# net up: cold ${cold} ms, warm ${warm} ms (including nsenter and exec)"
rules2=$(in_ns "$NS" nft list ruleset)
[ "$rules1" = "$rules2" ]; ok $? "the second up leaves the same ruleset"
[ "$(in_ns "$NS" nft list tables | sort | tr '\n' ' ')" = "table bridge cubby table inet cubby " ]
ok $? "exactly the tables inet cubby and bridge cubby"
in_ns "$NS" ip -4 -br addr show dev cubby0 | grep -q ' 10.213.0.1/16'; ok $? "bridge has the gateway address"
in_ns "$NS" ip -br link show dev cubby0 | grep -qw UP; ok $? "bridge is up"
[ "$(in_ns "$NS" cat /proc/sys/net/ipv4/ip_forward)" = 1 ]; ok $? "ip_forward is on in the namespace"
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]; ok $? "the machine's own ip_forward is untouched"
grep -q '203.0.113.53 meta l4proto { tcp, udp } th dport 53 accept' <<<"$rules2"; ok $? "DNS to the configured resolver allowed"
grep -q 'elements = { 10.0.0.0/9' <<<"$rules2"; ok $? "deny list without the cubby subnet"

out=$(ctl status); ok $? "status"
grep -q '^network: *up' <<<"$out"; ok $? "status says up"
out=$(ctl status --json); ok $? "status --json"
grep -q '^{"up":true,"bridge":{"name":"cubby0","present":true' <<<"$out"; ok $? "status --json says up"

write_conf 3128
ctl up; ok $? "up with a changed config"
in_ns "$NS" nft list chain inet cubby input | grep -q 'th dport 3128 accept'; ok $? "the new gateway port is in"
! in_ns "$NS" nft list chain inet cubby input | grep -q 8765; ok $? "the old one is gone"

ctl down; ok $? "net down"
[ "$(in_ns "$NS" ip -br link | awk '{print $1}' | tr '\n' ' ')" = "lo " ]; ok $? "down leaves only lo"
[ -z "$(in_ns "$NS" nft list ruleset)" ]; ok $? "down leaves no nft table"
[ "$(in_ns "$NS" cat /proc/sys/net/ipv4/ip_forward)" = "$ns_fwd" ]; ok $? "ip_forward restored to $ns_fwd"
[ ! -e "$TMP/run/net.state" ]; ok $? "state file removed"
ctl down >/dev/null; ok $? "down again is harmless"
out=$(ctl status); grep -q '^network: *not up' <<<"$out"; ok $? "status says not up"

# A name taken by something that is not a bridge: refused, one line.
in_ns "$NS" ip link add cubby0 type veth peer name xpeer
err=$(ctl up 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && [ "$(wc -l <<<"$err")" = 1 ]; ok $? "up refuses a non-bridge cubby0 (exit 1, one line: $err)"
ctl down >/dev/null 2>&1
in_ns "$NS" ip link show cubby0 >/dev/null 2>&1; ok $? "down leaves the foreign cubby0 alone"
ctl bogus 2>/dev/null; [ $? = 1 ]; ok $? "unknown verb: exit 1"
in_ns "$NS" ip link del cubby0

# --- network_mode = routed
MODE=routed write_conf 8765
ctl up; ok $? "routed: net up"
rules=$(in_ns "$NS" nft list ruleset)
[ "$(in_ns "$NS" nft list tables | tr '\n' ' ')" = "table inet cubby " ]; ok $? "routed: only the table inet cubby"
! in_ns "$NS" ip link show cubby0 >/dev/null 2>&1; ok $? "routed: no bridge"
grep -q 'iifname "cb\*" fib saddr . iif oif missing drop' <<<"$rules"; ok $? "routed: anti-spoofing in prerouting"
grep -q 'iifname "cb\*" oifname "cb\*" drop' <<<"$rules"; ok $? "routed: host end to host end dropped"
grep -q 'ip saddr 10.213.0.0/16 oifname != "cb\*" masquerade' <<<"$rules"; ok $? "routed: masquerade"
grep -q 'mode routed' "$TMP/run/net.state"; ok $? "routed: net.state records the mode"
out=$(ctl status); grep -q '^network: *up' <<<"$out" && grep -q '^mode: *routed' <<<"$out"; ok $? "routed: status says up, routed"
out=$(ctl status --json); grep -q '"mode":"routed","host_ends":0,' <<<"$out"; ok $? "routed: status --json ($out)"
ctl up; ok $? "routed: net up again"
[ "$rules" = "$(in_ns "$NS" nft list ruleset)" ]; ok $? "routed: the second up leaves the same ruleset"
write_conf 8765
err=$(ctl up 2>&1 >/dev/null); rc=$?
[ $rc = 1 ] && grep -q 'net down' <<<"$err"; ok $? "switching to bridge without down: refused ($err)"
! in_ns "$NS" ip link show cubby0 >/dev/null 2>&1; ok $? "the refused switch made no bridge"
MODE=routed write_conf 8765
# two host ends as the helper leaves them (the peers in a netns of ours)
make_netns "$NS-c"
in_ns "$NS" ip link add cb0ad50002 type veth peer name eth0 netns "$NS-c"
in_ns "$NS" ip link add cb0ad50003 type veth peer name eth1 netns "$NS-c"
in_ns "$NS" ip addr add 10.213.0.1 peer 10.213.0.2/32 dev cb0ad50002
in_ns "$NS" ip link set cb0ad50002 up
in_ns "$NS" ip link add cbother type veth peer name cbother2
out=$(ctl status); grep -q '^host ends: *2 ' <<<"$out"; ok $? "routed: status counts 2 host ends"
out=$(ctl down); ok $? "routed: net down ($out)"
[ "$(in_ns "$NS" ip -br link | awk '{print $1}' | sed 's/@.*//' | sort | tr '\n' ' ')" = "cbother cbother2 lo " ]
ok $? "routed: down removed the host ends, not other cb* links"
[ -z "$(in_ns "$NS" ip -4 route show table all | grep 10.213)" ]; ok $? "routed: down removed the routes"
[ -z "$(in_ns "$NS" nft list ruleset)" ]; ok $? "routed: down leaves no nft table"
[ "$(in_ns "$NS" cat /proc/sys/net/ipv4/ip_forward)" = "$ns_fwd" ]; ok $? "routed: ip_forward restored"
[ ! -e "$TMP/run/net.state" ]; ok $? "routed: state file removed"
finish
