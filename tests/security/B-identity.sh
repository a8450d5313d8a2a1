#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs/THREATS.md, B (identity and config): names the policy cannot handle are
# refused (never a host shell); odd but valid names work; root and system
# users are never sandboxed; malformed, oversized or wrongly owned configs
# refuse sandboxed users and admit admins (S2).
IT_NEEDS="su pgrep"
. "$(dirname "$0")/seclib.sh"
sec_init "$@"
S1=$IT_S1 A1=$IT_A1
RAN=cubby-sec-ran

refused() { # WHAT USER
        local out rc
        out=$(sec_su "$2" "echo $RAN"); rc=$?
        sec_not_host "$1: su - $2" "$out"
        it_ne "$1: su - $2 refused" 0 "$rc"
        it_nomatch "$1: su - $2: the command never ran" "$RAN" "$out"
        it_match "$1: su - $2: a message with an incident id" 'cubby: login refused.*incident [0-9a-f]{16}' "$out"
}
admitted() { # WHAT USER
        local out rc
        out=$(sec_su "$2" "echo $RAN"); rc=$?
        it_eq "$1: su - $2 admitted" "0 $RAN" "$rc $(grep -x "$RAN" <<<"$out")"
}

test_B_hostile_user_names() {
        local u out
        # valid Debian names the policy cannot use ('$', '%'): refused
        for u in "${IT_P}m\$" "${IT_P}p%u"; do
                if ! useradd -m -s /bin/bash --badname -G "$IT_G_STUDENTS" "$u" 2>/dev/null \
                   && ! useradd -m -s /bin/bash -G "$IT_G_STUDENTS" "$u" 2>/dev/null; then
                        it_log "useradd refuses '$u' here: not testable"
                        continue
                fi
                refused "hostile name '$u'" "$u"
                it_check_clean "hostile name '$u'" "$u"
                userdel -r -f "$u" >/dev/null 2>&1
        done
        # odd but valid: dots, '_', '-', and 32 characters: a sandbox
        u="${IT_P}.x_y-z.$(printf 'q%.0s' $(seq 1 13))"
        u=${u:0:32}
        if useradd -m -s /bin/bash -G "$IT_G_STUDENTS" "$u" 2>/dev/null; then
                out=$(sec_su "$u" 'echo @@home=$HOME; echo @@user=$(id -un); echo @@homes=$(ls -A /home)')
                sec_sandboxed "name '$u'" "$out"
                it_eq "name '$u': id -un inside" "$u" "$(it_get user "$out")"
                it_eq "name '$u': only its home in /home" "$u" "$(it_get homes "$out")"
                it_check_clean "name '$u'" "$u"
                userdel -r -f "$u" >/dev/null 2>&1
        else
                it_log "useradd refuses '$u'"
        fi
        # SSSD's fully qualified names (user@domain, capitals): a sandbox
        u="${IT_P}A.b@EXAMPLE.org"
        if useradd -m -s /bin/bash --badname -G "$IT_G_STUDENTS" "$u" 2>/dev/null; then
                out=$(sec_su "$u" 'echo @@user=$(id -un | tr @ %); echo @@homes=$(ls -A /home | tr @ %)')
                sec_sandboxed "name '$u'" "$out"
                it_eq "name '$u': id -un inside" "${u//@/%}" "$(it_get user "$out")"
                it_eq "name '$u': only its home in /home" "${u//@/%}" "$(it_get homes "$out")"
                it_check_clean "name '$u'" "$u"
                userdel -r -f "$u" >/dev/null 2>&1
        else
                it_log "useradd refuses '$u'"
        fi
}

test_B_root_and_system_users() {
        local out
        # root and a system user (uid < 1000) in the students group: root
        # is never sandboxed (admins always get in); the system user gets
        # a sandbox or a refusal, never a host shell
        out=$(it_su - root -c 'echo @@pid=$$' </dev/null 2>&1)
        it_ne "root in su - root: not sandboxed" 1 "$(it_get pid "$out")"
        it_ne "root in su - root: got in" "" "$(it_get pid "$out")"
        local sys=${IT_P}sy
        useradd -r -m -s /bin/bash -G "$IT_G_STUDENTS" "$sys" 2>/dev/null || { it_log "useradd -r failed"; return; }
        out=$(sec_su "$sys" 'echo @@uid=$(id -u)')
        sec_not_host "system user $sys (uid $(id -u "$sys"))" "$out"
        it_check_clean "system user" "$sys"
        userdel -r -f "$sys" >/dev/null 2>&1
}

broken_conf() { # WHAT
        refused "$1" "$S1"
        admitted "$1" "$A1"
        it_check_clean "$1" "$S1"
}

test_B_malformed_config() {
        head -c 4096 /dev/urandom >"$IT_CONF"; chmod 0644 "$IT_CONF"
        broken_conf "config of random bytes"
        printf '[global]\nadmin_group = %s\n[group %s\nsandbox = yes\n' "$IT_G_ADMIN" "$IT_G_STUDENTS" >"$IT_CONF"
        broken_conf "config with an unterminated section"
        printf '[global]\nadmin_group = %s\n[group %s]\nsandbox = maybe\n' "$IT_G_ADMIN" "$IT_G_STUDENTS" >"$IT_CONF"
        broken_conf "config with a bad value"
        printf '[global]\nadmin_group = %s\0\n[default]\nsandbox = no\n' "$IT_G_ADMIN" >"$IT_CONF"
        broken_conf "config with a NUL byte"
        it_policy_write
}

test_B_oversized_config() {
        it_policy_write
        { cat "$IT_CONF"; for _ in $(seq 1 40000); do echo "# padding padding padding padding"; done; } >"$IT_CONF.big"
        mv "$IT_CONF.big" "$IT_CONF"; chmod 0644 "$IT_CONF"
        it_eq "oversized config: larger than 1 MiB" yes "$([ "$(stat -c %s "$IT_CONF")" -gt 1048576 ] && echo yes)"
        broken_conf "config over 1 MiB"
        # a FIFO as config: refused without hanging (bounded by IT_TIMEOUT)
        rm -f "$IT_CONF"; mkfifo -m 0644 "$IT_CONF"
        local t0=$SECONDS
        broken_conf "config that is a FIFO"
        it_int_lt "config that is a FIFO: no hang (seconds for both logins)" 20 $((SECONDS - t0))
        rm -f "$IT_CONF"
        broken_conf "missing config"
        it_policy_write
}

test_B_wrongly_owned_config() {
        it_policy_write; chown "$IT_S1" "$IT_CONF"
        broken_conf "config owned by a student"
        it_policy_write; chmod 0664 "$IT_CONF"
        broken_conf "group-writable config"
        it_policy_write; chmod 0646 "$IT_CONF"
        broken_conf "world-writable config"
        it_policy_write
        mv "$IT_CONF" "$IT_CONF.real"; ln -s "$IT_CONF.real" "$IT_CONF"
        local out
        out=$(sec_su "$S1" true)
        sec_not_host "config that is a symlink" "$out"
        rm -f "$IT_CONF"; mv "$IT_CONF.real" "$IT_CONF"
        # a config in a directory the student can write
        mkdir -p "$IT_SCRATCH/etc-ww"; chmod 0777 "$IT_SCRATCH/etc-ww"
        it_policy_write; cp -p "$IT_CONF" "$IT_SCRATCH/etc-ww/cubby.conf"
        it_pam_stacks "config=$IT_SCRATCH/etc-ww/cubby.conf"
        out=$(sec_su "$S1" true)
        sec_not_host "config in a world-writable directory" "$out"
        it_pam_stacks
        it_policy_write
        admitted "config restored" "$A1"
        sec_sandboxed "config restored" "$(sec_su "$S1" true)"
        it_check_clean "config restored" "$S1"
}

for t in test_B_hostile_user_names test_B_root_and_system_users test_B_malformed_config \
         test_B_oversized_config test_B_wrongly_owned_config; do
        sec_test "$t"
done
sec_finish
