#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Password changes: `passwd` cannot work inside a sandbox
# (NO_NEW_PRIVS: no setuid), so the documented way is an expired password,
# which sshd has the user change at login, in its root monitor through PAM,
# before any shell (and so before the sandbox) runs. Through the real
# private sshd with a pam_unix stack and a pty-driving client answering the
# prompts:
#  - `passwd` inside a sandbox fails and changes nothing (why);
#  - the admin expires the password (`chage -d 0`, or a maximum age that
#    has passed: `chage -M`); at the next ssh login
#    (keyboard-interactive, and password authentication as Debian's
#    sshd_config has it) the user is made to change it;
#  - the new password works, the old one does not, and the sessions after
#    the change are sandboxed.
IT_NEEDS="sshd ssh chpasswd chage su"
. "$(dirname "$0")/lib.sh"
it_init "$@"
. "$IT_LIBDIR/lib-extra.sh"

S2=$IT_S2
it_sshd_start

# sshd for this user: passwords (a Match block overrides the harness's
# global "no"; the first value of a keyword wins otherwise), reloaded on
# SIGHUP
n_listen=$(grep -c 'Server listening' "$IT_SSHD_DIR/log")
printf 'Match User %s\n    PasswordAuthentication yes\n    KbdInteractiveAuthentication yes\n' "$S2" \
	>>"$IT_SSHD_DIR/sshd_config"
kill -HUP "$IT_SSHD_PID"
for i in $(seq 1 100); do
	[ "$(grep -c 'Server listening' "$IT_SSHD_DIR/log")" -gt "$n_listen" ] && break
	sleep 0.1
done

# the sshd service's stack with pam_unix in every phase (Debian's
# common-* shape), pam_cubby last
cat >"$IT_PAMD/cubby-test-sshd.new" <<EOF
# cubby integration test stack ($IT_ID): private mount namespace only
auth     required   pam_unix.so
account  required   pam_unix.so
password required   pam_unix.so yescrypt
session  optional   pam_unix.so
session  required   $CUBBY_PAMDIR/pam_cubby.so config=$IT_CONF
EOF
chmod 0644 "$IT_PAMD/cubby-test-sshd.new"
mv "$IT_PAMD/cubby-test-sshd.new" "$IT_PAMD/cubby-test-sshd"

# pw_ssh METHOD OLD NEW CMD: ssh as S2 under a pty, answering the prompts
# (the login password with OLD; "Current", "New" and "Retype" of a change
# with OLD, NEW, NEW). Prints the transcript, then "@@rc=STATUS".
cat >"$IT_SCRATCH/ptyssh.py" <<'EOF'
import os, pty, re, select, sys, time
old, new, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out, pending, deadline = b"", b"", time.time() + 50
answers = 0
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 1)
    if not r:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    pending += data
    tail = pending.decode(errors="replace").rsplit("\n", 1)[-1].lower()
    reply = None
    if re.search(r"retype new password: *$", tail) or re.search(r"new password: *$", tail):
        reply = new
    elif re.search(r"current password: *$", tail) or re.search(r"password: *$", tail):
        reply = old
    if reply is not None:
        answers += 1
        if answers > 8:
            break
        os.write(fd, (reply + "\r").encode())
        pending = b""
try:
    os.kill(pid, 9) if time.time() >= deadline else None
except OSError:
    pass
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.stdout.write("\n@@rc=%d\n" % (os.waitstatus_to_exitcode(status)))
EOF
pw_ssh() {
	local method=$1 old=$2 new=$3; shift 3
	timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" /usr/bin/python3 "$IT_SCRATCH/ptyssh.py" \
		"$old" "$new" /usr/bin/ssh -F /dev/null -p "$IT_SSH_PORT" -tt \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		-o ConnectTimeout=10 -o PubkeyAuthentication=no -o "PreferredAuthentications=$method" \
		-o NumberOfPasswordPrompts=1 "$S2@127.0.0.1" "$@"
}
probe='echo "@@pid=$$ @@uid=$(id -u) @@nnp=$(grep NoNewPrivs /proc/self/status | tr -dc 0-9)"'
shadow_pw() { getent shadow "$S2" | cut -d: -f2; }
last_change() { getent shadow "$S2" | cut -d: -f3; }

P0="Cubby-0ld-$IT_ID-pw"
echo "$S2:$P0" | chpasswd || it_fatal "chpasswd"

# --- baseline: a password login works and is sandboxed; passwd inside cannot work
out=$(pw_ssh keyboard-interactive "$P0" "-" "$probe")
it_eq "password login (not expired): sandboxed" 1 "$(it_get pid "$out")"
before=$(shadow_pw)
out=$(pw_ssh keyboard-interactive "$P0" "Cubby-Unused-$IT_ID" \
	'passwd; echo "@@passwd_rc=$? @@pid=$$"')
it_eq "passwd inside: ran in the sandbox" 1 "$(it_get pid "$out")"
it_ne "passwd inside: fails (no setuid under NO_NEW_PRIVS)" 0 "$(it_get passwd_rc "$out")"
it_eq "passwd inside: the password hash is unchanged" "$before" "$(shadow_pw)"
it_check_clean "after the baseline logins" "$S2"

n=0
for method in keyboard-interactive password; do
	n=$((n + 1))
	old="Cubby-Pw$n-a-$IT_ID"
	new="Cubby-Pw$n-b-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
	echo "$S2:$old" | chpasswd || it_fatal "chpasswd"
	if [ "$method" = password ]; then
		# the other documented way: a maximum age that has passed
		chage -d "$(date -d '-200 days' +%F)" -M 180 "$S2" || it_fatal "chage -M"
		it_match "$method: the password is past its maximum age" 'Password expires[[:space:]]*:[[:space:]]*[A-Z]' \
			"$(LC_ALL=C chage -l "$S2")"
	else
		chage -d 0 "$S2" || it_fatal "chage -d 0"
		it_eq "$method: the password is expired (last change 0)" 0 "$(last_change)"
	fi
	before=$(shadow_pw)
	out=$(pw_ssh "$method" "$old" "$new" "$probe")
	it_log "$method, expired: $(it_clip "$out")"
	it_match "$method, expired: sshd asks for a new password" '(New|new) password' "$out"
	it_ne "$method, expired: the password hash changed" "$before" "$(shadow_pw)"
	it_eq "$method, expired: the change is recorded as today" "$(( $(date +%s) / 86400 ))" "$(last_change)"
	pid_in_change_login=$(it_get pid "$out")
	if [ -n "$pid_in_change_login" ]; then
		it_eq "$method, expired: the login that changed it runs sandboxed" 1 "$pid_in_change_login"
	else
		# password authentication: sshd ran passwd(1) (no shell) and
		# ended the connection
		it_match "$method, expired: sshd says to log in again" 'login again' "$out"
	fi
	out=$(pw_ssh "$method" "$new" "-" "$probe")
	it_eq "$method: the new password logs in, sandboxed (\$\$ = 1)" 1 "$(it_get pid "$out")"
	it_eq "$method: the new password's session has NoNewPrivs" 1 "$(it_get nnp "$out")"
	it_nomatch "$method: no second change is asked for" '(New|new) password' "$out"
	out=$(pw_ssh "$method" "$old" "-" "$probe")
	it_eq "$method: the old password no longer logs in" "" "$(it_get pid "$out")"
	it_check_clean "after the $method password change" "$S2"
done

it_pam_stacks
it_finish
