#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Edge cases found while building cubby, each through a real su login:
# Debian's su-l includes su (pam_cubby runs twice on one handle), the
# caller's hard rlimits survive (hosts whose root lacks CAP_SYS_RESOURCE
# cannot raise a lowered one back), a cgroup_parent inside systemd's slice
# tree is refused while its unit's cgroup is missing, and `cubbyctl gc`
# removes session cgroups that no record names.
IT_NEEDS="su prlimit"
. "$(dirname "$0")/lib.sh"
it_init "$@"

S1=$IT_S1
uid=$(it_uid "$S1")
it_ctl() { timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" "$CUBBY_CTL" --config "$IT_CONF" "$@"; }

# --- su-l includes su, both with pam_cubby: one session, nothing left
cat >"$IT_PAMD/su-l.new" <<EOF
# cubby integration test stack ($IT_ID): Debian's su-l shape
auth     include    su
account  include    su
password include    su
session  include    su
session  required   $CUBBY_PAMDIR/pam_cubby.so config=$IT_CONF
EOF
chmod 0644 "$IT_PAMD/su-l.new"
mv "$IT_PAMD/su-l.new" "$IT_PAMD/su-l"
out=$(it_su - "$S1" -c 'echo "@@pid=$$"' </dev/null 2>&1)
it_eq "su-l including su: the shell is PID 1" 1 "$(it_get pid "$out")"
it_check_clean "su-l including su (pam_cubby twice on one handle)" "$S1"
it_pam_stacks

# --- the caller's hard limits reach the shell unchanged
out=$(prlimit --nofile=1024:8192 -- timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
	su "$S1" -c 'echo "@@pid=$$"; echo "@@hard=$(ulimit -Hn)"; echo "@@soft=$(ulimit -Sn)"' </dev/null 2>&1)
it_eq "NOFILE 1024:8192: sandboxed" 1 "$(it_get pid "$out")"
it_eq "NOFILE 1024:8192: the hard limit inside is 8192" 8192 "$(it_get hard "$out")"
it_eq "NOFILE 1024:8192: the soft limit inside is 1024" 1024 "$(it_get soft "$out")"
it_check_clean "after the rlimit login" "$S1"

# --- a parent inside systemd's slice tree whose unit cgroup is missing
it_cg_hier
it_policy_write "[global]" "cgroup_parent = ./$IT_CGNAME/edges.slice/cubby.service"
out=$(it_su - "$S1" -c 'echo "@@pid=$$"' </dev/null 2>&1); rc=$?
it_ne "cgroup_parent in a .slice without its unit: refused" 0 "$rc"
it_nomatch "cgroup_parent in a .slice without its unit: the shell did not run" '@@pid=' "$out"
it_match "cgroup_parent in a .slice without its unit: the user is told why" 'cubby.service is not running' "$out"
made=
for h in "${!IT_CG_MNT[@]}"; do
	[ -e "$(it_cg_dir "$h" edges.slice)" ] && made+="$(it_cg_dir "$h" edges.slice) "
done
it_empty "cgroup_parent in a .slice without its unit: no cgroup made in the slice" "$made"
it_policy_write

# --- gc removes an orphan session cgroup (no record names it), and only
# an old one: a login may write its record after gc listed the records
sid=0123456789abcdef
made=
for h in "${!IT_CG_MNT[@]}"; do
	d=$(it_cg_dir "$h" "u$uid/s$sid")
	mkdir -p "$d" && made+="$d "
done
aged=1
for d in $made; do touch -d '2 hours ago' "$d" 2>/dev/null || aged=0; done
if [ "$aged" = 1 ]; then
	out=$(it_ctl gc 2>&1)
	it_match "gc: reports the orphan session cgroup" "removed orphan session cgroup $sid of uid $uid" "$out"
	left=
	for d in $made; do [ -e "$d" ] && left+="$d "; done
	it_empty "gc: the orphan session cgroup is gone in every hierarchy" "$left"
	it_check_clean "after gc" "$S1"
else
	it_log "cgroupfs here does not take timestamps: orphan sweep not checked"
	for d in $made; do rmdir "$d" "${d%/*}" 2>/dev/null; done
fi
# a young one is left alone
for h in "${!IT_CG_MNT[@]}"; do mkdir -p "$(it_cg_dir "$h" "u$uid/s$sid")"; done
it_ctl gc >/dev/null 2>&1
it_eq "gc: a session cgroup younger than a minute is left alone" yes \
	"$([ -d "$(it_cg_dir pids "u$uid/s$sid")" ] && echo yes || echo no)"
for h in "${!IT_CG_MNT[@]}"; do
	rmdir "$(it_cg_dir "$h" "u$uid/s$sid")" "$(it_cg_dir "$h" "u$uid")" 2>/dev/null
done

# --- a memory user dir that no session has (a last teardown found it busy,
# or an orphan from before sessions joined it, with its old s<sid>): gc
# removes it, and leaves one whose user has sessions (dirs elsewhere)
if [ -n "${IT_CG_MNT[memory]:-}" ] && it_cg_user_level memory; then
	d=$(it_cg_dir memory "u$uid")
	mkdir -p "$d/s$sid"
	out=$(it_ctl gc 2>&1)
	it_match "gc: reports the lone memory user cgroup" "removed the memory cgroup of uid $uid" "$out"
	it_eq "gc: the lone memory user cgroup is gone" gone "$([ -e "$d" ] && echo there || echo gone)"
	mkdir -p "$d" "$(it_cg_dir pids "u$uid")"
	it_ctl gc >/dev/null 2>&1
	it_eq "gc: a memory user cgroup whose user has a dir elsewhere stays" there \
		"$([ -e "$d" ] && echo there || echo gone)"
	rmdir "$(it_cg_dir pids "u$uid")" "$d" 2>/dev/null
else
	it_log "no v1 memory hierarchy of its own here: the lone user dir sweep not checked"
fi

it_finish
