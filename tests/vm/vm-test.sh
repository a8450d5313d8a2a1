#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vm-test.sh BUILD_DIR smoke|cgroup-unit|container-unit
#
# The meson tests of the 'cgroup2' suite: build (or reuse) the VM kit, then
# run one test inside the VM, printing how long each step took.

set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR smoke|cgroup-unit|container-unit" >&2; exit 99; }
BUILD_DIR=$(cd "$1" && pwd -P) || exit 99
what=$2

now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", b - a}'; }

t0=$(now)
[ "$(id -u)" -eq 0 ] || { echo "SKIP: the VM tests need root"; exit 77; }

case $what in
smoke) cmd=(/bin/sh "$HERE/guest-smoke.sh") ;;
cgroup-unit)
	bin=$BUILD_DIR/tests/unit/test_cgroup
	if [ ! -x "$bin" ]; then
		echo "SKIP: $bin not built (yet)"
		exit 77
	fi
	cmd=("$bin")
	;;
container-unit)
	bin=$BUILD_DIR/tests/unit/test_container_stop
	if [ ! -x "$bin" ]; then
		echo "SKIP: $bin not built (yet)"
		exit 77
	fi
	cmd=("$bin")
	;;
*) echo "unknown VM test $what" >&2; exit 99 ;;
esac

"$HERE/mkkit.sh" "$BUILD_DIR"
rc=$?
t1=$(now)
case $rc in
0) ;;
77) echo "SKIP: the VM kit cannot be built here"; exit 77 ;;
*) echo "mkkit.sh failed ($rc)"; exit 99 ;;
esac
echo "vm-test: kit ready in $(dt "$t0" "$t1") s (kernel $(cat "$BUILD_DIR/vm-kit/kernel-version"))"

cd "$BUILD_DIR" || exit 99
"$HERE/run.sh" --build-dir "$BUILD_DIR" --timeout 240 -- "${cmd[@]}"
rc=$?
t2=$(now)
echo "vm-test: $what: exit $rc; kit $(dt "$t0" "$t1") s + VM $(dt "$t1" "$t2") s = $(dt "$t0" "$t2") s total"
exit $rc
