#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vm-fault-sweep (suite fault): stop the helper and pam_cubby at every
# CUBBY_FAULT point (include/cubby/fault.h) of a real `su -` login, then
# check that `cubbyctl gc` leaves the machine as it was and that the next
# login works and is sandboxed.
#
# On the host (no CUBBY_VM_GUEST):
#  1. configures and builds a fault-injection build of this source tree in
#     BUILD/fault-build (-Dfault_injection=true -Dtests=false, its own
#     prefix and run dir; only ever installed inside the VM);
#  2. guard: a setuid copy of that build's helper, run by nobody on this
#     host (whose kernel command line lacks cubby.fault_injection=1), must
#     refuse as a fault build; the copy is removed;
#  3. boots the VM (tests/vm/run.sh --append cubby.fault_injection=1) with
#     this script as the guest command.
#
# In the guest (CUBBY_VM_GUEST=1): installs the fault build (setuid helper:
# in the VM's overlay only; `meson install` must warn), checks the guard
# there too (kernel command line hidden: su refused, helper refuses), makes
# a user with network = nat (`cubbyctl net up` first), a persistent overlay
# home and cgroup limits, and takes a baseline after one login and gc:
# mounts (the anchor's included), links, the nft ruleset, the cgroups below
# the cubby parent, records, run_dir files and leases, processes of the user
# and of cubby, zombies, fds of the long-lived processes. Then for every
# point named in the sources (grep, so a new point is swept without
# editing this file) and mode (kill, abort, exit):
#   spec -> `su - USER -c 'echo in pid=$$'` -> the point is in fault.hit;
#   before the shell's exec nothing printed "in"; whatever did print it
#   was PID 1 of a sandbox -> spec removed -> `cubbyctl gc` -> snapshot
#   equals the baseline -> a next login prints "in pid=1" and exits 0.
# The container = user points run last, in a pass of their own (below).
# A table (point, mode, hit, leak-free, next login) ends the output.
#
# Modes: every point with kill (SIGKILL: no cleanup at all); abort and exit
# for a rotating subset (CUBBY_FAULT_ROTATE points per run, chosen by the
# day of the year, or CUBBY_FAULT_SEED), to keep the CI run short.
# CUBBY_FAULT_ALL=1 sweeps every point in all three modes.
# CUBBY_FAULT_POINTS="a b" restricts the sweep to those points.
#
# --guard-only: steps 1 and 2 only (test vm-fault-guard: no VM needed).
#
# Environment (tests/vm/meson.build): CUBBY_SRC, CUBBY_BUILD.

set -uo pipefail

for v in CUBBY_SRC CUBBY_BUILD; do
	if [ -z "${!v:-}" ]; then
		echo "$v is not set (run through meson test)" >&2
		exit 99
	fi
done

FB=$CUBBY_BUILD/fault-build
FPREFIX=/opt/cubby-fault
FRUNDIR=/run/cubby-fault
FHELPER=$FPREFIX/libexec/cubby-shell
FCTL=$FPREFIX/sbin/cubbyctl
FPAM=$FPREFIX/pam/pam_cubby.so
GUARD_MSG='fault-injection test build'

now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b - a}'; }

#### Host side. ###############################################################
if [ -z "${CUBBY_VM_GUEST:-}" ]; then
	HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: the VM tests need root"; exit 77; }
	t0=$(now)
	# 1. the fault build, next to the tests' own build (one builder at a
	# time: vm-fault-guard and vm-fault-sweep may start together)
	exec 9>"$CUBBY_BUILD/fault-build.lock"
	flock -w 900 9 || { echo "FAIL: timed out waiting for $CUBBY_BUILD/fault-build.lock"; exit 1; }
	if [ ! -f "$FB/build.ninja" ]; then
		meson setup "$FB" "$CUBBY_SRC" -Dfault_injection=true -Dtests=false \
			--prefix="$FPREFIX" -Dpamlibdir="$FPREFIX/pam" -Drundir="$FRUNDIR" \
			>"$CUBBY_BUILD/fault-build-setup.log" 2>&1 ||
			{ cat "$CUBBY_BUILD/fault-build-setup.log"; echo "FAIL: meson setup $FB"; exit 1; }
	fi
	ninja -C "$FB" >"$CUBBY_BUILD/fault-build.log" 2>&1 ||
		{ tail -n 40 "$CUBBY_BUILD/fault-build.log"; echo "FAIL: cannot build $FB"; exit 1; }
	grep -qx '#define CUBBY_FAULT_INJECTION 1' "$FB/cubby-build.h" ||
		{ echo "FAIL: $FB is not a fault-injection build"; exit 1; }
	exec 9>&-
	t1=$(now)
	echo "fault-sweep: fault build ready in $FB in $(dt "$t0" "$t1") s"

	# 2. the guard on this host: a setuid copy run by nobody must refuse
	if grep -qw 'cubby.fault_injection=1' /proc/cmdline; then
		echo "FAIL: this host's kernel command line has cubby.fault_injection=1"
		exit 1
	fi
	gd=$(mktemp -d /var/tmp/cubby-fault-guard.XXXXXX) || exit 99
	trap 'rm -rf "$gd"' EXIT
	chmod 0755 "$gd"
	install -o root -g root -m 4755 "$FB/helper/cubby-shell" "$gd/cubby-shell" || exit 99
	if findmnt -n -o OPTIONS -T "$gd" | grep -qw nosuid; then
		echo "SKIP: $gd is on a nosuid mount: cannot check the guard on the host"
		exit 77
	fi
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$gd/cubby-shell" 2>&1)
	rc=$?
	rm -rf "$gd"
	trap - EXIT
	case $out in
	*"$GUARD_MSG"*) [ $rc -ne 0 ] || { echo "FAIL: the guard printed its refusal but exited 0"; exit 1; } ;;
	*) echo "FAIL: a setuid fault build ran on a host without cubby.fault_injection=1 (exit $rc): $out"; exit 1 ;;
	esac
	echo "ok: host guard: the setuid fault build, run by nobody, refuses (exit $rc): $out"
	if [ "${1:-}" = --guard-only ]; then
		echo "PASS: fault guard on the host"
		exit 0
	fi

	# 3. the sweep in the VM
	cd "$CUBBY_BUILD" || exit 99
	"$HERE/run.sh" --build-dir "$CUBBY_BUILD" --timeout "${CUBBY_VM_TIMEOUT:-900}" \
		--append cubby.fault_injection=1 \
		-e CUBBY_VM_GUEST=1 -e "CUBBY_SRC=$CUBBY_SRC" -e "CUBBY_BUILD=$CUBBY_BUILD" \
		-e "CUBBY_FAULT_ALL=${CUBBY_FAULT_ALL:-}" -e "CUBBY_FAULT_SEED=${CUBBY_FAULT_SEED:-}" \
		-e "CUBBY_FAULT_ROTATE=${CUBBY_FAULT_ROTATE:-}" -e "CUBBY_FAULT_POINTS=${CUBBY_FAULT_POINTS:-}" -e "CUBBY_FAULT_TRACE=${CUBBY_FAULT_TRACE:-}" \
		-- /bin/bash "$HERE/fault-sweep.sh"
	rc=$?
	echo "vm-fault-sweep: exit $rc after $(dt "$t0" "$(now)") s (fault build + guard + boot + sweep)"
	exit $rc
fi

#### Guest side. ##############################################################
CG=/sys/fs/cgroup
U=cbfault
G=cbfaultgrp
POLICY=/etc/cubby-fault/cubby.conf
RUN=/run/cubby-fault-state       # the policy's run_dir (locks, leases, anchor)
STATE=/var/lib/cubby-fault       # the policy's state_dir (overlay homes)
SESSIONS=$FRUNDIR/sessions
SPEC=$FRUNDIR/fault
HIT=$FRUNDIR/fault.hit
W=/srv/cubby-fault
BR=cbfault0

uptime_s() { local u _; read -r u _ </proc/uptime; echo "$u"; }
T0=$(uptime_s)
ok() { echo "ok: [+$(dt "$T0" "$(uptime_s)") s] $*"; }
fail() { echo "FAIL: $*"; exit 1; }

# Points that no login reaches on the success path, with the reason; a
# point not listed here that is never hit fails the sweep.
declare -A UNREACHABLE=()
# `cubbyctl shell` (the helper's --enter) is no login.
UNREACHABLE[helper.enter.ready]="cubbyctl shell only (the helper's --enter), not a login"
# The move of sshd's monitor into the container's network namespace: sshd
# only (the sweep logs in with su); the integration test container-fwd
# refuses a failed move.
UNREACHABLE[pam.net.move]="sshd only (the monitor's move into the container's netns); su here"

# The container = user points (pam_cubby's check and start, the helper's
# --start-container and the init's child steps, the join) are swept last,
# in a second pass with `container = user` added to the user's policy:
# linger = 0 (the default) stops the container when the login ends, and gc
# stops one left without a session, so each login starts one afresh and
# the baseline has none. Its login proves the shell was sandboxed by the
# container's PID 1 being cubby-init.
CT_POINT_RE='^(pam\.ct\.|helper\.start\.|helper\.join\.|child\.join\.|child\.init_cgroup$|child\.exec_init$|lib\.ct\.)'
PASS=login

# Points at or after the shell's exec: the shell may have printed "in"
# before the fault (then it must have been sandboxed: sandboxed()).
after_exec() {
	case $1 in
	helper.exec_seen|helper.started|helper.dropped|helper.supervise|helper.reaped) return 0 ;;
	helper.join.forked|helper.join.dropped) return 0 ;;
	# the user's container is whole once its record is written: pam_cubby
	# verifies it (its init, every namespace) and the login joins it
	helper.start.recorded) return 0 ;;
	pam.close.*|lib.teardown.*|lib.home.unmounted) return 0 ;;
	# between the two unlinks of a lease's release: close_session's
	lib.ipam.dropped) return 0 ;;
	# the stop of the container at the logout (linger = 0)
	lib.ct.*) return 0 ;;
	esac
	return 1
}

# 0. Install the fault build (setuid: in this throwaway overlay only).
t=$(uptime_s)
meson install -C "$FB" --no-rebuild >/tmp/install.log 2>&1 || { cat /tmp/install.log; fail "meson install"; }
grep -qi "WARNING: cubby: .*$GUARD_MSG" /tmp/install.log && grep -qi "$GUARD_MSG" "$FPREFIX/share/cubby/FAULT-INJECTION-TEST-BUILD" ||
	{ cat /tmp/install.log; fail "meson install of a fault build printed no warning or left no FAULT-INJECTION-TEST-BUILD"; }
[ "$(stat -c '%u %a' "$FHELPER")" = "0 4755" ] || fail "$FHELPER is not setuid root"
ok "fault build installed in $(dt "$t" "$(uptime_s)") s; install warned: $(grep -m1 -o "WARNING: cubby: .\{60\}" /tmp/install.log)..."

# 1. User, policy, PAM stacks, network.
groupadd "$G" && useradd -m -s /bin/bash -g "$G" "$U" || fail "useradd"
uid=$(id -u "$U")
gid=$(id -g "$U")
mkdir -p "${POLICY%/*}" "$W" "$STATE"
# the guest's / is an overlayfs, which cannot be an overlay's upper layer
mount -t tmpfs -o mode=0700 cubby-fault-state "$STATE" || fail "tmpfs on $STATE"
chmod 0700 "$STATE"
cat >"$POLICY" <<EOF
[global]
admin_group = sudo
state_dir = $STATE
run_dir = $RUN
cgroup_parent = /cubby
bridge = $BR
subnet = 10.77.0.0/24
dns = 198.51.100.53
[default]
sandbox = no
[group $G]
sandbox = yes
network = nat
home = persistent
cpu = 0.5
memory = 64M
pids = 64
EOF
chmod 0644 "$POLICY"
"$FCTL" --config "$POLICY" explain "$U" >"$W/explain.out" 2>&1 || fail "explain: $(cat "$W/explain.out")"
for svc in su su-l; do
	cat >"/etc/pam.d/$svc" <<EOF
auth     sufficient pam_rootok.so
account  required   pam_permit.so
session  required   pam_unix.so
session  required   $FPAM config=$POLICY
EOF
done
"$FCTL" --config "$POLICY" net up >"$W/netup.out" 2>&1 || fail "cubbyctl net up: $(cat "$W/netup.out")"
ok "user $U ($uid) in $G; network = nat on $BR, home = persistent, cpu/memory/pids limits"

login() {
	if [ "$PASS" = ct ]; then
		timeout 60 su - "$U" -c 'echo in init=$(cat /proc/1/comm)' </dev/null >"$W/$1.out" 2>&1
	else
		timeout 60 su - "$U" -c 'echo in pid=$$' </dev/null >"$W/$1.out" 2>&1
	fi
}
# sandboxed FILE: what the login printed shows a sandbox: its shell was
# PID 1 of a login container, or ran under cubby-init in the user's
sandboxed() {
	if [ "$PASS" = ct ]; then
		grep -qx 'in init=cubby-init' "$1"
	else
		grep -qx 'in pid=1' "$1"
	fi
}

# 2. The guard in the guest: with the kernel command line hidden (another
# procfs file bound over it), su is refused and the helper refuses.
mount --bind /proc/sys/kernel/ostype /proc/cmdline || fail "cannot hide /proc/cmdline"
login guard
rc=$?
out=$(setpriv --reuid="$uid" --regid="$gid" --clear-groups "$FHELPER" 2>&1)
hrc=$?
umount /proc/cmdline || fail "cannot restore /proc/cmdline"
grep -q '^in ' "$W/guard.out" && fail "a fault build let $U in without cubby.fault_injection=1: $(cat "$W/guard.out")"
[ $rc -ne 0 ] && grep -qi "$GUARD_MSG" "$W/guard.out" ||
	fail "su without cubby.fault_injection=1: exit $rc, $(cat "$W/guard.out")"
case $out in *"$GUARD_MSG"*) [ $hrc -ne 0 ] ;; *) false ;; esac ||
	fail "the setuid helper without cubby.fault_injection=1: exit $hrc, $out"
ok "guard: without cubby.fault_injection=1 su is refused ($(grep -m1 -o 'login refused ([^)]*)' "$W/guard.out")) and the helper refuses"

# 3. Only a root-owned, not group/other-writable regular file is a spec:
# with any other, the point must not fire (the login works).
spec_ignored() { # spec_ignored WHAT: the login with the spec in place works
	: >"$HIT"
	login spec
	if grep -q . "$HIT" || ! grep -qx 'in pid=1' "$W/spec.out"; then
		fail "a spec that is $1 was obeyed: hits '$(cat "$HIT")', login: $(cat "$W/spec.out")"
	fi
}
echo "pam.record kill" >"$SPEC"
chmod 0622 "$SPEC"
spec_ignored "group/other-writable"
chmod 0600 "$SPEC"
chown "$U" "$SPEC"
spec_ignored "owned by the user"
mv "$SPEC" "$W/spec.real" && chown root "$W/spec.real" && ln -s "$W/spec.real" "$SPEC"
spec_ignored "a symlink"
rm -f "$SPEC" "$W/spec.real"
"$FCTL" --config "$POLICY" gc >/dev/null 2>&1
ok "spec files that are writable by others, owned by the user, or a symlink are ignored"

# 4. Baseline: one login, gc.
gc() { "$FCTL" --config "$POLICY" gc >"$W/gc.out" 2>&1; }
login first
[ $? -eq 0 ] && grep -qx 'in pid=1' "$W/first.out" || fail "first login: $(cat "$W/first.out")"
gc || fail "gc: $(cat "$W/gc.out")"

# The state a crash could leak, one line per item, sorted. Few processes
# (each exec costs a lot under emulation), and everything read through cat,
# which goes on past a file that vanished (a process that just ended).
snap() {
	local holder
	holder=$(pgrep -x cubby-anchor)
	{
		echo "@@link"
		ip -o link show
		echo "@@nft"
		nft list ruleset
		echo "@@path"
		find "$CG/cubby" -mindepth 1 -type d
		find "$RUN" "$FRUNDIR" "$STATE" -mindepth 1 -maxdepth 3 ! -name fault.hit ! -name gc.stamp
		echo "@@fds"
		ls -l /proc/1/fd/ "/proc/$$/fd/"
		echo "@@mount"
		cat /proc/self/mountinfo
		if [ -n "$holder" ]; then
			echo "@@anchor-mount"
			cat "/proc/$holder/mountinfo"
		fi
		echo "@@lease"
		cat "$RUN"/leases.d/[0-9]*
		echo "@@status"
		cat /proc/[0-9]*/status
	} 2>/dev/null | awk -v u="$uid" -v w="$W" -v self=$$ '
		function proc() {
			if (id == u || n ~ /^(cubby|su$)/ || st == "Z")
				print "proc", n, st, "uid=" id
			else if (pid == self)
				print "proc (the sweep itself)"
			n = st = id = pid = ""
		}
		/^@@/ { sec = substr($0, 3); next }
		sec == "link" { print "link", $2, (/ master / ? "enslaved" : ""); next }
		sec == "nft" {
			gsub(/counter packets [0-9]+ bytes [0-9]+/, "counter")
			printf "nft %05d %s\n", ++nn, $0
			next
		}
		sec == "path" { print "path", $0; next }
		sec == "fds" {
			if (/:$/) dir = $0
			else if (/ -> / && !/pipe:/ && index($0, w) == 0) print "fd", dir, $9, $NF
			next
		}
		sec ~ /mount$/ { print sec, $5, $(NF - 2), $(NF - 1); next }
		sec == "lease" { print "lease", $0; next }
		sec == "status" {
			if ($1 == "Name:") {
				if (n != "") proc()
				n = $2
			} else if ($1 == "State:") st = $2
			else if ($1 == "Pid:") pid = $2
			else if ($1 == "Uid:") id = $2
		}
		END { if (n != "") proc() }' | sort
}
snap >"$W/baseline.snap"
grep -q "$BR" "$W/baseline.snap" || fail "the baseline has no bridge: $(cat "$W/baseline.snap")"
grep -q '^mount / ' "$W/baseline.snap" && grep -q '^proc (the sweep itself)' "$W/baseline.snap" ||
	fail "the snapshot misses mounts or processes: $(cat "$W/baseline.snap")"
ok "baseline: $(grep -c . "$W/baseline.snap") lines ($(cut -d' ' -f1 "$W/baseline.snap" | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}'))"

# snap_settled: the kernel tears network namespaces (and their veths) down
# asynchronously; poll a while before calling a difference a leak.
snap_settled() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		snap >"$W/now.snap"
		tries=$i
		cmp -s "$W/baseline.snap" "$W/now.snap" && return 0
		[ -n "${CUBBY_FAULT_TRACE:-}" ] && diff "$W/baseline.snap" "$W/now.snap"
		sleep 0.2
	done
	return 1
}

# 5. The points, from the sources.
# (no process substitution: the guest has no /dev/fd)
grep -rhoE 'CUBBY_FAULT\("[a-z0-9_.]+"\)' "$CUBBY_SRC/helper" "$CUBBY_SRC/pam_module" "$CUBBY_SRC/lib" \
	"$CUBBY_SRC/cubbyctl" | sed -E 's/.*\("(.*)"\)/\1/' | sort -u >"$W/points"
# the container = user points last (their pass changes the policy)
grep -Ev "$CT_POINT_RE" "$W/points" >"$W/points.sorted"
grep -E "$CT_POINT_RE" "$W/points" >>"$W/points.sorted"
mv "$W/points.sorted" "$W/points"
mapfile -t POINTS <"$W/points"
[ ${#POINTS[@]} -ge 10 ] || fail "only ${#POINTS[@]} fault points found in $CUBBY_SRC"
if [ -n "${CUBBY_FAULT_POINTS:-}" ]; then
	read -ra POINTS <<<"$CUBBY_FAULT_POINTS"
	{ printf '%s\n' "${POINTS[@]}" | grep -Ev "$CT_POINT_RE"
	  printf '%s\n' "${POINTS[@]}" | grep -E "$CT_POINT_RE"; } >"$W/points.chosen"
	mapfile -t POINTS <"$W/points.chosen"
fi
seed=${CUBBY_FAULT_SEED:-$((10#$(date +%j)))}
rotate=${CUBBY_FAULT_ROTATE:-6}
ok "${#POINTS[@]} fault points; modes: kill for all, abort and exit for $([ -n "${CUBBY_FAULT_ALL:-}" ] && echo all || echo "$rotate rotating (seed $seed)")"

declare -a ROWS=()
failures=0
n_runs=0
tsweep=$(uptime_s)
i=0
for point in "${POINTS[@]}"; do
	if [ "$PASS" = login ] && [[ $point =~ $CT_POINT_RE ]]; then
		PASS=ct
		echo "container = user" >>"$POLICY"
		login ctfirst
		[ $? -eq 0 ] && sandboxed "$W/ctfirst.out" || fail "first container = user login: $(cat "$W/ctfirst.out")"
		gc || fail "gc: $(cat "$W/gc.out")"
		snap >"$W/baseline.snap"
		ok "container = user pass: $(grep -c . "$W/baseline.snap") baseline lines"
	fi
	modes=(kill)
	if [ -n "${CUBBY_FAULT_ALL:-}" ] || [ $(((i + seed) % ((${#POINTS[@]} + rotate - 1) / rotate))) -eq 0 ]; then
		modes+=(abort exit)
	fi
	i=$((i + 1))
	for mode in "${modes[@]}"; do
		n_runs=$((n_runs + 1))
		[ -n "${CUBBY_FAULT_TRACE:-}" ] && PS4='+ ${EPOCHREALTIME} ' && set -x
		why=
		: >"$HIT"
		chmod 0600 "$HIT"
		printf '%s %s\n' "$point" "$mode" >"$SPEC"
		chmod 0600 "$SPEC"
		ta=$(uptime_s)
		login fault
		frc=$?
		tb=$(uptime_s)
		rm -f "$SPEC"
		hit=no
		grep -qx "$point" "$HIT" && hit=yes
		if [ $hit = no ] && [ -z "${UNREACHABLE[$point]:-}" ]; then
			why+="never hit; "
		fi
		# a login that got in must have been sandboxed; before exec nothing got in
		if grep -q '^in ' "$W/fault.out"; then
			sandboxed "$W/fault.out" || why+="UNSANDBOXED shell: $(grep '^in ' "$W/fault.out"); "
			# (a point never reached stopped nothing: the login went on)
			[ $hit = no ] || after_exec "$point" ||
				why+="a shell ran although the fault was before exec; "
		fi
		gc || why+="gc failed: $(tr '\n' ' ' <"$W/gc.out"); "
		tc=$(uptime_s)
		leak=yes
		if snap_settled; then
			leak=no
		else
			why+="leak: $(diff "$W/baseline.snap" "$W/now.snap" | grep '^[<>]' | tr '\n' ';' | cut -c1-400); "
		fi
		td=$(uptime_s)
		next=ok
		login next
		nrc=$?
		if [ $nrc -ne 0 ] || ! sandboxed "$W/next.out"; then
			next=FAIL
			why+="next login exit $nrc: $(tr '\n' ' ' <"$W/next.out" | cut -c1-200); "
		fi
		gc
		# judge the next points on their own: what leaked stays (it is
		# reported above) and becomes part of the baseline
		[ $leak = no ] || snap >"$W/baseline.snap"
		te=$(uptime_s)
		row=$(printf '%-28s %-6s %-4s %-9s %-5s su-exit=%-3s [login %s gc %s snap %s next+gc %s s]' \
			"$point" "$mode" "$hit" "$([ $leak = no ] && echo leak-free || echo LEAK)" "$next" "$frc" \
			"$(dt "$ta" "$tb")" "$(dt "$tb" "$tc")" "$(dt "$tc" "$td")/$tries" "$(dt "$td" "$te")")
		if [ -n "$why" ]; then
			failures=$((failures + 1))
			row+="  FAIL: $why"
			echo "---- $point $mode: fault login output:"; cat "$W/fault.out"
			echo "---- gc:"; cat "$W/gc.out"
		fi
		set +x
		ROWS+=("$row")
		echo "$row"
	done
done
tend=$(uptime_s)

echo
echo "==== fault sweep: point, mode, hit, leak-free, next login ===="
printf '%s\n' "${ROWS[@]}"
echo "figure: $n_runs fault logins over ${#POINTS[@]} points in $(dt "$tsweep" "$tend") s guest time ($(awk -v a="$tsweep" -v b="$tend" -v n="$n_runs" 'BEGIN{printf "%.2f", (b - a) / n}') s each)"
[ $failures -eq 0 ] || fail "$failures of $n_runs fault runs failed"
echo "PASS: fault sweep ($n_runs runs, guest time $(dt "$T0" "$(uptime_s)") s)"
exit 0
