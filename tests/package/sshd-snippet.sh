#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# etc/ssh/sshd_config.d/cubby.conf against the real sshd: `sshd -t` and
# `sshd -T -C user=...` on a config in a scratch dir that Includes the
# snippet the way Debian's sshd_config does (Include first, then Debian's
# X11Forwarding yes and Subsystem sftp). A member of the Match group gets
# every forwarding, tunnel and user rc off and the external sftp-server; a
# non-member keeps the global settings (the Match block ends with the
# file). The machine's /etc/ssh and port 22 are never touched; nothing is
# started. Needs root for the temporary user and group (77 otherwise).
set -u -o pipefail

SELF=sshd-snippet
SRC=${CUBBY_SRC:-$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)}
SNIPPET=$SRC/etc/ssh/sshd_config.d/cubby.conf
FAILS=0
PASSES=0
skip() { echo "SKIP ($SELF): $*" >&2; exit 77; }
pass() { PASSES=$((PASSES + 1)); echo "PASS: $1"; }
fail() { FAILS=$((FAILS + 1)); printf 'FAIL: %s\n    expected: %s\n    seen:     %s\n' "$1" "$2" "$3"; }
check_eq() { if [ "$3" = "$2" ]; then pass "$1"; else fail "$1" "'$2'" "'$3'"; fi; }

[ "$(id -u)" = 0 ] || skip "needs root (a temporary user and group for sshd -T -C user=...)"
SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || skip "sshd is not installed (openssh-server)"
for p in ssh-keygen useradd userdel groupadd groupdel; do
	command -v "$p" >/dev/null || skip "$p is not installed"
done
[ -f "$SNIPPET" ] || { echo "FATAL: $SNIPPET missing" >&2; exit 1; }

ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
G=cbs${ID}g U=cbs${ID}u N=cbs${ID}n
T=$(mktemp -d "/tmp/cubby-sshd-snippet-$ID.XXXXXX") || exit 1
cleanup() {
	local rc=$?
	getent passwd "$U" >/dev/null && userdel "$U"
	getent passwd "$N" >/dev/null && userdel "$N"
	getent group "$G" >/dev/null && groupdel "$G"
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

groupadd "$G" && useradd -M -N -g "$G" -s /bin/bash "$U" && useradd -M -s /bin/bash "$N" \
	|| { echo "FATAL: cannot create the test user/group" >&2; exit 1; }
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" || exit 1
mkdir "$T/d"
sed "s/^Match Group students\$/Match Group $G/" "$SNIPPET" >"$T/d/cubby.conf"
grep -q "^Match Group $G\$" "$T/d/cubby.conf" || fail "snippet has a 'Match Group students' line" present absent

# Debian 12's layout: the Include comes first, its defaults after it.
cat >"$T/main.conf" <<EOF
Include $T/d/*.conf
HostKey $T/hostkey
PidFile $T/sshd.pid
ListenAddress 127.0.0.1
Port 2
UsePAM yes
X11Forwarding yes
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
# (-t and -T only parse: nothing is bound or started)

out=$("$SSHD" -t -f "$T/main.conf" 2>&1); rc=$?
check_eq "sshd -t accepts the snippet included from a Debian-style sshd_config" "0" "$rc${out:+ ($out)}"

settings() {
	"$SSHD" -T -C "user=$1,host=h.example,addr=127.0.0.1" -f "$T/main.conf" 2>&1 \
		| grep -Ei '^(allowtcpforwarding|allowstreamlocalforwarding|x11forwarding|allowagentforwarding|permittunnel|permituserrc|disableforwarding|permitlisten|permitopen|subsystem|forcecommand) ' \
		| sort | tr '\n' ';'
}
member=$(settings "$U")
for want in "allowtcpforwarding no" "allowstreamlocalforwarding no" "x11forwarding no" \
	    "allowagentforwarding no" "permittunnel no" "permituserrc no" "disableforwarding yes" \
	    "permitlisten none" "permitopen none" "subsystem sftp /usr/lib/openssh/sftp-server" \
	    "forcecommand none"; do
	case ";$member" in
	*";$want;"*) pass "member of the Match group: $want" ;;
	*) fail "member of the Match group: $want" "$want" "$member" ;;
	esac
done
other=$(settings "$N")
case ";$other" in
*";x11forwarding yes;"*) pass "non-member keeps X11Forwarding yes (the Match block ends with the snippet)" ;;
*) fail "non-member keeps X11Forwarding yes" "x11forwarding yes" "$other" ;;
esac

# The container = user block, uncommented for a second group: a member of
# both groups gets TCP and agent forwarding and nothing else; a member of
# the sandboxed group only keeps everything off.
G2=cbs${ID}i U2=cbs${ID}v
groupadd "$G2" && useradd -M -N -g "$G" -G "$G2" -s /bin/bash "$U2" \
	|| { echo "FATAL: cannot create the second test user/group" >&2; exit 1; }
trap 'rc2=$?; getent passwd "$U2" >/dev/null && userdel "$U2"; getent group "$G2" >/dev/null && groupdel "$G2"; (exit $rc2); cleanup' EXIT
cp "$T/d/cubby.conf" "$T/d/cubby.conf.plain"
sed -e "s/^#Match Group ide\$/Match Group $G2/" -e '/^Match Group '"$G2"'$/,/^$/s/^#\t/\t/' \
	"$T/d/cubby.conf.plain" >"$T/d/cubby.conf"
grep -q "^Match Group $G2\$" "$T/d/cubby.conf" || fail "snippet has a '#Match Group ide' block" present absent
out=$("$SSHD" -t -f "$T/main.conf" 2>&1); rc=$?
check_eq "sshd -t accepts the snippet with the container = user block on" "0" "$rc${out:+ ($out)}"
both=$(settings "$U2")
for want in "allowtcpforwarding yes" "allowagentforwarding yes" "disableforwarding no" \
	    "allowstreamlocalforwarding no" "x11forwarding no" "permittunnel no" "permituserrc no" \
	    "permitlisten any" "permitopen any"; do
	case ";$both" in
	*";$want;"*) pass "member of the container = user group (and the sandboxed one): $want" ;;
	*) fail "member of the container = user group: $want" "$want" "$both" ;;
	esac
done
check_eq "with the block on, a member of the sandboxed group only keeps everything off" "$member" "$(settings "$U")"
cp "$T/d/cubby.conf.plain" "$T/d/cubby.conf"

# The snippet's Subsystem line stays commented: with Debian's own line, a
# second one is fatal for sshd.
sed 's/^#Subsystem /Subsystem /' "$T/d/cubby.conf" >"$T/d/cubby.conf.new" && mv "$T/d/cubby.conf.new" "$T/d/cubby.conf"
out=$("$SSHD" -t -f "$T/main.conf" 2>&1); rc=$?
if [ "$rc" != 0 ] && printf '%s' "$out" | grep -q "already defined"; then
	pass "a second 'Subsystem sftp' is fatal for sshd (why the snippet's line is commented out)"
else
	fail "a second 'Subsystem sftp' is fatal for sshd" "exit !=0, 'already defined'" "$rc $out"
fi
# ... and enabled on a config without one, it is accepted and global.
sed -i '/^Subsystem /d' "$T/main.conf"
out=$("$SSHD" -t -f "$T/main.conf" 2>&1); rc=$?
check_eq "sshd -t with the snippet's own Subsystem line enabled (no other)" "0" "$rc${out:+ ($out)}"
case ";$(settings "$N")" in
*";subsystem sftp /usr/lib/openssh/sftp-server;"*) pass "the snippet's Subsystem is global (non-member has it too)" ;;
*) fail "the snippet's Subsystem is global" "subsystem sftp /usr/lib/openssh/sftp-server" "$(settings "$N")" ;;
esac

active=$(grep -Ev '^[[:space:]]*(#|$)' "$SNIPPET")
if printf '%s\n' "$active" | grep -Eqi 'internal-sftp|^[[:space:]]*forcecommand'; then
	fail "the snippet sets no internal-sftp and no ForceCommand" none "$(printf '%s\n' "$active" | grep -Ei 'internal-sftp|forcecommand')"
else
	pass "the snippet sets no internal-sftp and no ForceCommand"
fi

# The README's sshd block (install step 3) says the same as the snippet,
# and Debian's own default sshd_config (as openssh-server ships it, with
# its Subsystem line and its Include of sshd_config.d) accepts it.
README=$SRC/README.md
block=$(awk '/^3\. \*\*sshd\*\*/ { s = 1 } s && /^ *```/ { if (in_b) exit; in_b = 1; next } in_b { print }' "$README")
if [ -z "$block" ]; then
	fail "README.md has an sshd block in install step 3" "a fenced block" "none"
else
	norm() { sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | grep -Ev '^(#|$)'; }
	check_eq "the README's sshd block is the snippet's settings, line for line" \
		"$(norm <"$SNIPPET")" "$(printf '%s\n' "$block" | norm)"
	DEFAULT=/usr/share/openssh/sshd_config
	if [ -f "$DEFAULT" ]; then
		mkdir "$T/r"
		printf '%s\n' "$block" | sed "s/^\([[:space:]]*\)Match Group students\$/\1Match Group $G/" >"$T/r/cubby.conf"
		sed "s#^Include /etc/ssh/sshd_config.d/\*.conf#Include $T/r/*.conf#" "$DEFAULT" >"$T/debian.conf"
		grep -q "^Include $T/r/" "$T/debian.conf" \
			|| fail "Debian's default sshd_config has its Include line" "Include /etc/ssh/sshd_config.d/*.conf" "absent"
		out=$("$SSHD" -t -f "$T/debian.conf" -h "$T/hostkey" 2>&1); rc=$?
		check_eq "sshd -t accepts Debian's default sshd_config with the README's block" "0" "$rc${out:+ ($out)}"
		member=$("$SSHD" -T -C "user=$U,host=h.example,addr=127.0.0.1" -f "$T/debian.conf" -h "$T/hostkey" 2>&1 \
			| grep -Ei '^(allowtcpforwarding|disableforwarding|permituserrc) ' | sort | tr '\n' ';')
		check_eq "the README's block applies to a member of the group" \
			"allowtcpforwarding no;disableforwarding yes;permituserrc no;" "$member"
	else
		fail "Debian's default sshd_config is there to check the README's block against" "$DEFAULT" "absent"
	fi
fi

echo "---- $SELF: $PASSES passed, $FAILS failed"
[ "$FAILS" = 0 ]
