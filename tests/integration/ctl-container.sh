#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cubbyctl and per-user containers (container = user), against a stand-in
# container: a process of the test, running as a test user in a user (the
# user mapped to itself), pid, mount and net namespace of its own, in cgroups the test makes below its
# own (<parent>/u<uid>/ct/init, a second process in ct/s<id>), and a
# container record written by ct-record through lib/container.c (ct_write:
# root's, 0600, in the test's run_dir).
# list and show USER show it (text and --json: user, init, address,
# processes, state); a record whose init is gone or whose namespaces differ
# is shown stale and `shell` refuses it with exit 1, as it refuses a user
# without a container; a record that is not root's is not trusted; `shell`
# of a running container logs event=container_shell with the admin's login
# uid before it hands over to the helper.
# Then for real, container = user through sshd: two logins of a user; list
# and show give the container with both sessions and its processes;
# `shell USER CMD` runs in the logins' pid and network namespaces as the
# user, CapEff 0, NoNewPrivs 1, with the command's exit status, and is
# logged; without a command at a terminal it is the user's login shell; refused for a user without a container; after `cubbyctl stop`
# the container is gone from list and shell refuses.
IT_NEEDS="/usr/sbin/sshd ssh pgrep python3 setpriv"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-extra.sh"
it_init "$@"

[ -x "${CUBBY_CTRECORD:-}" ] || it_fatal "CUBBY_CTRECORD is not set or not executable"
S1=$IT_S1
S2=$IT_S2
UID1=$(it_uid "$S1")
GID1=$(it_gid "$S1")
ADDR=10.213.0.77
SID=0123456789abcdef
it_ctl() { timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" "$CUBBY_CTL" --config "$IT_CONF" "$@"; }
# json_get JSON EXPR: a python expression on the parsed value v
json_get() {
	python3 -c 'import json, sys; v = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}

# mk_cg DIR: mkdir DIR and the levels above it that are missing; in a v1
# cpuset hierarchy each new level gets its parent's cpus and mems (an empty
# cpuset takes no process)
mk_cg() {
	local d=$1 p f
	[ -d "$d" ] && return 0
	p=$(dirname "$d")
	mk_cg "$p" || return 1
	mkdir "$d" || return 1
	for f in cpuset.cpus cpuset.mems; do
		[ -e "$d/$f" ] && [ -z "$(cat "$d/$f")" ] && cat "$p/$f" >"$d/$f"
	done
	return 0
}

# --- the stand-in
CTDIRS=$("$CUBBY_CTRECORD" paths "./$IT_CGNAME" "$UID1") || it_fatal "ct-record paths failed"
# the container's dirs (<user>/ct); where the container is charged to the
# user dir itself (a v1 memory hierarchy), <user>
for d in $CTDIRS; do
	case $d in
	*/"$IT_CGNAME"/u"$UID1"/ct) mk_cg "$d/init" && mk_cg "$d/s$SID" || it_fatal "cannot make $d/{init,s$SID}" ;;
	*/"$IT_CGNAME"/u"$UID1") mk_cg "$d" || it_fatal "cannot make $d" ;;
	*) it_fatal "unexpected cgroup dir $d" ;;
	esac
done
# the user mapped to itself, as in a real container ("U U 1")
setpriv --reuid="$UID1" --regid="$GID1" --clear-groups \
	unshare --user --map-user="$UID1" --map-group="$GID1" --pid --mount --net --fork --kill-child \
	sleep 600 &
outer=$!
init=
for i in $(seq 1 50); do
	init=$(pgrep -P "$outer" -x sleep | head -n1)
	[ -n "$init" ] && [ "$(readlink /proc/"$init"/ns/pid)" != "${IT_OWN_NS[pid]}" ] && break
	init=
	sleep 0.1
done
[ -n "$init" ] || it_fatal "the stand-in's init did not start"
sleep 600 &
other=$!
for d in $CTDIRS; do
	i=$d/init s=$d/s$SID
	[[ $d == */ct ]] || i=$d s=$d
	echo "$init" >"$i/cgroup.procs" || it_fatal "cannot move the init into $i"
	echo "$other" >"$s/cgroup.procs" || it_fatal "cannot move a process into $s"
done
"$CUBBY_CTRECORD" write "$IT_RUNDIR" "./$IT_CGNAME" "$UID1" "$GID1" "$S1" "$init" "$ADDR" \
	"/home/$S1" /bin/bash || it_fatal "ct-record write failed"
REC=$IT_RUNDIR/containers/u$UID1
it_eq "the record: root's, 0600" "600 root" "$(stat -c '%a %U' "$REC")"

# --- list
out=$(it_ctl list); rc=$?
it_eq "list: exit 0" 0 "$rc"
it_match "list: the containers table's header" \
	'CONTAINER +USER +UID +INIT +STARTED +AGE +STATE +ADDRESS +SESSIONS +PROCS +CPU_MS +MEMORY' "$out"
it_match "list: $S1's container, running, its init, address and 2 processes" \
	"^u$UID1 +$S1 +$UID1 +$init +[0-9T:-]+ +[0-9]+s +running +$ADDR +0 +2 +" "$out"
it_eq "list: no session line counts it as a live session (\$2, \$9)" 0 \
	"$(printf '%s\n' "$out" | awk -v u="$S1" '$2 == u && $9 == "live"' | wc -l)"
json=$(it_ctl --json list)
it_eq "list --json: one container row of $S1" \
	"1 u$UID1 $UID1 running True $init $ADDR 2 []" \
	"$(json_get "$json" '" ".join(str(x) for x in [len([r for r in v if r["kind"] == "container"])] + [[r["container"], r["uid"], r["state"], r["alive"], r["init_pid"], r["address"], r["processes"], r["sessions"]] for r in v if r["kind"] == "container" and r["user"] == "'"$S1"'"][0])')"
it_match "list --json: its memory is a count, its cpu a count or null" '^[0-9]+ ([0-9]+|None)$' \
	"$(json_get "$json" '" ".join(str(r[k]) for r in v if r["kind"] == "container" for k in ("memory_bytes", "cpu_ms"))')"

# --- show USER
out=$(it_ctl show "$S1"); rc=$?
it_eq "show $S1: exit 0" 0 "$rc"
it_match "show $S1: the container" "^container=u$UID1$" "$out"
it_match "show $S1: running" "^state=running$" "$out"
it_match "show $S1: the init" "^init_pid=$init$" "$out"
it_match "show $S1: the processes" "^processes=2$" "$out"
it_match "show $S1: the container's cgroup" "^cgroup=.*/$IT_CGNAME/u$UID1/ct$" "$out"
json=$(it_ctl --json show "$S1")
it_eq "show --json $S1: the container and no session" "u$UID1 /home/$S1 0" \
	"$(json_get "$json" '" ".join([v["container"]["container"], v["container"]["home"], str(len(v["sessions"]))])')"
it_ctl show "${IT_P}nobody" >/dev/null 2>&1
it_eq "show of an unknown user: exit 1" 1 "$?"

# --- shell: a user without a container is refused, and nothing is logged
it_syslog_mark
out=$(it_ctl shell "$S2" id 2>&1); rc=$?
it_eq "shell $S2 (no container): exit 1" 1 "$rc"
it_match "shell $S2: says why" "$S2 has no running container" "$out"
it_nomatch "shell $S2: ran nothing" "uid=" "$out"

# --- shell of the running stand-in: logged before the helper is run
# (what the helper then does is the helper's: tested with real containers)
it_ctl shell "$S1" -- id >"$IT_SCRATCH/shell.out" 2>&1 </dev/null
sleep 0.3
log=$(it_syslog_since)
it_match "shell $S1: event=container_shell with the admin's login uid, the user and the command" \
	"event=container_shell loginuid=[0-9?]+ uid=$UID1 user=$S1 init_pid=$init command=id" "$log"
it_nomatch "shell $S2: not logged" "event=container_shell .*user=$S2" "$log"

# --- namespaces that differ: stale, refused
cp -p "$REC" "$IT_SCRATCH/record.good"
sed 's/^\(ns=[0-9]*:[0-9]*:\)[0-9]*/\11/' "$IT_SCRATCH/record.good" >"$REC.new"
chmod 0600 "$REC.new" && mv "$REC.new" "$REC"
json=$(it_ctl --json list)
it_eq "list --json: a record whose namespaces differ is stale" "stale False namespaces differ" \
	"$(json_get "$json" '" ".join(str(x) for r in v if r["kind"] == "container" for x in (r["state"], r["alive"], r["reason"]))')"
out=$(it_ctl shell "$S1" id 2>&1); rc=$?
it_eq "shell $S1 (namespaces differ): exit 1" 1 "$rc"
it_match "shell $S1 (namespaces differ): says why" "no running container: .*namespaces differ" "$out"

# --- a record that is not root's is not read
cp -p "$IT_SCRATCH/record.good" "$REC"
chown "$S1" "$REC"
out=$(it_ctl list 2>&1)
it_match "list: a record not root's is unreadable" "unreadable container record .*/containers/u$UID1" "$out"
it_nomatch "list: and not shown" "^u$UID1 " "$out"
it_ctl shell "$S1" id >/dev/null 2>&1
it_eq "shell $S1 (record not root's): exit 1" 1 "$?"
chown root "$REC"

# --- the init gone: stale, refused
kill -KILL "$init"
for i in $(seq 1 50); do [ -e "/proc/$init" ] || break; sleep 0.1; done
out=$(it_ctl list)
it_match "list: the container is stale once its init is gone" "^u$UID1 +$S1 .* stale +$ADDR +0 " "$out"
json=$(it_ctl --json show "$S1")
it_eq "show --json: stale, init gone" "stale init gone" \
	"$(json_get "$json" '" ".join([v["container"]["state"], v["container"]["reason"]])')"
it_syslog_mark
out=$(it_ctl shell "$S1" id 2>&1); rc=$?
it_eq "shell $S1 [init gone]: exit 1" 1 "$rc"
it_match "shell $S1 [init gone]: says why" "$S1 has no running container: its record is stale \(its init is gone\)" "$out"
it_nomatch "shell $S1 [init gone]: not logged as an entry" "event=container_shell" "$(it_syslog_since)"

# --- cleanup of what the test made
kill -KILL "$other" "$outer" 2>/dev/null
wait "$other" "$outer" 2>/dev/null
rm -f "$REC"
for d in $CTDIRS; do
	[[ $d == */ct ]] && rmdir "$d/init" "$d/s$SID" "$d" "$(dirname "$d")" 2>/dev/null
done
for d in $CTDIRS; do
	[[ $d == */ct ]] || rmdir "$d" 2>/dev/null
done
it_check_clean "after the stand-in" "$S1"

# --- for real: container = user, logins through sshd
it_policy_write "container = user"
it_sshd_start
trap 'rc=$?; hx_ct_kill "$S2" >/dev/null 2>&1; (exit $rc); it_cleanup inner' EXIT
UID2=$(it_uid "$S2")
# live_sessions USER: the ids of USER's live sessions in `cubbyctl list`
live_sessions() { it_ctl list 2>/dev/null | awk -v u="$1" '$2 == u && $9 == "live" { print $1 }' | sort; }

it_ssh -n "$S2" 'echo "@@A $(readlink /proc/self/ns/pid) $(readlink /proc/self/ns/net)"; exec sleep 60' \
	>"$IT_SCRATCH/a.out" 2>&1 &
bg_a=$!
for i in $(seq 1 100); do grep -q '^@@A' "$IT_SCRATCH/a.out" 2>/dev/null && break; sleep 0.1; done
read -r _ a_pidns a_netns < <(grep '^@@A' "$IT_SCRATCH/a.out")
it_ne "ssh $S2: logged in" "" "$a_pidns"
it_ne "ssh $S2: in a pid namespace of its own" "${IT_OWN_NS[pid]}" "$a_pidns"
it_ssh -n "$S2" 'echo "@@B"; exec sleep 61' >"$IT_SCRATCH/b.out" 2>&1 &
bg_b=$!
for i in $(seq 1 100); do [ "$(live_sessions "$S2" | wc -l)" -eq 2 ] && break; sleep 0.1; done
ids=$(live_sessions "$S2" | tr '\n' ' ')
it_match "list: two live sessions of $S2" '^[0-9a-f]{16} [0-9a-f]{16} $' "$ids"
init=$(sed -n 's/^init_pid=//p' "$IT_RUNDIR/containers/u$UID2")
it_eq "$S2's container: its init is cubby-init" cubby-init "$(cat "/proc/$init/comm" 2>/dev/null)"

out=$(it_ctl list)
it_match "list: $S2's container, running, with its 2 sessions" \
	"^u$UID2 +$S2 +$UID2 +$init +[0-9T:-]+ +[0-9]+[smhd][0-9]*[smh]? +running +[0-9.-]+ +2 +[0-9]+ " "$out"
json=$(it_ctl --json list)
it_eq "list --json: the container's sessions are the user's two sessions" "$ids" \
	"$(json_get "$json" '"".join(s + " " for s in sorted([r for r in v if r["kind"] == "container" and r["user"] == "'"$S2"'"][0]["sessions"]))')"
it_eq "list --json: both sessions name the container" "u$UID2 u$UID2" \
	"$(json_get "$json" '" ".join(r["container"] for r in v if r["kind"] == "session" and r["user"] == "'"$S2"'")')"
procs=$(json_get "$json" '[r["processes"] for r in v if r["kind"] == "container" and r["user"] == "'"$S2"'"][0]')
it_match "list --json: its processes (init, two sleeps, at least) counted" '^([3-9]|[1-9][0-9]+)$' "$procs"
it_match "list --json: its memory is a count" '^[0-9]+$' \
	"$(json_get "$json" '[r["memory_bytes"] for r in v if r["kind"] == "container" and r["user"] == "'"$S2"'"][0]')"
# a cgroup v2 hierarchy (hybrid or pure) counts the container's CPU time
if [ -n "$(findmnt -rn -t cgroup2 -o TARGET | head -n1)" ]; then
	it_match "list --json: its CPU time is a count (cgroup v2 mounted)" '^[0-9]+$' \
		"$(json_get "$json" '[r["cpu_ms"] for r in v if r["kind"] == "container" and r["user"] == "'"$S2"'"][0]')"
fi
out=$(it_ctl show "$S2")
it_match "show $S2: running" "^state=running$" "$out"
it_match "show $S2: its two sessions" "^sessions=[0-9a-f]{16},[0-9a-f]{16}$" "$out"
it_eq "show $S2: the sessions table lists both" 2 \
	"$(printf '%s\n' "$out" | awk -v u="$S2" '$2 == u && $9 == "live"' | wc -l)"

# shell: in the container, as the user, no capabilities, no_new_privs
it_syslog_mark
out=$(it_ctl shell "$S2" 'echo "@@E $(readlink /proc/self/ns/pid) $(readlink /proc/self/ns/net) $(id -u) $(awk "/^CapEff/ { print \$2 }" /proc/self/status) $(awk "/^NoNewPrivs/ { print \$2 }" /proc/self/status) $(ps -eo comm= | grep -c "^sleep$")"' </dev/null 2>&1); rc=$?
it_eq "shell $S2 CMD: exit 0" 0 "$rc"
read -r _ e_pidns e_netns e_uid e_capeff e_nnp e_sleeps < <(grep '^@@E' <<<"$out")
it_eq "shell $S2: the login's pid namespace" "$a_pidns" "$e_pidns"
it_eq "shell $S2: the login's network namespace" "$a_netns" "$e_netns"
it_eq "shell $S2: as the user" "$UID2" "$e_uid"
it_eq "shell $S2: CapEff 0" 0000000000000000 "$e_capeff"
it_eq "shell $S2: NoNewPrivs 1" 1 "$e_nnp"
it_eq "shell $S2: sees the two logins' sleeps" 2 "$e_sleeps"
out=$(it_ctl shell "$S2" id </dev/null 2>&1)
it_match "shell $S2 id: the user's id" "^uid=$UID2\($S2\)" "$out"
it_ctl shell "$S2" -- 'exit 7' </dev/null >/dev/null 2>&1
it_eq "shell $S2 -- 'exit 7': the command's status" 7 "$?"
log=$(it_syslog_since)
it_match "shell $S2: logged as container_shell with the admin's login uid" \
	"event=container_shell loginuid=[0-9?]+ uid=$UID2 user=$S2 init_pid=$init command=id" "$log"

# no command, at a terminal: the user's login shell, interactive, in the
# container (the marker is split in what is typed: the echo of the input
# does not match)
cat >"$IT_SCRATCH/steps" <<'STEPS'
send p=@@; echo "${p}I=$(id -u) $0 $(readlink /proc/self/ns/pid)"\n
expect 15 @@I=[0-9]+ \S+ pid
send exit 3\n
STEPS
out=$(timeout -k 5 60 python3 "$IT_LIBDIR/ptydrive.py" "$IT_SCRATCH/steps" -- \
	nsenter --net="$IT_NETNS_PATH" "$CUBBY_CTL" --config "$IT_CONF" shell "$S2" 2>&1)
it_eq "shell $S2 at a terminal: the user's login shell, in the logins' pid namespace" \
	"$UID2 -bash $a_pidns" "$(it_get I "$out")"
it_eq "shell $S2 at a terminal: its exit status" 3 "$(it_get drive_status "$out")"

# refused for a user without a running container
out=$(it_ctl shell "$S1" id </dev/null 2>&1); rc=$?
it_eq "shell $S1 (no container): exit 1" 1 "$rc"
it_match "shell $S1: says why" "$S1 has no running container" "$out"

# cubbyctl stop ends it, its logins with it; list no longer shows it
it_ctl stop "$S2" >/dev/null 2>&1
it_eq "stop $S2: exit 0" 0 "$?"
for i in $(seq 1 100); do
	kill -0 "$bg_a" 2>/dev/null || kill -0 "$bg_b" 2>/dev/null || break
	sleep 0.1
done
kill "$bg_a" "$bg_b" 2>/dev/null
wait "$bg_a" "$bg_b" 2>/dev/null
out=$(it_ctl list)
it_nomatch "list after stop: no container of $S2" "^u$UID2 " "$out"
it_ctl shell "$S2" id </dev/null >/dev/null 2>&1
it_eq "shell $S2 after stop: exit 1" 1 "$?"
hx_ct_kill "$S2"
it_check_clean "after $S2's container" "$S2"
it_finish
