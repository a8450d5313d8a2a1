#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The per-user overlay home (docs/ARCHITECTURE.md) through real logins (sshd,
# su, login): writes persist in <state_dir>/users/<u>/upper and never reach
# the host home; concurrent sessions of one user share one overlay (one
# superblock per upper dir over every process's mount table, also through
# a quick logout/login loop); ephemeral mode forgets; planted symlinks,
# FIFOs, files and wrong owners in the state tree refuse the login, in
# bounded time, and root never follows them; another user never sees the
# home; cubbyctl home show/reset and gc; home_lower and /etc/skel.
IT_NEEDS="/usr/sbin/sshd ssh su login script ss pgrep mkfifo"
. "$(dirname "$0")/lib.sh"
it_init "$@"
. "$(dirname "$0")/lib-extra.sh"

S1=$IT_S1 S2=$IT_S2
E1=${IT_P}e1            # home = ephemeral
K1=${IT_P}k1            # home_lower missing: /etc/skel
T1=${IT_P}t1            # home_lower = a course template
P1=${IT_P}p1            # the state tree gets planted links
M1=${IT_P}m1            # max_sessions = 1
Q1=${IT_P}q1            # home_size on a persistent home: no project quotas here
for u in "$E1" "$K1" "$T1" "$P1" "$M1" "$Q1"; do hx_add_student "$u"; done
TMPL=$IT_SCRATCH/tmpl
mkdir -p -m 0755 "$TMPL/$T1"
echo course-v1 >"$TMPL/$T1/course.txt"
chmod 0644 "$TMPL/$T1/course.txt"
chown "$T1:" "$TMPL/$T1/course.txt"
it_policy_write \
        "[user $E1]" "home = ephemeral" "home_size = 2M" "home_inodes = 40" \
        "[user $Q1]" "home_size = 1G" \
        "[user $K1]" "home_lower = /nonexistent-cubby-$IT_ID/%u" \
        "[user $T1]" "home_lower = $TMPL/%u" \
        "[user $M1]" "max_sessions = 1"
it_sshd_start

USERS=$IT_STATEDIR/users
UP1=$USERS/$S1/upper
H1=$(getent passwd "$S1" | cut -d: -f6)

# ------------------------------------------------------------ persistence
echo original >"$H1/hn-existing.txt"
chown "$S1:" "$H1/hn-existing.txt"
out=$(it_ssh -n "$S1" 'echo persist-1 > hn-persist.txt && cat hn-existing.txt && echo changed > hn-existing.txt && echo ok' 2>&1)
it_eq "ssh $S1: writes a new file and changes a host-home file" "$(printf 'original\nok')" "$out"
it_eq "the new file is in the upper dir" persist-1 "$(cat "$UP1/hn-persist.txt" 2>&1)"
it_eq "the new file never appears in the host home" no "$(hx_yn test -e "$H1/hn-persist.txt")"
it_eq "the changed host-home file is unchanged on the host" original "$(cat "$H1/hn-existing.txt")"
it_eq "the change landed in the upper dir" changed "$(cat "$UP1/hn-existing.txt" 2>&1)"
it_eq "upper dir owned by the user" "$(it_uid "$S1")" "$(stat -c %u "$UP1" 2>&1)"
it_eq "state tree parents are root 0700" "0:700 0:700" \
        "$(stat -c %u:%a "$USERS" 2>&1) $(stat -c %u:%a "$USERS/$S1" 2>&1)"
out=$(it_su - "$S1" -c 'cat hn-persist.txt hn-existing.txt; echo "@@home=$HOME @@owner=$(stat -c %u "$HOME")"; awk -v h="$HOME" "\$5 == h { print \"@@opts=\" \$6 }" /proc/self/mountinfo' </dev/null 2>&1)
it_match "su - $S1 (next login) reads both files" "^persist-1"$'\n'"changed" "$out"
it_eq "inside, the home is at the user's pw_dir" "$H1" "$(it_get home "$out")"
it_eq "inside, the home is owned by the user" "$(it_uid "$S1")" "$(it_get owner "$out")"
it_match "inside, the home is mounted nosuid" '(^|,)nosuid(,|$)' "$(it_get opts "$out")"
it_match "inside, the home is mounted nodev" '(^|,)nodev(,|$)' "$(it_get opts "$out")"
# (the pty echoes the typed line: the key is assembled at run time)
out=$( { echo 'p=@@; echo "${p}c=$(cat hn-persist.txt)"'; echo exit; } | it_login "$S1" 2>&1)
it_eq "login -f $S1 reads the file too" persist-1 "$(it_get c "$out")"
it_eq "after the logins: no overlay on $S1's upper dir" 0 "$(hx_overlays_settle "$UP1")"
it_check_clean "after the persistence logins" "$S1"

# ------------------------------------------------------------ two sessions of one user
rm -f "$IT_SCRATCH/hn-go"
it_ssh -n "$S1" 'echo from-ssh > hn-conc-a
        for i in $(seq 1 150); do [ -e hn-conc-b ] && break; sleep 0.1; done
        echo "@@b=$(cat hn-conc-b 2>&1)"
        for i in $(seq 1 150); do [ -e hn-conc-end ] && break; sleep 0.1; done' \
        >"$IT_SCRATCH/conc-a.out" 2>&1 &
bg=$!
if hx_wait_file "$UP1/hn-conc-a" 150; then
        it_pass "ssh $S1 (first session) wrote hn-conc-a"
else
        it_fail "ssh $S1 (first session) wrote hn-conc-a" "$UP1/hn-conc-a" "absent after 15 s"
fi
out=$(it_su - "$S1" -c 'echo "@@a=$(cat hn-conc-a 2>&1)"; echo from-su > hn-conc-b; sleep 1.5' </dev/null 2>&1)
it_eq "su - $S1 (second session) sees the first session's write at once" from-ssh "$(it_get a "$out")"
# both run again: one overlay superblock on the upper dir, wherever mounted
it_su - "$S1" -c 'sleep 4' </dev/null >/dev/null 2>&1 &
bg2=$!
it_wait_proc "$S1" sleep >/dev/null
sleep 0.3
n=$(hx_overlays_on "$UP1")
it_eq "two concurrent sessions of $S1: exactly one overlay superblock on the upper dir" 1 "$n"
[ "$n" = 1 ] || hx_mounts_naming "upperdir=$UP1"
show=$(hx_ctl home show "$S1" 2>&1)
it_match "cubbyctl home show $S1 during sessions: mounted" '^mounted yes' "$show"
it_match "cubbyctl home show $S1 during sessions: names the upper dir" "upper $UP1" "$show"
fp=$(hx_fingerprint "$UP1")
out=$(hx_ctl home reset "$S1" 2>&1); rc=$?
it_ne "cubbyctl home reset $S1 during a session: refused" 0 "$rc"
it_match "cubbyctl home reset $S1 during a session: says why" 'session' "$out"
it_eq "cubbyctl home reset during a session: the upper dir is untouched" "$fp" "$(hx_fingerprint "$UP1")"
it_eq "cubbyctl home reset during a session: nothing moved aside" "" "$(ls -d "$USERS/$S1"/upper.reset-* 2>/dev/null)"
touch "$UP1/hn-conc-end"
wait "$bg"; rc=$?
wait "$bg2"
it_eq "ssh $S1 (first session): exit status" 0 "$rc"
it_eq "ssh $S1 (first session) saw the second session's write at once" from-su \
        "$(it_get b "$(cat "$IT_SCRATCH/conc-a.out")")"
it_check_clean "after the concurrent sessions" "$S1"
it_eq "after the concurrent sessions: no overlay left on the upper dir" 0 "$(hx_overlays_settle "$UP1")"
show=$(hx_ctl home show "$S1" 2>&1)
it_match "cubbyctl home show $S1 after logout: not mounted" '^mounted no' "$show"

# ------------------------------------------------------------ gc while a session runs
it_ssh -n "$S1" 'sleep 4; echo "@@c=$(cat hn-persist.txt)"' >"$IT_SCRATCH/gcrun.out" 2>&1 &
bg=$!
it_wait_proc "$S1" sleep >/dev/null
read -r apid _ <"$IT_RUNDIR/anchor" 2>/dev/null
out=$(hx_ctl gc 2>&1)
it_nomatch "cubbyctl gc during a session: does not stop the anchor" 'stopped the idle anchor' "$out"
it_eq "cubbyctl gc during a session: the holder lives" yes "$(hx_yn kill -0 "${apid:-0}")"
it_eq "cubbyctl gc during a session: the overlay stays" 1 "$(hx_overlays_on "$UP1")"
out=$(it_su - "$S1" -c 'cat hn-persist.txt' </dev/null 2>&1)
it_eq "cubbyctl gc during a session: a second login still shares the home" persist-1 "$out"
wait "$bg"
it_eq "cubbyctl gc during a session: the running session keeps its home" persist-1 \
        "$(it_get c "$(cat "$IT_SCRATCH/gcrun.out")")"
it_check_clean "after gc during a session" "$S1"

# ------------------------------------------------------------ the anchor holder dies under a session
# The running session keeps its overlay (in its own mount namespace); a new
# anchor would not see it: a second overlay on the same upper dir must not
# be mounted while that session lives.
it_ssh -n "$S1" 'for i in $(seq 1 100); do [ -e hn-anchor-end ] && break; sleep 0.1; done; echo "@@c=$(cat hn-anchor-b 2>&1)"' \
        >"$IT_SCRATCH/anchor-a.out" 2>&1 &
bg=$!
it_wait_proc "$S1" sleep >/dev/null
read -r apid _ <"$IT_RUNDIR/anchor" 2>/dev/null
if [ -n "${apid:-}" ] && [ "$(cat "/proc/$apid/comm" 2>/dev/null)" = cubby-anchor ]; then
        kill -KILL "$apid"
        for i in $(seq 1 20); do kill -0 "$apid" 2>/dev/null || break; sleep 0.1; done
        t0=$(hx_time_ms)
        out=$(IT_TIMEOUT=30 it_su - "$S1" -c 'echo from-b > hn-anchor-b; echo cubby-it-ran' </dev/null 2>&1); rc=$?
        t1=$(hx_time_ms)
        n=$(hx_overlays_on "$UP1")
        it_eq "anchor killed under a session: still one overlay on the upper dir after a new login" 1 "$n"
        [ "$n" = 1 ] || hx_mounts_naming "upperdir=$UP1"
        if [ "$rc" = 0 ]; then
                it_log "anchor killed: the second login was admitted ($out)"
        else
                it_match "anchor killed: a refused second login says why" 'cubby' "$out"
                it_log "anchor killed: the second login was refused in $((t1 - t0)) ms: $(it_clip "$out")"
        fi
        it_int_lt "anchor killed: the second login is answered within 15 s" 15000 $((t1 - t0))
        touch "$UP1/hn-anchor-end"
        wait "$bg"
        out=$(it_ssh -n "$S1" 'cat hn-persist.txt' 2>&1)
        it_eq "anchor killed: after that session, a login works again" persist-1 "$out"
        n=$(hx_overlays_settle "$UP1")
        it_eq "anchor killed: no overlay left afterwards (waited up to 5 s)" 0 "$n"
        [ "$n" = 0 ] || { echo "---- evidence: who holds an overlay on $UP1"; hx_overlay_holders "$UP1"; }
        rm -f "$UP1/hn-anchor-end" "$UP1/hn-anchor-b"
else
        it_fail "anchor holder of the running session found" "a cubby-anchor pid" "'${apid:-}'"
        touch "$UP1/hn-anchor-end"; wait "$bg"
fi
it_check_clean "after the anchor was killed" "$S1"

# ------------------------------------------------------------ max_sessions refusal keeps the home
it_ssh -n "$M1" 'for i in $(seq 1 100); do [ -e hn-m-end ] && break; sleep 0.1; done; echo after > hn-m-after.txt' >/dev/null 2>&1 &
bg=$!
it_wait_proc "$M1" sleep >/dev/null
out=$(it_su - "$M1" -c 'echo cubby-it-ran' </dev/null 2>&1); rc=$?
it_ne "max_sessions = 1: a second login of $M1 is refused" 0 "$rc"
it_match "max_sessions = 1: says why" 'max_sessions|too many' "$out"
it_eq "max_sessions = 1: after the refusal, the first session's overlay is still mounted" 1 \
        "$(hx_overlays_on "$USERS/$M1/upper")"
touch "$USERS/$M1/upper/hn-m-end"
wait "$bg"
it_eq "max_sessions = 1: the first session still wrote to its home" after "$(cat "$USERS/$M1/upper/hn-m-after.txt" 2>&1)"
it_check_clean "after max_sessions" "$M1"

# ------------------------------------------------------------ another user
it_ssh -n "$S1" 'sleep 5' >/dev/null 2>&1 &
bg=$!
it_wait_proc "$S1" sleep >/dev/null
out=$(it_ssh -n "$S2" "echo \"@@home=\$(ls -A /home | tr '\n' ' ')\"
        echo \"@@s1home=\$(test -e '$H1' && echo yes || echo no)\"
        echo \"@@s1mnt=\$(grep -c -F '$S1' /proc/self/mountinfo)\"
        echo \"@@s1upper=\$(cat '$UP1/hn-persist.txt' 2>/dev/null || echo unreadable)\"
        echo \"@@s1file=\$(find / -xdev -name hn-persist.txt 2>/dev/null | head -n 1)\"" 2>&1)
it_eq "$S2 while $S1 is logged in: /home shows only $S2" "$S2" "$(it_get home "$out")"
it_eq "$S2: $S1's home path does not exist" no "$(it_get s1home "$out")"
it_eq "$S2: its mountinfo never names $S1" 0 "$(it_get s1mnt "$out")"
it_eq "$S2: $S1's upper dir is not readable" unreadable "$(it_get s1upper "$out")"
it_eq "$S2: no copy of $S1's file anywhere on its root" "" "$(it_get s1file "$out")"
pid2=$(pgrep -U "$(it_uid "$S1")" -x sleep | head -n1)
if [ -n "$pid2" ]; then
        it_nomatch "$S1's sandbox mountinfo never names $S2" "$S2" "$(cat "/proc/$pid2/mountinfo")"
fi
wait "$bg"
it_check_clean "after the two users" "$S1"
it_check_clean "after the two users" "$S2"

# ------------------------------------------------------------ quick logout/login loop
ROUNDS=20
: >"$IT_SCRATCH/ovmax"
touch "$IT_SCRATCH/sampling"
(
        max=0 samples=0
        for i in $(seq 1 3000); do
                [ -e "$IT_SCRATCH/sampling" ] || break
                n=$(hx_overlays_on "$UP1")
                samples=$((samples + 1))
                [ "$n" -gt "$max" ] && { max=$n; hx_mounts_naming "upperdir=$UP1" >"$IT_SCRATCH/ovmax.mounts"; }
                echo "$max $samples" >"$IT_SCRATCH/ovmax"
        done
) &
sampler=$!
hx_on_exit "rm -f '$IT_SCRATCH/sampling'; kill $sampler"
t0=$(hx_time_ms)
for i in $(seq 1 "$ROUNDS"); do
        # an ssh login ending while a su login starts, and the other way round
        it_ssh -n "$S1" "echo ssh-$i >> hn-loop.txt; sleep 0.$((RANDOM % 4))" >/dev/null 2>&1 &
        b=$!
        sleep 0.$((RANDOM % 3))
        it_su - "$S1" -c "echo su-$i >> hn-loop.txt" </dev/null >/dev/null 2>&1
        wait "$b"
done
t1=$(hx_time_ms)
rm -f "$IT_SCRATCH/sampling"
wait "$sampler"
read -r max samples <"$IT_SCRATCH/ovmax"
it_log "login loop: $ROUNDS rounds (ssh + su) in $((t1 - t0)) ms, $samples samples of the mount tables, max $max overlays"
it_int_lt "login loop: never two overlays on $S1's upper dir ($samples samples)" 2 "${max:-9}"
[ "${max:-9}" -lt 2 ] || cat "$IT_SCRATCH/ovmax.mounts"
[ "${max:-0}" -ge 1 ] && it_pass "login loop: the sampler saw the overlay mounted" \
        || it_fail "login loop: the sampler saw the overlay mounted" "max >= 1" "${max:-0}"
it_eq "login loop: every login's write landed in the one upper dir" $((2 * ROUNDS)) \
        "$(wc -l <"$UP1/hn-loop.txt" 2>/dev/null)"
it_check_clean "after the login loop" "$S1"
it_eq "after the login loop: no overlay on the upper dir" 0 "$(hx_overlays_settle "$UP1")"

# ------------------------------------------------------------ reset
out=$(hx_ctl home reset "$S1" 2>&1); rc=$?
it_eq "cubbyctl home reset $S1 without sessions: exit status" 0 "$rc"
moved=$(ls -d "$USERS/$S1"/upper.reset-* 2>/dev/null | head -n1)
it_ne "cubbyctl home reset: the old upper dir is kept aside" "" "$moved"
it_eq "cubbyctl home reset: the old files are kept" persist-1 "$(cat "$moved/hn-persist.txt" 2>&1)"
it_match "cubbyctl home reset: says where the old files are" "${moved##*/}" "$out"
out=$(it_ssh -n "$S1" 'echo "@@p=$(cat hn-persist.txt 2>&1 | head -c 40)"; echo "@@e=$(cat hn-existing.txt)"' 2>&1)
it_match "after reset: the next login starts from the lower only (no hn-persist.txt)" \
        'No such file' "$(it_get p "$out")"
it_eq "after reset: the host-home file is seen as on the host" original "$(it_get e "$out")"
it_eq "after reset: the kept copy is still there" persist-1 "$(cat "$moved/hn-persist.txt" 2>&1)"

# ------------------------------------------------------------ ephemeral
out=$(it_ssh -n "$E1" 'echo eph > hn-eph.txt; cat hn-eph.txt; awk -v h="$HOME" "\$5 == h { print \$0 }" /proc/self/mountinfo' 2>&1)
it_match "ephemeral $E1: the first login writes" '^eph' "$out"
it_match "ephemeral $E1: its overlay's upper dir is on the per-login tmpfs" "upperdir=$USERS/$E1/eph/upper" "$out"
it_eq "ephemeral $E1: nothing written to the persistent upper dir" no \
        "$(hx_yn test -e "$USERS/$E1/upper/hn-eph.txt")"
it_check_clean "after the ephemeral login" "$E1"
it_eq "ephemeral $E1: no mount of its eph tmpfs or overlay left" "" "$(hx_mounts_naming "$USERS/$E1/")"
out=$(it_su - "$E1" -c 'cat hn-eph.txt 2>&1 | head -c 60; echo; ls -A' </dev/null 2>&1)
it_match "ephemeral $E1: the next login has forgotten the file" 'No such file' "$out"
E1HOME=$(getent passwd "$E1" | cut -d: -f6)
it_eq "ephemeral $E1: never in the host home" no "$(hx_yn test -e "$E1HOME/hn-eph.txt")"
it_check_clean "after the second ephemeral login" "$E1"
# home_size / home_inodes on an ephemeral home: the tmpfs' own limits
out=$(it_su - "$E1" -c 'dd if=/dev/zero of=big bs=64K count=64 2>&1 | head -n1; stat -c @@size=%s big; rm -f big
i=0; while [ $i -lt 100 ] && : >f$i 2>/dev/null; do i=$((i+1)); done; echo @@made=$i' </dev/null 2>&1)
it_match "ephemeral $E1, home_size = 2M: a 4M write stops with ENOSPC" 'No space left on device' "$out"
n=$(it_get size "$out")
it_eq "ephemeral $E1: the file stopped at home_size" yes "$( [ "${n:-0}" -le 2097152 ] && [ "${n:-0}" -ge 1048576 ] && echo yes || echo "no: ${n:-?}")"
n=$(it_get made "$out")
it_eq "ephemeral $E1, home_inodes = 40: at most 40 files, at least 30" yes "$( [ "${n:-0}" -le 40 ] && [ "${n:-0}" -ge 30 ] && echo yes || echo "no: ${n:-?}")"
it_check_clean "after the ephemeral login with limits" "$E1"
# a persistent home with home_size where state_dir has no project quotas
# (this kernel cannot even mount them): refused, check says why
out=$(it_su - "$Q1" -c 'echo @@in=yes' </dev/null 2>&1); rc=$?
it_ne "home_size without project quotas: $Q1 refused" 0 "$rc"
it_nomatch "home_size without project quotas: no shell ran" '@@in=yes' "$out"
it_match "home_size without project quotas: the message says why" \
        "login refused \\(home_size or home_inodes is set, but the home's file system has no project quotas" "$out"
out=$(hx_ctl check --sshd-config /nonexistent --pam-dir "$IT_SCRATCH" 2>&1)
it_match "cubbyctl check: names state_dir without project quotas" \
        "home_size/home_inodes are set, but state_dir $IT_STATEDIR .*has no project quotas" "$out"
it_match "cubbyctl check: says how to fix it" 'prjquota' "$out"
it_check_clean "after the refused home_size login" "$Q1"

# ------------------------------------------------------------ home_lower
out=$(it_ssh -n "$K1" 'ls -A | sort | tr "\n" " "' 2>&1)
it_eq "home_lower missing: the home shows /etc/skel's contents" "$(ls -A /etc/skel | sort | tr '\n' ' ')" "$out"
K1HOME=$(getent passwd "$K1" | cut -d: -f6)
echo host-only >"$K1HOME/hn-hostonly.txt"
out=$(it_ssh -n "$K1" 'test -e hn-hostonly.txt && echo visible || echo invisible' 2>&1)
it_eq "home_lower missing: the host home is not the lower" invisible "$out"
out=$(it_ssh -n "$T1" 'cat course.txt; echo course-mine > course.txt; cat course.txt' 2>&1)
it_eq "home_lower = template: the template's file appears and can be changed" \
        "$(printf 'course-v1\ncourse-mine')" "$out"
it_eq "home_lower = template: the template itself is unchanged" course-v1 "$(cat "$TMPL/$T1/course.txt")"
it_eq "home_lower = template: the change is in the user's upper dir" course-mine \
        "$(cat "$USERS/$T1/upper/course.txt" 2>&1)"
it_check_clean "after the home_lower logins" "$K1"
it_check_clean "after the home_lower logins" "$T1"

# ------------------------------------------------------------ a hostile state tree
# The tree of P1 exists after one login; then one thing at a time is
# planted in it. The bait is owned as the real thing would be, so a path
# that followed it would succeed quietly.
it_ssh -n "$P1" 'echo p1 > hn-p1.txt' >/dev/null 2>&1
PU=$USERS/$P1
it_eq "$P1's state tree exists after a first login" yes "$(hx_yn test -d "$PU/upper")"
P1UID=$(it_uid "$P1") P1GID=$(it_gid "$P1")
BAIT=$IT_SCRATCH/bait
mkdir -p -m 0755 "$BAIT/user-upper" "$BAIT/userdir/upper" "$BAIT/userdir/work" "$BAIT/userdir/merged"
chown "$P1UID:$P1GID" "$BAIT/user-upper" "$BAIT/userdir/upper"
chmod 0700 "$BAIT/userdir" "$BAIT/userdir/work"
echo bait >"$BAIT/user-upper/bait.txt"
echo bait >"$BAIT/userdir/upper/bait.txt"
mkdir -m 0700 "$BAIT/users" && ln -s "$BAIT/userdir" "$BAIT/users/$P1"

# planted NAME SETUP RESTORE [reset]: refuse, in bounded time, bait
# untouched; with "reset", cubbyctl home reset must refuse too.
planted() {
        local what=$1 setup=$2 restore=$3 fpb fpa t0 t1 out rc left via
        fpb=$(hx_fingerprint "$BAIT")
        eval "$setup" || { it_fail "$what: planting" "setup ok" "failed"; return; }
        for via in ssh su; do
                t0=$(hx_time_ms)
                if [ $via = ssh ]; then
                        out=$(IT_TIMEOUT=30 it_ssh -n "$P1" 'echo cubby-it-ran; touch hn-ran' 2>&1); rc=$?
                else
                        out=$(IT_TIMEOUT=30 it_su - "$P1" -c 'echo cubby-it-ran; touch hn-ran' </dev/null 2>&1); rc=$?
                fi
                t1=$(hx_time_ms)
                it_ne "$what: $via login refused" 0 "$rc"
                it_nomatch "$what: $via: the command never ran" 'cubby-it-ran' "$out"
                it_match "$what: $via: a message says why" 'cubby.*(unsafe|state)' "$out"
                it_int_lt "$what: $via: refused within 10 s (took $((t1 - t0)) ms)" 10000 "$((t1 - t0))"
        done
        if [ "${4:-}" = reset ]; then
                out=$(hx_ctl home reset "$P1" 2>&1); rc=$?
                it_ne "$what: cubbyctl home reset refuses" 0 "$rc"
                hx_ctl home show "$P1" >/dev/null 2>&1
                hx_ctl gc >/dev/null 2>&1
        fi
        fpa=$(hx_fingerprint "$BAIT")
        it_eq "$what: the bait is untouched" "$fpb" "$fpa"
        it_eq "$what: no mount on or from the bait" "" "$(hx_mounts_naming "$BAIT")"
        it_eq "$what: no hn-ran anywhere in the bait" "" "$(find "$BAIT" -name hn-ran)"
        it_check_clean "$what: after the refusals" "$P1"
        left=$(find "$PU" -maxdepth 1 -printf '%f:%y ' 2>/dev/null)
        eval "$restore"
        it_log "$what: tree was [$left]"
}
planted "upper -> a dir owned by the user" \
        "mv '$PU/upper' '$PU/upper.real' && ln -s '$BAIT/user-upper' '$PU/upper'" \
        "rm -f '$PU/upper'; mv '$PU/upper.real' '$PU/upper'" reset
planted "users/<user> -> a root 0700 tree" \
        "mv '$PU' '$PU.real' && ln -s '$BAIT/userdir' '$PU'" \
        "rm -f '$PU'; mv '$PU.real' '$PU'" reset
planted "users -> elsewhere" \
        "mv '$USERS' '$USERS.real' && ln -s '$BAIT/users' '$USERS'" \
        "rm -f '$USERS'; mv '$USERS.real' '$USERS'" reset
planted "upper is a FIFO" \
        "mv '$PU/upper' '$PU/upper.real' && mkfifo -m 0644 '$PU/upper' && chown $P1UID:$P1GID '$PU/upper'" \
        "rm -f '$PU/upper'; mv '$PU/upper.real' '$PU/upper'" reset
planted "work is a FIFO" \
        "mv '$PU/work' '$PU/work.real' && mkfifo -m 0600 '$PU/work'" \
        "rm -f '$PU/work'; mv '$PU/work.real' '$PU/work'"
planted "merged is a file" \
        "rmdir '$PU/merged' && touch '$PU/merged'" \
        "rm -f '$PU/merged'; mkdir -m 0755 '$PU/merged'"
planted "users/<user> owned by the user" \
        "chown $P1UID '$PU'" \
        "chown 0 '$PU'" reset
planted "upper owned by another user" \
        "chown $(it_uid "$S2") '$PU/upper'" \
        "chown $P1UID '$PU/upper'" reset
out=$(it_ssh -n "$P1" 'cat hn-p1.txt' 2>&1)
it_eq "the tree restored: $P1 logs in again and has the file" p1 "$out"
it_check_clean "after the hostile tree" "$P1"

# ------------------------------------------------------------ gc stops the idle anchor
read -r apid _ _ <"$IT_RUNDIR/anchor" 2>/dev/null
it_ne "an anchor holder is recorded in run_dir/anchor" "" "${apid:-}"
it_eq "the recorded holder is a cubby-anchor process" cubby-anchor "$(cat "/proc/${apid:-0}/comm" 2>/dev/null)"
out=$(hx_ctl gc 2>&1); rc=$?
it_eq "cubbyctl gc after the last logout: exit status" 0 "$rc"
it_match "cubbyctl gc: stops the idle anchor" 'stopped the idle anchor' "$out"
for i in $(seq 1 20); do kill -0 "${apid:-0}" 2>/dev/null || break; sleep 0.1; done
it_eq "after gc: the holder is gone" no "$(hx_yn kill -0 "${apid:-0}" 2>/dev/null)"
it_eq "after gc: no anchor recorded" no "$(hx_yn test -e "$IT_RUNDIR/anchor")"
it_eq "after gc: no mount of the state dir anywhere" "" "$(hx_mounts_naming "$IT_STATEDIR/")"
it_cg_hier
left=
for h in "${!IT_CG_MNT[@]}"; do
        [ -e "$(it_cg_dir "$h" anchor)" ] && left+="$(it_cg_dir "$h" anchor) "
done
it_eq "after gc: no anchor cgroup left" "" "$left"
out=$(it_ssh -n "$S1" 'cat hn-existing.txt' 2>&1)
it_eq "after gc: a login makes a new anchor and works" original "$out"
hx_ctl gc >/dev/null 2>&1
it_check_clean "at the end" "$S1"

it_finish
