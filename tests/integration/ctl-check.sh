#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# cubbyctl check: the real sshd -T with DisableForwarding (it
# overrides every forwarding option: no false alarm), TCP and agent
# forwarding accepted for container = user only, PAM stacks that can
# start a sandboxed user's shell without pam_cubby (a private pam.d tree
# given with --pam-dir; the machine's /etc/pam.d is never touched), and
# root's world-connectable unix sockets outside /run, /tmp and /var/tmp (a
# real listening socket in the test's own network namespace, whose
# /proc/net/unix cubbyctl reads), not listed once the policy hides them.
IT_NEEDS="/usr/sbin/sshd python3"
. "$(dirname "$0")/lib.sh"
it_init "$@"

it_ctl() { timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" "$CUBBY_CTL" --config "$IT_CONF" "$@"; }
# A pam.d of this test's own: the harness's copy of the machine's
# /etc/pam.d holds whatever stacks the machine has installed (sudo-i, ...).
PAMD="$IT_SCRATCH/ctl-pam.d"
mkdir -p "$PAMD"
printf 'PermitUserRC no\n' >"$IT_SCRATCH/sshd-min"

# --- DisableForwarding overrides the forwarding options
cat >"$IT_SCRATCH/sshd-df" <<EOT
Subsystem sftp /usr/lib/openssh/sftp-server
Match Group $IT_G_STUDENTS
	DisableForwarding yes
	PermitTunnel no
	PermitUserRC no
EOT
out=$(it_ctl check --sshd-config "$IT_SCRATCH/sshd-df" --pam-dir "$PAMD" 2>&1); rc=$?
it_eq "check, DisableForwarding yes for the students: exit 0" 0 "$rc"
it_nomatch "check, DisableForwarding yes: no forwarding named" 'forwarding (yes|all|local|remote)' "$out"
# the control: the same without DisableForwarding is still refused
sed '/DisableForwarding/d' "$IT_SCRATCH/sshd-df" >"$IT_SCRATCH/sshd-nodf"
out=$(it_ctl check --sshd-config "$IT_SCRATCH/sshd-nodf" --pam-dir "$PAMD" 2>&1); rc=$?
it_eq "check, forwarding left on: exit 1" 1 "$rc"
it_match "check, forwarding left on: names allowstreamlocalforwarding" 'allowstreamlocalforwarding yes for sandboxed user' "$out"
# DisableForwarding does not cover tunnels: PermitTunnel is still checked
sed 's/PermitTunnel no/PermitTunnel yes/' "$IT_SCRATCH/sshd-df" >"$IT_SCRATCH/sshd-df-tun"
out=$(it_ctl check --sshd-config "$IT_SCRATCH/sshd-df-tun" --pam-dir "$PAMD" 2>&1)
it_match "check, DisableForwarding with PermitTunnel yes: names permittunnel" 'permittunnel yes for sandboxed user' "$out"

# --- TCP and agent forwarding: fine for container = user (sshd's process
# for the connection moves into the container), a problem for container =
# login; unix socket forwarding a problem for both
cat >"$IT_SCRATCH/sshd-ct" <<EOT
Subsystem sftp /usr/lib/openssh/sftp-server
Match Group $IT_G_STUDENTS
	AllowTcpForwarding yes
	AllowStreamLocalForwarding no
	X11Forwarding no
	AllowAgentForwarding yes
	PermitTunnel no
	PermitUserRC no
EOT
out=$(it_ctl check --sshd-config "$IT_SCRATCH/sshd-ct" --pam-dir "$PAMD" 2>&1); rc=$?
it_eq "check, TCP and agent forwarding on, container = login: exit 1" 1 "$rc"
it_match "check, container = login: names allowtcpforwarding, forwarding on the host" \
        'allowtcpforwarding yes for sandboxed user .*forwards on the host' "$out"
it_match "check, container = login: names allowagentforwarding" 'allowagentforwarding yes for sandboxed user' "$out"
it_policy_write "container = user"
out=$(it_ctl check --sshd-config "$IT_SCRATCH/sshd-ct" --pam-dir "$PAMD" 2>&1); rc=$?
it_eq "check, TCP and agent forwarding on, container = user: exit 0" 0 "$rc"
it_nomatch "check, container = user: no forwarding named" 'forwarding (yes|all|local|remote)' "$out"
sed 's/AllowStreamLocalForwarding no/AllowStreamLocalForwarding yes/' "$IT_SCRATCH/sshd-ct" >"$IT_SCRATCH/sshd-ct-sl"
out=$(it_ctl check --sshd-config "$IT_SCRATCH/sshd-ct-sl" --pam-dir "$PAMD" 2>&1); rc=$?
it_eq "check, container = user with unix socket forwarding on: exit 1" 1 "$rc"
it_match "check, container = user: names allowstreamlocalforwarding" 'allowstreamlocalforwarding yes for sandboxed user' "$out"
it_policy_write

# --- PAM stacks that can start a shell without pam_cubby
mod="session required $CUBBY_PAMDIR/pam_cubby.so config=$IT_CONF"
printf 'session required pam_unix.so\n' >"$PAMD/common-session"
printf 'session required pam_unix.so\n' >"$PAMD/common-session-noninteractive"
printf '@include common-session\n%s\n' "$mod" >"$PAMD/sshd"
printf '@include common-session\n%s\n' "$mod" >"$PAMD/su"
printf 'session include su\n' >"$PAMD/su-l"
printf 'session optional pam_keyinit.so revoke\nsession required pam_unix.so\n' >"$PAMD/runuser"
printf 'session include runuser\n' >"$PAMD/runuser-l"
printf '@include common-session\n' >"$PAMD/chfn"
printf '@include common-session\n' >"$PAMD/other"
printf '@include common-session\n' >"$PAMD/${IT_P}shell"
printf '@include common-session-noninteractive\n' >"$PAMD/${IT_P}cronlike"
out=$(it_ctl check --sshd-config "$IT_SCRATCH/sshd-df" --pam-dir "$PAMD" 2>&1); rc=$?
it_eq "check, stacks without pam_cubby: a warning, exit still 0" 0 "$rc"
for s in runuser runuser-l "${IT_P}shell"; do
	it_match "check warns about the PAM stack $s" "warning: PAM stack $s .*pam_cubby" "$out"
done
for s in sshd su su-l chfn other "${IT_P}cronlike" common-session; do
	it_nomatch "check does not warn about the PAM stack $s" "warning: PAM stack $s " "$out"
done
json=$(it_ctl --json check --sshd-config "$IT_SCRATCH/sshd-df" --pam-dir "$PAMD" 2>/dev/null)
it_eq "check --json lists the three stacks" 3 \
	"$(printf '%s' "$json" | python3 -c 'import json, sys; print(len([w for w in json.load(sys.stdin)["warnings"] if w["kind"] == "pam"]))')"
# pam_cubby in common-session covers every stack that includes it
printf 'session required pam_unix.so\n%s\n' "$mod" >"$PAMD/common-session"
printf '@include common-session\n' >"$PAMD/runuser"
out=$(it_ctl check --sshd-config "$IT_SCRATCH/sshd-df" --pam-dir "$PAMD" 2>&1)
it_nomatch "check, pam_cubby through common-session: no PAM warning" 'warning: PAM stack' "$out"

# --- root's world-connectable unix sockets outside /run, /tmp, /var/tmp
SOCKDIR="/var/lib/cubby-it-$IT_ID"
mkdir -p "$SOCKDIR" "$SOCKDIR/private"
chmod 0755 "$SOCKDIR"
chmod 0700 "$SOCKDIR/private"
# removed by stop_daemon below, or with the test's processes and this
# extra path at exit (lib.sh's trap)
stop_daemon() { kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null; rm -rf "$SOCKDIR"; }
trap 'stop_daemon; it_cleanup inner' EXIT
DAEMON='import os, socket, sys, time
socks = []
for path, mode in (("'"$SOCKDIR"'/open.sock", 0o666), ("'"$SOCKDIR"'/closed.sock", 0o600),
                   ("'"$SOCKDIR"'/private/deep.sock", 0o666), ("'"$IT_SCRATCH"'/tmp.sock", 0o666)):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, mode)
    s.listen(1)
    socks.append(s)
open("'"$IT_SCRATCH"'/daemon.ready", "w").close()
time.sleep(120)'
nsenter --net="$IT_NETNS_PATH" python3 -c "$DAEMON" &
daemon=$!
for i in $(seq 1 100); do [ -e "$IT_SCRATCH/daemon.ready" ] && break; sleep 0.1; done
[ -e "$IT_SCRATCH/daemon.ready" ] || it_fatal "the socket daemon did not start"
out=$(it_ctl check --sshd-config "$IT_SCRATCH/sshd-df" --pam-dir "$PAMD" 2>&1); rc=$?
it_eq "check, a world-connectable root socket: a warning, exit still 0" 0 "$rc"
it_match "check lists $SOCKDIR/open.sock and suggests hide" "warning: .*$SOCKDIR/open\.sock.*hide = $SOCKDIR" "$out"
it_nomatch "check does not list the 0600 socket" "closed\.sock" "$out"
it_nomatch "check does not list a socket under /var/tmp" "tmp\.sock" "$out"
it_nomatch "check does not list a socket in a directory closed to others" "deep\.sock" "$out"
json=$(it_ctl --json check --sshd-config "$IT_SCRATCH/sshd-df" --pam-dir "$PAMD" 2>/dev/null)
it_eq "check --json: the socket as a warning" "'$SOCKDIR/open.sock'" \
	"$(printf '%s' "$json" | python3 -c 'import json, sys; print(ascii([w["path"] for w in json.load(sys.stdin)["warnings"] if w["kind"] == "socket"][0]))')"
it_policy_write "hide = $SOCKDIR"
out=$(it_ctl check --sshd-config "$IT_SCRATCH/sshd-df" --pam-dir "$PAMD" 2>&1)
it_nomatch "check, the socket's dir hidden by the policy: not listed" "open\.sock" "$out"
it_policy_write
stop_daemon
trap 'it_cleanup inner' EXIT
it_finish
