# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Helpers shared by the integration scripts, on top of lib.sh (source this
# after lib.sh and after it_init). Nothing here creates objects the
# harness's cleanup would not find, except where a script says so and
# installs its own cleanup through hx_on_exit.

# hx_on_exit CMD: run CMD before the harness's own cleanup on exit. The
# harness's trap reads $? first, so the status is handed through.
HX_EXIT_CMDS=()
hx_on_exit() {
        HX_EXIT_CMDS+=("$1")
        # shellcheck disable=SC2064
        trap 'hx_rc=$?; hx_run_exit_cmds; (exit $hx_rc); it_cleanup inner' EXIT
}
hx_run_exit_cmds() {
        local c
        set +e
        for c in "${HX_EXIT_CMDS[@]}"; do eval "$c" >/dev/null 2>&1; done
        HX_EXIT_CMDS=()
}

# hx_ctl ARGS...: cubbyctl with the test config, in the test netns.
hx_ctl() {
        timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" "$CUBBY_CTL" --config "$IT_CONF" "$@"
}

# hx_overlays_on UPPERDIR: the number of distinct overlay superblocks
# (major:minor) whose options name upperdir=UPPERDIR, over the mount tables
# of every process (so every mount namespace that has a process).
hx_overlays_on() {
        cat /proc/[0-9]*/mountinfo 2>/dev/null | awk -v up="$1" '
                {
                        for (i = 7; i <= NF; i++) if ($i == "-") break
                        if ($(i + 1) != "overlay") next
                        if (index("," $(i + 3) ",", ",upperdir=" up ",")) print $3
                }' | sort -u | wc -l
}

# hx_mounts_naming TEXT: mountinfo lines (any process) that contain TEXT.
hx_mounts_naming() {
        grep -hF -- "$1" /proc/[0-9]*/mountinfo 2>/dev/null | sort -u | head -n 5
}

# hx_fingerprint DIR: everything about DIR and below that root following a
# planted link could change (names, types, owners, modes, sizes, times).
hx_fingerprint() {
        find "$1" -printf '%P %y %u:%g %m %s %T@ %C@\n' 2>&1 | sort
}

# hx_time_ms: milliseconds since the epoch.
hx_time_ms() { date +%s%3N; }

# hx_median N...: the median of integers.
hx_median() {
        printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END {
                if (NR == 0) { print "?"; exit }
                if (NR % 2) print a[(NR + 1) / 2]; else print int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}

# hx_wait_file PATH [TENTHS]: wait until PATH exists (default 10 s).
hx_wait_file() {
        local i
        for i in $(seq 1 "${2:-100}"); do
                [ -e "$1" ] && return 0
                sleep 0.1
        done
        return 1
}

# hx_wait_gone USER [TENTHS]: wait until USER has no process left.
hx_wait_gone() {
        local uid i
        uid=$(it_uid "$1")
        for i in $(seq 1 "${2:-100}"); do
                [ -z "$(pgrep -U "$uid"; pgrep -u "$uid")" ] && return 0
                sleep 0.1
        done
        return 1
}

# hx_add_student NAME [useradd options]: one more sandboxed test user.
hx_add_student() {
        local n=$1; shift
        it_user_add "$n" -G "$IT_G_STUDENTS" "$@"
        install -m 0644 -o root -g root "$IT_SSH_KEY.pub" "$IT_SCRATCH/keys/$n"
}

# hx_overlay_holders UPPERDIR: evidence: the processes whose mount table
# has an overlay on UPPERDIR (pid, comm, mount ns, cmdline) and the anchor.
hx_overlay_holders() {
        local f pid
        for f in /proc/[0-9]*/mountinfo; do
                grep -qF "upperdir=$1," "$f" 2>/dev/null || grep -qF "upperdir=$1 " "$f" 2>/dev/null || continue
                pid=${f#/proc/}; pid=${pid%/mountinfo}
                echo "    pid $pid comm $(cat "/proc/$pid/comm" 2>/dev/null) $(readlink "/proc/$pid/ns/mnt") cmd '$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)'"
        done
        echo "    run_dir/anchor: $(cat "$IT_RUNDIR/anchor" 2>&1)"
}

# hx_overlays_settle UPPERDIR: hx_overlays_on once it reads 0, or after 5 s
# (sshd's close_session may still run when the ssh client has returned).
hx_overlays_settle() {
        local i n
        for i in $(seq 1 50); do
                n=$(hx_overlays_on "$1")
                [ "$n" = 0 ] && break
                sleep 0.1
        done
        echo "$n"
}

# hx_yn CMD...: "yes" when CMD succeeds, "no" otherwise.
hx_yn() { if "$@"; then echo yes; else echo no; fi; }

# hx_refused USER WHAT PATTERN: an ssh and a su login of USER are both
# refused with a message matching PATTERN, and the command never ran
# (neither in a sandbox nor on the host); nothing of USER is left.
hx_refused() {
        local u=$1 what=$2 pat=$3 out rc via
        for via in ssh su; do
                rm -f "$IT_SCRATCH/hx-ran"
                if [ $via = ssh ]; then
                        out=$(IT_TIMEOUT=30 it_ssh -n "$u" "echo cubby-it-ran; touch $IT_SCRATCH/hx-ran" 2>&1); rc=$?
                else
                        out=$(IT_TIMEOUT=30 it_su - "$u" -c "echo cubby-it-ran; touch $IT_SCRATCH/hx-ran" </dev/null 2>&1); rc=$?
                fi
                it_ne "$what: $via login refused" 0 "$rc"
                it_nomatch "$what: $via: the command never ran" 'cubby-it-ran' "$out"
                it_eq "$what: $via: nothing ran on the host" no "$(hx_yn test -e "$IT_SCRATCH/hx-ran")"
                it_match "$what: $via: a message says why" "$pat" "$out"
        done
        it_check_clean "$what: after" "$u"
}

# hx_ct_kill USER: USER's per-user container gone by hand, not by cubby
# (its init, whatever is left in ct/, the ct/ dirs, its record): the exit
# path of the container tests, which must not depend on what they test.
hx_ct_kill() {
        local uid pid h d f p i
        uid=$(it_uid "$1")
        pid=$(sed -n 's/^init_pid=//p' "$IT_RUNDIR/containers/u$uid" 2>/dev/null)
        [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
        it_cg_hier
        for h in "${!IT_CG_MNT[@]}"; do
                d=$(it_cg_dir "$h" "u$uid/ct")
                [ -d "$d" ] || continue
                for i in $(seq 1 50); do
                        for f in $(find "$d" -name cgroup.procs 2>/dev/null); do
                                for p in $(cat "$f" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
                        done
                        find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
                        [ -e "$d" ] || break
                        sleep 0.1
                done
        done
        rm -f "$IT_RUNDIR/containers/u$uid"
}
