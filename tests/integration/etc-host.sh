#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The container's generated /etc files outlive the host's account tools.
# useradd, userdel, groupadd, groupdel, usermod and chpasswd write a new
# file and rename it over /etc/passwd, /etc/group or /etc/shadow; the kernel
# then detaches every mount whose mount point was the replaced file, in
# every mount namespace. A sandbox whose /etc/passwd was a bind on the
# host's file fell through to the host's full account list.
#
# For su and sshd: one sandboxed session stays open (its shell answers a
# round of questions for each line the test writes to its stdin) while the
# host adds and changes test-named accounts and groups, and removes them
# again. In every round the sandbox's /etc/passwd and /etc/group are the
# same generated files (system accounts and the user only), /etc is
# read-only, nosuid and nodev, and the paths the policy hides below /etc
# stay hidden.
IT_NEEDS="su sshd ssh mkfifo sha256sum chpasswd"
. "$(dirname "$0")/lib.sh"
it_init "$@"

S1=$IT_S1
H_USER=${IT_P}h1
H_GROUP=${IT_P}hg

# A directory and a file below /etc that the policy hides (present on any
# Debian host with openssh, which this test needs).
HIDE_DIR=/etc/ssh
HIDE_FILE=/etc/shells
if [ ! -d "$HIDE_DIR" ] || [ ! -s "$HIDE_FILE" ]; then
	it_skip "$HIDE_DIR or $HIDE_FILE is missing"
fi
it_policy_write "hide = $HIDE_DIR $HIDE_FILE"

# One round: the key prefix is assembled at run time (as in it_probe).
round='p=@@; while read -r n; do
echo "${p}mnt$n=$(readlink /proc/self/ns/mnt)"
echo "${p}pw$n=$(sha256sum </etc/passwd | cut -c1-16)"
echo "${p}gr$n=$(sha256sum </etc/group | cut -c1-16)"
echo "${p}others$n=$(awk -F: "\$3 >= 1000 && \$3 != 65534 { print \$1 }" /etc/passwd | tr "\n" " ")"
echo "${p}testgroups$n=$(cut -d: -f1 /etc/group | grep "^'"$IT_P"'" | tr "\n" " ")"
echo "${p}me$n=$(grep "^$(id -un):" /etc/passwd | cut -d: -f7)"
echo "${p}etcopts$n=$(findmnt -no OPTIONS -T /etc)"
echo "${p}write$n=$(touch /etc/cubby-probe 2>&1 | grep -c "Read-only file system")"
echo "${p}hidden$n=$(ls -A '"$HIDE_DIR"' | wc -l):$(cat '"$HIDE_FILE"' 2>/dev/null | wc -c)"
echo "${p}hostname$n=$(cat /etc/hostname)/$(hostname)"
echo "${p}done$n=yes"
done'

# wait_round OUT N: until the sandbox answered round N (60 s at most).
wait_round() {
	local i
	for i in $(seq 1 600); do
		grep -q "^@@done$2=yes" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# host_change WHAT CMD...: a change of the host's account files, which
# must work (or the test proves nothing).
host_change() {
	local what=$1; shift
	"$@" >>"$IT_SCRATCH/host-changes.log" 2>&1 || it_fatal "host change failed: $what"
}

[ -n "${IT_SSHD_PID:-}" ] || it_sshd_start
for how in su sshd; do
	in=$IT_SCRATCH/etc-$how.in out=$IT_SCRATCH/etc-$how.out
	mkfifo -m 0600 "$in" || it_fatal "mkfifo $in"
	# read-write, so that opening it never blocks; the session's end is
	# this fd's close (EOF for the sandbox's shell)
	exec 7<>"$in"
	if [ "$how" = su ]; then
		IT_TIMEOUT=300 it_su - "$S1" -c "$round" <"$in" >"$out" 2>&1 7>&- &
	else
		IT_TIMEOUT=300 it_ssh "$S1" "$round" <"$in" >"$out" 2>&1 7>&- &
	fi
	bg=$!

	echo 1 >&7
	wait_round "$out" 1 || { cat "$out"; it_fatal "$how: the sandbox did not answer round 1"; }
	ino1=$(stat -c %i /etc/passwd)
	gino1=$(stat -c %i /etc/group)
	host_change "useradd $H_USER" useradd -M -s /bin/bash "$H_USER"
	host_change "groupadd $H_GROUP" groupadd "$H_GROUP"
	host_change "usermod -c (chfn)" usermod -c "cubby etc-host $how" "$H_USER"
	host_change "chpasswd" chpasswd <<<"$H_USER:cubby-etc-host-$RANDOM"
	# the renames happened: the files at these paths are new inodes
	it_ne "$how: host's /etc/passwd was replaced (new inode)" "$ino1" "$(stat -c %i /etc/passwd)"
	it_ne "$how: host's /etc/group was replaced (new inode)" "$gino1" "$(stat -c %i /etc/group)"
	echo 2 >&7
	wait_round "$out" 2 || { cat "$out"; it_fatal "$how: the sandbox did not answer round 2"; }
	host_change "userdel $H_USER" userdel -f "$H_USER"
	host_change "groupdel $H_GROUP" groupdel "$H_GROUP"
	echo 3 >&7
	wait_round "$out" 3 || { cat "$out"; it_fatal "$how: the sandbox did not answer round 3"; }
	exec 7>&-
	wait "$bg"
	rm -f "$in"

	o=$(cat "$out")
	it_ne "$how: sandboxed (its own mount namespace)" "${IT_OWN_NS[mnt]}" "$(it_get mnt1 "$o")"
	it_eq "$how: /etc/passwd lists no other user than $S1 (round 1)" "$S1" "$(it_get others1 "$o")"
	it_eq "$how: the user's own line names the real shell" /bin/bash "$(it_get me1 "$o")"
	for n in 2 3; do
		when=$([ "$n" = 2 ] && echo "after useradd, groupadd, usermod, chpasswd" || echo "after userdel, groupdel")
		it_eq "$how, $when: the same sandbox" "$(it_get mnt1 "$o")" "$(it_get mnt$n "$o")"
		it_eq "$how, $when: /etc/passwd unchanged" "$(it_get pw1 "$o")" "$(it_get pw$n "$o")"
		it_eq "$how, $when: /etc/group unchanged" "$(it_get gr1 "$o")" "$(it_get gr$n "$o")"
		it_eq "$how, $when: /etc/passwd lists no other user than $S1" "$S1" "$(it_get others$n "$o")"
		it_nomatch "$how, $when: no host test group in /etc/group but the user's own" \
			"$H_GROUP|${IT_P}ad|${IT_P}s2" "$(it_get testgroups$n "$o")"
		it_eq "$how, $when: /etc/hostname is still the container's" "$(it_get hostname1 "$o")" "$(it_get hostname$n "$o")"
	done
	for n in 1 3; do
		it_match "$how, round $n: /etc is read-only, nosuid, nodev" \
			'^ro,nosuid,nodev' "$(it_get etcopts$n "$o")"
		it_eq "$how, round $n: writing into /etc fails read-only" 1 "$(it_get write$n "$o")"
		it_eq "$how, round $n: the hidden $HIDE_DIR is empty, nothing of $HIDE_FILE is readable" "0:0" "$(it_get hidden$n "$o")"
	done
	h=$(it_get hostname1 "$o")
	it_eq "$how: /etc/hostname inside agrees with hostname" "${h#*/}" "${h%/*}"
	it_check_clean "$how: after the session" "$S1"
done
it_finish
