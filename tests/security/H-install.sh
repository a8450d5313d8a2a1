#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs/THREATS.md, H (installation): modes and owners of everything installed, the
# hardening of the setuid helper, no sanitizer build installed setuid, and
# a world-writable config or state dir refuses sandboxed logins (admins
# still get in).
IT_NEEDS="su readelf nm"
. "$(dirname "$0")/seclib.sh"
sec_init "$@"
S1=$IT_S1 A1=$IT_A1
RAN=cubby-sec-ran

test_H_installed_modes() {
        local f st
        it_eq "cubby-shell is 4755 root:root" "4755 root root" "$(stat -c '%a %U %G' "$CUBBY_HELPER")"
        it_eq "cubby-shell is not on a nosuid mount" no \
                "$(findmnt -no OPTIONS -T "$CUBBY_HELPER" | grep -qw nosuid && echo yes || echo no)"
        for f in "$CUBBY_PAMDIR/pam_cubby.so" "$CUBBY_CTL"; do
                st=$(stat -c '%U %a' "$f")
                it_eq "$(basename "$f"): owned by root" root "${st%% *}"
                it_eq "$(basename "$f"): not group or world writable" 0 "$(( 0${st##* } & 022 ))"
                it_eq "$(basename "$f"): not setuid" 0 "$(( 0${st##* } & 06000 ))"
        done
        # every directory above the helper is root's and not writable by
        # others (sticky directories such as /var/tmp excepted: nobody can
        # rename what root owns in them)
        local bad="" n=0
        f=$(dirname "$CUBBY_HELPER")
        while [ "$f" != / ] && [ "$n" -lt 64 ]; do
                st=$(stat -c '%U %a' "$f")
                if [ "${st%% *}" != root ] || { [ $(( 0${st##* } & 022 )) != 0 ] && [ $(( 0${st##* } & 01000 )) = 0 ]; }; then
                        bad+="$f ($st) "
                fi
                f=$(dirname "$f")
                n=$((n + 1))
        done
        it_eq "every directory above the helper is root's, not writable by others (sticky excepted)" "" "$bad"
        local conf="$CUBBY_PREFIX/etc/security/cubby.conf"
        [ -e "$conf" ] && it_eq "installed example policy: not group or world writable" 0 "$(( 0$(stat -c %a "$conf") & 022 ))"
}

test_H_helper_hardening() {
        local h=$CUBBY_HELPER
        it_match "cubby-shell is PIE" 'DYN \(Position-Independent|DYN \(Shared' "$(readelf -h "$h")"
        it_match "cubby-shell has full RELRO (BIND_NOW)" 'BIND_NOW|FLAGS_1.*NOW' "$(readelf -d "$h")"
        it_match "cubby-shell has a read-only GNU_RELRO segment" 'GNU_RELRO' "$(readelf -lW "$h")"
        it_nomatch "cubby-shell has no executable stack" 'GNU_STACK.* RWE ' "$(readelf -lW "$h")"
        it_match "cubby-shell uses the stack protector" '__stack_chk_fail' "$(nm -D "$h")"
        it_match "cubby-shell is built with FORTIFY" ' U __[a-z0-9_]+_chk@' "$(nm -D "$h" | grep -v __stack_chk_fail)"
        it_nomatch "cubby-shell is not a sanitizer build (ASAN_OPTIONS would be honoured setuid)" '__asan|__ubsan|__tsan|__msan|__sanitizer' "$(nm -D "$h")"
        it_nomatch "cubby-shell has no RPATH/RUNPATH" 'RPATH|RUNPATH' "$(readelf -d "$h")"
        it_nomatch "cubby-shell is not a fault-injection build" 'CUBBY_FAULT' "$(strings "$h" 2>/dev/null)"
}

refused_admitted() { # WHAT
        local out rc
        out=$(sec_su "$S1" "echo $RAN"); rc=$?
        sec_not_host "$1: su - $S1" "$out"
        it_ne "$1: su - $S1 refused" 0 "$rc"
        it_nomatch "$1: su - $S1: the command never ran" "$RAN" "$out"
        out=$(sec_su "$A1" "echo $RAN"); rc=$?
        it_eq "$1: su - $A1 (admin) admitted" "0 $RAN" "$rc $(grep -x "$RAN" <<<"$out")"
        it_check_clean "$1" "$S1"
}

test_H_world_writable_config() {
        # a good login first: the module keeps the admin group of the last
        # good policy (else the compiled-in default group applies)
        it_policy_write
        it_eq "good config: admin admitted" 0 "$(sec_su "$A1" true >/dev/null; echo $?)"
        chmod 0666 "$IT_CONF"
        refused_admitted "world-writable config"
        it_policy_write
        # the directory of the config writable by others: the file could
        # be swapped under the module
        chmod 0777 "$(dirname "$IT_CONF")"
        local out; out=$(sec_su "$S1" true)
        sec_not_host "config in a world-writable directory" "$out"
        chmod 0755 "$(dirname "$IT_CONF")"
        it_policy_write
}

test_H_world_writable_state_and_run_dirs() {
        local d out
        sec_sandboxed "baseline login (state and run dirs made)" "$(sec_su "$S1" true)"
        it_check_clean "baseline" "$S1"
        for d in "$IT_STATEDIR" "$IT_STATEDIR/users" "$IT_RUNDIR" "$IT_BRUNDIR/sessions"; do
                [ -d "$d" ] || { it_log "$d does not exist"; continue; }
                local mode; mode=$(stat -c %a "$d")
                chmod 0777 "$d"
                out=$(sec_su "$S1" "echo $RAN"); rc=$?
                sec_not_host "world-writable $d" "$out"
                it_ne "world-writable $d: su - $S1 refused" 0 "$rc"
                it_eq "world-writable $d: admin still admitted" "0" "$(sec_su "$A1" true >/dev/null; echo $?)"
                chmod "$mode" "$d"
                it_check_clean "world-writable $d" "$S1"
        done
        sec_sandboxed "modes restored: login works again" "$(sec_su "$S1" true)"
        it_check_clean "modes restored" "$S1"
}

test_H_helper_replaced_or_unsafe() {
        local out save
        # the module checks the helper before it redirects: a helper that
        # is not setuid root refuses the login instead of running the shell
        save=$(stat -c %a "$CUBBY_HELPER")
        chmod 0755 "$CUBBY_HELPER"
        out=$(sec_su "$S1" "echo $RAN")
        sec_not_host "helper not setuid" "$out"
        it_nomatch "helper not setuid: the command never ran" "$RAN" "$out"
        chmod "$save" "$CUBBY_HELPER"
        chmod 4777 "$CUBBY_HELPER"
        out=$(sec_su "$S1" "echo $RAN")
        sec_not_host "helper world-writable" "$out"
        it_nomatch "helper world-writable: the command never ran" "$RAN" "$out"
        chmod "$save" "$CUBBY_HELPER"
        it_eq "helper mode restored" 4755 "$(stat -c %a "$CUBBY_HELPER")"
        it_check_clean "helper checks" "$S1"
}

for t in test_H_installed_modes test_H_helper_hardening test_H_world_writable_config \
         test_H_world_writable_state_and_run_dirs test_H_helper_replaced_or_unsafe; do
        sec_test "$t"
done
sec_finish
