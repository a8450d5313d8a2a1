#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every `cubbyctl --json` command gives valid JSON (strict UTF-8, parsed by
# python's json) when the strings it prints hold invalid UTF-8 and control
# bytes: a session opened through the real module (pamdrive, su stack) with
# such a remote host and tty, and a policy file whose path holds them (it is
# printed by explain and check). The invalid bytes must come out as U+FFFD
# and the control bytes as JSON escapes, not dropped.
IT_NEEDS="pgrep python3"
. "$(dirname "$0")/lib.sh"
it_init "$@"

[ -x "${CUBBY_PAMDRIVE:-}" ] || it_fatal "CUBBY_PAMDRIVE is not set or not executable"
S1=$IT_S1
# a lone continuation byte, a truncated sequence, an overlong '/', control
# bytes, a quote and a backslash
RHOST=$'h\x80\xff\xc3(\xc0\xaf\x01\x1b"\\'
TTY=$'pts/\xfe\x7f\x02'
BADCONF="$IT_SCRATCH/etc/"$'pol\xff\x01icy.conf'
cp "$IT_CONF" "$BADCONF" && chmod 0644 "$BADCONF" || it_fatal "cannot copy the policy"
OUT="$IT_SCRATCH/json"
mkdir -p "$OUT"

# strict_json FILE: exit 0 when FILE is strict UTF-8 and one JSON value;
# prints the python error otherwise
strict_json() {
	python3 - "$1" <<'PY'
import json, sys
data = open(sys.argv[1], 'rb').read()
try:
    json.loads(data.decode('utf-8', 'strict'))
except Exception as e:
    print(e)
    sys.exit(1)
PY
}
# json_get FILE EXPR: a python expression on the parsed value v
json_get() {
	python3 -c 'import json, sys; v = json.loads(open(sys.argv[1], "rb").read().decode("utf-8")); print(ascii(eval(sys.argv[2])))' "$1" "$2" 2>/dev/null
}

# While the session is open (as root, in the opener's mount namespace; sh,
# as bash may be the redirected helper there): list, show and the commands
# that print the policy's path.
INSIDE='ctl=$1 conf=$2 out=$3 user=$4
"$ctl" --config "$conf" --json list >"$out/list" 2>"$out/list.err"
"$ctl" --config "$conf" list >"$out/list.txt" 2>&1
id=$("$ctl" --config "$conf" list | awk -v u="$user" "\$2 == u { print \$1 }" | head -n 1)
echo "in_id=$id"
"$ctl" --config "$conf" --json show "$id" >"$out/show" 2>"$out/show.err"
"$ctl" --config "$conf" --json explain "$user" >"$out/explain" 2>"$out/explain.err"
"$ctl" --config "$conf" --json check --sshd-config /dev/null >"$out/check" 2>"$out/check.err"
"$ctl" --config "$conf" --json home show "$user" >"$out/home" 2>"$out/home.err"
"$ctl" --config "$conf" --json net status >"$out/net" 2>"$out/net.err"
echo in_done=yes'
out=$(timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
	"$CUBBY_PAMDRIVE" -d "$IT_PAMD" -r "$RHOST" -t "$TTY" su "$S1" -- \
	sh -c "$INSIDE" sh "$CUBBY_CTL" "$BADCONF" "$OUT" "$S1" 2>&1)
it_eq "session with a hostile rhost and tty opened" PAM_SUCCESS "$(printf '%s\n' "$out" | sed -n 's/^open=//p')"
it_eq "the commands ran while it was open" yes "$(printf '%s\n' "$out" | sed -n 's/^in_done=//p')"
it_match "list found the session" '^in_id=[0-9a-f]{16}$' "$out"

for cmd in list show explain check home net; do
	err=$(strict_json "$OUT/$cmd")
	it_eq "--json $cmd: strict UTF-8 JSON" "" "$err"
	[ -z "$err" ] || it_log "$cmd output: $(od -c "$OUT/$cmd" | head -n 20)"
done

# What the hostile strings became: each invalid byte U+FFFD, the control
# bytes kept as escapes, the rest as it was.
it_eq "list: rhost with U+FFFD for each invalid byte" \
	"'h\\ufffd\\ufffd\\ufffd(\\ufffd\\ufffd\\x01\\x1b\"\\\\'" \
	"$(json_get "$OUT/list" '[s["rhost"] for s in v if s["user"] == "'"$S1"'"][0]')"
it_eq "explain: the policy path in 'from'" "'$IT_SCRATCH/etc/pol\\ufffd\\x01icy.conf'" \
	"$(json_get "$OUT/explain" 'v["policy"]["sandbox"]["from"].rsplit(":", 1)[0]')"
it_eq "check: the policy path" "'$IT_SCRATCH/etc/pol\\ufffd\\x01icy.conf'" "$(json_get "$OUT/check" 'v["config"]')"
# show prints the record's own escaped text, so its values are ASCII
it_eq "show: the record's tty line" "'pts/\\\\xfe\\\\x7f\\\\x02'" \
	"$(json_get "$OUT/show" '[f[1] for f in v["fields"] if f[0] == "tty"][0]')"
# CPU time: on a cgroup v1 host whose cpuacct is not mounted
# with cpu, cubby has no counter of it: unknown ("-", null), never -1
cpu=$(json_get "$OUT/list" '[s["cpu_ms"] for s in v if s["user"] == "'"$S1"'"][0]')
it_ne "list --json: cpu_ms is not -1" "-1" "$cpu"
it_match "list --json: cpu_ms is a count or null" '^([0-9]+|None)$' "$cpu"
it_match "list --json: memory_bytes is a count" '^[0-9]+$' \
	"$(json_get "$OUT/list" '[s["memory_bytes"] for s in v if s["user"] == "'"$S1"'"][0]')"
it_match "list: the CPU_MS column of $S1's session is a count or -" \
	"^[0-9a-f]{16} +$S1 .* ([0-9]+|-) +[0-9]+\$" "$(grep " $S1 " "$OUT/list.txt")"
it_check_clean "after the session" "$S1"
it_finish
