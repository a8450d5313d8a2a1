#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Rough edges that students and admins hit, each
# through real logins:
#  groups    the user's groups are mapped 1:1: `id` and file groups read as
#            on the host, /etc/group inside names them; none dropped (setgroups
#            stays "deny", a group that denies access keeps denying it), none
#            gained, no overflow gid (65534)
#  locale    150 LC_* variables sent through sshd's `AcceptEnv LANG LC_*` (and
#            passed by su) no longer refuse the login: the bound's worth is
#            kept, the rest dropped and logged once with the session id
#  hostname  a hostname pattern cut at 63 characters never leaves a trailing
#            '-'
#  opener    after the opener (su) is killed, the supervisor ends at once and
#            one `cubbyctl gc`, even run in that window, releases the lease
#            together with the record
#  runuser   Debian's runuser and runuser-l stacks: as shipped they give a host
#            shell; with pam_cubby in runuser (README, docs/INSTALL.md) they
#            are refused unless `services` names them, then sandboxed
# ROUGH_ONLY="groups locale ..." runs only the named parts (development).
IT_NEEDS="su runuser sshd ssh pgrep"
. "$(dirname "$0")/lib.sh"
it_init "$@"
. "$IT_LIBDIR/lib-extra.sh"

S1=$IT_S1
uid=$(it_uid "$S1")
part() { [ -z "${ROUGH_ONLY:-}" ] || [[ " $ROUGH_ONLY " == *" $1 "* ]]; }

# ------------------------------------------------------------ groups
if part groups; then
	# a second supplementary group, and files of the students group: one
	# in the home (the overlay's lower layer), one that denies the group
	# (mode 0604: CVE-2014-8989) outside it
	EXTRA_G=${IT_P}ex
	groupadd "$EXTRA_G" || it_fatal "groupadd $EXTRA_G"
	usermod -a -G "$EXTRA_G" "$S1" || it_fatal "usermod -G $EXTRA_G"
	H1=$(getent passwd "$S1" | cut -d: -f6)
	install -m 0640 -o "$S1" -g "$IT_G_STUDENTS" /dev/null "$H1/course-file"
	NEG=$IT_STATEDIR-neg
	install -d -m 0755 "$NEG"
	hx_on_exit "rm -rf $NEG"
	echo cubby-rough-negperm >"$NEG/secret"
	chown "root:$IT_G_STUDENTS" "$NEG/secret"; chmod 0604 "$NEG/secret"

	host_ids=$(id -G "$S1" | tr ' ' '\n' | sort -n | tr '\n' ' ')
	host_names=$(id -Gn "$S1" | tr ' ' '\n' | sort | tr '\n' ' ')
	want_map=$(for g in $(id -G "$S1"); do echo "$g $g 1"; done | sort -u | tr '\n' ';')
	probe='echo "@@ids=$(id -G | tr " " "\n" | sort -n | tr "\n" " ")"
echo "@@names=$(id -Gn | tr " " "\n" | sort | tr "\n" " ")"
echo "@@map=$(awk "{ print \$1, \$2, \$3 }" /proc/self/gid_map | sort -u | tr "\n" ";")"
echo "@@sg=$(cat /proc/self/setgroups)"
echo "@@filegroup=$(stat -c %G ~/course-file)"
echo "@@getent=$(getent group '"$IT_G_STUDENTS"')"
echo "@@extra=$(getent group '"$EXTRA_G"')"
echo "@@neg=$(cat '"$NEG"'/secret 2>&1)"
echo "@@pid=$$"'
	for how in su sshd; do
		if [ "$how" = su ]; then
			out=$(it_su - "$S1" -c "$probe" </dev/null 2>&1)
		else
			[ -n "${IT_SSHD_PID:-}" ] || it_sshd_start
			out=$(it_ssh -n "$S1" "$probe" 2>&1)
		fi
		it_eq "groups ($how): sandboxed" 1 "$(it_get pid "$out")"
		it_eq "groups ($how): id -G inside is the host's id -G" "$host_ids" "$(it_get ids "$out") "
		it_eq "groups ($how): id -Gn inside names them as on the host (no nogroup)" \
			"$host_names" "$(it_get names "$out") "
		it_nomatch "groups ($how): no overflow gid inside" '(^| )65534( |$)' "$(it_get ids "$out")"
		it_eq "groups ($how): gid_map maps each of the user's groups to itself" "$want_map" "$(it_get map "$out")"
		it_eq "groups ($how): setgroups stays denied (no group can be dropped)" deny "$(it_get sg "$out")"
		it_eq "groups ($how): a file of group $IT_G_STUDENTS shows that group" "$IT_G_STUDENTS" "$(it_get filegroup "$out")"
		it_match "groups ($how): /etc/group inside names $IT_G_STUDENTS with the user" \
			"^$IT_G_STUDENTS:x:$(getent group "$IT_G_STUDENTS" | cut -d: -f3):$S1\$" "$(it_get getent "$out")"
		it_match "groups ($how): /etc/group inside names the second group" "^$EXTRA_G:x:[0-9]+:$S1\$" "$(it_get extra "$out")"
		it_nomatch "groups ($how): a group that denies access still denies it" 'cubby-rough-negperm' "$(it_get neg "$out")"
	done
	# root's groups never come in: su run by root with root's groups
	out=$(it_su - "$S1" -c 'echo "@@ids=$(id -G)"' </dev/null 2>&1)
	it_nomatch "groups: none of root's groups (0) inside after su from root" '(^| )0( |$)' "$(it_get ids "$out")"
	it_check_clean "after the group logins" "$S1"
	gpasswd -d "$S1" "$EXTRA_G" >/dev/null 2>&1
fi

# ------------------------------------------------------------ locale
if part locale; then
	[ -n "${IT_SSHD_PID:-}" ] || it_sshd_start
	# Debian's sshd_config accepts LANG and LC_* from clients. Match is
	# appended (the first value of a keyword wins, a Match block overrides
	# it), then sshd reloads on SIGHUP.
	n_listen=$(grep -c 'Server listening' "$IT_SSHD_DIR/log")
	printf 'Match User %s\n    AcceptEnv LANG LC_*\n' "$S1" >>"$IT_SSHD_DIR/sshd_config"
	kill -HUP "$IT_SSHD_PID"
	for i in $(seq 1 100); do
		[ "$(grep -c 'Server listening' "$IT_SSHD_DIR/log")" -gt "$n_listen" ] && break
		sleep 0.1
	done
	# 150 names the allow-list accepts (LC_ and capitals)
	lc=()
	for a in A B C D E F; do
		for b in A B C D E F G H I J K L M N O P Q R S T U V W X Y; do
			lc+=("LC_CUBBY_$a$b=de_DE.UTF-8")
		done
	done
	probe='echo "@@pid=$$ @@lang=$LANG @@n=$(env | grep -c "^LC_") @@first=$LC_CUBBY_AA"'
	it_syslog_mark
	out=$(env "${lc[@]}" LANG=C.UTF-8 timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
		ssh -F /dev/null -i "$IT_SSH_KEY" -p "$IT_SSH_PORT" "${IT_SSH_OPTS[@]}" \
		-o 'SendEnv=LANG LC_*' -n "$S1@127.0.0.1" "$probe" 2>&1)
	it_eq "150 LC_* over ssh: the login is sandboxed (not refused)" 1 "$(it_get pid "$out")"
	it_nomatch "150 LC_* over ssh: no 'Argument list too long'" 'Argument list too long|cannot build the environment' "$out"
	it_eq "150 LC_* over ssh: LANG passes" C.UTF-8 "$(it_get lang "$out")"
	it_eq "150 LC_* over ssh: the first LC_* variables are kept" de_DE.UTF-8 "$(it_get first "$out")"
	it_eq "150 LC_* over ssh: 32 LC_* variables kept (the bound)" 32 "$(it_get n "$out")"
	sleep 0.3
	logs=$(it_syslog_since)
	it_eq "150 LC_* over ssh: the drop is logged once" 1 "$(grep -c 'event=env_dropped' <<<"$logs")"
	sid=$(grep -o 'event=container_start session=[0-9a-f]*' <<<"$logs" | head -n1 | sed 's/.*session=//')
	it_match "150 LC_* over ssh: the log line names the session and the count" \
		"event=env_dropped session=${sid:-none} user=$S1 count=[0-9]+" "$logs"
	# su keeps the caller's environment (no -l): root's 150 LC_* reach the helper
	it_syslog_mark
	out=$(env "${lc[@]}" timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
		su "$S1" -c "$probe" </dev/null 2>&1)
	it_eq "150 LC_* through su: the login is sandboxed (not refused)" 1 "$(it_get pid "$out")"
	it_eq "150 LC_* through su: 32 LC_* variables kept" 32 "$(it_get n "$out")"
	sleep 0.3
	it_eq "150 LC_* through su: the drop is logged once" 1 "$(it_syslog_since | grep -c 'event=env_dropped')"
	# a handful of LC_* as a real client sends them: all kept, nothing logged
	it_syslog_mark
	out=$(env LC_TIME=de_DE.UTF-8 LC_PAPER=a4 timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
		su "$S1" -c 'echo "@@pid=$$ @@t=$LC_TIME @@p=$LC_PAPER"' </dev/null 2>&1)
	it_eq "two LC_* through su: both kept" "de_DE.UTF-8 a4" "$(it_get t "$out") $(it_get p "$out")"
	sleep 0.3
	it_eq "two LC_* through su: nothing logged as dropped" 0 "$(it_syslog_since | grep -c 'event=env_dropped')"
	it_check_clean "after the locale logins" "$S1"
fi

# ------------------------------------------------------------ hostname
if part hostname; then
	# hostname = a...%u-%u-...: the 63rd character is a '-' of the pattern
	L=${#S1}
	k=$(( (62 - L) / (L + 1) ))
	p=$(( 62 - L - k * (L + 1) ))
	pat=$(printf '%*s' "$p" '' | tr ' ' a)%u
	for i in $(seq 0 $((k + 1))); do pat+=-%u; done
	full=$(printf '%*s' "$p" '' | tr ' ' a)$S1
	for i in $(seq 0 $((k + 1))); do full+=-$S1; done
	want=${full:0:63}
	it_eq "hostname: the pattern's expansion cut at 63 ends in '-' (the case under test)" - "${want: -1}"
	want=${want%-}
	it_policy_write "hostname = $pat"
	out=$(it_su - "$S1" -c 'echo "@@pid=$$ @@h=$(hostname) @@etc=$(cat /etc/hostname)"' </dev/null 2>&1)
	it_eq "hostname: sandboxed" 1 "$(it_get pid "$out")"
	it_eq "hostname: cut at 63 without a trailing '-'" "$want" "$(it_get h "$out")"
	it_eq "hostname: /etc/hostname inside agrees" "$want" "$(it_get etc "$out")"
	# a user name that maps to a leading/trailing '-': "%u" for a user "_x_"
	# is not possible with useradd's rules; the unit test covers the rest
	it_policy_write
	it_check_clean "after the hostname login" "$S1"
fi

# ------------------------------------------------------------ opener
if part opener; then
	it_policy_write "network = nat" "[global]" "bridge = cubby0" "subnet = 10.213.0.0/16" "dns = 198.51.100.2"
	it_su - "$S1" -c 'sleep 60' </dev/null >/dev/null 2>&1 &
	bg=$!
	if sp=$(it_wait_proc "$S1" sleep); then
		# the opener: su's root process, parent of the supervisor (the
		# helper, running as the user), parent of the container's PID 1
		sup=$(awk '/^PPid:/ { print $2 }' "/proc/$sp/status")
		opener=$(awk '/^PPid:/ { print $2 }' "/proc/$sup/status")
		leases=$(it_leases | grep -c " $uid $S1 ")
		it_log "sleep $sp, supervisor $sup ($(cat /proc/$sup/comm)), opener $opener ($(cat /proc/$opener/comm)); leases: $(it_leases | tr '\n' '|')"
		it_eq "opener: the session holds a lease" 1 "$leases"
		t0=$(hx_time_ms)
		kill -KILL "$opener"
		# gc at once, in the window where the supervisor may still run
		gcout=$(hx_ctl gc 2>&1)
		t_gc=$(( $(hx_time_ms) - t0 ))
		left=$(it_leases | grep -c " $uid $S1 ")
		it_log "gc ${t_gc} ms after the kill: $gcout"
		it_eq "opener killed, one gc: the record is reaped" "" "$(it_records "$S1")"
		it_eq "opener killed, one gc: the lease is released with the record" 0 "$left"
		wait "$bg"
		it_check_clean "after the killed opener and one gc" "$S1"
		# without a gc: how soon the supervisor notices. Its parent (su) is
		# dead, so once it has exited it stays a zombie until init reaps
		# it, which can take a second or more: exited = zombie or gone.
		it_su - "$S1" -c 'sleep 60' </dev/null >/dev/null 2>&1 &
		bg=$!
		if sp=$(it_wait_proc "$S1" sleep); then
			sup=$(awk '/^PPid:/ { print $2 }' "/proc/$sp/status")
			opener=$(awk '/^PPid:/ { print $2 }' "/proc/$sup/status")
			t0=$(hx_time_ms)
			kill -KILL "$opener"
			t_exit= st=
			for i in $(seq 1 500); do
				st=$(awk '/^State:/ { print $2 }' "/proc/$sup/status" 2>/dev/null)
				[ "${st:-Z}" = Z ] && { t_exit=$(( $(hx_time_ms) - t0 )); break; }
				sleep 0.01
			done
			echo "FIGURE: supervisor exited ${t_exit:-?} ms after its opener was killed (state then: ${st:-reaped})"
			it_int_lt "opener killed: the supervisor has exited within 500 ms" 500 "${t_exit:-9999}"
			hx_ctl gc >/dev/null 2>&1
			it_eq "opener killed, supervisor exited (zombie: ${st:-reaped}), one gc: no lease left" 0 \
				"$(it_leases | grep -c " $uid $S1 ")"
			wait "$bg"
			it_check_clean "after the second killed opener" "$S1"
		fi
	else
		it_fail "su - $S1 -c 'sleep 60' runs" "a sleep of $S1" "none within 10 s"
		wait "$bg"
	fi
	hx_ctl net down >/dev/null 2>&1
	it_policy_write
fi

# ------------------------------------------------------------ runuser
if part runuser; then
	# Debian's stacks as shipped (copied from the machine), in the
	# harness's private /etc/pam.d only
	for s in runuser runuser-l; do
		[ -f "$IT_PAMD/$s" ] || it_skip "no /etc/pam.d/$s on this machine (not Debian's util-linux)"
		cp "$IT_PAMD/$s" "$IT_SCRATCH/$s.debian"
	done
	rn() { timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" runuser "$@" </dev/null 2>&1; }
	out=$(rn -l "$S1" -c "$(it_probe)")
	it_check_host "runuser -l, Debian's stack without pam_cubby: a host shell (why the README says to add it)" "$S1" "$out"
	# the documented setup: pam_cubby last in runuser, which runuser-l
	# includes (Debian's runuser-l as shipped)
	cp "$IT_SCRATCH/runuser.debian" "$IT_PAMD/runuser.new"
	echo "session required $CUBBY_PAMDIR/pam_cubby.so config=$IT_CONF" >>"$IT_PAMD/runuser.new"
	mv "$IT_PAMD/runuser.new" "$IT_PAMD/runuser"
	it_match "runuser-l includes runuser (so one line covers both)" '^session[[:space:]]+include[[:space:]]+runuser' \
		"$(cat "$IT_PAMD/runuser-l")"
	# services not naming runuser: refused, nothing runs
	out=$(rn -l "$S1" -c 'echo "@@pid=$$"'); rc=$?
	it_ne "runuser -l with pam_cubby, services without runuser: refused" 0 "$rc"
	it_nomatch "runuser -l with pam_cubby, services without runuser: no shell ran" '@@pid=' "$out"
	out=$(rn "$S1" -c 'echo "@@pid=$$"'); rc=$?
	it_ne "runuser with pam_cubby, services without runuser: refused" 0 "$rc"
	it_nomatch "runuser with pam_cubby, services without runuser: no shell ran" '@@pid=' "$out"
	it_check_clean "after the refused runuser logins" "$S1"
	# services naming runuser and runuser-l: sandboxed like su
	it_policy_write "[default]" "services = cubby-test-sshd sshd su su-l login runuser runuser-l"
	out=$(rn -l "$S1" -c "$(it_probe)")
	it_check_sandbox "runuser -l with pam_cubby and services" "$S1" "$out"
	out=$(rn "$S1" -c 'echo "@@pid=$$"')
	it_eq "runuser with pam_cubby and services: sandboxed" 1 "$(it_get pid "$out")"
	out=$(rn -u "$S1" -- /bin/bash -c 'echo "@@pid=$$"')
	it_eq "runuser -u USER -- /bin/bash (the user's shell path): sandboxed" 1 "$(it_get pid "$out")"
	# as documented: -u USER -- COMMAND runs COMMAND without the shell, on
	# the host (root acting as the user, like sudo -u)
	out=$(rn -u "$S1" -- /usr/bin/awk '{ print "@@map=" $1 "-" $3 }' /proc/self/uid_map)
	it_eq "runuser -u USER -- COMMAND (documented): COMMAND runs on the host" 0-4294967295 "$(it_get map "$out")"
	it_check_clean "after the runuser logins" "$S1"
	it_policy_write
	for s in runuser runuser-l; do cp "$IT_SCRATCH/$s.debian" "$IT_PAMD/$s"; done
fi

it_finish
