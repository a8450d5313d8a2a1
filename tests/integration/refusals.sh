#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# What must be refused, and who must still get in: the helper run directly,
# broken configs (sandboxed users refused over ssh and su, admin admitted),
# an unsandboxed user's normal host shell, and the login-shell mode (passwd
# shell = cubby-shell) for a student and for an admin.
IT_NEEDS="/usr/sbin/sshd ssh su ss pgrep"
. "$(dirname "$0")/lib.sh"
it_init "$@"

it_sshd_start
S1=$IT_S1 A1=$IT_A1 N1=$IT_N1
RAN=cubby-it-ran

# ssh_refused WHAT USER / su_refused WHAT USER: the command would print
# $RAN and leave a file in the user's home.
ssh_refused() {
        local out rc home
        home=$(getent passwd "$2" | cut -d: -f6)
        rm -f "$home/$RAN"
        out=$(it_ssh -n "$2" "echo $RAN; touch ~/$RAN" 2>&1); rc=$?
        it_eq "$1: ssh $2: no trace of the command in the home" no "$([ -e "$home/$RAN" ] && echo yes || echo no)"
        it_in "$1: ssh $2 fails (254 or 255)" "$rc" 254 255
        it_nomatch "$1: ssh $2: the command never ran" "$RAN" "$out"
        it_match "$1: ssh $2: the user sees a line with 'cubby'" 'cubby' "$out"
}
su_refused() {
        local out rc home
        home=$(getent passwd "$2" | cut -d: -f6)
        rm -f "$home/$RAN"
        out=$(it_su - "$2" -c "echo $RAN; touch ~/$RAN" </dev/null 2>&1); rc=$?
        it_eq "$1: su - $2: no trace of the command in the home" no "$([ -e "$home/$RAN" ] && echo yes || echo no)"
        it_ne "$1: su - $2 by root fails" 0 "$rc"
        it_nomatch "$1: su - $2: the command never ran" "$RAN" "$out"
        it_match "$1: su - $2: the user sees a line with 'cubby'" 'cubby' "$out"
}
ssh_admitted() {
        local out rc
        out=$(it_ssh -n "$2" "echo $RAN" 2>&1); rc=$?
        it_eq "$1: ssh $2 admitted" "0 $RAN" "$rc $out"
}
su_admitted() {
        local out rc
        out=$(it_su - "$2" -c "echo $RAN" </dev/null 2>&1); rc=$?
        it_eq "$1: su - $2 by root admitted" "0 $RAN" "$rc $out"
}

# --- the helper run directly by a user (no PAM session): refuses
for u in "$S1" "$N1" "$A1"; do
        out=$(it_as "$u" "$CUBBY_HELPER" -c "echo $RAN" 2>"$IT_SCRATCH/helper.err" </dev/null); rc=$?
        err=$(cat "$IT_SCRATCH/helper.err")
        it_ne "cubby-shell -c run directly by $u: non-zero exit" 0 "$rc"
        it_nomatch "cubby-shell -c run directly by $u: nothing ran" "$RAN" "$out$err"
        it_match "cubby-shell -c run directly by $u: says cubby-shell on stderr" 'cubby-shell' "$err"
done
out=$(it_as "$S1" "$CUBBY_HELPER" 2>"$IT_SCRATCH/helper.err" </dev/null); rc=$?
it_ne "cubby-shell (no arguments) run directly by $S1: non-zero exit" 0 "$rc"
it_match "cubby-shell (no arguments) run directly by $S1: says cubby-shell" 'cubby-shell' "$(cat "$IT_SCRATCH/helper.err")"

# --- a good config first: sessions work (and the module keeps a last good
# copy, which names the admin group while the file is broken)
out=$(it_ssh -n "$S1" "$(it_probe)" 2>&1)
it_eq "good config: ssh $S1 is sandboxed (\$\$ = 1)" 1 "$(it_get pid "$out")"
ssh_admitted "good config" "$A1"

# --- an unsandboxed user gets a normal host shell
it_check_host "ssh $N1 (sandbox = no)" "$N1" "$(it_ssh -n "$N1" "$(it_probe)" 2>&1)"

# --- broken configs: sandboxed users refused, the admin group admitted
broken() {
        local what=$1
        ssh_refused "$what" "$S1"
        su_refused "$what" "$S1"
        ssh_admitted "$what" "$A1"
        su_admitted "$what" "$A1"
        it_check_clean "$what: after" "$S1"
}
it_policy_write "bogus_key = 1"
broken "config with an unknown key"
it_policy_write; chown "$N1" "$IT_CONF"
broken "config not owned by root"
it_policy_write; chmod 0664 "$IT_CONF"
broken "group-writable config"
it_policy_write
out=$(it_ssh -n "$S1" "$(it_probe)" 2>&1)
it_eq "config repaired: ssh $S1 is sandboxed again" 1 "$(it_get pid "$out")"

# --- login-shell mode: the passwd shell is cubby-shell
it_pam_stacks mode=login-shell
L1=${IT_P}l1 M1=${IT_P}m1
it_user_add "$L1" -s "$CUBBY_HELPER" -G "$IT_G_STUDENTS"
it_user_add "$M1" -s "$CUBBY_HELPER" -G "$IT_G_ADMIN"
out=$(it_ssh -n "$L1" "$(it_probe)" 2>&1); rc=$?
it_eq "login-shell mode: ssh $L1: exit status" 0 "$rc"
it_check_sandbox "login-shell mode: ssh $L1" "$L1" "$out"
it_check_clean "login-shell mode: after ssh $L1" "$L1"
out=$(it_su - "$L1" -c "$(it_probe)" </dev/null 2>&1)
it_check_sandbox "login-shell mode: su - $L1" "$L1" "$out"
it_check_clean "login-shell mode: after su - $L1" "$L1"
out=$(it_ssh -n "$M1" "$(it_probe)" 2>&1); rc=$?
it_eq "login-shell mode: ssh $M1 (admin): exit status" 0 "$rc"
it_check_host "login-shell mode: ssh $M1 (admin, shell cubby-shell) gets the real shell" "$M1" "$out"
it_ssh -n "$L1" 'exit 7'; rc=$?
it_eq "login-shell mode: ssh $L1 'exit 7' returns 7" 7 "$rc"
# su by a non-root caller: cubby-shell is not in /etc/shells, so su treats
# it as restricted and ignores -s; the student must land in the sandbox or
# be refused, never in a host shell.
out=$(it_as "$N1" su -s /bin/bash "$L1" -c "$(it_probe)" </dev/null 2>&1)
if [ "$(it_get done "$out")" = yes ]; then
        it_eq "login-shell mode: su -s /bin/bash $L1 by $N1: sandboxed, not a host shell" 1 "$(it_get pid "$out")"
else
        it_match "login-shell mode: su -s /bin/bash $L1 by $N1: refused with a cubby message" cubby "$out"
fi
it_check_clean "login-shell mode: after su -s by $N1" "$L1"
# A broken config in login-shell mode: the student is refused, the admin
# (shell cubby-shell) still gets in, to the real shell.
it_policy_write "bogus_key = 1"
ssh_refused "login-shell mode, broken config" "$L1"
out=$(it_ssh -n "$M1" "$(it_probe)" 2>&1); rc=$?
it_eq "login-shell mode, broken config: ssh $M1 (admin) admitted" 0 "$rc"
it_check_host "login-shell mode, broken config: ssh $M1 (admin)" "$M1" "$out"
it_policy_write
# A sandboxed user whose passwd shell is still /bin/bash must not get a
# host shell in login-shell mode either (docs/THREATS.md, S2: fail closed).
out=$(it_ssh -n "$S1" "$(it_probe)" 2>&1)
it_ne "login-shell mode: ssh $S1 (shell /bin/bash) does not get a host shell" \
        "${IT_OWN_NS[pid]}" "$(it_get ns_pid "$out")"
it_check_clean "login-shell mode: at the end" "$S1"
it_pam_stacks

it_finish
