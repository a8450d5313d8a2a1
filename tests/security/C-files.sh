#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs/THREATS.md, C (files and overlay) and S4: planted symlinks and FIFOs in the
# state tree, RENAME_EXCHANGE races on the home, setuid files in the lower
# layer, and never two overlays on one upper dir.
IT_NEEDS="su pgrep timeout"
. "$(dirname "$0")/seclib.sh"
sec_init "$@"
S1=$IT_S1 S2=$IT_S2
H1=$(getent passwd "$S1" | cut -d: -f6)

# a fresh student for each planted state tree
fresh_user() { local u=${IT_P}$1; it_user_add "$u" -G "$IT_G_STUDENTS"; echo "$u"; }

planted() { # WHAT USER
        local out rc t0=$SECONDS
        sec_etc_mark
        out=$(timeout -k 2 25 nsenter --net="$IT_NETNS_PATH" su - "$2" -c 'echo @@pid=$$; echo @@ran=yes; touch ~/cubby-sec-planted' </dev/null 2>&1); rc=$?
        it_int_lt "$1: no hang (seconds)" 20 $((SECONDS - t0))
        it_ne "$1: login refused" 0 "$rc"
        it_eq "$1: the shell never ran" "" "$(it_get ran "$out")"
        it_match "$1: a refusal with an incident id" 'incident [0-9a-f]{16}' "$out"
        it_empty "$1: nothing in /etc was created or modified" "$(sec_etc_new)"
        it_eq "$1: no file landed in /etc" no "$([ -e /etc/cubby-sec-planted ] && echo yes || echo no)"
        it_check_clean "$1" "$2"
}

prep_users_dir() {
        install -d -m 0700 -o root -g root "$IT_STATEDIR" "$IT_STATEDIR/users"
}
# reset_user USER: a clean, root-owned users/<user> (what a failed login
# left there, e.g. merged, is removed)
reset_user() {
        rm -rf "${IT_STATEDIR:?}/users/$1"
        install -d -m 0700 -o root -g root "$IT_STATEDIR/users/$1"
}

test_C_symlink_upper_to_etc() {
        local u; u=$(fresh_user c1)
        prep_users_dir
        reset_user "$u"
        ln -s /etc "$IT_STATEDIR/users/$u/upper"
        planted "upper -> /etc" "$u"
        reset_user "$u"
        ln -s /etc "$IT_STATEDIR/users/$u/work"
        planted "work -> /etc" "$u"
        reset_user "$u"
        ln -s /etc "$IT_STATEDIR/users/$u/merged"
        planted "merged -> /etc" "$u"
        rm -rf "$IT_STATEDIR/users/$u"
}

test_C_symlink_user_dir() {
        local u; u=$(fresh_user c2)
        prep_users_dir
        mkdir -p "$IT_SCRATCH/x"; chmod 0700 "$IT_SCRATCH/x"
        ln -s "$IT_SCRATCH/x" "$IT_STATEDIR/users/$u"
        planted "users/<user> -> elsewhere" "$u"
        it_empty "users/<user> -> elsewhere: nothing made in the target" "$(ls -A "$IT_SCRATCH/x")"
        rm -f "$IT_STATEDIR/users/$u"
        # a user dir the student owns (state must be root's)
        install -d -m 0700 -o "$u" "$IT_STATEDIR/users/$u"
        planted "users/<user> owned by the student" "$u"
        rm -rf "$IT_STATEDIR/users/$u"
        # the student owns upper, but it is a symlink inside their own tree
        install -d -m 0700 -o root "$IT_STATEDIR/users/$u"
        install -d -m 0755 -o "$u" "$IT_STATEDIR/users/$u/real"
        ln -s real "$IT_STATEDIR/users/$u/upper"
        planted "upper -> a sibling dir" "$u"
        rm -rf "$IT_STATEDIR/users/$u"
}

test_C_fifo_in_state_tree() {
        local u; u=$(fresh_user c3)
        prep_users_dir
        reset_user "$u"
        mkfifo -m 0600 "$IT_STATEDIR/users/$u/upper"
        planted "upper is a FIFO (pam_namespace CVE-2024-22365)" "$u"
        reset_user "$u"
        mkfifo -m 0600 "$IT_STATEDIR/users/$u/work"
        planted "work is a FIFO" "$u"
        reset_user "$u"
        mkfifo -m 0600 "$IT_STATEDIR/users/$u/merged"
        planted "merged is a FIFO" "$u"
        rm -rf "$IT_STATEDIR/users/$u"
        mkfifo -m 0600 "$IT_STATEDIR/users/$u"
        planted "users/<user> is a FIFO" "$u"
        rm -f "$IT_STATEDIR/users/$u"
        mknod -m 0600 "$IT_STATEDIR/users/$u" c 1 3
        planted "users/<user> is a device node" "$u"
        rm -f "$IT_STATEDIR/users/$u"
}

test_C_rename_exchange_race() {
        local uid bg i out
        uid=$(it_uid "$S1")
        # in the student's host home (the lower layer): d (a dir) and l (a
        # symlink to /etc) swap places as fast as renameat2 allows, while
        # logins copy d up and write into it as root's overlay would
        install -d -m 0755 -o "$S1" -g "$(it_gid "$S1")" "$H1/d"
        ln -sfn /etc "$H1/l"; chown -h "$S1" "$H1/l"
        sec_etc_mark
        it_as "$S1" "$SECPROBE" flip "$H1/d" "$H1/l" 12 >"$IT_SCRATCH/flip.out" 2>&1 &
        bg=$!
        for i in $(seq 1 8); do
                out=$(sec_su "$S1" "echo x >~/d/cubby-sec-race-$i 2>/dev/null; echo y >~/l/cubby-sec-race-$i 2>/dev/null; ls -d ~/d ~/l >/dev/null 2>&1")
                sec_not_host "exchange race login $i" "$out"
        done
        # the flipper inside a sandbox too (on the overlay), during logins
        it_su - "$S1" -c "ln -sfn /etc ~/l2; mkdir -p ~/d2; $SECPROBE flip ~/d2 ~/l2 6" </dev/null >/dev/null 2>&1 &
        local bg2=$!
        for i in $(seq 1 4); do
                out=$(sec_su "$S1" "touch ~/d2/cubby-sec-race-in-$i 2>/dev/null; true")
                sec_not_host "exchange race (inside) login $i" "$out"
        done
        wait "$bg" "$bg2"
        it_log "flipper: $(cat "$IT_SCRATCH/flip.out")"
        it_match "exchange race: the flipper ran" 'flips=[1-9]' "$(cat "$IT_SCRATCH/flip.out")"
        it_empty "exchange race: nothing named cubby-sec-race in /etc" "$(ls /etc | grep cubby-sec-race)"
        it_empty "exchange race: nothing in /etc created or modified" "$(sec_etc_new)"
        it_empty "exchange race: no root-owned file in the student's trees" \
                "$(find "$H1" "$IT_STATEDIR/users/$S1/upper" -xdev -user root ! -name '.cubby-sec*' 2>/dev/null | grep -v "^$H1\$")"
        rm -rf "$H1/d" "$H1/l"
        it_check_clean "exchange race" "$S1"
}

test_C_setuid_in_lower_layer() {
        local out uid
        uid=$(it_uid "$S2")
        local h2; h2=$(getent passwd "$S2" | cut -d: -f6)
        install -m 4755 -o root -g root /usr/bin/id "$h2/cubby-sec-suid-id"
        install -m 2755 -o root -g root /usr/bin/id "$h2/cubby-sec-sgid-id"
        if command -v setcap >/dev/null; then
                install -m 0755 -o root -g root /usr/bin/id "$h2/cubby-sec-cap-id"
                setcap cap_setuid,cap_dac_override+ep "$h2/cubby-sec-cap-id" 2>/dev/null
        fi
        out=$(sec_su "$S2" 'echo @@suid=$(~/cubby-sec-suid-id -u); echo @@sgid=$(~/cubby-sec-sgid-id -g); echo @@cap=$(~/cubby-sec-cap-id -u 2>/dev/null; grep CapEff /proc/self/status | tr -d "\t" ); echo @@mode=$(stat -c %a ~/cubby-sec-suid-id)')
        sec_sandboxed "setuid in the lower layer" "$out"
        it_eq "setuid in the lower layer: the file is still mode 4755 inside" 4755 "$(it_get mode "$out")"
        it_eq "setuid-root id in the home runs with the user's euid" "$uid" "$(it_get suid "$out")"
        it_eq "setgid-root id in the home runs with the user's egid" "$(it_gid "$S2")" "$(it_get sgid "$out")"
        it_match "file capabilities in the home give nothing" "^$uid" "$(it_get cap "$out")"
        rm -f "$h2"/cubby-sec-*
        it_check_clean "setuid in the lower layer" "$S2"
}

count_overlays() { # USER: distinct superblocks of overlays on USER's upper dir
        local up=$IT_STATEDIR/users/$1/upper
        grep -h " - overlay " /proc/[0-9]*/mountinfo 2>/dev/null | grep -F "upperdir=$up," \
                | awk '{ print $3 }' | sort -u | wc -l
}

test_C_two_overlays_one_upper() {
        local i n max=0 running=0 pids=() uid
        uid=$(it_uid "$S1")
        # The sessions sleep far longer than the checks take, even on a
        # loaded machine, and are ended by killing their shells after them.
        for i in 1 2 3 4 5; do
                it_su - "$S1" -c 'sleep 120' </dev/null >/dev/null 2>&1 &
                pids+=($!)
        done
        # Sample while they start (up to 30 s for all five), then 2 s more.
        for i in $(seq 1 150); do
                n=$(count_overlays "$S1"); [ "$n" -gt "$max" ] && max=$n
                running=$(pgrep -U "$uid" -x sleep | wc -l)
                [ "$running" -ge 5 ] && break
                sleep 0.2
        done
        for i in $(seq 1 10); do
                n=$(count_overlays "$S1"); [ "$n" -gt "$max" ] && max=$n
                sleep 0.2
        done
        it_eq "5 concurrent logins of one user: exactly one overlay superblock on its upper dir" 1 "$max"
        it_eq "5 concurrent logins: all five are running" 5 "$running"
        pkill -KILL -U "$uid" -x sleep
        for i in "${pids[@]}"; do wait "$i"; done
        it_eq "after the 5 logins: no overlay left on the upper dir" 0 "$(count_overlays "$S1")"
        it_check_clean "5 concurrent logins" "$S1"
}

for t in test_C_symlink_upper_to_etc test_C_symlink_user_dir test_C_fifo_in_state_tree \
         test_C_rename_exchange_race test_C_setuid_in_lower_layer test_C_two_overlays_one_upper; do
        sec_test "$t"
done
sec_finish
