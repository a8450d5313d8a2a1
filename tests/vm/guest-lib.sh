# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# What the systemd guests' scripts share (systemd-guest.sh,
# cluster-guest.sh): systemd.sh copies it into the run's share beside the
# guest script, which sources it from there. Set STATE (where the failed
# checks are listed) before sourcing; finish_result NAME writes the result.

uptime_s() { local u _; read -r u _ </proc/uptime; echo "$u"; }
T0=$(uptime_s)
since() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN{printf "%.1f", b - a}'; }
log() { echo "[guest +$(since "$T0")s] $*"; }
fig() { echo "figure: $*"; }
pass() { echo "PASS: $1"; }
fail() {
	local name=$1
	echo "FAIL: $name"
	shift
	for l in "$@"; do printf '    %s\n' "$l"; done
	echo "$name" >>"$STATE/fails"
}
# check NAME CONDITION [DETAIL]: CONDITION is evaluated; DETAIL on failure.
check() { if eval "$2"; then pass "$1"; else fail "$1" "not true: $2" "${3:-}"; fi; }
# wait_for TENTHS CONDITION: until CONDITION holds, TENTHS tenths of a
# second at most; 1 if it never did.
wait_for() {
	local n=$1 i=0
	while ! eval "$2"; do
		i=$((i + 1))
		[ $i -lt "$n" ] || return 1
		sleep 0.1
	done
}
# failures: how many checks failed so far
failures() { if [ -s "$STATE/fails" ]; then wc -l <"$STATE/fails"; else echo 0; fi; }
# finish_result NAME: the summary line and 0 or 1 into the share's rc.
finish_result() {
	local n
	n=$(failures)
	if [ "$n" -gt 0 ]; then
		echo "$1: $n check(s) failed: $(tr '\n' ' ' <"$STATE/fails")"
		echo 1 >"$IO/rc"
	else
		echo "$1: all checks passed"
		echo 0 >"$IO/rc"
	fi
}
