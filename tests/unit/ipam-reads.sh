#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A lease is O(1): with N leases of other users held, one acquire and one
# release (ipam-probe once) open and read no more than with none; with M
# leases of the SAME user held, a handful of files more at most (its index
# is read by names: only its own entries are opened). Counted
# from the openat/read/pread64 calls under strace, on a leases dir of the
# test's own (no root needed). A single leases file read whole by every
# acquire (as cubby kept them before) reads N lines more and fails here.
set -u
PROBE=$1
N=${CUBBY_IPAM_HELD:-300}
M=${CUBBY_IPAM_OWN:-200}
command -v strace >/dev/null || { echo "SKIP: no strace"; exit 77; }
# LeakSanitizer cannot run under ptrace (tools/sanitize-unit's build): the
# probe's leaks are not what this test counts
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
T=$(mktemp -d /tmp/cubby-ipam-reads.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
chmod 700 "$T"
mkdir -m 700 "$T/none" "$T/held" "$T/own"

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
"$PROBE" fill "$T/own" "$M" 1000 || { echo "FAIL: could not fill $M leases of uid 1000"; exit 1; }
read -r o2 b2 < <(measure "$T/own" own)
echo "0 leases held: $o0 files opened, $b0 bytes read"
echo "$N leases of other users held: $o1 files opened, $b1 bytes read"
echo "$M leases of the same user held: $o2 files opened, $b2 bytes read"
rc=0
[ "$o0" -gt 0 ] || { echo "FAIL: nothing opened (the trace is not counting)"; rc=1; }
[ "$o1" -le $((o0 + 2)) ] || { echo "FAIL: $o1 files opened with $N held, $o0 with none"; rc=1; }
[ "$b1" -le $((b0 + 512)) ] || { echo "FAIL: $b1 bytes read with $N held, $b0 with none"; rc=1; }
[ "$o2" -le $((o0 + 4)) ] || { echo "FAIL: $o2 files opened with $M of the same user held, $o0 with none"; rc=1; }
[ "$b2" -le $((b0 + 512)) ] || { echo "FAIL: $b2 bytes read with $M of the same user held, $b0 with none"; rc=1; }
[ "$rc" = 0 ] || for t in held own; do echo "--- trace ($t):"; head -100 "$T/$t.strace"; done
exit $rc
