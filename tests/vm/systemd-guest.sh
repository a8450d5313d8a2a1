#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The guest side of vm-systemd (tests/vm/systemd.sh): runs as root from
# cubby-vmtest.service in a Debian 12 guest whose PID 1 is systemd, on a
# pure cgroup v2 hierarchy, with the stock PAM stacks (pam_systemd in
# common-session). The guest is a throwaway: its disk is a QEMU snapshot,
# so this script edits /etc/pam.d and the ssh config for real.
#
# Phase 1 (first boot):
#   sd-env          systemd is PID 1, cgroup v2 only, logind runs, boot time
#   sd-install      dpkg -i of the .deb, the README's steps: the PAM line in
#                   sshd, su, login, systemd-user and runuser, the sshd
#                   snippet, a policy for the test group (network = nat),
#                   and `systemctl enable --now cubby.service`; then
#                   `cubbyctl check` warns of nothing
#   sd-login-ssh    a real sshd on port 22, su - and login -f each land in a
#   sd-login-su     container: PID 1 inside, host cgroup below
#   sd-login-login  /system.slice/cubby.service/u<uid>/s<id>, and logind
#                   lists the session (loginctl, with its service)
#   sd-keep-*       during one ssh session with network = nat:
#                   `systemctl daemon-reload`, `systemctl reload nftables`
#                   and `systemctl restart nftables` (Debian's
#                   nftables.conf: `flush ruleset`; the restart reaches
#                   cubby.service through PartOf=) and `systemctl restart
#                   cubby`: the session lives on in its cgroup,
#                   cubby.service is active, and from the session's
#                   network namespace an outside host answers while the
#                   guest itself and a deny-listed address do not
#   sd-linger       a per-user container (container = user, linger = 20s)
#                   under logind's KillUserProcesses=yes: a job left running
#                   outlives the logind session, in .../u<uid>/ct, and the
#                   idle container stops within the linger, a sweep and
#                   stop_grace
#   sd-keep-restart-ct the second user's container, now with linger =
#                   always and no session, lingers; `systemctl restart
#                   cubby` leaves it running (its init and job)
#   then it keeps lingering, a session of the first user is left open, its
#   opener (su) is killed as by a crash, and the guest reboots.
# Phase 2 (second boot):
#   sd-boot-net     cubby.service ran `net up` at boot: its tables, the
#                   bridge and forwarding are there before any login
#   sd-boot-shutdown the way down, with a per-user container lingering,
#                   takes under 60 s (measured 5-11 s; what it guards
#                   against waits systemd's 90 s stop timeout, measured
#                   102 s, so any bound under 90 s tells them apart and
#                   60 s leaves room for a loaded host):
#                   cubby-shutdown.service stops the containers (`cubbyctl
#                   stop --all`), then cubby.service's ExecStop= the idle
#                   anchor holder
#   sd-boot-order   cubby.service is ordered before ssh.service and
#                   systemd-user-sessions.service, and was active before
#                   they started
#   sd-boot-clean   nothing of the session and the container from before
#                   the reboot is left (records, cgroups, leases, mounts);
#                   `cubbyctl gc` reaps nothing
#   sd-boot-login   the next su and ssh logins land in containers
# Output: PASS/FAIL lines and figures; $IO/rc gets 0 or 1 at the end.

set -u -o pipefail

IO=/run/cubby-vm
STATE=/var/lib/cubby-vmtest # on the guest's disk: survives the reboot
mkdir -p "$STATE"
U=cbsduser
G=cbsdgroup
U2=cbsdlinger # container = user, linger
G2=cbsdlgroup
SD_CG=/sys/fs/cgroup/system.slice/cubby.service
RUNDIR=/run/cubby
OUTNS=cbsdout
KEY=/root/.ssh/id_ed25519
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8

. "$IO/guest-lib.sh"
finish() {
	if [ "$(failures)" -gt 0 ]; then
		echo "---- diagnostics"
		systemctl --no-pager status cubby.service 2>&1 | head -n 30
		journalctl -b --no-pager -q -u cubby.service -u ssh.service -u systemd-logind.service 2>&1 | tail -n 40
		journalctl -b --no-pager -q -p warning 2>&1 | tail -n 30
	fi
	finish_result vm-systemd
	sync
	systemctl poweroff
	exit 0
}

uid=
getuid() { uid=$(id -u "$U"); gid=$(id -g "$U"); }

# ---------------------------------------------------------------- sessions
# start_session VIA TAG: a login of $U through VIA (ssh, su, login) whose
# shell prints its pid and cgroup, then waits in `sleep TAG`; output in
# $STATE/TAG.out. Sets spid (the sleep's host pid) once it runs.
start_session() {
	local via=$1 tag=$2
	# the marker is put together at run time: a pty's echo of the typed
	# line never matches it
	local cmd="p=@@; echo \${p}pid=\$\$; echo \${p}cg=\$(cat /proc/self/cgroup); sleep $tag; echo \${p}end"
	: >"$STATE/$tag.out"
	case $via in
	ssh) timeout 300 ssh -i "$KEY" -o BatchMode=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "$U@127.0.0.1" "$cmd" \
		</dev/null >"$STATE/$tag.out" 2>&1 & ;;
	su) timeout 300 su - "$U" -c "$cmd" </dev/null >"$STATE/$tag.out" 2>&1 & ;;
	login) { printf '%s\nexit\n' "$cmd"; sleep 300; } |
		timeout 300 script -qfec "login -f $U" /dev/null >"$STATE/$tag.out" 2>&1 & ;;
	esac
	bgpid=$!
	spid=
	wait_for 600 "spid=\$(pgrep -u $U -xf 'sleep $tag' | head -n1); [ -n \"\$spid\" ] || ! kill -0 $bgpid 2>/dev/null"
	[ -n "$spid" ]
}
# end_session TAG: the session's sleep ends, its shell exits; waits for the
# opener (bounded).
end_session() {
	kill -TERM "$spid" 2>/dev/null
	wait_for 600 "grep -q '@@end' '$STATE/$1.out' && ! kill -0 $bgpid 2>/dev/null" || {
		kill -TERM "$bgpid" 2>/dev/null
		pkill -f "^sleep 300$" 2>/dev/null
		return 1
	}
	pkill -xf "sleep 300" 2>/dev/null # login's typist
	wait "$bgpid" 2>/dev/null
	return 0
}
val() { tr -d '\r' <"$STATE/$1.out" | grep -ao "@@$2=[^@]*" | head -n1 | sed -e "s/^@@$2=//" -e 's/[[:space:]]*$//'; }

# probe IP: from the network namespace of the session's sleep ($spid), as
# the user: does IP:22 answer with an SSH banner? prints "open" or "closed"
probe() {
	local out
	out=$(nsenter --target "$spid" --net -- setpriv --reuid="$uid" --regid="$gid" --clear-groups \
		timeout "${2:-3}" bash -c "exec 3<>/dev/tcp/$1/22 && head -c 7 <&3" 2>/dev/null)
	[ "$out" = SSH-2.0 ] && echo open || echo closed
}
# fenced LABEL: the session's sandbox reaches the outside host, not the
# guest itself and not a deny-listed address.
fenced() {
	local label=$1 a b c d
	local p1 p2 p3
	probe 10.213.0.1 >"$STATE/p1" & p1=$!
	probe 203.0.113.1 >"$STATE/p2" & p2=$!
	probe 172.31.9.2 >"$STATE/p3" & p3=$!
	wait $p1 $p2 $p3
	b=$(cat "$STATE/p1"); c=$(cat "$STATE/p2"); d=$(cat "$STATE/p3")
	a=$(probe 203.0.113.2 15)
	if [ "$a/$b/$c/$d" = open/closed/closed/closed ]; then
		pass "$label: outside host 203.0.113.2 answers; the guest (10.213.0.1, 203.0.113.1) and deny-listed 172.31.9.2 do not"
	else
		fail "$label" "want outside/gateway/host/deny = open/closed/closed/closed, have $a/$b/$c/$d" \
			"$(nft list tables 2>&1 | tr '\n' ' ')"
	fi
}

# ================================================================ phase 2
if [ "$(cat "$STATE/phase" 2>/dev/null)" = 2 ]; then
	echo 3 >"$STATE/phase"
	log "phase 2: after the reboot (uptime $T0 s at the start of the test unit)"
	getuid
	timeout 180 systemctl is-system-running --wait >/dev/null 2>&1
	fig "second boot: $(systemd-analyze 2>&1 | head -n1)"
	# How long the way down took: from `systemctl reboot` to this boot's
	# start (wall clock; the guest's RTC is the host's). A process that
	# ignores SIGTERM holds the shutdown for DefaultTimeoutStopSec (90 s).
	down=$(awk -v r="$(cat "$STATE/reboot-at")" -v n="$(date +%s.%N)" -v u="$(uptime_s)" 'BEGIN{printf "%.1f", n - u - r}')
	fig "shutdown and reset took $down s"
	# What the way down did with the lingering container (the journal is
	# on the guest's disk).
	fig "shutdown: $(journalctl -b -1 -q --no-pager -o cat -u cubby-shutdown.service -u cubby.service 2>/dev/null | grep -E 'stop|gc:|container' | tail -n 10 | tr '\n' ';')"
	check "sd-boot-shutdown: the reboot with a lingering per-user container took under 60 s (systemd's stop timeout: 90 s; took $down s)" \
		'awk -v d="$down" "BEGIN{exit !(d < 60)}"' "$(journalctl -b -1 -q --no-pager 2>/dev/null | grep -i 'waiting for process\|sigkill\|timed out\|stop job' | tail -n 5)"
	# Before any login: cubby.service's `net up` ran at boot.
	st=$(systemctl is-active cubby.service)
	nsess=$(loginctl list-sessions --no-legend | grep -c " $U ")
	check "sd-boot-net: cubby.service active after the boot" '[ "$st" = active ]' "is-active: $st"
	check "sd-boot-net: no login of $U since the boot" '[ "$nsess" = 0 ]'
	check "sd-boot-net: cubby's nftables table is there" 'nft list table inet cubby >/dev/null 2>&1'
	check "sd-boot-net: the bridge cubby0 is up" 'ip -br link show cubby0 2>/dev/null | grep -q UP' "$(ip -br link 2>&1 | tr '\n' ' ')"
	check "sd-boot-net: forwarding on" '[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]'
	# Boot order: the subtree and the network before the first login.
	mono() { systemctl show -P "$2" "$1"; }
	c_up=$(mono cubby.service ActiveEnterTimestampMonotonic)
	s_st=$(mono ssh.service ExecMainStartTimestampMonotonic)
	us_st=$(mono systemd-user-sessions.service ActiveEnterTimestampMonotonic)
	fig "boot order (monotonic us): cubby.service active $c_up, ssh.service started $s_st, user sessions allowed $us_st"
	before=$(systemctl show -P Before cubby.service)
	check "sd-boot-order: cubby.service is ordered before ssh.service and systemd-user-sessions.service" \
		'[[ " $before " == *" ssh.service "* && " $before " == *" systemd-user-sessions.service "* ]]' "Before=$before"
	check "sd-boot-order: cubby.service was active before sshd started" \
		'[ "${c_up:-0}" -gt 0 ] && [ "$c_up" -le "${s_st:-0}" ]'
	check "sd-boot-order: cubby.service was active before logins were allowed" \
		'[ "${c_up:-0}" -gt 0 ] && [ "$c_up" -le "${us_st:-0}" ]'
	# Nothing of the session that was open when the guest went down.
	recs=$(ls -A "$RUNDIR/sessions" 2>/dev/null)
	check "sd-boot-clean: no session record in $RUNDIR/sessions" '[ -z "$recs" ]' "$recs"
	ucg=$(find "$SD_CG" -mindepth 1 -maxdepth 1 -name 'u*' 2>/dev/null)
	check "sd-boot-clean: no user cgroup below cubby.service" '[ -z "$ucg" ]' "$ucg"
	ctrec=$(ls -A "$RUNDIR/containers" 2>/dev/null)
	check "sd-boot-clean: no container record in $RUNDIR/containers" '[ -z "$ctrec" ]' "$ctrec"
	check "sd-boot-clean: no process of $U2 (its container's job)" '! pgrep -u "$U2" >/dev/null' \
		"$(ps -o pid,args -u "$U2" 2>&1 | tr '\n' ';')"
	mnts=$(grep -c '/var/lib/cubby' /proc/self/mountinfo)
	check "sd-boot-clean: no cubby mount on the host" '[ "$mnts" = 0 ]'
	list=$(cubbyctl list 2>&1)
	check "sd-boot-clean: cubbyctl list shows no session and no container" \
		'! printf "%s\n" "$list" | grep -Eq " ($U|$U2) "' "$list"
	gc=$(cubbyctl gc 2>&1); rc=$?
	fig "gc after the reboot: $(echo "$gc" | tr '\n' ' ')"
	check "sd-boot-clean: cubbyctl gc exits 0 and reaps nothing" \
		'[ $rc = 0 ] && printf "%s\n" "$gc" | grep -Eq "^gc: (no sessions|0 sessions reaped)" && ! printf "%s\n" "$gc" | grep -Eq "unmounted|released|removed|stopped"' "$gc"
	fig "state after the reboot: $(find /var/lib/cubby "$RUNDIR" -maxdepth 3 2>/dev/null | tr '\n' ' ')"
	# The next logins.
	if start_session su 4001; then
		hcg=$(cat "/proc/$spid/cgroup")
		check "sd-boot-login: su - lands in a container below cubby.service" \
			'[ "$(val 4001 pid)" = 1 ] && [[ $hcg == "0::/system.slice/cubby.service/u$uid/s"* ]]' "pid $(val 4001 pid), $hcg"
		end_session 4001 || fail "sd-boot-login: the su session did not end" "$(cat "$STATE/4001.out")"
	else
		fail "sd-boot-login: su - lands in a container" "$(cat "$STATE/4001.out")"
	fi
	if start_session ssh 4002; then
		hcg=$(cat "/proc/$spid/cgroup")
		check "sd-boot-login: ssh lands in a container below cubby.service" \
			'[ "$(val 4002 pid)" = 1 ] && [[ $hcg == "0::/system.slice/cubby.service/u$uid/s"* ]]' "pid $(val 4002 pid), $hcg"
		end_session 4002 || fail "sd-boot-login: the ssh session did not end" "$(cat "$STATE/4002.out")"
	else
		fail "sd-boot-login: ssh lands in a container" "$(cat "$STATE/4002.out")"
	fi
	log "phase 2 done"
	finish
fi
if [ -n "$(cat "$STATE/phase" 2>/dev/null)" ]; then
	echo "FAIL: the guest booted a third time (phase $(cat "$STATE/phase"))"
	echo "booted again" >>"$STATE/fails"
	finish
fi
echo 2 >"$STATE/phase.next"

# ================================================================ phase 1
log "phase 1 (uptime $T0 s at the start of the test unit; host: $(cat "$IO/host-times"))"
timeout 180 systemctl is-system-running --wait >/dev/null 2>&1
fig "boot: $(systemd-analyze 2>&1 | head -n1)"
failed=$(systemctl --failed --no-legend --plain 2>&1)
[ -z "$failed" ] || fig "failed units at boot: $(echo "$failed" | tr '\n' ';')"

# sd-env
check "sd-env: PID 1 is systemd" '[ "$(cat /proc/1/comm)" = systemd ]'
check "sd-env: /sys/fs/cgroup is cgroup2 and no v1 hierarchy is mounted" \
	'[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && ! grep -q " cgroup " /proc/self/mounts'
check "sd-env: systemd-logind is running" '[ "$(systemctl is-active systemd-logind)" = active ]'
check "sd-env: pam_systemd is in the stock common-session" 'grep -q "^session.*pam_systemd.so" /etc/pam.d/common-session'
fig "guest: kernel $(uname -r), $(systemctl --version | head -n1), controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"

# sd-install
t=$(uptime_s)
out=$(dpkg -i "$IO/cubby.deb" 2>&1); rc=$?
log "dpkg -i done" 
check "sd-install: dpkg -i cubby.deb" '[ $rc = 0 ]' "$(echo "$out" | tail -n 5)"
check "sd-install: cubby-shell is setuid root" '[ "$(stat -c "%a %U" /usr/libexec/cubby-shell)" = "4755 root" ]'
check "sd-install: cubby.service is shipped and not enabled by the package" \
	'[ -f /lib/systemd/system/cubby.service ] && [ -f /lib/systemd/system/cubby-shutdown.service ] && [ "$(systemctl is-enabled cubby.service)" = disabled ]' \
	"$(systemctl is-enabled cubby.service 2>&1)"
groupadd "$G" && useradd -m -s /bin/bash -g "$G" "$U" || fail "sd-install: useradd"
getuid
mkdir -p /etc/security/cubby.conf.d
cat >/etc/security/cubby.conf.d/50-vmtest.conf <<EOF
[group $G]
sandbox = yes
network = nat
memory = 256M
pids = 256
EOF
for s in sshd su login systemd-user runuser; do
	echo "session required pam_cubby.so" >>"/etc/pam.d/$s"
done
sed "s/^Match Group students/Match Group $G/" /usr/share/cubby/sshd_config.d/cubby.conf >/etc/ssh/sshd_config.d/cubby.conf
mkdir -p -m 0700 /root/.ssh "/home/$U/.ssh"
ssh-keygen -q -t ed25519 -N '' -f "$KEY"
cp "$KEY.pub" "/home/$U/.ssh/authorized_keys"
chown -R "$U:$G" "/home/$U/.ssh"
chmod 0700 "/home/$U/.ssh"
sshd -t 2>&1 && systemctl reload ssh.service || fail "sd-install: sshd -t / reload ssh"
log "configured"
out=$(systemctl enable --now cubby.service 2>&1); rc=$?
check "sd-install: systemctl enable --now cubby.service" '[ $rc = 0 ] && [ "$(systemctl is-active cubby.service)" = active ]' "$out"
out=$(cubbyctl check 2>&1); rc=$?
fig "cubbyctl check: exit $rc: $(echo "$out" | tr '\n' ' ' | cut -c1-400)"
# The README's steps (runuser included: it gives root a shell as the user)
# leave nothing for `cubbyctl check` to warn about.
check "sd-install: cubbyctl check exits 0 with no warning after the README's steps" \
	'[ $rc = 0 ] && ! printf "%s\n" "$out" | grep -qi warning' "$out"
log "installed and configured in $(awk -v a="$t" -v b="$(uptime_s)" 'BEGIN{printf "%.1f", b - a}') s"

# The fake outside: a network namespace with an outside host (203.0.113.2)
# and a deny-listed one (172.31.9.2, in 172.16.0.0/12), each with an sshd.
ip netns add "$OUTNS"
ip link add cbsdo0 type veth peer name cbsdo1
ip link set cbsdo1 netns "$OUTNS"
ip addr add 203.0.113.1/24 dev cbsdo0 && ip addr add 172.31.9.1/24 dev cbsdo0 && ip link set cbsdo0 up
nsenter --net=/run/netns/$OUTNS sh -c 'ip addr add 203.0.113.2/24 dev cbsdo1 && ip addr add 172.31.9.2/24 dev cbsdo1 &&
	ip link set cbsdo1 up && ip link set lo up && /usr/sbin/sshd -o PidFile=/run/cbsdout-sshd.pid' ||
	fail "sd-setup: the outside namespace"

# ---------------------------------------------------------------- point 1
tag=1000
for via in ssh su login; do
	tag=$((tag + 1))
	t=$(uptime_s)
	if ! start_session "$via" "$tag"; then
		fail "sd-login-$via: the session started" "$(tail -n 20 "$STATE/$tag.out")"
		continue
	fi
	fig "$via: login to a running shell in $(awk -v a="$t" -v b="$(uptime_s)" 'BEGIN{printf "%.1f", b - a}') s"
	hcg=$(cat "/proc/$spid/cgroup")
	check "sd-login-$via: the shell is PID 1 of its container, its cgroup namespace rooted there" \
		'[ "$(val $tag pid)" = 1 ] && [ "$(val $tag cg)" = "0::/" ]' "$(tail -n 5 "$STATE/$tag.out")"
	check "sd-login-$via: its cgroup is below /system.slice/cubby.service/u$uid/" \
		'[[ $hcg =~ ^0::/system.slice/cubby.service/u$uid/s[^/]+$ ]]' "$hcg"
	sess=$(loginctl list-sessions --no-legend | awk -v u="$U" '$3 == u {print $1}')
	svc=
	for s in $sess; do svc+="$(loginctl show-session -P Service "$s") "; done
	fig "$via: loginctl sessions of $U: [$sess] services [$svc]"
	want=$via; [ "$via" = ssh ] && want=sshd; [ "$via" = su ] && want=su-l
	check "sd-login-$via: logind lists the session (service $want)" '[[ " $svc" == *" $want "* ]]' "services: [$svc]"
	# The sandbox is in none of logind's scopes.
	check "sd-login-$via: no process of the container is in user.slice" \
		'! grep -q "user.slice" "/proc/$spid/cgroup"'
	if end_session "$tag"; then
		pass "sd-login-$via: the session ends cleanly"
	else
		fail "sd-login-$via: the session ends cleanly" "$(tail -n 10 "$STATE/$tag.out")"
	fi
done
wait_for 100 '[ -z "$(find "$SD_CG" -mindepth 1 -maxdepth 1 -name "u*")" ]' ||
	fail "sd-login: u$uid left below cubby.service after the logouts" "$(find "$SD_CG" -maxdepth 2)"

# ---------------------------------------------------------------- point 2
if start_session ssh 2001; then
	hcg0=$(cat "/proc/$spid/cgroup")
	sp0=$spid
	fenced "sd-keep-baseline"
	alive() { # LABEL: the session lives on, in the same cgroup; the unit is active
		local st
		# a reload or restart propagated from nftables.service is a job
		# of its own
		wait_for 300 '[ "$(systemctl is-active cubby.service)" = active ]'
		st=$(systemctl is-active cubby.service)
		if kill -0 "$sp0" 2>/dev/null && [ "$(cat "/proc/$sp0/cgroup" 2>/dev/null)" = "$hcg0" ] && [ "$st" = active ]; then
			pass "$1: the session lives on in $hcg0; cubby.service $st"
		else
			fail "$1: the session lives on in its cgroup; cubby.service active" \
				"sleep $sp0: $(cat "/proc/$sp0/cgroup" 2>&1); cubby.service: $st" \
				"$(journalctl -b -q --no-pager -u cubby.service | tail -n 8)"
		fi
	}
	out=$(systemctl daemon-reload 2>&1) || fail "sd-keep-daemon-reload: systemctl daemon-reload" "$out"
	alive "sd-keep-daemon-reload"
	fenced "sd-keep-daemon-reload"
	grep -q '^flush ruleset' /etc/nftables.conf || fail "sd-keep-nft-reload: Debian's nftables.conf flushes the ruleset"
	out=$(systemctl reload nftables.service 2>&1) || fail "sd-keep-nft-reload: systemctl reload nftables" "$out"
	alive "sd-keep-nft-reload"
	check "sd-keep-nft-reload: cubby's table is back after the flush" 'nft list table inet cubby >/dev/null 2>&1'
	fenced "sd-keep-nft-reload"
	# A restart of nftables: its stop flushes the ruleset, its start loads
	# nftables.conf (`flush ruleset` again); PartOf= restarts cubby.service
	# with it, whose start puts the tables back.
	a0=$(systemctl show -P ActiveEnterTimestampMonotonic cubby.service)
	t=$(uptime_s)
	out=$(systemctl restart nftables.service 2>&1) || fail "sd-keep-nft-restart: systemctl restart nftables" "$out"
	wait_for 300 'nft list table inet cubby >/dev/null 2>&1'
	fig "restart of nftables: cubby's table back after $(awk -v a="$t" -v b="$(uptime_s)" 'BEGIN{printf "%.1f", b - a}') s"
	alive "sd-keep-nft-restart"
	check "sd-keep-nft-restart: cubby.service was restarted with nftables.service" \
		'[ "$(systemctl show -P ActiveEnterTimestampMonotonic cubby.service)" -gt "${a0:-0}" ]'
	check "sd-keep-nft-restart: cubby's table is back after the restart's flush" 'nft list table inet cubby >/dev/null 2>&1' \
		"$(nft list tables 2>&1 | tr '\n' ' ')"
	fenced "sd-keep-nft-restart"
	t=$(uptime_s)
	out=$(systemctl restart cubby.service 2>&1) || fail "sd-keep-restart: systemctl restart cubby" "$out"
	fig "restart of cubby.service took $(awk -v a="$t" -v b="$(uptime_s)" 'BEGIN{printf "%.1f", b - a}') s"
	alive "sd-keep-restart"
	fenced "sd-keep-restart"
	if end_session 2001; then
		pass "sd-keep: the session ends cleanly after all four"
	else
		fail "sd-keep: the session ends cleanly after all four" "$(tail -n 10 "$STATE/2001.out")"
	fi
else
	fail "sd-keep: the session started" "$(tail -n 20 "$STATE/2001.out")"
fi

# ---------------------------------------------------------------- point 3
# A per-user container (container = user, linger = 20s) of a second user,
# with logind's KillUserProcesses=yes: what the user leaves running
# outlives the logind session, and the idle container stops on time.
groupadd "$G2" && useradd -m -s /bin/bash -g "$G2" "$U2" || fail "sd-linger: useradd"
uid2=$(id -u "$U2")
printf '[group %s]\nsandbox = yes\ncontainer = user\nlinger = 20s\nstop_grace = 2s\n' "$G2" \
	>/etc/security/cubby.conf.d/60-vmtest-user.conf
mkdir -p -m 0700 "/home/$U2/.ssh"
cp "$KEY.pub" "/home/$U2/.ssh/authorized_keys"
chown -R "$U2:$G2" "/home/$U2/.ssh"
mkdir -p /etc/systemd/logind.conf.d
printf '[Login]\nKillUserProcesses=yes\n' >/etc/systemd/logind.conf.d/90-cubby-vmtest.conf
systemctl restart systemd-logind
wait_for 300 '[ "$(systemctl is-active systemd-logind)" = active ]'
check "sd-linger: logind runs with KillUserProcesses=yes" \
	'[ "$(busctl get-property org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager KillUserProcesses 2>/dev/null)" = "b true" ]'
out=$(timeout 120 ssh -i "$KEY" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o LogLevel=ERROR "$U2@127.0.0.1" 'setsid nohup sleep 5001 </dev/null >/dev/null 2>&1 & echo started' 2>&1); rc=$?
tl=$(uptime_s)
check "sd-linger: an ssh login into the per-user container starts a job and logs out" \
	'[ $rc = 0 ] && [ "$(printf "%s" "$out" | tail -n1)" = started ]' "$out"
# logind ends the session and, with KillUserProcesses=yes, kills its scope
wait_for 300 '[ -z "$(loginctl list-sessions --no-legend | awk -v u="$U2" "\$3 == u")" ]' ||
	fail "sd-linger: logind still lists a session of $U2" "$(loginctl list-sessions --no-legend)"
sleep 3
jp=$(pgrep -u "$U2" -xf 'sleep 5001' | head -n1)
jcg=$(cat "/proc/$jp/cgroup" 2>/dev/null)
fig "linger: after the logind session of $U2 ended: job $jp in $jcg; logind: $(loginctl list-sessions --no-legend | grep -c .) session(s)"
check "sd-linger: the job outlives the logind session under KillUserProcesses=yes" \
	'[ -n "$jp" ] && [[ $jcg == "0::/system.slice/cubby.service/u$uid2/ct" || $jcg == "0::/system.slice/cubby.service/u$uid2/ct/"* ]]' \
	"job '$jp' cgroup '$jcg'"
# idle: linger 20 s, a sweep every 5 s, stop_grace 2 s
wait_for 900 '[ ! -d "$SD_CG/u$uid2/ct" ]'
te=$(uptime_s)
idle=$(awk -v a="$tl" -v b="$te" 'BEGIN{printf "%.1f", b - a}')
fig "linger: the idle container of $U2 (linger = 20s) stopped $idle s after the logout"
check "sd-linger: the idle container stops on time (20 s linger, a 5 s sweep, stop_grace; took $idle s)" \
	'awk -v d="$idle" "BEGIN{exit !(d >= 18 && d <= 60)}" && ! pgrep -u "$U2" -xf "sleep 5001" >/dev/null' \
	"$(find "$SD_CG/u$uid2" -maxdepth 1 2>&1 | tr '\n' ' ')"
rm -f /etc/systemd/logind.conf.d/90-cubby-vmtest.conf

# A container that lingers (linger = always: only a stop ends it) with a
# job running and no session: `systemctl restart cubby` leaves it alone,
# and it is still there when the guest reboots (sd-boot-shutdown).
printf '[group %s]\nsandbox = yes\ncontainer = user\nlinger = always\nstop_grace = 2s\n' "$G2" \
	>/etc/security/cubby.conf.d/60-vmtest-user.conf
out=$(timeout 120 ssh -i "$KEY" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	-o LogLevel=ERROR "$U2@127.0.0.1" 'setsid nohup sleep 5002 </dev/null >/dev/null 2>&1 & echo started' 2>&1); rc=$?
check "sd-keep-restart-ct: an ssh login into a container with linger = always starts a job and logs out" \
	'[ $rc = 0 ] && [ "$(printf "%s" "$out" | tail -n1)" = started ]' "$out"
wait_for 300 '[ -z "$(loginctl list-sessions --no-legend | awk -v u="$U2" "\$3 == u")" ]'
ct_init=$(sed -n 's/^init_pid=//p' "$RUNDIR/containers/u$uid2" 2>/dev/null)
jp=$(pgrep -u "$U2" -xf 'sleep 5002' | head -n1)
fig "lingering container of $U2: init $ct_init, job $jp, $(cubbyctl list 2>&1 | grep -c " $U2 ") row(s) in cubbyctl list"
out=$(systemctl restart cubby.service 2>&1) || fail "sd-keep-restart-ct: systemctl restart cubby" "$out"
wait_for 300 '[ "$(systemctl is-active cubby.service)" = active ]'
check "sd-keep-restart-ct: systemctl restart cubby leaves the lingering container running (init $ct_init, job $jp)" \
	'[ -n "$ct_init" ] && [ -n "$jp" ] && kill -0 "$ct_init" && kill -0 "$jp" && [ "$(sed -n "s/^init_pid=//p" "$RUNDIR/containers/u$uid2")" = "$ct_init" ]' \
	"$(cubbyctl list 2>&1 | tail -n 5)"
check "sd-keep-restart-ct: cubby-shutdown.service is active (cubby.service pulls it in)" \
	'[ "$(systemctl is-active cubby-shutdown.service)" = active ]' "$(systemctl status --no-pager cubby-shutdown.service 2>&1 | head -n 5)"

# ---------------------------------------------------------------- reboot
# A session stays open while the guest goes down.
# Its opener (su) is killed first, as by a crash: nothing of it is torn
# down by close_session before the guest goes down.
start_session su 3001 || fail "sd-boot: the session to reboot with started" "$(tail -n 20 "$STATE/3001.out")"
opener=$(pgrep -u root -xf "su - $U -c .*sleep 3001.*" | head -n1)
[ -n "$opener" ] && kill -KILL "$opener"
fig "before the reboot: killed the su opener ($opener) of the open session"
fig "before the reboot: the container of $U2 lingers: $(cubbyctl list 2>&1 | grep " $U2 " | head -n1)"
fig "before the reboot: records $(ls "$RUNDIR/sessions" 2>/dev/null | wc -l), cgroups $(find "$SD_CG" -mindepth 1 -type d | wc -l), state: $(find /var/lib/cubby -maxdepth 3 2>/dev/null | tr '\n' ' ')"
log "phase 1 done: rebooting"
date +%s.%N >"$STATE/reboot-at"
mv "$STATE/phase.next" "$STATE/phase"
sync
systemctl reboot
sleep 120
