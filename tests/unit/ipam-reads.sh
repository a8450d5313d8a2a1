#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A lease is O(1): with N leases of other users held, one acquire and one
# release (ipam-probe once) open and read no more than with none. Counted
# from the openat/read/pread64 calls under strace, on a leases dir of the
# test's own (no root needed). A single leases file read whole by every
# acquire (as cubby kept them before) reads N lines more and fails here.
set -u
PROBE=$1
N=${CUBBY_IPAM_HELD:-300}
command -v strace >/dev/null || { echo "SKIP: no strace"; exit 77; }
# LeakSanitizer cannot run under ptrace (tools/sanitize-unit's build): the
# probe's leaks are not what this test counts
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
T=$(mktemp -d /tmp/cubby-ipam-reads.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
chmod 700 "$T"
mkdir -m 700 "$T/none" "$T/held"

# files opened below DIR and bytes read from them, for one acquire + release
measure() {
	local dir=$1 trace=$T/$2.strace
	strace -qq -y -e trace=openat,read,pread64 -o "$trace" "$PROBE" once "$dir" 1000 ||
		{ echo "FAIL: ipam-probe once in $dir"; cat "$trace"; exit 1; }
	awk -v d="$dir" '
		$0 ~ /^openat\(/ && index($0, d) && $NF !~ /^-1/ { opens++ }
		$0 ~ /^(read|pread64)\(/ && index($0, d "/") && $(NF) ~ /^[0-9]+$/ { bytes += $(NF) }
		END { printf "%d %d\n", opens, bytes }' "$trace"
}

"$PROBE" fill "$T/held" "$N" || { echo "FAIL: could not fill $N leases"; exit 1; }
read -r o0 b0 < <(measure "$T/none" none)
read -r o1 b1 < <(measure "$T/held" held)
echo "0 leases held: $o0 files opened, $b0 bytes read"
echo "$N leases of other users held: $o1 files opened, $b1 bytes read"
rc=0
[ "$o0" -gt 0 ] || { echo "FAIL: nothing opened (the trace is not counting)"; rc=1; }
[ "$o1" -le $((o0 + 2)) ] || { echo "FAIL: $o1 files opened with $N held, $o0 with none"; rc=1; }
[ "$b1" -le $((b0 + 512)) ] || { echo "FAIL: $b1 bytes read with $N held, $b0 with none"; rc=1; }
[ "$rc" = 0 ] || { echo "--- trace with $N held:"; head -100 "$T/held.strace"; }
exit $rc
