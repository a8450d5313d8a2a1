#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# THREATS C (files) and S6, the file system under state_dir: here a small
# ext4 of its own (a loop mount in this test's mount namespace), which a
# student fills through the home overlay. A student who fills the disk
# cannot take root's reserved blocks (root still writes 1 MiB there), and
# one who uses up every inode does not lock other students (or themself)
# out: a login needs no new space or inode that a student could take.
IT_NEEDS="su pgrep mkfs.ext4 df"
. "$(dirname "$0")/seclib.sh"
sec_init "$@"
S1=$IT_S1 S2=$IT_S2 S3=${IT_P}s3
IMG=$IT_SCRATCH/state.img
INODES=1024
SH_BG=()

statefs_setup() {
        # The overlays live in cubby's anchor mount namespace. Where root
        # may open PID 1's mount namespace, the anchor is a copy of that
        # one and would not see this test's loop mount: the overlays would
        # land on the host's own disk. Never fill that.
        if (exec 3</proc/1/ns/mnt) 2>/dev/null; then
                return 2
        fi
        truncate -s 48M "$IMG" && mkfs.ext4 -q -F -m 8 -N "$INODES" "$IMG" || return 1
        mkdir -p -m 0700 "$IT_STATEDIR" && mount -o loop "$IMG" "$IT_STATEDIR" || return 1
        chmod 0700 "$IT_STATEDIR"
        STATE_DEV=$(stat -c %d "$IT_STATEDIR")
        [ "$STATE_DEV" != "$(stat -c %d /)" ]
}

# on_statefs USER: the user's upper dir is on the loop file system, and
# cubby's anchor sees that mount (not the host disk below it).
on_statefs() {
        local anchor
        anchor=$(awk '{ print $1 }' "$IT_RUNDIR/anchor" 2>/dev/null)
        [ -n "$anchor" ] && [ "$(stat -c %d "$IT_STATEDIR/users/$1/upper" 2>/dev/null)" = "$STATE_DEV" ] &&
                awk -v d="$IT_STATEDIR" '$5 == d { found = 1 } END { exit !found }' "/proc/$anchor/mountinfo"
}

hold_session() {
        local k
        it_su - "$1" -c 'exec sleep 120' </dev/null >/dev/null 2>&1 &
        SH_BG+=($!)
        for k in $(seq 1 150); do
                pgrep -U "$(it_uid "$1")" -x sleep >/dev/null && return 0
                sleep 0.1
        done
        return 1
}

release_sessions() {
        local p u
        for u in "$@"; do
                for p in $(pgrep -U "$(it_uid "$u")" -x sleep); do kill -KILL "$p" 2>/dev/null; done
        done
        for p in "${SH_BG[@]}"; do wait "$p" 2>/dev/null; done
        SH_BG=()
}

# culprit_session: a session of S1 held open, its overlay checked to be on
# the loop file system before anything is filled.
culprit_session() {
        hold_session "$S1" && on_statefs "$S1" && return 0
        sec_broken "state_dir test: $S1's overlay on the test's loop file system" "on $IT_STATEDIR" "not there"
        release_sessions "$S1"
        return 1
}

# avail FIELD: df's free blocks (KiB, as a user sees them) or free inodes
avail() { df --output="$1" "$IT_STATEDIR" | tail -n1 | tr -d ' '; }

test_C_student_cannot_take_roots_reserve() {
        local out rc
        culprit_session || return
        out=$(sec_su "$S1" 'dd if=/dev/zero of=$HOME/fill bs=64k 2>/dev/null; echo @@fill=$(stat -c %s $HOME/fill)')
        sec_sandboxed "disk fill" "$out"
        it_log "$S1 wrote $(it_get fill "$out") bytes; free for users now $(avail avail) KiB"
        it_int_lt "disk fill: the file system is full for users (KiB left)" 64 "$(avail avail)"
        dd if=/dev/zero of="$IT_STATEDIR/root-1m" bs=1M count=1 conv=fsync 2>"$IT_SCRATCH/dd.err"; rc=$?
        it_eq "disk full by a student: root's own 1 MiB write there still succeeds (reserved blocks kept)" \
                "0 1048576" "$rc $(stat -c %s "$IT_STATEDIR/root-1m" 2>/dev/null || echo 0)"
        rm -f "$IT_STATEDIR/root-1m"
        # another student's first login needs a new state tree and overlay
        out=$(sec_su "$S2" ': >$HOME/empty-file 2>&1 && echo @@touch=ok; echo @@end=1' 2>&1)
        sec_sandboxed "disk full by $S1: another student's first login" "$out"
        it_eq "disk full by $S1: that student's home is writable (not a read-only overlay)" ok "$(it_get touch "$out")"
        out=$(sec_su "$S1" 'rm -f $HOME/fill && echo @@rm=ok')
        it_eq "disk full: the student can clean up" ok "$(it_get rm "$out")"
        release_sessions "$S1"
        it_check_clean "disk fill" "$S1"
        it_check_clean "disk fill" "$S2"
}

test_C_inode_exhaustion_locks_nobody_out() {
        local out
        culprit_session || return
        out=$(sec_su "$S1" "mkdir -p \$HOME/many; i=0; while [ \$i -lt $((INODES * 2)) ] && : >\$HOME/many/f\$i 2>/dev/null; do i=\$((i + 1)); done; echo @@made=\$i")
        sec_sandboxed "inode fill" "$out"
        it_log "$S1 created $(it_get made "$out") files; free inodes now $(avail iavail)"
        it_eq "inode fill: no inode is left on the file system" 0 "$(avail iavail)"
        # every overlay must now be mounted afresh
        release_sessions "$S1"
        out=$(sec_su "$S2" 'echo @@ok=yes; : >$HOME/x 2>/tmp/x.err; echo @@err=$(cat /tmp/x.err)')
        sec_sandboxed "inodes used up by $S1: another student gets in" "$out"
        it_nomatch "inodes used up by $S1: the other student's home is not mounted read-only" 'Read-only' "$out"
        out=$(sec_su "$S3" 'echo @@ok=yes')
        sec_sandboxed "inodes used up by $S1: a student's first login ever" "$out"
        out=$(sec_su "$S1" 'rm -rf $HOME/many && echo @@rm=ok')
        sec_sandboxed "inodes used up: the culprit gets in" "$out"
        it_eq "inodes used up: the culprit can clean up" ok "$(it_get rm "$out")"
        it_int_lt "after the clean-up the inodes are free again (fewer than 64 used)" 64 $((INODES - $(avail iavail)))
        for u in "$S1" "$S2" "$S3"; do it_check_clean "inode fill" "$u"; done
}

statefs_setup
case $? in
0)
        it_user_add "$S3" -G "$IT_G_STUDENTS"
        for t in test_C_student_cannot_take_roots_reserve test_C_inode_exhaustion_locks_nobody_out; do
                sec_test "$t"
        done ;;
2) SEC_RAN=1; SEC_CUR=statefs; sec_skip "root may open PID 1's mount namespace: cubby's anchor would not see this test's loop mount" ;;
*) it_fatal "cannot make the loop file system for state_dir" ;;
esac
sec_finish
