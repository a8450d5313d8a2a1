#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pam_cubby.so driven through libpam by pamdrive (no sshd, su or login):
# the module's own return codes (pamdrive -M calls pam_sm_open_session on a
# real handle), the policy's services list, broken configs, module
# arguments. Runs as root; users, groups, cgroups and the scratch prefix
# come from tests/integration/lib.sh.
IT_NEEDS="pgrep"
. "$(dirname "$0")/../integration/lib.sh"
it_init "$@"

[ -x "${CUBBY_PAMDRIVE:-}" ] || it_fatal "CUBBY_PAMDRIVE is not set or not executable"
S1=$IT_S1 A1=$IT_A1 N1=$IT_N1
MOD=$CUBBY_PAMDIR/pam_cubby.so

# pd SERVICE USER [-- CMD...]: the module called directly (config only).
pd() {
        local svc=$1 user=$2; shift 2
        timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
                "$CUBBY_PAMDRIVE" -d "$IT_PAMD" -M "$MOD" -a "config=$IT_CONF" "$svc" "$user" "$@" 2>&1
}
# pds SERVICE USER [-- CMD...]: through the test stack of SERVICE (libpam's
# aggregate). Needed for sessions that open: libpam refuses pam_set_data()
# to a module called directly by the application (pd).
pds() {
        local svc=$1 user=$2; shift 2
        timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
                "$CUBBY_PAMDRIVE" -d "$IT_PAMD" "$svc" "$user" "$@" 2>&1
}
# pdx MODARG... -- SERVICE USER [-- CMD...]: pd with more module arguments.
pdx() {
        local a=()
        while [ $# -gt 0 ] && [ "$1" != -- ]; do a+=(-a "$1"); shift; done
        shift
        local svc=$1 user=$2; shift 2
        timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
                "$CUBBY_PAMDRIVE" -d "$IT_PAMD" -M "$MOD" -a "config=$IT_CONF" "${a[@]}" "$svc" "$user" "$@" 2>&1
}
open_of() { printf '%s\n' "$1" | sed -n 's/^open=//p' | head -n1; }
admitted() { it_in "$1" "$(open_of "$2")" PAM_SUCCESS PAM_IGNORE; }
refused() {
        it_eq "$1: PAM_SESSION_ERR" PAM_SESSION_ERR "$(open_of "$2")"
        it_match "$1: the user is told, with 'cubby'" '^pam_error=.*cubby' "$2"
        it_nomatch "$1: the command did not run" '^cmd=' "$2"
}

# What runs between open and close (as root, in the opener's mount
# namespace, where bash may be the redirected helper: use sh). There the
# user's shell path leads to the helper's file.
INSIDE='echo "in_records=$(grep -lx "user='"$S1"'" '"$IT_BRUNDIR/sessions/u*/* $IT_RUNDIR"'/sessions/u*/* 2>/dev/null | wc -l)"
[ "$(stat -L -c %d:%i "'"$(getent passwd "$S1" | cut -d: -f7)"'")" = "'"$(stat -L -c %d:%i "$CUBBY_HELPER")"'" ] && echo in_redirect=helper
grep -F "'"$CUBBY_PREFIX"'" /proc/$PAMDRIVE_PID/mountinfo | head -n 3 | sed "s/^/in_mount=/"
echo "in_pids_max=$(cat '"$(it_cg_hier; it_cg_dir pids "u$(it_uid "$S1")")"'/pids.max 2>&1)"'

# --- a user the policy does not sandbox: PAM_IGNORE in redirect mode
out=$(pd cubby-test-sshd "$N1")
it_eq "$N1 (sandbox = no), redirect mode: PAM_IGNORE" PAM_IGNORE "$(open_of "$out")"
out=$(pd su root)
admitted "root via su: admitted" "$out"
out=$(pd cubby-test-sshd "$A1")
admitted "$A1 (admin group, also a student): admitted" "$out"
it_eq "$A1 (admin group), redirect mode: PAM_IGNORE (not sandboxed)" PAM_IGNORE "$(open_of "$out")"

# --- `cubbyctl explain` says what the module enforces, also for users with
# a gid that has no name (their primary group deleted under them): a
# student (sandboxed) and an admin who is also a student (not sandboxed).
# The module sandboxed the login when a session record names the user
# while the session is open (through su's test stack, so that close cleans
# up).
groupadd "${IT_P}ug" || it_fatal "groupadd ${IT_P}ug"
it_user_add "${IT_P}u1" -g "${IT_P}ug" -G "$IT_G_STUDENTS"
it_user_add "${IT_P}u2" -g "${IT_P}ug" -G "$IT_G_ADMIN,$IT_G_STUDENTS"
groupdel -f "${IT_P}ug" || it_fatal "groupdel -f ${IT_P}ug"
for u in "${IT_P}u1:yes" "${IT_P}u2:no"; do
        user=${u%:*} want=${u#*:}
        it_eq "$user: a gid without a name" "" "$(getent group "$(id -g "$user")")"
        ex=$("$CUBBY_CTL" --config "$IT_CONF" --json explain "$user" 2>&1 | python3 -c \
                'import json, sys; v = json.load(sys.stdin); print(v["policy"]["sandbox"]["value"])')
        it_eq "$user: explain says sandbox = $want" "$want" "$ex"
        out=$(pds su "$user" -- sh -c 'echo "in_records=$(grep -lx "user='"$user"'" '"$IT_BRUNDIR/sessions/u*/* $IT_RUNDIR"'/sessions/u*/* 2>/dev/null | wc -l)"')
        it_match "$user: the session opened and its command ran" '^in_records=' "$out"
        mod=no
        [ "$(printf '%s\n' "$out" | sed -n 's/^in_records=//p')" = 0 ] || mod=yes
        it_eq "$user: the module agrees with explain (sandboxed: $ex)" "$ex" "$mod"
        it_check_clean "after $user" "$user"
done

# --- a sandboxed user through a listed service: session, record, redirect,
# cgroups; all gone after close
out=$(pds su "$S1" -- sh -c "$INSIDE")
it_eq "$S1 via su (root opener): PAM_SUCCESS" PAM_SUCCESS "$(open_of "$out")"
it_eq "$S1 via su: close PAM_SUCCESS" PAM_SUCCESS "$(printf '%s\n' "$out" | sed -n 's/^close=//p')"
it_eq "$S1 via su: sandboxed (one session record while open)" 1 "$(printf '%s\n' "$out" | sed -n 's/^in_records=//p')"
it_eq "$S1 via su: the shell leads to the helper in the opener's namespace" helper \
        "$(printf '%s\n' "$out" | sed -n 's/^in_redirect=//p')"
it_eq "$S1 via su: pids.max on u<uid> while open" 128 "$(printf '%s\n' "$out" | sed -n 's/^in_pids_max=//p')"
it_nomatch "$S1 via su: nothing printed to the user on success" '^pam_(error|info)=' "$out"
it_check_clean "after pamdrive su $S1" "$S1"

# --- a second session opened by a process in a redirected opener's
# namespace: the module recognises its own redirect (an overlay on the
# shell's directory, the shell's name a symlink to the helper) instead of
# refusing a symlink shell, and changes no namespace
inner="$CUBBY_PAMDRIVE -d $IT_PAMD su $S1 -- sh -c 'echo \"in_mnt=\$(readlink /proc/self/ns/mnt)\"'"
out=$(pds su "$S1" -- sh -c "echo \"out_mnt=\$(readlink /proc/self/ns/mnt)\"; $inner | sed 's/^/inner_/'")
it_eq "$S1 via su, outer session: PAM_SUCCESS" PAM_SUCCESS "$(open_of "$out")"
it_eq "$S1 via su, a second session inside the redirected namespace: PAM_SUCCESS" PAM_SUCCESS \
        "$(printf '%s\n' "$out" | sed -n 's/^inner_open=//p')"
it_eq "$S1 via su, the second session: the same mount namespace (no second redirect)" \
        "$(printf '%s\n' "$out" | sed -n 's/^out_mnt=//p')" "$(printf '%s\n' "$out" | sed -n 's/^inner_in_mnt=//p')"
it_check_clean "after a second session inside a redirected namespace" "$S1"

out=$(pds su-l "$S1" -- sh -c 'echo in_cmd=yes')
it_eq "$S1 via the su-l stack: PAM_SUCCESS" PAM_SUCCESS "$(open_of "$out")"
it_match "$S1 via the su-l stack: command ran between open and close" '^in_cmd=yes' "$out"
it_check_clean "after pamdrive su-l stack $S1" "$S1"

# --- services not in the policy's list refuse a sandboxed user, admit others
for svc in cron atd systemd-user; do
        refused "$S1 via $svc (not in services)" "$(pd "$svc" "$S1" -- true)"
        admitted "$A1 (admin) via $svc: admitted" "$(pd "$svc" "$A1")"
        admitted "$N1 (unsandboxed) via $svc: admitted" "$(pd "$svc" "$N1")"
        admitted "root via $svc: admitted" "$(pd "$svc" root)"
done
it_check_clean "after the services checks" "$S1"

# --- redirect mode refuses a pw_shell of /bin/sh (it cannot be redirected)
it_user_add "${IT_P}p1" -s /bin/sh -G "$IT_G_STUDENTS"
refused "${IT_P}p1 (shell /bin/sh), redirect mode" "$(pd su "${IT_P}p1" -- true)"
it_check_clean "after the /bin/sh user" "${IT_P}p1"

# --- unknown module arguments: logged, harmless
it_syslog_mark
it_pam_stacks bogus=1 frobnicate
out=$(pds su "$S1" -- true)
it_eq "unknown module arguments: $S1 still gets a session" PAM_SUCCESS "$(open_of "$out")"
it_match "unknown module arguments are logged" 'bogus|frobnicate' "$(it_syslog_since)"
out=$(pdx bogus=1 frobnicate -- cubby-test-sshd "$N1")
it_eq "unknown module arguments: $N1 still PAM_IGNORE" PAM_IGNORE "$(open_of "$out")"
it_pam_stacks debug
out=$(pds su "$S1" -- true)
it_eq "debug argument: $S1 gets a session" PAM_SUCCESS "$(open_of "$out")"
it_pam_stacks
it_check_clean "after the module-argument checks" "$S1"

# --- broken configs refuse sandboxed users, admit root and the admin group.
# (A good session above let the module keep its last good copy, which is
# where the admin group comes from when the file is broken.)
broken_check() {
        local what=$1
        refused "$what: $S1" "$(pd su "$S1" -- true)"
        refused "$what: $S1 via sshd" "$(pd cubby-test-sshd "$S1" -- true)"
        admitted "$what: root admitted" "$(pd su root)"
        admitted "$what: $A1 (admin group) admitted" "$(pd cubby-test-sshd "$A1")"
        it_check_clean "$what: after" "$S1"
}
it_policy_write "bogus_key = 1"
broken_check "config with an unknown key"
it_policy_write
chown "$N1" "$IT_CONF"
broken_check "config not owned by root"
it_policy_write
chmod 0664 "$IT_CONF"
broken_check "group-writable config"
it_policy_write
chmod 0646 "$IT_CONF"
broken_check "world-writable config"
it_policy_write
rm -f "$IT_CONF"
broken_check "missing config"
it_policy_write
out=$(pds su "$S1" -- true)
it_eq "good config again: $S1 gets a session" PAM_SUCCESS "$(open_of "$out")"

# --- a students group whose entry is larger than getgrgid_r's first buffer
# (16 KiB: a big course lists every member). Its members must still be
# sandboxed: the lookup grows its buffer, and an entry it cannot read at
# all refuses the login rather than leave the group out.
members=$(getent group "$IT_G_STUDENTS" | cut -d: -f4)
# shellcheck disable=SC2046 # 3000 names
gpasswd -M "$members,$(printf 'daemon,%.0s' $(seq 3000))daemon" "$IT_G_STUDENTS" >/dev/null \
        || it_fatal "gpasswd -M on $IT_G_STUDENTS failed"
size=$(getent group "$IT_G_STUDENTS" | wc -c)
it_int_lt "the students group's entry is larger than 16 KiB" "$size" 16385
out=$(pds su "$S1" -- sh -c "$INSIDE")
it_eq "$S1 in a students group of $size bytes: the session opens" PAM_SUCCESS \
        "$(open_of "$out")"
it_eq "$S1 in a students group of $size bytes: sandboxed (one session record while open)" 1 \
        "$(printf '%s\n' "$out" | sed -n 's/^in_records=//p')"
gpasswd -M "$members" "$IT_G_STUDENTS" >/dev/null || it_fatal "gpasswd -M (restore) failed"
it_check_clean "after the big group" "$S1"

it_finish
