#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The guest side of vm-cluster (tests/vm/systemd.sh cluster): runs as root from
# cubby-vmtest.service in a Debian 12 guest whose PID 1 is systemd. The
# guest is a throwaway (its disk is a QEMU snapshot): this script edits
# /etc/pam.d, the ssh and sssd configuration and /etc/exports for real.
#
# The cluster in one guest:
#   server  slapd (dc=cubby,dc=test: users cl.ana and clbo in the LDAP group
#           clstudents, clcarl outside it) and the kernel NFS server, which
#           exports /srv/home with root_squash (NFSv4.2, sec=sys).
#   node 1  the guest's own namespaces: sssd resolves the LDAP users, /home
#           is the export mounted over 127.0.0.1, the stock sshd and su
#           with pam_cubby, cubby.service.
#   node 2  a network namespace (198.51.100.2, a veth to the server's
#           198.51.100.1) and a mount namespace of its own: the export
#           mounted over that network at /home, empty tmpfs on cubby's run
#           and state dirs, its own policy and cgroup parent, its own sshd.
#
# Checks (each line PASS or FAIL with its name):
#   cl-env          systemd is PID 1; the NFS modules are loaded; slapd,
#                   sssd and nfs-server run
#   cl-ldap         slapd holds the users and groups; sssd resolves them
#                   (getent passwd/group, id), none is in /etc/passwd
#   cl-nfs          /home is NFSv4 from the server; root_squash: root on
#                   the node cannot read the 0700 home, the user can
#   cl-explain      `cubbyctl explain` shows the LDAP group's policy with
#                   its file:line; a user outside the group is not
#                   sandboxed
#   cl-local-su     an LDAP user logs in with su into a container with the
#                   default home mode (persistent overlay) on a local lower
#   cl-direct-su    `home = direct` on the NFS home: su - and a real sshd
#   cl-direct-ssh   land in a container (PID 1) whose $HOME is the NFS home
#                   (nosuid, nodev); id inside names the LDAP groups; the
#                   root-squashed 0700 home is read; a file written inside
#                   is in the server's export, owned by the user
#   cl-direct-user  the same over ssh with container = user (the IDE case):
#                   the login's PID 1 is cubby-init, the home is the NFS one
#   cl-refuse       `home = persistent` on the NFS lower is refused with its
#                   message (to the user and in the journal), no shell
#                   runs, and `cubbyctl check` says why;
#   cl-override     with the explicit override the same login works
#   cl-node2        the second node: starts with empty cubby run and state
#                   dirs and no record of node 1; su and ssh there see the
#                   files node 1 wrote; what they write is seen by node 1
#   cl-clean        after the logouts no session record, cgroup or mount of
#                   cubby is left on either node
# Output: PASS/FAIL lines and figures; $IO/rc gets 0 or 1 at the end.

set -u -o pipefail

IO=/run/cubby-vm
STATE=/var/lib/cubby-vmtest
mkdir -p "$STATE"
: >"$STATE/fails"
U=cl.ana       # in clstudents; a dot in the name, as LDAP allows
UB=clbo        # in clstudents
UC=clcarl      # not in clstudents
G=clstudents
BASE=dc=cubby,dc=test
SRV=/srv/home
POL=/etc/security/cubby.conf.d/50-cluster.conf
N2=clnode2                     # node 2's network namespace
N2DIR=/run/cl-node2            # node 2's mount namespace file and files
N2MNT=$N2DIR/ns/mnt
KEY=/root/.ssh/id_ed25519
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8

. "$IO/guest-lib.sh"
finish() {
	if [ "$(failures)" -gt 0 ]; then
		echo "---- diagnostics"
		journalctl -b --no-pager -q -u cubby.service -u ssh.service -u sssd.service -u nfs-server.service 2>&1 | tail -n 40
		journalctl -b --no-pager -q -p warning 2>&1 | tail -n 30
	fi
	finish_result vm-cluster
	# The NFS mounts go before the server does: a hard mount whose server
	# stopped holds the shutdown for minutes.
	[ -f "$N2DIR/sshd.pid" ] && kill "$(cat "$N2DIR/sshd.pid")" 2>/dev/null
	[ -e "$N2MNT" ] && nsenter --mount="$N2MNT" umount -l /home 2>/dev/null
	umount -l "$N2DIR/ns" 2>/dev/null
	umount -l /home 2>/dev/null
	fig "guest uptime at the poweroff: $(uptime_s) s"
	sync
	systemctl poweroff
	exit 0
}
n2() { nsenter --net=/run/netns/$N2 --mount="$N2MNT" -- "$@"; }

# login VIA TAG [NODE]: a login of $LU (su, or ssh to the node's sshd) that
# runs cl-probe TAG; its output in $STATE/TAG.out, exit code in $lrc.
LU=$U
login() {
	local via=$1 tag=$2 node=${3:-1} host=127.0.0.1 pre=()
	[ "$node" = 2 ] && { host=198.51.100.2; pre=(nsenter --net=/run/netns/$N2 --mount="$N2MNT" --); }
	case $via in
	su) timeout 120 "${pre[@]}" su - "$LU" -c "exec /usr/local/bin/cl-probe $tag" \
		</dev/null >"$STATE/$tag.out" 2>&1 ;;
	ssh) timeout 120 "${pre[@]}" ssh -i "$KEY" -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$LU@$host" "exec /usr/local/bin/cl-probe $tag" \
		</dev/null >"$STATE/$tag.out" 2>&1 ;;
	esac
	lrc=$?
}
val() { tr -d '\r' <"$STATE/$1.out" | grep -a "^@@$2=" | head -n1 | sed -e "s/^@@$2=//"; }
out_of() { tail -n "${2:-8}" "$STATE/$1.out" | tr -d '\r'; }

# in_container TAG NAME: the login ran the probe as PID 1 of a container,
# as the user, to its end.
in_container() {
	local tg=$1
	check "$2: the shell is PID 1 of its container, as $LU" \
		'[ $lrc = 0 ] && [ "$(val $tg pid)" = 1 ] && [ "$(val $tg uid)" = "$(id -u "$LU")" ] && [ "$(val $tg end)" = ok ]' \
		"exit $lrc: $(out_of "$tg")"
}
# on_server TAG NAME: the file the probe wrote is in the export, the user's.
on_server() {
	local tg=$1 f=$SRV/$LU/$1.txt
	check "$2: $1.txt written inside is in the server's export, owned by $LU" \
		'[ -f "$f" ] && [ "$(stat -c %u:%g "$f")" = "$(id -u "$LU"):$(id -g "$LU")" ] && grep -q "written by $tg" "$f"' \
		"$(ls -ln "$SRV/$LU" 2>&1 | tr '\n' ' ')"
}
set_policy() { # the text of node 1's policy drop-in
	printf '%s\n' "$@" >"$POL"
}

# ================================================================ setup
log "start at guest uptime $T0 s (host: $(cat "$IO/host-times"))"
timeout 180 systemctl is-system-running --wait >/dev/null 2>&1
fig "boot: $(systemd-analyze 2>&1 | head -n1)"
failed=$(systemctl --failed --no-legend --plain 2>&1)
[ -z "$failed" ] || fig "failed units at boot: $(echo "$failed" | tr '\n' ';')"

# cl-env
check "cl-env: PID 1 is systemd" '[ "$(cat /proc/1/comm)" = systemd ]'
for m in sunrpc grace lockd auth_rpcgss nfsd nfs nfsv4 nfsv3; do
	modprobe "$m" 2>&1 || fail "cl-env: modprobe $m"
done
mods=$(for m in sunrpc grace lockd auth_rpcgss nfsd nfs nfsv4 nfsv3; do [ -d "/sys/module/$m" ] && printf '%s ' "$m"; done)
check "cl-env: the kernel's NFS modules are loaded" '[ "$mods" = "sunrpc grace lockd auth_rpcgss nfsd nfs nfsv4 nfsv3 " ]' "loaded: $mods"

# slapd: the users and groups.
t=$(uptime_s)
systemctl start slapd
cat >"$STATE/users.ldif" <<EOF
dn: ou=people,$BASE
objectClass: organizationalUnit
ou: people

dn: ou=groups,$BASE
objectClass: organizationalUnit
ou: groups

dn: cn=clusers,ou=groups,$BASE
objectClass: posixGroup
cn: clusers
gidNumber: 30000

dn: cn=$G,ou=groups,$BASE
objectClass: posixGroup
cn: $G
gidNumber: 30001
memberUid: $U
memberUid: $UB

EOF
uidn=20001
for u in "$U" "$UB" "$UC"; do
	cat >>"$STATE/users.ldif" <<EOF
dn: uid=$u,ou=people,$BASE
objectClass: inetOrgPerson
objectClass: posixAccount
uid: $u
cn: $u
sn: $u
uidNumber: $uidn
gidNumber: 30000
homeDirectory: /home/$u
loginShell: /bin/bash

EOF
	uidn=$((uidn + 1))
done
out=$(ldapadd -x -H ldap://127.0.0.1 -D "cn=admin,$BASE" -w cubby-test -f "$STATE/users.ldif" 2>&1); rc=$?
check "cl-ldap: ldapadd of 3 users and 2 groups to slapd" '[ $rc = 0 ]' "$out"
n=$(ldapsearch -x -LLL -H ldap://127.0.0.1 -b "$BASE" '(|(objectClass=posixAccount)(objectClass=posixGroup))' dn | grep -c '^dn:')
check "cl-ldap: slapd answers an anonymous search with 5 posix entries" '[ "$n" = 5 ]' "found $n"

# sssd: the node's view of LDAP.
cat >/etc/sssd/sssd.conf <<EOF
[sssd]
services = nss, pam
domains = cubby.test

[domain/cubby.test]
id_provider = ldap
auth_provider = ldap
ldap_uri = ldap://127.0.0.1
ldap_search_base = $BASE
ldap_schema = rfc2307
ldap_id_use_start_tls = false
ldap_auth_disable_tls_never_use_in_production = true
cache_credentials = false
entry_cache_timeout = 5
EOF
chmod 0600 /etc/sssd/sssd.conf
systemctl restart sssd
wait_for 300 'getent passwd "$U" >/dev/null'
pw=$(getent passwd "$U")
check "cl-ldap: sssd resolves $U (getent passwd)" '[ "$pw" = "$U:*:20001:30000:$U:/home/$U:/bin/bash" ]' "getent: '$pw'"
gr=$(getent group "$G")
check "cl-ldap: sssd resolves the LDAP group $G with its members" '[ "$gr" = "$G:*:30001:$U,$UB" ]' "getent: '$gr'"
idg=$(id -Gn "$U")
check "cl-ldap: id lists $G among the groups of $U" '[[ " $idg " == *" $G "* ]]' "id -Gn: $idg"
check "cl-ldap: the LDAP users and groups are not in /etc/passwd or /etc/group" \
	'! grep -q "^$U:\|^$UB:\|^$UC:" /etc/passwd && ! grep -q "^$G:\|^clusers:" /etc/group'
fig "slapd and sssd ready in $(since "$t") s"

# The NFS server: /srv/home with root_squash, short grace and lease times
# (the first open after the start waits for the grace period).
t=$(uptime_s)
mkdir -p "$SRV"
for u in "$U" "$UB" "$UC"; do
	install -d -m 0700 -o "$(id -u "$u")" -g 30000 "$SRV/$u"
	echo "from the server for $u" >"$SRV/$u/from-server.txt"
	install -d -m 0700 -o "$(id -u "$u")" -g 30000 "$SRV/$u/.ssh"
	chown "$(id -u "$u"):30000" "$SRV/$u/from-server.txt"
done
printf '[nfsd]\ngrace-time=10\nlease-time=10\nvers3=n\n' >/etc/nfs.conf.d/cluster.conf
printf '%s\n' "$SRV 127.0.0.1(rw,sync,root_squash,no_subtree_check) 198.51.100.0/24(rw,sync,root_squash,no_subtree_check)" >/etc/exports
systemctl restart nfs-server 2>&1 || fail "cl-nfs: systemctl restart nfs-server" "$(journalctl -q --no-pager -u nfs-server | tail -n 5)"
check "cl-env: slapd, sssd and nfs-server are active" \
	'[ "$(systemctl is-active slapd sssd nfs-server | sort -u)" = active ]' "$(systemctl is-active slapd sssd nfs-server | tr '\n' ' ')"
out=$(mount -t nfs -o vers=4.2,sec=sys "127.0.0.1:$SRV" /home 2>&1)
check "cl-nfs: node 1 mounts the export at /home (NFSv4.2)" \
	'[ "$(findmnt -n -o FSTYPE /home)" = nfs4 ]' "$out $(findmnt /home)"
fig "nfs server and mount ready in $(since "$t") s: $(findmnt -n -o SOURCE,FSTYPE,OPTIONS /home)"
ls "/home/$U" >/dev/null 2>"$STATE/ls.err"
check "cl-nfs: root_squash: root on the node cannot list the 0700 home" \
	'grep -q "Permission denied" "$STATE/ls.err"' "ls: $(cat "$STATE/ls.err")"
t=$(uptime_s)
rd=$(timeout 60 setpriv --reuid="$(id -u "$U")" --regid=30000 --init-groups cat "/home/$U/from-server.txt" 2>&1)
check "cl-nfs: the user reads the 0700 home over NFS" '[ "$rd" = "from the server for $U" ]' "$rd"
fig "first read as the user over NFS took $(since "$t") s"

# The ssh key: authorized_keys in the NFS homes, written as each user.
mkdir -p -m 0700 /root/.ssh
ssh-keygen -q -t ed25519 -N '' -f "$KEY"
for u in "$U" "$UB" "$UC"; do
	setpriv --reuid="$(id -u "$u")" --regid=30000 --init-groups \
		sh -c 'umask 077; cat >"$1"' sh "/home/$u/.ssh/authorized_keys" <"$KEY.pub" ||
		fail "cl-setup: authorized_keys of $u"
done

# The probe that every login runs (on the guest's root, which the
# containers see read-only).
cat >/usr/local/bin/cl-probe <<'EOF'
#!/bin/bash
t=$1
echo "@@pid=$$"
echo "@@uid=$(id -u)"
echo "@@groups=$(id -Gn 2>&1)"
echo "@@init=$(cat /proc/1/comm 2>&1)"
echo "@@home=$HOME"
# mountinfo: the fields after " - " are the type, the source, the options
echo "@@homemnt=$(awk -v h="$HOME" '$5 == h { o = $6; for (i = 7; $i != "-"; i++) ; t = $(i + 1) } END { print t " " o }' /proc/self/mountinfo)"
echo "@@read=$(cat "$HOME/from-server.txt" 2>&1)"
if echo "written by $t in pid $$" >"$HOME/$t.txt"; then echo "@@wrote=ok"; else echo "@@wrote=failed"; fi
echo "@@ls=$(ls "$HOME" 2>&1 | tr '\n' ' ')"
echo "@@end=ok"
EOF
chmod 0755 /usr/local/bin/cl-probe

# ---------------------------------------------------------------- cubby
t=$(uptime_s)
out=$(dpkg -i "$IO/cubby.deb" 2>&1); rc=$?
check "cl-setup: dpkg -i cubby.deb" '[ $rc = 0 ]' "$(echo "$out" | tail -n 5)"
for s in sshd su; do
	echo "session required pam_cubby.so" >>"/etc/pam.d/$s"
done
sed "s/^Match Group students/Match Group $G/" /usr/share/cubby/sshd_config.d/cubby.conf >/etc/ssh/sshd_config.d/cubby.conf
sshd -t 2>&1 && systemctl reload ssh.service || fail "cl-setup: sshd -t / reload ssh"
set_policy "[group $G]" "sandbox = yes" "memory = 256M" "pids = 256"
out=$(systemctl enable --now cubby.service 2>&1)
check "cl-setup: systemctl enable --now cubby.service" '[ "$(systemctl is-active cubby.service)" = active ]' "$out"
fig "cubby installed and configured in $(since "$t") s"

# ---------------------------------------------------------------- explain
ex=$(cubbyctl explain "$U" 2>&1)
fig "cubbyctl explain $U: $(echo "$ex" | tr '\n' '|')"
check "cl-explain: $U is sandboxed by the LDAP group's section ($POL:1)" \
	'printf "%s\n" "$ex" | grep -Eq "^sandbox +yes +# $POL:1\$"' "$ex"
check "cl-explain: the group's memory and pids limits come from that section" \
	'printf "%s\n" "$ex" | grep -Eq "^memory +268435456 +# $POL:1\$" && printf "%s\n" "$ex" | grep -Eq "^pids +256 +# $POL:1\$"' "$ex"
ex=$(cubbyctl explain "$UC" 2>&1)
check "cl-explain: $UC, outside $G, is not sandboxed (the shipped [default])" \
	'printf "%s\n" "$ex" | grep -Eq "^sandbox +no +# /etc/security/cubby.conf:[0-9]+\$"' "$ex"

# ---------------------------------------------------------------- local
# The default home mode on a local lower: LDAP users get the overlay home.
install -d -m 0755 /var/lib/cl-local
for u in "$U" "$UB"; do
	install -d -m 0700 -o "$(id -u "$u")" -g 30000 "/var/lib/cl-local/$u"
	echo "from the server for $u" >"/var/lib/cl-local/$u/from-server.txt"
	chown "$(id -u "$u"):30000" "/var/lib/cl-local/$u/from-server.txt"
done
set_policy "[group $G]" "sandbox = yes" "memory = 256M" "pids = 256" "home_lower = /var/lib/cl-local/%u"
t=$(uptime_s)
login su local1
fig "su login (persistent overlay home, local lower) took $(since "$t") s"
in_container local1 "cl-local-su"
check "cl-local-su: the overlay home reads the local lower and takes a write" \
	'[ "$(val local1 read)" = "from the server for $U" ] && [ "$(val local1 wrote)" = ok ] && [[ "$(val local1 homemnt)" == overlay* ]]' \
	"$(out_of local1)"
check "cl-local-su: the write went to the overlay's upper, not the lower" '[ ! -e "/var/lib/cl-local/$U/local1.txt" ]'
t=$(uptime_s)
LU=$UB login ssh local2
fig "ssh login (persistent overlay home, local lower) took $(since "$t") s"
LU=$UB in_container local2 "cl-local-ssh"

# ---------------------------------------------------------------- direct
# home = direct on the NFS home (root_squash, 0700) of node 1.
set_policy "[group $G]" "sandbox = yes" "memory = 256M" "pids = 256" "home = direct"
t=$(uptime_s)
login su direct1
fig "su login (home = direct on NFS) took $(since "$t") s"
in_container direct1 "cl-direct-su"
hm=$(val direct1 homemnt)
check "cl-direct-su: \$HOME is /home/$U, the NFS home itself, nosuid and nodev" \
	'[ "$(val direct1 home)" = "/home/$U" ] && [[ $hm == "nfs4 "* ]] && [[ ,${hm#* }, == *,nosuid,* ]] && [[ ,${hm#* }, == *,nodev,* ]]' "homemnt: $hm"
check "cl-direct-su: inside, id names the user's LDAP groups (clusers, $G)" '[ "$(val direct1 groups)" = "clusers $G" ]' "groups: $(val direct1 groups)"
check "cl-direct-su: the root-squashed 0700 home is read inside" '[ "$(val direct1 read)" = "from the server for $U" ]' "$(out_of direct1)"
on_server direct1 "cl-direct-su"
t=$(uptime_s)
login ssh direct2
fig "ssh login (home = direct on NFS) took $(since "$t") s"
in_container direct2 "cl-direct-ssh"
hm=$(val direct2 homemnt)
check "cl-direct-ssh: \$HOME is the NFS home, nosuid and nodev" \
	'[ "$(val direct2 home)" = "/home/$U" ] && [[ $hm == "nfs4 "* ]] && [[ ,${hm#* }, == *,nosuid,* ]] && [[ ,${hm#* }, == *,nodev,* ]]' "homemnt: $hm"
check "cl-direct-ssh: the session sees the file the su session wrote" '[[ " $(val direct2 ls) " == *" direct1.txt "* ]]' "ls: $(val direct2 ls)"
on_server direct2 "cl-direct-ssh"
# The per-user container (IDEs): its logins share one container.
set_policy "[group $G]" "sandbox = yes" "memory = 256M" "pids = 256" "home = direct" "container = user" "linger = 0"
t=$(uptime_s)
login ssh direct3
fig "ssh login (home = direct on NFS, container = user) took $(since "$t") s"
hm=$(val direct3 homemnt)
check "cl-direct-user: with container = user the ssh login runs in the user's container on the NFS home" \
	'[ $lrc = 0 ] && [ "$(val direct3 init)" = cubby-init ] && [ "$(val direct3 uid)" = 20001 ] && [[ $hm == "nfs4 "* ]] && [ "$(val direct3 wrote)" = ok ]' \
	"exit $lrc: init $(val direct3 init), homemnt $hm: $(out_of direct3)"
on_server direct3 "cl-direct-user"
wait_for 300 '[ ! -d /sys/fs/cgroup/system.slice/cubby.service/u20001/ct ]' ||
	fail "cl-direct-user: the container stopped after the logout (linger = 0)" "$(find /sys/fs/cgroup/system.slice/cubby.service -maxdepth 3 -type d)"
check "cl-direct: nothing of the home is in node 1's state_dir" \
	'[ -z "$(find /var/lib/cubby -name "direct*.txt" 2>/dev/null)" ]'

# ---------------------------------------------------------------- refuse
# An overlay over the NFS home: the lower can change under the overlay.
set_policy "[group $G]" "sandbox = yes" "memory = 256M" "pids = 256" "home = persistent"
login su refuse1
fig "persistent on NFS: exit $lrc: $(out_of refuse1 4 | tr '\n' '|')"
check "cl-refuse: su - with home = persistent on the NFS lower is refused, no shell ran" \
	'[ $lrc != 0 ] && [ -z "$(val refuse1 pid)" ] && [ ! -e "$SRV/$U/refuse1.txt" ]' "$(out_of refuse1)"
check "cl-refuse: the user is told why: a network file system, home = direct or home_lower_static" \
	'grep -q "network file system.*home = direct.*home_lower_static = yes" "$STATE/refuse1.out"' "$(out_of refuse1)"
jr=$(journalctl -q --no-pager -t pam_cubby -t cubby -t su -g home_lower_network 2>&1 | tail -n 3)
fig "persistent on NFS: the journal says: $jr"
check "cl-refuse: the log names the refusal, the lower and its network file system" \
	'printf "%s\n" "$jr" | grep -q "home_lower_network.*lower=/home/$U.*fs=nfs"' "$jr"
ck=$(cubbyctl check 2>&1)
fig "cubbyctl check (persistent on NFS): $(printf '%s' "$ck" | grep -i 'nfs\|network\|home' | tr '\n' '|' | cut -c1-400)"
check "cl-refuse: cubbyctl check reports the network lower" \
	'printf "%s\n" "$ck" | grep -qi "nfs" && printf "%s\n" "$ck" | grep -q "home_lower_static"' "$ck"
# sssd's responder pipes are root's and open to everyone, and every
# sandbox hides them (the helper's built-in list): check must not ask the
# admin to hide them again
check "cl-ldap: cubbyctl check does not list sssd's pipes, which every sandbox hides" \
	'[ -S /var/lib/sss/pipes/nss ] && ! printf "%s\n" "$ck" | grep -q "/var/lib/sss/pipes"' "$ck"
set_policy "[group $G]" "sandbox = yes" "memory = 256M" "pids = 256" "home = persistent" "home_lower_static = yes"
t=$(uptime_s)
login su override1
fig "persistent on NFS with home_lower_static = yes: exit $lrc in $(since "$t") s: $(out_of override1 4 | tr '\n' '|')"
in_container override1 "cl-override"
check "cl-override: the overlay home reads the root-squashed 0700 NFS lower and takes a write" \
	'[ "$(val override1 read)" = "from the server for $U" ] && [ "$(val override1 wrote)" = ok ] && [[ "$(val override1 homemnt)" == overlay* ]]' \
	"$(out_of override1)"
check "cl-override: the write stayed in the overlay, the NFS home is unchanged" '[ ! -e "$SRV/$U/override1.txt" ]'

# ---------------------------------------------------------------- node 2
t=$(uptime_s)
set_policy "[group $G]" "sandbox = yes" "memory = 256M" "pids = 256" "home = direct"
ip netns add "$N2"
ip link add cln2a type veth peer name cln2b
ip link set cln2b netns "$N2"
ip addr add 198.51.100.1/24 dev cln2a && ip link set cln2a up
nsenter --net=/run/netns/$N2 sh -c 'ip addr add 198.51.100.2/24 dev cln2b && ip link set cln2b up && ip link set lo up' ||
	fail "cl-node2: its network"
mkdir -p "$N2DIR/ns" "$N2DIR/conf.d" /run/cubby /var/lib/cubby
mount --bind "$N2DIR/ns" "$N2DIR/ns" && mount --make-private "$N2DIR/ns"
touch "$N2MNT"
printf '%s\n' "[global]" "cgroup_parent = /cubby-node2" "" "[group $G]" "sandbox = yes" "memory = 256M" "pids = 256" "home = direct" \
	>"$N2DIR/cubby.conf"
chmod 0644 "$N2DIR/cubby.conf"
# A node of its own: the export over node 2's network, empty cubby run and
# state dirs, its own policy; shared propagation as on a systemd host.
out=$(nsenter --net=/run/netns/$N2 unshare --mount="$N2MNT" --propagation private sh -c '
	umount -l /home &&
	mount -t nfs -o vers=4.2,sec=sys 198.51.100.1:'"$SRV"' /home &&
	mount -t tmpfs -o mode=0755,nosuid,nodev cubby-node2-run /run/cubby &&
	mount -t tmpfs -o mode=0755 cubby-node2-state /var/lib/cubby &&
	mount --bind '"$N2DIR"'/cubby.conf /etc/security/cubby.conf &&
	mount --bind '"$N2DIR"'/conf.d /etc/security/cubby.conf.d &&
	mount --make-rshared /' 2>&1)
check "cl-node2: node 2 mounts the export over its own network (198.51.100.2 to 198.51.100.1)" \
	'[ "$(n2 findmnt -n -o SOURCE,FSTYPE /home)" = "198.51.100.1:$SRV nfs4" ]' "$out $(n2 findmnt /home 2>&1)"
n2 /usr/sbin/sshd -o PidFile=$N2DIR/sshd.pid -o ListenAddress=198.51.100.2 || fail "cl-node2: its sshd"
n1run=$(find /run/cubby /var/lib/cubby -mindepth 1 2>/dev/null | sort)
n2run=$(n2 find /run/cubby /var/lib/cubby -mindepth 1 2>/dev/null)
check "cl-node2: node 2 starts with empty cubby run and state dirs" '[ -z "$n2run" ]' "$n2run"
fig "node 2 set up in $(since "$t") s, node 1's run/state entries: $(echo "$n1run" | wc -l)"
ex=$(n2 cubbyctl explain "$U" 2>&1)
check "cl-node2: node 2's own policy applies (cubbyctl explain there)" \
	'printf "%s\n" "$ex" | grep -Eq "^sandbox +yes +# /etc/security/cubby.conf:4\$"' "$ex"
t=$(uptime_s)
login su node2a 2
fig "node 2: su login took $(since "$t") s"
in_container node2a "cl-node2-su"
check "cl-node2-su: sees the files node 1's sessions wrote" \
	'[[ " $(val node2a ls) " == *" direct1.txt "* && " $(val node2a ls) " == *" direct2.txt "* ]]' "ls: $(val node2a ls)"
on_server node2a "cl-node2-su"
hcg=$(n2 sh -c 'ls -d /sys/fs/cgroup/cubby-node2 2>&1')
login ssh node2b 2
in_container node2b "cl-node2-ssh"
on_server node2b "cl-node2-ssh"
LU=$U login su node2c
check "cl-node2: node 1 sees what node 2 wrote" '[[ " $(val node2c ls) " == *" node2a.txt "* && " $(val node2c ls) " == *" node2b.txt "* ]]' \
	"ls: $(val node2c ls)"
n1after=$(find /run/cubby /var/lib/cubby -mindepth 1 2>/dev/null | sort)
check "cl-node2: node 2's logins left node 1's run and state dirs as they were" \
	'[ "$n1after" = "$n1run" ]' "before: $n1run | after: $n1after"
check "cl-node2: node 2's sessions used its own cgroup parent" '[ -d /sys/fs/cgroup/cubby-node2 ]' "$hcg"

# ---------------------------------------------------------------- clean
wait_for 100 '[ -z "$(ls -A /run/cubby/sessions 2>/dev/null)" ] && [ -z "$(n2 ls -A /run/cubby/sessions 2>/dev/null)" ]'
check "cl-clean: no session record left on either node" \
	'[ -z "$(ls -A /run/cubby/sessions 2>/dev/null)" ] && [ -z "$(n2 ls -A /run/cubby/sessions 2>/dev/null)" ]' \
	"$(ls -A /run/cubby/sessions 2>&1) | $(n2 ls -A /run/cubby/sessions 2>&1)"
left=$(find /sys/fs/cgroup/system.slice/cubby.service /sys/fs/cgroup/cubby-node2 -mindepth 2 -maxdepth 2 -name 's*' 2>/dev/null)
check "cl-clean: no session cgroup left on either node" '[ -z "$left" ]' "$left"
m1=$(grep -c " /home/$U " /proc/self/mountinfo)
check "cl-clean: no mount of the home left on node 1 (cubby binds it only inside)" '[ "$m1" = 0 ]'
gc1=$(cubbyctl gc 2>&1); gc2=$(n2 cubbyctl gc 2>&1)
fig "gc: node 1: $(echo "$gc1" | tr '\n' ' '), node 2: $(echo "$gc2" | tr '\n' ' ')"

log "done"
finish
