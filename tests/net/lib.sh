# Shared by the net tests: root check, unique names, cleanup, ok/not ok.
# Everything is made inside network namespaces named cbt-<test>-<pid>-*,
# entered with nsenter (never `ip netns exec`, which remounts /sys).

if [ "$(id -u)" != 0 ]; then
        echo "SKIP: the net tests need root (network namespaces, veth, nftables)"
        exit 77
fi
for tool in ip nft nsenter; do
        command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done

PASSED=0
FAILED=0
NETNS_MADE=()
TMP=$(mktemp -d /tmp/cubby-net-test.XXXXXX)

cleanup() {
        local ns
        for ns in "${NETNS_MADE[@]}"; do
                ip netns del "$ns" 2>/dev/null
        done
        rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

make_netns() {
        ip netns add "$1" || exit 1
        NETNS_MADE+=("$1")
}

in_ns() {
        local ns=$1
        shift
        nsenter --net=/run/netns/"$ns" "$@"
}

ok() {
        if [ "$1" = 0 ]; then
                echo "ok - $2"
                PASSED=$((PASSED + 1))
        else
                echo "not ok - $2"
                FAILED=$((FAILED + 1))
        fi
}

finish() {
        echo "$PASSED passed, $FAILED failed"
        [ "$FAILED" = 0 ]
        exit $?
}

now_ms() {
        local t=${EPOCHREALTIME/./}
        echo $((t / 1000))
}
