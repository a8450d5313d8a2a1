#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# THREATS A (invocation), S3: no code in the setuid helper's process acts
# on the caller's environment before main() cleans it. Every
# variable that a library linked into cubby-shell, or ld.so, reads (the
# audit in SECURITY.md, "Libraries of cubby-shell", plus those of the libnl
# it used to link) points at a root-only canary; an unprivileged user runs
# the installed setuid helper with them, once directly (refused: no
# record, but every constructor has run) and once as the shell of a real
# PAM session with network = nat (the whole setup, rtnetlink included).
# canarywatch (inotify) reports any open, read, write or creation on a
# canary: only a privileged process can do one. Each run has a positive
# control (root reads one canary; the watch must see it).
IT_NEEDS="setpriv"
. "$(dirname "$0")/seclib.sh"
sec_init "$@"
S1=$IT_S1
WATCH=${CUBBY_CANARYWATCH:-}
CANARY=$IT_SCRATCH/canary

# Variables naming a directory (or a list of them), and the others (a
# file, a pattern or a setting: all get a canary file's path).
ENV_DIRS=(NLSYSCONFDIR GCONV_PATH LOCPATH TZDIR TMPDIR LD_LIBRARY_PATH LD_ORIGIN_PATH LD_PROFILE_OUTPUT
          GETCONF_DIR NIS_PATH LANG LC_ALL LC_CTYPE LC_MESSAGES LANGUAGE)
ENV_FILES=(NLDBG NLCB LIBNL_CONFIG LIBNL_DEBUG LD_PRELOAD LD_AUDIT LD_DEBUG_OUTPUT LD_PROFILE
           MALLOC_TRACE MALLOC_CHECK_ MALLOC_TOP_PAD_ MALLOC_PERTURB_ MALLOC_MMAP_THRESHOLD_
           MALLOC_TRIM_THRESHOLD_ MALLOC_MMAP_MAX_ MALLOC_ARENA_MAX MALLOC_ARENA_TEST GLIBC_TUNABLES
           HOSTALIASES RESOLV_HOST_CONF LOCALDOMAIN RES_OPTIONS CAPNG_DEBUG POSIXLY_CORRECT
           LIBC_FATAL_STDERR_ NLSPATH TZ)
# The names the audited readers open inside such a directory (a lookup of
# a missing name makes no inotify event): libnl's classid and pktloc,
# glibc's gconv modules, locale archive and zone files, the helper's
# libraries (LD_LIBRARY_PATH) and a plain file.
BAITS=(classid pktloc gconv-modules gconv-modules.cache locale-archive C.UTF-8 UTC localtime posixrules
       libc.so.6 libcap-ng.so.0 libmnl.so.0 libnl-3.so.200 libnl-route-3.so.200 file)

# One root-only directory per variable (0700, baits 0600): an event names
# the variable.
make_canaries() {
        local v b
        install -d -m 0700 -o root -g root "$CANARY" || return 1
        echo "cubby canary control" >"$CANARY/control" && chmod 0600 "$CANARY/control" || return 1
        for v in "${ENV_DIRS[@]}" "${ENV_FILES[@]}"; do
                install -d -m 0700 -o root -g root "$CANARY/$v" || return 1
                for b in "${BAITS[@]}"; do
                        printf 'cubby canary %s/%s\n' "$v" "$b" >"$CANARY/$v/$b" && chmod 0600 "$CANARY/$v/$b" || return 1
                done
        done
}

# The hostile environment, as env(1) arguments.
hostile_env() {
        local v
        for v in "${ENV_DIRS[@]}"; do echo "$v=$CANARY/$v"; done
        for v in "${ENV_FILES[@]}"; do
                case $v in
                NLSPATH) echo "$v=$CANARY/$v/%N" ;;
                TZ) echo "$v=:$CANARY/$v/file" ;;
                *) echo "$v=$CANARY/$v/file" ;;
                esac
        done
}

# watch_start: canarywatch on every canary directory, until watch_stop;
# returns once the watches are in place.
watch_start() {
        local dirs=("$CANARY") v i
        for v in "${ENV_DIRS[@]}" "${ENV_FILES[@]}"; do dirs+=("$CANARY/$v"); done
        : >"$IT_SCRATCH/watch.out"
        "$WATCH" 120 "${dirs[@]}" >"$IT_SCRATCH/watch.out" 2>&1 &
        WATCH_PID=$!
        for i in $(seq 1 100); do
                grep -qx ready "$IT_SCRATCH/watch.out" && return 0
                kill -0 "$WATCH_PID" 2>/dev/null || break
                sleep 0.1
        done
        return 1
}

# watch_stop: root reads the control canary (no variable names it), the
# watch ends once it has reported that.
watch_stop() {
        local i
        cat "$CANARY/control" >/dev/null
        for i in $(seq 1 50); do
                grep -q "^canary=$CANARY/control " "$IT_SCRATCH/watch.out" && break
                sleep 0.1
        done
        kill -TERM "$WATCH_PID" 2>/dev/null
        for i in $(seq 1 50); do grep -qx done "$IT_SCRATCH/watch.out" && break; sleep 0.1; done
        wait "$WATCH_PID" 2>/dev/null
        WATCH_PID=
}

# watch_check WHAT: the control was seen, and nothing else.
watch_check() {
        local events
        it_match "$1: the watch sees root read a canary (positive control)" \
                "^canary=$CANARY/control open" "$(cat "$IT_SCRATCH/watch.out")"
        events=$(grep '^canary=' "$IT_SCRATCH/watch.out" | grep -v "^canary=$CANARY/control ")
        if [ -n "$events" ]; then
                sec_broken "$1: no canary opened by the setuid helper (S3)" "no event" "$(tr '\n' ';' <<<"$events")"
        else
                it_pass "$1: no canary opened by the setuid helper"
        fi
}

test_A_environment_canaries() {
        local out uid gid env_args
        [ -x "$WATCH" ] || { sec_skip "canarywatch is not built"; return; }
        [ -x "${CUBBY_PAMDRIVE:-}" ] || { sec_skip "pamdrive is not built"; return; }
        make_canaries || { sec_skip "cannot make the canaries"; return; }
        uid=$(it_uid "$S1") gid=$(it_gid "$S1")
        mapfile -t env_args < <(hostile_env)
        it_policy_write "network = nat"
        sed -i "s|^\[global\]\$|[global]\nbridge = cubby0\nsubnet = 10.214.0.0/16|" "$IT_CONF"

        # 1. Run directly by the user: refused (no session record), after
        # ld.so and every library constructor have run.
        watch_start || { sec_skip "canarywatch did not start: $(cat "$IT_SCRATCH/watch.out")"; return; }
        out=$(it_as "$S1" env "${env_args[@]}" "$CUBBY_HELPER" -c "echo $RAN" 2>&1 </dev/null)
        watch_stop
        it_nomatch "direct: refused without a record" "^$RAN\$" "$out"
        watch_check "direct"

        # 2. The shell of a real PAM session (su's test stack through
        # pamdrive, root, clean environment): the user's process, with the
        # hostile environment, execs the helper, which finds the record of
        # its parent and sets up the whole sandbox, network included.
        watch_start || { sec_skip "canarywatch did not start: $(cat "$IT_SCRATCH/watch.out")"; return; }
        out=$(timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" "$CUBBY_PAMDRIVE" su "$S1" -- \
                setpriv --reuid="$uid" --regid="$gid" --clear-groups \
                env -i PATH=/usr/bin:/bin HOME=/ "${env_args[@]}" \
                "$CUBBY_HELPER" -c 'echo @@pid=$$; echo @@ifs=$(ls /sys/class/net | tr "\n" " ")' 2>&1 </dev/null)
        watch_stop
        it_match "session: opened" 'open=PAM_SUCCESS' "$out"
        sec_sandboxed "session" "$out"
        it_match "session: the sandbox has its veth (the rtnetlink setup ran)" 'eth0' "$(it_get ifs "$out")"
        watch_check "session"
        it_check_clean "environment canaries" "$S1"
}

RAN=cubby-sec-ran
WATCH_PID=
trap 'sec_rc=$?; [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null; rm -rf "$SEC_PROBEDIR"; (exit $sec_rc); it_cleanup inner' EXIT
sec_test test_A_environment_canaries
sec_finish
