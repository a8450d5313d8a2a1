#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# S6's figure: while five sandboxed users run fork bombs and memory hogs
# (20 s), another user's login completes within 5 s, and an admin's too.
# Prints the measured times.
IT_NEEDS="su pgrep"
. "$(dirname "$0")/seclib.sh"
sec_init "$@"
LOAD_SECONDS=20

test_S6_login_under_load() {
        local i u users=() bgs=() t0 ms worst=0 n=0 out
        for i in 1 2 3 4 5; do
                u=${IT_P}b$i
                it_user_add "$u" -G "$IT_G_STUDENTS"
                users+=("$u")
        done
        for u in "${users[@]}"; do
                it_su - "$u" -c "$SECPROBE forkbomb $LOAD_SECONDS & end=\$((SECONDS + $LOAD_SECONDS)); while [ \$SECONDS -lt \$end ]; do $SECPROBE hog 400 >/dev/null 2>&1; done; wait" \
                        </dev/null >/dev/null 2>&1 &
                bgs+=($!)
        done
        sleep 4
        it_int_lt "under load: the five users' processes are bounded (5 x pids.max 128)" 651 \
                "$(for u in "${users[@]}"; do pgrep -U "$(it_uid "$u")"; done | wc -l)"
        # several logins during the load: the worst must stay under 5 s
        end=$((SECONDS + LOAD_SECONDS - 6))
        while [ $SECONDS -lt $end ] && [ $n -lt 6 ]; do
                t0=$(date +%s%N)
                out=$(sec_su "$IT_S2" 'echo @@ok=yes')
                ms=$(( ($(date +%s%N) - t0) / 1000000 ))
                n=$((n + 1))
                it_eq "under load: login $n of $IT_S2 is a sandbox" 1 "$(it_get pid "$out")"
                echo "S6: login $n of $IT_S2 under load took $ms ms"
                [ "$ms" -gt "$worst" ] && worst=$ms
                sleep 1
        done
        t0=$(date +%s%N)
        out=$(it_su - "$IT_A1" -c 'echo @@ok=yes' </dev/null 2>&1)
        ms=$(( ($(date +%s%N) - t0) / 1000000 ))
        echo "S6: admin login under load took $ms ms"
        it_eq "under load: the admin gets in" yes "$(it_get ok "$out")"
        it_int_lt "under load: admin login under 5 s (ms)" 5000 "$ms"
        echo "S6 FIGURE: worst sandboxed login of another user during 5 fork bombs + memory hogs: $worst ms over $n logins"
        it_int_lt "S6: another user's login completes within 5 s while five sandboxes fork-bomb and hog memory (worst, ms)" 5000 "$worst"
        for i in "${bgs[@]}"; do wait "$i"; done
        for u in "${users[@]}"; do it_check_clean "after the load ($u)" "$u"; done
        it_check_clean "after the load ($IT_S2)" "$IT_S2"
}

sec_test test_S6_login_under_load
sec_finish
