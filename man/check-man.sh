#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Format each man page given as an argument the way man(1) does and with
# all of groff's warnings on; any warning, or a NAME line that lexgrog(1)
# cannot parse, fails the test. Skips (77) when man-db or groff is missing.
set -u
for p in man groff lexgrog; do
	command -v "$p" >/dev/null 2>&1 || { echo "SKIP: $p is not installed (apt-get install man-db groff-base)"; exit 77; }
done
fail=0
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
for page in "$@"; do
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" >/dev/null 2>"$tmp"
	groff -ww -man -z "$page" 2>>"$tmp"
	lexgrog "$page" >/dev/null 2>>"$tmp" || echo "$page: lexgrog cannot parse the NAME section" >>"$tmp"
	if [ -s "$tmp" ]; then
		echo "FAIL: $page"
		cat "$tmp"
		fail=1
	else
		echo "ok: $page"
	fi
	: >"$tmp"
done
exit $fail
