#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Debian package, end to end, as root on a Debian 12 machine:
#   1. export the committed tree (git archive HEAD; CUBBY_PKG_FROM=worktree
#      for the working tree) to a scratch dir (nothing is written into the
#      source tree) and build it with `dpkg-buildpackage -us -uc -b`;
#   2. install the .deb with apt-get; check the modes and the conffile;
#   3. a sandboxed login with the INSTALLED files: a test user in a test
#      group, a policy drop-in that sandboxes the group (cgroups below this
#      test's own), and `su - USER -c 'echo $$'` through a test PAM stack
#      bind-mounted over /etc/pam.d/su and su-l inside `unshare -m` (the
#      machine's /etc/pam.d is never edited) must print 1;
#   4. `cubbyctl gc`, then `apt-get purge -y cubby`; nothing of the package,
#      the test user or its cgroups may be left.
# Exit 77 (skipped) when not root, when cubby is already installed here (it
# would be replaced), or when the build tools cannot be installed. The
# test suite runs it in a fresh minbase root (tests/fresh/fresh.sh), where
# none of that happens.
#
# Build tools and build dependencies that are missing are installed with
# apt-get and left installed (as tools/install-deps does).
set -u -o pipefail

SELF=deb
SRC=${CUBBY_SRC:-$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)}
APT=(apt-get -o DPkg::Lock::Timeout=600 -q)
export DEBIAN_FRONTEND=noninteractive

FAILS=0
PASSES=0
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
T0=$(now_ms)
log() { local d=$(( $(now_ms) - T0 )); printf '[%s +%d.%03ds] %s\n' "$SELF" $((d / 1000)) $((d % 1000)) "$*" >&2; }
skip() { echo "SKIP ($SELF): $*" >&2; exit 77; }
fatal() { echo "FATAL ($SELF): $*" >&2; exit 1; }
pass() { PASSES=$((PASSES + 1)); echo "PASS: $1"; }
fail() { FAILS=$((FAILS + 1)); printf 'FAIL: %s\n    expected: %s\n    seen:     %s\n' "$1" "$2" "$3"; }
check_eq() { if [ "$3" = "$2" ]; then pass "$1"; else fail "$1" "'$2'" "'$3'"; fi; }
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then pass "$1"
	else fail "$1" "text matching /$2/" "'$(printf '%s' "$3" | tr '\n' '|' | cut -c1-600)'"; fi
}
check_absent() { if [ -e "$2" ] || [ -L "$2" ]; then fail "$1" "no $2" "$(ls -ld "$2")"; else pass "$1"; fi; }

# ------------------------------------------------------------ preconditions
[ "$(id -u)" = 0 ] || skip "needs root (installs and purges a package, adds a user)"
[ -r /etc/debian_version ] && command -v dpkg >/dev/null && command -v apt-get >/dev/null \
	|| skip "not a Debian system"
for f in /usr/libexec/cubby-shell /usr/sbin/cubbyctl /etc/security/cubby.conf; do
	[ -e "$f" ] && skip "$f exists: cubby is installed on this machine and the test would replace it"
done
if dpkg-query -W -f='${Status}' cubby 2>/dev/null | grep -q 'installed'; then
	skip "the cubby package is installed on this machine"
fi
for p in unshare su useradd userdel groupadd groupdel timeout flock mount findmnt; do
	command -v "$p" >/dev/null || skip "$p is not installed"
done

# One package test per machine at a time: the package is machine-wide.
exec 8>/run/lock/cubby-pkgtest.lock
flock -w 1800 8 || fatal "another package test holds /run/lock/cubby-pkgtest.lock"

ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
T=$(mktemp -d "/var/tmp/cubby-pkg-$ID.XXXXXX") || fatal "mktemp failed"
GROUP=cbp${ID}g
USR=cbp${ID}u
CGNAME=cubby-pkgtest-$ID
DROPIN_DIR=/etc/security/cubby.conf.d
DROPIN=$DROPIN_DIR/90-cubby-pkgtest-$ID.conf
RUNDIR=/run/cubby
STATEDIR=/var/lib/cubby
INSTALLED=
declare -A HAD=()
for f in "$DROPIN_DIR" "$STATEDIR" "$RUNDIR" "$RUNDIR/last-good/_etc_security_cubby.conf" \
	 "$RUNDIR/anchor" "$RUNDIR/locks" "$RUNDIR/leases.lock" "$RUNDIR/leases" "$RUNDIR/leases.d"; do
	[ -e "$f" ] && HAD[$f]=1
done

# Kill what is left in our cgroup dirs (every hierarchy), then rmdir them
# depth-first. Only dirs named after this run's id.
remove_cgroups() {
	local top d f pid
	for top in $(find /sys/fs/cgroup -maxdepth 12 -type d -name "$CGNAME" 2>/dev/null); do
		[ -e "$top/cgroup.kill" ] && echo 1 >"$top/cgroup.kill" 2>/dev/null
		for f in $(find "$top" -name cgroup.procs 2>/dev/null); do
			for pid in $(cat "$f" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		done
		for d in $(find "$top" -depth -type d 2>/dev/null); do
			local i
			for i in 1 2 3 4 5 6 7 8 9 10; do rmdir "$d" 2>/dev/null && break; sleep 0.1; done
		done
	done
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$INSTALLED" ]; then
		/usr/sbin/cubbyctl gc >/dev/null 2>&1
		"${APT[@]}" purge -y cubby >"$T/purge-cleanup.log" 2>&1 \
			|| { echo "cleanup: purge failed:"; tail -20 "$T/purge-cleanup.log"; }
	fi
	rm -f "$DROPIN"
	[ -n "${HAD[$DROPIN_DIR]:-}" ] || rmdir "$DROPIN_DIR" 2>/dev/null
	if getent passwd "$USR" >/dev/null; then
		pkill -KILL -u "$USR" 2>/dev/null
		userdel -r "$USR" >/dev/null 2>&1 || userdel "$USR" 2>/dev/null
	fi
	getent group "$GROUP" >/dev/null && groupdel "$GROUP" 2>/dev/null
	remove_cgroups
	# runtime and state traces of this run only
	rm -rf "${STATEDIR:?}/users/$USR"
	if [ -z "${HAD[$STATEDIR]:-}" ] && [ -d "$STATEDIR" ]; then
		find "$STATEDIR" -depth -type d -empty -delete 2>/dev/null
	fi
	[ -n "${HAD[$RUNDIR/last-good/_etc_security_cubby.conf]:-}" ] \
		|| rm -f "$RUNDIR/last-good/_etc_security_cubby.conf"
	[ -n "${HAD[$RUNDIR/anchor]:-}" ] || rm -f "$RUNDIR/anchor" "$RUNDIR/anchor.lock"
	if [ -n "${UID_USR:-}" ]; then
		rm -f "$RUNDIR/locks/u$UID_USR.lock" "$RUNDIR/locks/u$UID_USR.homes"
		rmdir "$RUNDIR/leases.d/u$UID_USR" 2>/dev/null
	fi
	[ -n "${HAD[$RUNDIR/locks]:-}" ] || { rm -f "$RUNDIR/locks/gc.lock" "$RUNDIR/locks/gc.stamp"; rmdir "$RUNDIR/locks" 2>/dev/null; }
	[ -n "${HAD[$RUNDIR/leases.lock]:-}" ] || rm -f "$RUNDIR/leases.lock"
	[ -n "${HAD[$RUNDIR/leases]:-}" ] || rm -f "$RUNDIR/leases"
	[ -n "${HAD[$RUNDIR/leases.d]:-}" ] || rm -rf "$RUNDIR/leases.d"
	if [ -z "${HAD[$RUNDIR]:-}" ] && [ -d "$RUNDIR" ]; then
		find "$RUNDIR" -depth -type d -empty -delete 2>/dev/null
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# ------------------------------------------------------------ tools
# The packaging tools, then whatever debian/control's Build-Depends names
# that is missing (dpkg-checkbuilddeps says which): one list, the package's.
apt_install() { # PKG...: install the missing ones, skip the test when apt cannot
	local need=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
	done
	[ ${#need[@]} -gt 0 ] || return 0
	log "installing ${need[*]}"
	if [ -z "${APT_UPDATED:-}" ]; then
		"${APT[@]}" update >"$T/apt-update.log" 2>&1 || skip "apt-get update failed: $(tail -1 "$T/apt-update.log")"
		APT_UPDATED=1
	fi
	"${APT[@]}" install -y --no-install-recommends "${need[@]}" >"$T/apt-install.log" 2>&1 \
		|| skip "cannot install ${need[*]}: $(tail -1 "$T/apt-install.log")"
}
apt_install dpkg-dev debhelper fakeroot build-essential
unmet=$(cd "$SRC" && dpkg-checkbuilddeps 2>&1 | sed -n 's/.*Unmet build dependencies: //p' \
	| sed -e 's/([^)]*)//g' -e 's/|[^ ]*//g' -e 's/:[a-z]*//g')
# shellcheck disable=SC2086 # a list of package names
[ -z "$unmet" ] || apt_install $unmet

# ------------------------------------------------------------ 1. build
# What is committed (HEAD), as a package is built from a commit: the
# working tree of a shared checkout may be half way through someone's
# edit. CUBBY_PKG_FROM=worktree takes the working tree (tracked and
# untracked files, not the ignored build dirs) instead.
mkdir "$T/src"
if command -v git >/dev/null && git -C "$SRC" rev-parse --show-toplevel >/dev/null 2>&1; then
	if [ "${CUBBY_PKG_FROM:-head}" = worktree ]; then
		log "copying the working tree of $SRC to $T/src"
		(cd "$SRC" && git ls-files -z -co --exclude-standard) \
			| (cd "$SRC" && tar --null --no-recursion -T - -cf -) | tar -C "$T/src" -xf - \
			|| fatal "copying the source tree failed"
	else
		log "exporting $(git -C "$SRC" rev-parse --short HEAD) of $SRC to $T/src"
		git -C "$SRC" archive --format=tar HEAD | tar -C "$T/src" -xf - \
			|| fatal "git archive HEAD failed"
	fi
else
	log "copying $SRC to $T/src"
	tar -C "$SRC" --exclude='./build*' --exclude=./.git --exclude='./obj-*' -cf - . \
		| tar -C "$T/src" -xf - || fatal "copying the source tree failed"
fi
[ -f "$T/src/debian/control" ] || fatal "no debian/ in $SRC"

log "dpkg-buildpackage -us -uc -b"
t=$(date +%s)
(cd "$T/src" && dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1 \
	|| { tail -40 "$T/build.log"; fatal "dpkg-buildpackage failed (log above)"; }
BUILD_S=$(( $(date +%s) - t ))
deb=$(ls "$T"/cubby_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fatal "no cubby_*.deb in $T"
pass "dpkg-buildpackage -us -uc -b built $(basename "$deb") in ${BUILD_S}s"
contents=$(dpkg-deb -c "$deb")
check_match "the .deb carries cubby-shell as -rwsr-xr-x root/root" \
	'^-rwsr-xr-x root/root .* \./usr/libexec/cubby-shell$' "$contents"
check_match "the .deb carries cubby-init as -rwxr-xr-x root/root (not setuid)" \
	'^-rwxr-xr-x root/root .* \./usr/libexec/cubby-init$' "$contents"
[ "$(printf '%s\n' "$contents" | grep -c '\./etc/pam\.d/')" = 0 ] \
	&& pass "nothing installed into /etc/pam.d" || fail "nothing installed into /etc/pam.d" none "$(printf '%s\n' "$contents" | grep 'etc/pam\.d')"
[ "$(printf '%s\n' "$contents" | grep -c '\./etc/ssh/')" = 0 ] \
	&& pass "nothing installed into /etc/ssh" || fail "nothing installed into /etc/ssh" none "$(printf '%s\n' "$contents" | grep 'etc/ssh')"
if grep -q "subdir('ssh')" "$T/src/etc/meson.build" 2>/dev/null; then
	check_match "the sshd_config example is shipped" '\./usr/share/cubby/sshd_config\.d/cubby\.conf$' "$contents"
fi
if grep -q "subdir('pam.d')" "$T/src/etc/meson.build" 2>/dev/null; then
	check_match "the PAM snippet is shipped" '\./usr/share/cubby/pam\.d/cubby-session$' "$contents"
fi

# ------------------------------------------------------------ 2. install
log "apt-get install $deb"
t=$(date +%s)
INSTALLED=1
"${APT[@]}" install -y "$deb" >"$T/install.log" 2>&1 \
	|| { tail -30 "$T/install.log"; fatal "apt-get install failed"; }
INSTALL_S=$(( $(date +%s) - t ))
pass "apt-get install -y ./$(basename "$deb") (${INSTALL_S}s)"
check_match "postinst says what to do next" 'sandboxes nobody yet' "$(cat "$T/install.log")"
check_match "postinst names the PAM line" 'session required pam_cubby\.so' "$(cat "$T/install.log")"
check_eq "dpkg: cubby installed" "install ok installed" "$(dpkg-query -W -f='${Status}' cubby 2>&1)"

multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
check_eq "cubby-shell is 4755 root root" "4755 root root" \
	"$(stat -c '%a %U %G' /usr/libexec/cubby-shell 2>&1)"
check_eq "pam_cubby.so in /usr/lib/$multiarch/security, 644 root" "644 root" \
	"$(stat -c '%a %U' "/usr/lib/$multiarch/security/pam_cubby.so" 2>&1)"
check_eq "cubbyctl is 755 root" "755 root" "$(stat -c '%a %U' /usr/sbin/cubbyctl 2>&1)"
check_eq "cubby-init is 755 root root" "755 root root" \
	"$(stat -c '%a %U %G' /usr/libexec/cubby-init 2>&1)"
check_match "/etc/security/cubby.conf is a conffile" '^ /etc/security/cubby\.conf [0-9a-f]{32}' \
	"$(dpkg-query -W -f='${Conffiles}\n' cubby)"
if grep -q "cubby.service" "$T/src/etc/meson.build" 2>/dev/null; then
	unit=$(printf '%s\n' "$contents" | grep -Eo '\./(usr/)?lib/systemd/system/cubby\.service$' | head -1)
	[ -n "$unit" ] && pass "cubby.service is shipped (${unit#.})" || fail "cubby.service is shipped" present absent
	unit=${unit#.}
	wants=$(ls /etc/systemd/system/*.wants/cubby.service 2>/dev/null)
	check_eq "cubby.service is not enabled by the package (no network change on install)" "" "$wants"
fi
for m in man8/pam_cubby.8.gz man8/cubby-shell.8.gz man8/cubbyctl.8.gz man5/cubby.conf.5.gz; do
	[ -f "/usr/share/man/$m" ] && pass "man page $m installed" || fail "man page $m installed" present absent
done
findmnt -n -o OPTIONS --target /usr/libexec/cubby-shell | grep -qw nosuid \
	&& fatal "/usr/libexec is mounted nosuid here: no sandboxed login can work"

out=$(/usr/sbin/cubbyctl check 2>&1); rc=$?
check_eq "cubbyctl check on the shipped policy: exit 0" 0 "$rc"
check_match "cubbyctl check on the shipped policy: ok" 'cubby\.conf: ok' "$out"

# ------------------------------------------------------------ 3. a login
groupadd "$GROUP" || fatal "groupadd $GROUP failed"
useradd -m -g "$GROUP" -s /bin/bash "$USR" || fatal "useradd $USR failed"
UID_USR=$(id -u "$USR")
out=$(/usr/sbin/cubbyctl explain "$USR" 2>&1)
check_match "shipped policy sandboxes nobody: explain $USR" '^sandbox +no( |$)' "$out"

mkdir -p "$DROPIN_DIR"
cat >"$DROPIN" <<EOF
# cubby package test $ID (removed at the end of the test)
[global]
cgroup_parent = ./$CGNAME
[group $GROUP]
sandbox = yes
pids = 256
EOF
chmod 0644 "$DROPIN"
# check asks sshd (sshd -T) about a sandboxed user: the machine's own
# sshd_config allows forwarding, so it must be refused; with the shipped
# Match block (for the test group) in a config of our own, it passes.
if [ -x /usr/sbin/sshd ]; then
	out=$(/usr/sbin/cubbyctl check 2>&1); rc=$?
	check_eq "cubbyctl check with the test drop-in, machine's sshd_config: exit 1" 1 "$rc"
	check_match "cubbyctl check names sshd's forwarding for $USR" "forwarding yes for sandboxed user $USR" "$out"
else
	log "SKIP: no sshd on this machine: cubbyctl check's sshd checks not run"
fi
SSHDCONF=$(mktemp /var/tmp/cubby-pkgtest-sshd.XXXXXX)
sed "s/^Match Group students/Match Group $GROUP/" /usr/share/cubby/sshd_config.d/cubby.conf >"$SSHDCONF"
out=$(/usr/sbin/cubbyctl check --sshd-config "$SSHDCONF" 2>&1); rc=$?
rm -f "$SSHDCONF"
check_eq "cubbyctl check with the shipped sshd Match block: exit 0" 0 "$rc"
[ "$rc" = 0 ] || printf '%s\n' "$out"
out=$(/usr/sbin/cubbyctl explain "$USR" 2>&1)
check_match "explain $USR: sandboxed by the drop-in" '^sandbox +yes( |$)' "$out"

# The test PAM stack for su and su-l (root's su needs no password); the
# module by name, so libpam loads the installed one.
cat >"$T/pam-su" <<EOF
# cubby package test $ID: bind-mounted in a private mount namespace only
auth     sufficient pam_rootok.so
auth     required   pam_deny.so
account  required   pam_permit.so
password required   pam_deny.so
session  required   pam_unix.so
session  required   pam_cubby.so
EOF
chmod 0644 "$T/pam-su"
cat >"$T/login.sh" <<EOF
set -u
mount --bind "$T/pam-su" /etc/pam.d/su || exit 90
mount --bind "$T/pam-su" /etc/pam.d/su-l || exit 91
echo "PID=\$(timeout -k 5 60 su - "$USR" -c 'echo \$\$' </dev/null 2>"$T/su.err")"
echo "RC=\$?"
timeout -k 5 60 su - "$USR" -c 'sleep 3' </dev/null >/dev/null 2>&1 &
for i in \$(seq 1 30); do
	/usr/sbin/cubbyctl list 2>/dev/null | grep -q " $USR " && break
	sleep 0.1
done
echo "LIST=\$(/usr/sbin/cubbyctl list 2>&1 | grep " $USR " | tr -s ' ')"
wait
EOF
log "su - $USR -c 'echo \$\$' with the installed module and helper"
t=$(now_ms)
out=$(unshare -m --propagation private -- /bin/bash "$T/login.sh" 2>&1)
check_eq "su - $USR -c 'echo \$\$' prints 1 (the shell is PID 1 of its container)" "PID=1" \
	"$(printf '%s\n' "$out" | grep '^PID=')"
check_eq "su - $USR: exit status 0" "RC=0" "$(printf '%s\n' "$out" | grep '^RC=')"
LOGIN_MS=$(( $(now_ms) - t ))
[ -s "$T/su.err" ] && echo "    su stderr: $(head -c 600 "$T/su.err")"
check_match "cubbyctl list shows the live sandboxed session" " $USR $UID_USR su-l .* yes live " \
	"$(printf '%s\n' "$out" | grep '^LIST=')"

log "cubbyctl gc"
out=$(/usr/sbin/cubbyctl gc 2>&1); rc=$?
check_eq "cubbyctl gc: exit 0" 0 "$rc"
recs=$(grep -l "^user=$USR\$" "$RUNDIR"/sessions/u*/* 2>/dev/null)
check_eq "no session record of $USR is left" "" "$recs"
left=$(find /sys/fs/cgroup -maxdepth 14 -path "*/$CGNAME/u$UID_USR*" -type d 2>/dev/null | head -3)
check_eq "no session or user cgroup of $USR is left" "" "$left"
procs=$(find /sys/fs/cgroup -maxdepth 14 -path "*/$CGNAME/*" -name cgroup.procs -exec cat {} + 2>/dev/null)
check_eq "no process is left below the cgroup parent (gc stopped the anchor holder)" "" "$procs"
left=$(find /sys/fs/cgroup -maxdepth 14 -path "*/$CGNAME/*" -type d 2>/dev/null | head -3)
check_eq "no cgroup dir is left below the cgroup parent (gc removed the anchor's)" "" "$left"
check_eq "the overlay home of $USR is not mounted (host view)" "" \
	"$(grep " $STATEDIR/users/$USR/" /proc/self/mountinfo)"

userdel -r "$USR" >/dev/null 2>&1
groupdel "$GROUP" 2>/dev/null
check_eq "test user removed" "" "$(getent passwd "$USR")"
check_eq "test group removed" "" "$(getent group "$GROUP")"
rm -f "$DROPIN"
rm -rf "${STATEDIR:?}/users/$USR"

# ------------------------------------------------------------ 4. purge
log "apt-get purge -y cubby"
t=$(date +%s)
"${APT[@]}" purge -y cubby >"$T/purge.log" 2>&1 || { tail -20 "$T/purge.log"; fatal "apt-get purge failed"; }
INSTALLED=
PURGE_S=$(( $(date +%s) - t ))
pass "apt-get purge -y cubby (${PURGE_S}s)"
check_match "dpkg no longer knows cubby" 'not installed|no packages found|not-installed' \
	"$(dpkg-query -W -f='${Status}' cubby 2>&1)"
out=$(dpkg -L cubby 2>&1); rc=$?
[ "$rc" != 0 ] && pass "dpkg -L cubby: no file list" || fail "dpkg -L cubby: no file list" "an error" "$out"
for f in /usr/libexec/cubby-shell /usr/libexec/cubby-init /usr/sbin/cubbyctl \
	 "/usr/lib/$multiarch/security/pam_cubby.so" /etc/security/cubby.conf /usr/share/man/man8/pam_cubby.8.gz /usr/share/doc/cubby \
	 /usr/share/cubby; do
	check_absent "gone after purge: $f" "$f"
done
[ -n "${unit:-}" ] && check_absent "gone after purge: $unit" "$unit"
[ -n "${HAD[$DROPIN_DIR]:-}" ] || check_absent "gone after purge: $DROPIN_DIR" "$DROPIN_DIR"
[ -n "${HAD[$STATEDIR]:-}" ] || check_absent "gone after purge: $STATEDIR" "$STATEDIR"
remove_cgroups
check_eq "no cgroup of this test is left" "" \
	"$(find /sys/fs/cgroup -maxdepth 12 -type d -name "$CGNAME" 2>/dev/null)"

log "times: build ${BUILD_S}s, install ${INSTALL_S}s, two logins ${LOGIN_MS}ms, purge ${PURGE_S}s, total $(( ($(now_ms) - T0) / 1000 ))s"
echo "---- $SELF: $PASSES passed, $FAILS failed"
[ "$FAILS" = 0 ] || { echo "==== build log tail"; tail -5 "$T/build.log"; exit 1; }
exit 0
