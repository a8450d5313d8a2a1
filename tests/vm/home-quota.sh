#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vm-home-quota (suite cgroup2): home_size and home_inodes on real `su -`
# logins, in a throwaway QEMU guest (tests/vm/run.sh) whose Debian kernel
# has project quotas (the build machines' kernel lacks CONFIG_QFMT_V2, so
# ext4 with prjquota does not mount there).
#
# On the host (no CUBBY_VM_GUEST): checks it can run, boots the VM with this
# script as the guest command, returns its exit code (77 = skipped).
#
# In the guest (a throwaway world of its own: the state file systems must be
# mounts of PID 1's namespace, which cubby's anchor namespace copies, as
# on a real host), the build installed there
# (setuid only in the guest's overlay), state_dir on a loop-mounted ext4
# (mkfs.ext4 -O project,quota, mounted prjquota), and on XFS (prjquota)
# when mkfs.xfs is installed:
#  (a) a student's writes through the overlay (made with the mounter's
#      credentials, the user's fsuid without CAP_SYS_RESOURCE) stop at
#      home_size (EDQUOT on ext4, ENOSPC on XFS), and are counted in the
#      user's project;
#      root writing into the same project dir directly passes the limit on
#      ext4 (CAP_SYS_RESOURCE): the reason the overlay is not mounted as root;
#  (b) root's writes to the state file system and another student's writes
#      and login keep working; cubbyctl list shows a live session's disk;
#  (c) file creation stops at home_inodes;
#  (d) over both limits, the student still logs in (fresh mount of the
#      home), sees the usage message, deletes a file and writes again;
#  (e) a changed home_size is the limit at the next login;
#  (f) cubbyctl check explains a state_dir without project quotas (ext4
#      without the features, ext4 mounted without prjquota, tmpfs) and
#      sandboxed logins with a limit are refused there with a clear message;
#  (g) an ephemeral home's tmpfs gets size= and nr_inodes=;
#  and after `cubbyctl home reset` the old files no longer count;
#  figures: what the mount of a home takes in the project, the first
#  login's quota setup (tagging a home of 2000 files), the test's time.
#
# Environment (from tests/vm/meson.build): CUBBY_BUILD, CUBBY_PREFIX,
# CUBBY_PAMDIR, CUBBY_CTL.

set -uo pipefail

for v in CUBBY_BUILD CUBBY_PREFIX CUBBY_PAMDIR CUBBY_CTL; do
	if [ -z "${!v:-}" ]; then
		echo "$v is not set (run through meson test)" >&2
		exit 99
	fi
done
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

#### Host side: boot the VM with this script. ################################
if [ -z "${CUBBY_VM_GUEST:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: the VM tests need root"; exit 77; }
	for f in "$CUBBY_BUILD/helper/cubby-shell" "$CUBBY_BUILD/pam_module/pam_cubby.so" \
		"$CUBBY_BUILD/cubbyctl/cubbyctl"; do
		[ -e "$f" ] || { echo "SKIP: $f is not built"; exit 77; }
	done
	command -v mkfs.ext4 >/dev/null || { echo "SKIP: no mkfs.ext4 (e2fsprogs)"; exit 77; }
	cd "$CUBBY_BUILD" || exit 99
	t0=$(date +%s.%N)
	"$HERE/run.sh" --build-dir "$CUBBY_BUILD" --timeout "${CUBBY_VM_TIMEOUT:-420}" \
		-e CUBBY_VM_GUEST=1 -e "CUBBY_BUILD=$CUBBY_BUILD" -e "CUBBY_PREFIX=$CUBBY_PREFIX" \
		-e "CUBBY_PAMDIR=$CUBBY_PAMDIR" -e "CUBBY_CTL=$CUBBY_CTL" \
		-- /bin/bash "$HERE/home-quota.sh"
	rc=$?
	echo "vm-home-quota: exit $rc after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}') s (kit + boot + test)"
	exit $rc
fi

#### Guest side. #############################################################
G=qstud
POLICY=/etc/cubby-qtest/cubby.conf
W=/srv/cubby-qtest
IMG=/var/tmp/cubby-qtest
MB=$((1024 * 1024))

uptime_s() { local u _; read -r u _ </proc/uptime; echo "$u"; }
T0=$(uptime_s)
since() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN{printf "%.2f", b - a}'; }
ok() { echo "ok: [+$(since "$T0") s] $*"; }
fig() { echo "figure: $*"; }
fail() {
	echo "FAIL: $*"
	echo "---- diagnostics ----"
	for f in "$W"/*.out; do [ -e "$f" ] && { echo "== $f"; cat "$f"; }; done
	mount | grep -E 'cubby|qtest' | head -20
	echo "== syslog (tail)"; tail -n 20 "$W/syslog" 2>/dev/null
	echo "== dmesg (tail)"; dmesg 2>/dev/null | tail -n 15
	echo "----"
	exit 1
}

mkdir -p "$W"
# 0. Kernel parts and the build. / shared, as systemd makes it: the anchor
# namespace (a slave copy of PID 1's) then sees state file systems mounted
# after it started.
mount --make-rshared / || fail "mount --make-rshared /"
for m in loop ext4 quota_v2 xfs; do modprobe "$m" 2>/dev/null; done
grep -qw ext4 /proc/filesystems || fail "no ext4 in the guest kernel"
meson install -C "$CUBBY_BUILD" --no-rebuild --quiet >/tmp/install.log 2>&1 ||
	{ cat /tmp/install.log; fail "meson install"; }
ok "guest: kernel $(uname -r), build installed into $CUBBY_PREFIX"

# cubby's log lines, for the diagnostics
if command -v busybox >/dev/null; then
	busybox syslogd -n -O "$W/syslog" &
	syslogd_pid=$!
	trap 'kill $syslogd_pid 2>/dev/null' EXIT
fi
groupadd "$G" || fail "groupadd"
for u in qa qb qc qd; do
	# (useradd's lock file on the guest's 9p-backed /etc fails now and then)
	for _ in 1 2 3; do useradd -m -s /bin/bash -g "$G" "$u" && break; sleep 0.5; done
	id "$u" >/dev/null 2>&1 || fail "useradd $u"
done
mkdir -p "${POLICY%/*}" "$IMG"
for svc in su su-l; do
	cat >"/etc/pam.d/$svc" <<EOF
auth     sufficient pam_rootok.so
account  required   pam_permit.so
session  required   pam_unix.so
session  required   $CUBBY_PAMDIR/pam_cubby.so config=$POLICY
EOF
done

# policy STATE_DIR [EXTRA SECTION LINES...]: qa and qb get 4M and 64 files
# (qb later has its own), qc an ephemeral home, qd none.
policy() {
	local state=$1
	shift
	{
		echo "[global]"
		echo "admin_group = sudo"
		echo "state_dir = $state"
		echo "run_dir = /run/cubby-qtest"
		echo "cgroup_parent = /cubby-qtest"
		echo "[default]"
		echo "sandbox = no"
		echo "[group $G]"
		echo "sandbox = yes"
		echo "home_size = 4M"
		echo "home_inodes = 64"
		echo "[user qc]"
		echo "home = ephemeral"
		echo "home_size = 2M"
		echo "home_inodes = 40"
		echo "[user qd]"
		echo "home_size = max"
		echo "home_inodes = max"
		printf '%s\n' "$@"
	} >"$POLICY"
	chmod 0644 "$POLICY"
}

# login NAME USER CMD: su - into the sandbox; output in $W/NAME.out.
login() { su - "$2" -c "$3" </dev/null >"$W/$1.out" 2>&1; }
out() { cat "$W/$1.out"; }
ctl() { "$CUBBY_CTL" --config "$POLICY" "$@"; }
# jq-less JSON: python3 is on the host image the guest runs
jget() { python3 -c 'import json,sys; v=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
disk() { ctl --json home show "$1" | jget "$2"; }

# mkstate FS DIR: a 64M (ext4) or 320M (XFS: its minimum) sparse image at DIR
mkstate() {
	local fs=$1 dir=$2 img=$IMG/$1.img
	mkdir -p -m 0700 "$dir"
	case $fs in
	ext4)
		truncate -s 64M "$img" && mkfs.ext4 -q -F -O project,quota -I 256 -b 4096 "$img" &&
			mount -o loop,prjquota "$img" "$dir" ;;
	xfs)
		truncate -s 320M "$img" && mkfs.xfs -q -f "$img" && mount -o loop,prjquota "$img" "$dir" ;;
	esac || fail "cannot make the $fs state file system at $dir"
	chmod 0700 "$dir"
}

# the quota scenario on one file system
scenario() {
	local fs=$1 S=/var/lib/cubby-q-$1 t n line before after
	mkstate "$fs" "$S"
	policy "$S"
	# a project over its limit: ext4 says EDQUOT, XFS ENOSPC (a project
	# quota looks like a full directory tree there)
	case $fs in ext4) qerr='Disk quota exceeded' ;; xfs) qerr='No space left on device' ;; esac
	uid_a=$(id -u qa)

	# (a) writes through the overlay stop at home_size
	login a1 qa 'dd if=/dev/zero of=big bs=64K count=160 2>&1; echo dd-rc=$?; stat -c size=%s big'
	line=$(grep -o 'size=[0-9]*' "$W/a1.out")
	n=${line#size=}
	grep -q "$qerr" "$W/a1.out" || fail "$fs: dd past home_size did not fail with '$qerr': $(out a1)"
	grep -qx 'dd-rc=1' "$W/a1.out" || fail "$fs: dd rc: $(out a1)"
	[ -n "$n" ] && [ "$n" -le $((4 * MB)) ] && [ "$n" -ge $((3 * MB)) ] ||
		fail "$fs: the file is $n bytes with home_size = 4M"
	used=$(disk qa 'v["disk"]["bytes"]')
	lim=$(disk qa 'v["disk"]["bytes_limit"]')
	proj=$(disk qa 'v["disk"]["project"]')
	[ "$lim" = $((4 * MB)) ] && [ "$proj" = "$uid_a" ] || fail "$fs: home show: limit $lim project $proj"
	[ "$used" -ge "$n" ] || fail "$fs: project $proj counts $used bytes, the file alone is $n"
	fig "$fs: qa's dd stopped at $n bytes (home_size 4M): $(grep -m1 -o 'dd: .*' "$W/a1.out"); project $proj counts $used bytes"
	ok "$fs (a): writes through the overlay stop at home_size and are counted in project $proj"
	if [ "$fs" = ext4 ]; then
		# root (CAP_SYS_RESOURCE) writing straight into the user's
		# project is not stopped by ext4: why the overlay is mounted
		# with the user's credentials and without that capability
		dd if=/dev/zero of="$S/users/qa/upper/root.fill" bs=64K count=16 2>/dev/null ||
			fail "ext4: root's write into the project dir failed"
		over=$(disk qa 'v["disk"]["bytes"]')
		[ "$over" -gt $((4 * MB)) ] || fail "ext4: root's write did not pass the limit ($over)"
		rm -f "$S/users/qa/upper/root.fill"
		fig "ext4: root (CAP_SYS_RESOURCE) writing 1M into qa's upper dir directly: project at $over bytes, past the 4M limit"
	fi

	# (b) root's writes and another student
	dd if=/dev/zero of="$S/root.fill" bs=1M count=8 2>"$W/root.out" || fail "$fs: root's 8M write failed: $(cat "$W/root.out")"
	rm -f "$S/root.fill"
	login b1 qb 'dd if=/dev/zero of=mine bs=64K count=32 2>&1; echo dd-rc=$?' ||
		fail "$fs: qb's login failed: $(out b1)"
	grep -qx 'dd-rc=0' "$W/b1.out" || fail "$fs: qb's 2M write failed: $(out b1)"
	ok "$fs (b): root wrote 8M to the state file system, qb logged in and wrote 2M while qa is full"
	# list: the DISK column of a live session is the project's usage
	su - qb -c 'echo up; sleep 5' </dev/null >"$W/b2.out" 2>&1 &
	lpid=$!
	for _ in $(seq 50); do grep -q up "$W/b2.out" && break; sleep 0.1; done
	ldisk=$(ctl --json list | jget '[r["disk_bytes"] for r in v if r["user"] == "qb"][0]')
	ctl list >"$W/list-$fs.out" 2>&1
	wait $lpid
	[ "$ldisk" = "$(disk qb 'v["disk"]["bytes"]')" ] && [ "$ldisk" -ge $((2 * MB)) ] ||
		fail "$fs: list's disk_bytes for qb: $ldisk"
	grep -q DISK "$W/list-$fs.out" || fail "$fs: no DISK column: $(cat "$W/list-$fs.out")"
	ok "$fs: cubbyctl list shows qb's live session with disk_bytes $ldisk"

	# (c) inodes: qa frees its space, then makes files until refused
	before=$(disk qa 'v["disk"]["inodes"]')
	login c1 qa 'rm -f big; i=0; while [ $i -lt 200 ] && : >f$i 2>err; do i=$((i+1)); done; echo made=$i; cat err'
	n=$(sed -n 's/^made=//p' "$W/c1.out")
	grep -q "$qerr" "$W/c1.out" || fail "$fs: file creation did not stop with '$qerr': $(out c1)"
	inodes=$(disk qa 'v["disk"]["inodes"]')
	[ "$inodes" -ge 64 ] && [ "$inodes" -le $((64 + 2)) ] || fail "$fs: project inodes $inodes with home_inodes = 64"
	fig "$fs: qa made $n files before "$qerr"; project inodes $before -> $inodes (limit 64)"
	ok "$fs (c): file creation stops at home_inodes"

	# (d) over both limits (fill the blocks as root into the project:
	# ext4 lets root pass; XFS does not, so the inode limit alone there)
	if [ "$fs" = ext4 ]; then
		dd if=/dev/zero of="$S/users/qa/upper/f0" bs=1M count=5 2>/dev/null
	fi
	before=$(disk qa 'v["disk"]["inodes"]')
	bbefore=$(disk qa 'v["disk"]["bytes"]')
	t=$(uptime_s)
	# (XFS frees a deleted file's inode in the background, deferred
	# inactivation: the project counts it for a moment longer; retry)
	login d1 qa 'echo in; touch new 2>&1; rm f0 f1 f2 && echo rm-ok
for i in 1 2 3 4 5 6 7 8 9 10; do echo more 2>/dev/null >new && echo write-ok && break; sleep 0.3; done; echo tries=$i; ls new'
	rc=$?
	dt=$(since "$t")
	[ $rc -eq 0 ] && grep -qx in "$W/d1.out" || fail "$fs: the over-quota login failed ($rc): $(out d1)"
	grep -q 'cubby: your home uses .* it is full' "$W/d1.out" || fail "$fs: no quota message at login: $(out d1)"
	grep -q "$qerr" "$W/d1.out" || fail "$fs: the full home took a new file: $(out d1)"
	grep -qx rm-ok "$W/d1.out" && grep -qx write-ok "$W/d1.out" || fail "$fs: delete and write again: $(out d1)"
	after=$(disk qa 'v["disk"]["inodes"]')
	fig "$fs: over-quota login (project at $before inodes / $bbefore bytes, limits 64 / 4M) in ${dt} s; write after delete: $(grep -o 'tries=[0-9]*' "$W/d1.out"); message: '$(grep -m1 'cubby: your home' "$W/d1.out")'; after deleting 3 and writing 1: $after inodes"
	ok "$fs (d): over quota, qa logs in, sees the message, deletes files and writes again"

	# (e) a new home_size at the next login
	policy "$S" "[user qa]" "home_size = 8M" "home_inodes = max"
	login e1 qa 'rm -f f*; dd if=/dev/zero of=big bs=64K count=96 2>&1; echo dd-rc=$?' ||
		fail "$fs: login after the policy change: $(out e1)"
	grep -qx 'dd-rc=0' "$W/e1.out" || fail "$fs: 6M with home_size = 8M failed: $(out e1)"
	[ "$(disk qa 'v["disk"]["bytes_limit"]')" = $((8 * MB)) ] &&
		[ "$(disk qa 'v["disk"]["inodes_limit"]')" = 0 ] || fail "$fs: limits after the change: $(ctl home show qa)"
	ok "$fs (e): home_size 4M -> 8M and home_inodes -> max applied at the next login"
	ctl home show qa >"$W/show-$fs.out" || fail "home show"
	fig "$fs: cubbyctl home show qa: $(tr '\n' ';' <"$W/show-$fs.out")"
	# a reset home's old files leave the project
	ctl home reset qa >"$W/reset-$fs.out" 2>&1 || fail "$fs: home reset: $(cat "$W/reset-$fs.out")"
	login r1 qa 'echo in' || fail "$fs: login after the reset: $(out r1)"
	used=$(disk qa 'v["disk"]["bytes"]')
	[ "$used" -lt $((64 * 1024)) ] || fail "$fs: after home reset the project still counts $used bytes"
	ok "$fs: after cubbyctl home reset, the old files no longer count ($used bytes in the project)"
	ctl gc >/dev/null 2>&1
	umount "$S" || fail "$fs: the state file system is still busy after the logins: $(grep "$S" /proc/mounts)"
}

scenario ext4
if command -v mkfs.xfs >/dev/null && grep -qw xfs /proc/filesystems; then
	scenario xfs
else
	echo "skip: XFS (no mkfs.xfs on this host, or no xfs module)"
fi

# (f) a state_dir without project quotas: check explains, logins refused
mkdir -p /tmp/qt-pam
for kind in plain noprj tmpfs; do
	S=/var/lib/cubby-q-$kind
	mkdir -p -m 0700 "$S"
	case $kind in
	plain) truncate -s 32M "$IMG/plain.img" && mkfs.ext4 -q -F "$IMG/plain.img" && mount -o loop "$IMG/plain.img" "$S" ;;
	noprj) truncate -s 32M "$IMG/noprj.img" && mkfs.ext4 -q -F -O project,quota -I 256 "$IMG/noprj.img" &&
		mount -o loop "$IMG/noprj.img" "$S" ;;
	tmpfs) mount -t tmpfs -o mode=0700 qtest "$S" ;;
	esac || fail "cannot make the $kind state dir"
	chmod 0700 "$S"
	policy "$S"
	ctl check --sshd-config /nonexistent --pam-dir /tmp/qt-pam >"$W/check-$kind.out" 2>&1
	rc=$?
	[ $rc -eq 1 ] || fail "check on $kind: exit $rc: $(cat "$W/check-$kind.out")"
	case $kind in
	plain) want='tune2fs -O project,quota' ;;
	noprj) want='does not enforce them: mount it with the option prjquota' ;;
	tmpfs) want='tmpfs has no project quotas' ;;
	esac
	grep -q "$want" "$W/check-$kind.out" || fail "check on $kind does not say '$want': $(cat "$W/check-$kind.out")"
	fig "check ($kind): $(grep -m1 home_size "$W/check-$kind.out")"
	login f-$kind qa 'echo in' && fail "$kind: qa logged in without project quotas: $(out f-$kind)"
	grep -q 'login refused (home_size or home_inodes is set, but the home.s file system has no project quotas' \
		"$W/f-$kind.out" || fail "$kind: refusal message: $(out f-$kind)"
	grep -qx in "$W/f-$kind.out" && fail "$kind: a shell ran"
	login f2-$kind qd 'echo in' || fail "$kind: qd (no limit) was refused: $(out f2-$kind)"
	umount "$S"
done
fig "refusal: $(grep -m1 'login refused' "$W/f-tmpfs.out")"
ok "(f) check explains ext4 without the features, ext4 without prjquota, tmpfs; logins with a limit refused there, without a limit admitted"

# (g) ephemeral: the tmpfs has the limits
S=/var/lib/cubby-q-eph
mkdir -p -m 0700 "$S" && mount -t tmpfs -o mode=0700 qtest "$S"
policy "$S"
login g1 qc 'dd if=/dev/zero of=big bs=64K count=64 2>&1; echo dd-rc=$?; stat -c size=%s big; rm big; i=0; while [ $i -lt 100 ] && : >f$i 2>/dev/null; do i=$((i+1)); done; echo made=$i'
grep -q 'No space left on device' "$W/g1.out" || fail "ephemeral: 4M in a 2M home: $(out g1)"
n=$(sed -n 's/^size=//p' "$W/g1.out")
[ -n "$n" ] && [ "$n" -le $((2 * MB)) ] || fail "ephemeral: the file is $n bytes"
m=$(sed -n 's/^made=//p' "$W/g1.out")
[ -n "$m" ] && [ "$m" -le 40 ] && [ "$m" -ge 30 ] || fail "ephemeral: $m files with home_inodes = 40: $(out g1)"
fig "ephemeral: dd stopped at $n bytes (home_size 2M), $m files made (home_inodes 40)"
ok "(g) an ephemeral home's tmpfs has home_size and home_inodes"
umount "$S" 2>/dev/null

# figure: the first login's quota setup, a home of 2000 files made
# without a limit, then the first login with one (the tag walk)
S=/var/lib/cubby-q-ext4
mount -o loop,prjquota "$IMG/ext4.img" "$S" || fail "remount ext4"
policy "$S"
login h0 qd 'mkdir -p many; cd many; i=0; while [ $i -lt 2000 ]; do : >f$i; i=$((i+1)); done; echo made=$i' ||
	fail "qd: $(out h0)"
t=$(uptime_s); login h1 qd 'echo in' || fail "qd: $(out h1)"; t_plain=$(since "$t")
policy "$S" "[user qd]" "home_size = 100M" "home_inodes = 5000"
t=$(uptime_s); login h2 qd 'echo in' || fail "qd: $(out h2)"; t_tag=$(since "$t")
t=$(uptime_s); login h3 qd 'echo in' || fail "qd: $(out h3)"; t_again=$(since "$t")
inodes=$(disk qd 'v["disk"]["inodes"]')
[ "$inodes" -ge 2000 ] || fail "qd's 2000 files were not put in the project ($inodes inodes)"
fig "first login with a limit, home of 2000 files: ${t_tag} s (tag walk + limits), the login before it without a limit ${t_plain} s, the next ${t_again} s (TCG guest); project counts $inodes inodes"
ok "an existing home of 2000 files is put in the project at the first login with a limit"
# figure: a new user's first login with limits and without (3 of each,
# alternating; medians)
for i in 1 2 3; do
	for k in qe qf; do
		for _ in 1 2 3; do useradd -m -s /bin/bash -g "$G" "$k$i" && break; sleep 0.5; done
	done
done
policy "$S" "[user qf1]" "home_size = max" "home_inodes = max" "[user qf2]" "home_size = max" \
	"home_inodes = max" "[user qf3]" "home_size = max" "home_inodes = max"
with=() without=()
for i in 1 2 3; do
	t=$(uptime_s); login fl-qe$i qe$i 'echo in' || fail "qe$i: $(out fl-qe$i)"; with+=("$(since "$t")")
	t=$(uptime_s); login fl-qf$i qf$i 'echo in' || fail "qf$i: $(out fl-qf$i)"; without+=("$(since "$t")")
done
[ "$(disk qe1 'v["disk"]["bytes_limit"]')" = $((4 * MB)) ] || fail "qe1 has no limit"
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
fig "a new user's first login (TCG guest, median of 3): with home_size/home_inodes $(med "${with[@]}") s [${with[*]}], without $(med "${without[@]}") s [${without[*]}]"
ctl gc >/dev/null 2>&1
echo "PASS: home quotas (guest time $(since "$T0") s)"
exit 0
