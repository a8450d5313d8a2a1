#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The README's promise on a truly fresh machine. A minimal Debian 12 root
# (debootstrap --variant=minbase bookworm, from the package archive this
# machine's apt uses) is entered in private namespaces (tests/fresh/enter.sh)
# with service start-up blocked (policy-rc.d exits 101, so installing
# openssh-server or nftables starts nothing). Inside it, in this order:
#   1. the Debian package, end to end (tests/package/deb.sh: build, install,
#      a sandboxed su login, purge): in this private root it never meets a
#      cubby that the machine itself has installed;
#   2. ./tools/demo, exactly as the README says: it must exit 0 and print
#      the container's view (the shell is PID 1 of its pid namespace, no
#      capabilities), and leave nothing of the demo behind;
#   3. `tools/install-deps unit`, then a build and the unit and pam suites.
# Everything is removed at the end. Needs root and the package archive;
# exits 77 when either is missing.
set -u -o pipefail

SELF=fresh
SRC=${CUBBY_SRC:-$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)}
ENTER=$SRC/tests/fresh/enter.sh
FAILS=0
PASSES=0
now_s() { date +%s; }
T0=$(now_s)
log() { echo "[$SELF +$(( $(now_s) - T0 ))s] $*" >&2; }
skip() { echo "SKIP ($SELF): $*" >&2; exit 77; }
fatal() { echo "FATAL ($SELF): $*" >&2; exit 1; }
pass() { PASSES=$((PASSES + 1)); echo "PASS: $1"; }
fail() { FAILS=$((FAILS + 1)); printf 'FAIL: %s\n    expected: %s\n    seen:     %s\n' "$1" "$2" "$3"; }
check_eq() { if [ "$3" = "$2" ]; then pass "$1"; else fail "$1" "'$2'" "'$3'"; fi; }
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then pass "$1"
	else fail "$1" "text matching /$2/" "'$(printf '%s' "$3" | tail -n 20 | tr '\n' '|' | cut -c1-1500)'"; fi
}

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, namespaces, installs packages in the private root)"
for p in debootstrap unshare mount tar; do
	command -v "$p" >/dev/null || skip "$p is not installed (tools/install-deps test)"
done

# The archive this machine's apt uses, read from its sources (deb822 or
# one-line form), never written into the project.
mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' \
	/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null)
[ -n "$mirror" ] || skip "no Debian archive in this machine's apt sources"

ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
W=$(mktemp -d "/var/tmp/cubby-fresh-$ID.XXXXXX") || fatal "mktemp failed"
R=$W/root
cleanup() {
	local rc=$?
	# Nothing is mounted below $W outside enter.sh's mount namespace, which
	# died with it; --one-file-system guards against a surprise anyway.
	if grep -qs " $W/" /proc/self/mountinfo; then
		echo "FATAL ($SELF): mounts left below $W; not removing it" >&2
		rc=1
	else
		rm -rf --one-file-system "$W"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "debootstrap --variant=minbase bookworm into $R"
if ! debootstrap --variant=minbase bookworm "$R" "$mirror" >"$W/debootstrap.log" 2>&1; then
	tail -n 5 "$W/debootstrap.log" >&2
	grep -qE 'Failed getting release file|Temporary failure resolving|Could not connect|Connection refused' \
		"$W/debootstrap.log" && skip "the package archive $mirror cannot be reached"
	fatal "debootstrap failed (log above)"
fi
printf '#!/bin/sh\n# written by cubby tests/fresh: start no service in this root\nexit 101\n' \
	>"$R/usr/sbin/policy-rc.d"
chmod 0755 "$R/usr/sbin/policy-rc.d"
log "minbase root: $(chroot "$R" dpkg-query -W -f='.\n' | wc -l) packages"

# The source tree as a checkout has it: tracked and untracked files, not
# the ignored build dirs.
mkdir -p "$R/src/cubby"
if git -C "$SRC" rev-parse --show-toplevel >/dev/null 2>&1; then
	(cd "$SRC" && git ls-files -z -co --exclude-standard) \
		| (cd "$SRC" && tar --null --no-recursion -T - -cf -) | tar -C "$R/src/cubby" -xf - \
		|| fatal "copying the source tree failed"
else
	tar -C "$SRC" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$R/src/cubby" -xf - \
		|| fatal "copying the source tree failed"
fi

inside() { "$ENTER" "$R" "$1"; }

# 1. The Debian package in the private root. deb.sh installs the build
# tools it lacks (dpkg-dev, debhelper, build-essential) there.
log "phase 1: the Debian package (tests/package/deb.sh) in the fresh root"
# A server has sshd (the package does not depend on it; its checks ask it
# with sshd -T, which wants the /run/sshd that ssh.service makes).
out=$(inside 'cd /src/cubby && apt-get -o DPkg::Lock::Timeout=600 -q update >/dev/null &&
	apt-get -o DPkg::Lock::Timeout=600 -q install -y --no-install-recommends openssh-server >/dev/null &&
	mkdir -p -m 0755 /run/sshd && bash tests/package/deb.sh' 2>&1); rc=$?
printf '%s\n' "$out" | grep -E '^(PASS|FAIL|SKIP|FATAL)|^    ' | sed 's/^/  deb: /'
check_eq "deb.sh in the fresh root exits 0" 0 "$rc"
check_match "deb.sh in the fresh root ran its checks" '^PASS: ' "$out"
check_eq "deb.sh in the fresh root skipped nothing" "" "$(printf '%s\n' "$out" | grep -E 'SKIP')"

# 2. The README's first command.
log "phase 2: ./tools/demo in the fresh root"
out=$(inside 'cd /src/cubby && ./tools/demo' 2>&1); rc=$?
printf '%s\n' "$out" | tail -n 40 | sed 's/^/  demo: /'
check_eq "tools/demo exits 0 on a minbase root" 0 "$rc"
check_match "the demo's shell is PID 1 of its container" '^pid of shell: 1 ' "$out"
check_match "the demo's shell has no capabilities" '^capabilities: 0000000000000000 ' "$out"
check_match "the demo user is not root inside" '^whoami: +cubbydemo ' "$out"
left=$(inside 'getent passwd cubbydemo; ls -d /var/lib/cubby/users/cubbydemo /run/netns/cubby-demo \
	/etc/security/cubby.conf.d/90-cubby-demo.conf /run/cubby-demo.* 2>/dev/null' 2>&1)
check_eq "the demo leaves nothing of its own behind (user, home state, netns, drop-in, work dir)" "" "$left"
installed=$(inside 'stat -c "%a %U %n" /usr/libexec/cubby-shell; ls /usr/lib/*/security/pam_cubby.so' 2>&1)
check_match "cubby stays installed: the helper setuid root" '^4755 root /usr/libexec/cubby-shell$' "$installed"
check_match "cubby stays installed: pam_cubby.so where libpam loads modules" \
	'^/usr/lib/[a-z0-9_-]+-linux-gnu/security/pam_cubby.so$' "$installed"

# 3. The unit and PAM suites from the unit dependencies alone.
log "phase 3: tools/install-deps unit, build, unit and pam suites in the fresh root"
out=$(inside 'cd /src/cubby && tools/install-deps unit >/dev/null &&
	meson setup /var/tmp/cubby-fresh-build --prefix=/var/tmp/cubby-fresh -Drundir=/run/cubby-fresh >/dev/null &&
	meson compile -C /var/tmp/cubby-fresh-build >/dev/null &&
	meson test -C /var/tmp/cubby-fresh-build --suite unit --suite pam --print-errorlogs' 2>&1); rc=$?
printf '%s\n' "$out" | tail -n 15 | sed 's/^/  unit: /'
# the tests that skipped or failed by name (the tail may not show them)
printf '%s\n' "$out" | grep -E ' (SKIP|FAIL) ' | sed 's/^/  unit, not passed: /'
check_eq "unit and pam suites on the fresh root exit 0" 0 "$rc"
check_match "unit and pam suites ran and passed" '^Ok: +[1-9][0-9]*' "$out"
check_match "no unit or pam test skipped or failed" '^Skipped: +0 *$' "$out"

log "done"
echo "$SELF: $PASSES passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
