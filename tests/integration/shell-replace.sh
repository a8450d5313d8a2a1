#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The redirect outlives an upgrade of the user's shell. A package manager
# replaces the shell by renaming a new file over it; the kernel then
# detaches every mount whose mount point was the old file, in every mount
# namespace. A redirect bound over the shell file fell away, and the
# channels a long-lived sshd connection opened afterwards ran the real
# shell on the host.
#
# A scratch shell (a copy of bash) in a scratch directory reached through
# a merged-/usr style symlink (BASE/bin -> usr/bin), listed in a test
# /etc/shells (both bound in this test's mount namespace only), is the
# login shell of a sandboxed user. A ControlMaster connection stays open;
# its first channel is sandboxed. The test renames a new copy over the
# scratch shell, as dpkg does, and a new channel on the same master must
# still land in a sandbox. The opener's view of the shell's directory is
# looked at through /proc/PID/root of that connection's sshd.
IT_NEEDS="/usr/sbin/sshd ssh pgrep"
. "$(dirname "$0")/lib.sh"
it_init "$@"

# A directory the container sees (it is cloned from the host's tree, minus
# /tmp, /var/tmp, /run and the homes): a tmpfs of our own on /srv, in this
# mount namespace only.
[ -d /srv ] || it_skip "no /srv to put the scratch shell under"
mount -t tmpfs -o mode=0755,size=64m "cubby-it-$IT_ID" /srv || it_fatal "tmpfs on /srv"
BASE=/srv/cubby-it-$IT_ID
mkdir -p -m 0755 "$BASE/usr/bin" || it_fatal "mkdir $BASE/usr/bin"
ln -s usr/bin "$BASE/bin" || it_fatal "symlink $BASE/bin"
SHELL_PATH=$BASE/bin/bash REAL_DIR=$BASE/usr/bin
install -m 0755 -o root -g root /bin/bash "$REAL_DIR/bash" || it_fatal "copy of bash"
printf '#!/bin/sh\necho tool-v1\n' >"$REAL_DIR/tool" && chmod 0755 "$REAL_DIR/tool" || it_fatal "tool"
# a test /etc/shells that lists the scratch shell
{ cat /etc/shells; echo "$SHELL_PATH"; } >"$IT_SCRATCH/shells" || it_fatal "test /etc/shells"
chmod 0644 "$IT_SCRATCH/shells"
mount --bind "$IT_SCRATCH/shells" /etc/shells || it_fatal "bind of the test /etc/shells"

R1=${IT_P}r1
it_user_add "$R1" -s "$SHELL_PATH" -G "$IT_G_STUDENTS"
it_eq "$R1's login shell is the scratch shell" "$SHELL_PATH" "$(getent passwd "$R1" | cut -d: -f7)"
it_sshd_start

# A master connection that runs nothing itself; channels join it.
CM=$IT_SCRATCH/cm-$R1
IT_TIMEOUT=300 it_ssh -M "-oControlPath=$CM" -oControlPersist=no -N "$R1" </dev/null >"$IT_SCRATCH/master.log" 2>&1 &
master=$!
for _ in $(seq 1 100); do
	ssh -F /dev/null -S "$CM" -O check "$R1@127.0.0.1" >/dev/null 2>&1 && break
	kill -0 "$master" 2>/dev/null || break
	sleep 0.1
done
ssh -F /dev/null -S "$CM" -O check "$R1@127.0.0.1" >/dev/null 2>&1 \
	|| { cat "$IT_SCRATCH/master.log"; it_fatal "the ControlMaster connection of $R1 did not come up"; }
chan() { timeout -k 5 60 ssh -F /dev/null -S "$CM" -o ControlMaster=no "$R1@127.0.0.1" "$@"; }

out=$(chan "$(it_probe)" </dev/null 2>&1); rc=$?
it_eq "channel 1 on the master: exit status" 0 "$rc"
it_check_sandbox "channel 1 (before the shell is replaced)" "$R1" "$out"

# The connection's unprivileged sshd runs as the user in the opener's
# mount namespace (the monitor forks it after open_session).
# (its name is that of our sshd's symlink, or sshd-session)
sp=
for n in cubby-test-sshd sshd-session sshd; do
	[ -n "$sp" ] || sp=$(pgrep -U "$(it_uid "$R1")" -x "$n" | head -n1)
done
[ -n "$sp" ] || it_fatal "no sshd process of $R1's connection"
helper_id=$(stat -L -c '%d:%i' "$CUBBY_HELPER")
it_eq "opener's namespace: the shell's path leads to the helper" "$helper_id" \
	"$(stat -L -c '%d:%i' "/proc/$sp/root$SHELL_PATH" 2>&1)"
it_eq "opener's namespace: another file of the shell's directory is the host's" tool-v1 \
	"$(cat "/proc/$sp/root$REAL_DIR/tool" 2>&1 | sed -n 's/^echo //p')"
# looked up once before the upgrade (a cached miss, if anything caches it)
stat "/proc/$sp/root$REAL_DIR/new-tool" >/dev/null 2>&1

# --- the upgrade, as dpkg does it: write a new file, rename it over
ino1=$(stat -c %i "$REAL_DIR/bash")
install -m 0755 -o root -g root /bin/bash "$REAL_DIR/bash.dpkg-new" || it_fatal "new bash"
mv -f "$REAL_DIR/bash.dpkg-new" "$REAL_DIR/bash" || it_fatal "rename over the scratch shell"
printf '#!/bin/sh\necho tool-v2\n' >"$REAL_DIR/tool.dpkg-new" && chmod 0755 "$REAL_DIR/tool.dpkg-new" \
	&& mv -f "$REAL_DIR/tool.dpkg-new" "$REAL_DIR/tool" || it_fatal "rename over tool"
printf '#!/bin/sh\necho new-tool\n' >"$REAL_DIR/new-tool" && chmod 0755 "$REAL_DIR/new-tool" \
	|| it_fatal "new-tool"
it_ne "the scratch shell was replaced (new inode)" "$ino1" "$(stat -c %i "$REAL_DIR/bash")"

it_eq "opener's namespace, after the rename: the shell's path still leads to the helper" "$helper_id" \
	"$(stat -L -c '%d:%i' "/proc/$sp/root$SHELL_PATH" 2>&1)"
# Measured, not required: a read-only overlay caches what it looked up in
# its lower layer (the host's directory), so in the opener's own namespace
# a file renamed over may still show its old version and a name looked up
# before it existed may stay missing. Only sshd's own execs there see it;
# the container is cloned with the overlay removed (see below).
it_log "opener's namespace after the upgrade: tool says '$(cat "/proc/$sp/root$REAL_DIR/tool" 2>&1 \
	| sed -n 's/^echo //p')', new-tool: $(test -e "/proc/$sp/root$REAL_DIR/new-tool" && echo visible || echo missing)"

out=$(chan "$(it_probe)"'
echo "@@tool=$('"$REAL_DIR"'/tool)"
echo "@@newtool=$('"$REAL_DIR"'/new-tool)"
echo "@@shellino=$(stat -L -c %i '"$SHELL_PATH"')"' </dev/null 2>&1); rc=$?
it_eq "channel 2 on the same master, after the shell was replaced: exit status" 0 "$rc"
it_check_sandbox "channel 2 (after the shell was replaced)" "$R1" "$out"
it_eq "channel 2: the container's shell is the new, real one" "$(stat -c %i "$REAL_DIR/bash")" \
	"$(it_get shellino "$out")"
it_eq "channel 2: the container sees the replaced file of the shell's directory" tool-v2 \
	"$(it_get tool "$out")"
it_eq "channel 2: the container sees a file added to it later" new-tool "$(it_get newtool "$out")"

# a second rename, and a command channel (ssh host cmd) once more
install -m 0755 -o root -g root /bin/bash "$REAL_DIR/bash.dpkg-new" \
	&& mv -f "$REAL_DIR/bash.dpkg-new" "$REAL_DIR/bash" || it_fatal "second rename"
out=$(chan 'echo "@@pid=$$"; echo "@@pidns=$(readlink /proc/self/ns/pid)"' \
	</dev/null 2>&1)
it_eq "channel 3, after a second replacement: \$\$ is 1 (a container)" 1 "$(it_get pid "$out")"
it_ne "channel 3: not the test's pid namespace" "${IT_OWN_NS[pid]}" "$(it_get pidns "$out")"

ssh -F /dev/null -S "$CM" -O exit "$R1@127.0.0.1" >/dev/null 2>&1
wait "$master"
it_check_clean "after the master connection of $R1" "$R1"
it_finish
