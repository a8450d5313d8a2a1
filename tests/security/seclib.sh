# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The security suite's layer over the integration harness
# (../integration/lib.sh: users, groups, private sshd, su/login stacks,
# assertions, cleanup and leak checks). A script sets IT_NEEDS, sources this
# file, calls sec_init, then runs each named test with `sec_test NAME` and
# ends with sec_finish. A test that cannot run calls sec_skip REASON and
# returns; a script whose tests all skipped exits 77, never 0.
#
# Every attack asserts the invariant (S1-S8 of docs/THREATS.md), not a log line.
# Failure messages of tests that catch a product bug start with
# "INVARIANT BROKEN".

SEC_LIBDIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
# shellcheck source=../integration/lib.sh
. "$SEC_LIBDIR/../integration/lib.sh"

SECPROBE=${CUBBY_SECPROBE:-}
SEC_SKIPS=0
SEC_RAN=0
SEC_CUR=

sec_init() {
        if [ -z "${CUBBY_IT_INNER:-}" ]; then
                [ "$(id -u)" = 0 ] || it_skip "needs root (real logins through the setuid helper)"
                [ -n "$SECPROBE" ] && [ -x "$SECPROBE" ] || it_skip "CUBBY_SECPROBE is not built"
        fi
        if [ -z "${CUBBY_IT_INNER:-}" ]; then
                # copies left by runs that were killed outright (SIGKILL)
                find /opt -maxdepth 1 -name 'cubby-sec-*' -mmin +60 -exec rm -rf {} + 2>/dev/null
        fi
        it_init "$@"
        # secprobe runs inside the sandboxes, where /tmp, /var/tmp, /run and
        # other homes are fresh or hidden: wherever the build tree is (CI
        # may clone below /tmp), run a copy from a root-owned directory of
        # the host's read-only root, removed when the test ends.
        SEC_PROBEDIR=/opt/cubby-sec-$IT_ID
        install -d -m 0755 -o root -g root "$SEC_PROBEDIR" &&
                install -m 0755 -o root -g root "$SECPROBE" "$SEC_PROBEDIR/secprobe" ||
                it_fatal "cannot copy secprobe to $SEC_PROBEDIR"
        SECPROBE=$SEC_PROBEDIR/secprobe
        # shellcheck disable=SC2064
        trap "sec_rc=\$?; rm -rf '$SEC_PROBEDIR'; (exit \$sec_rc); it_cleanup inner" EXIT
}

# sec_test NAME: run the function NAME as one named test. With
# CUBBY_SEC_ONLY="test_X_a test_X_b", only the tests named there run (the
# others are not counted).
sec_test() {
        if [ -n "${CUBBY_SEC_ONLY:-}" ] && [[ " $CUBBY_SEC_ONLY " != *" $1 "* ]]; then
                return 0
        fi
        SEC_CUR=$1
        echo "=== TEST $1"
        SEC_RAN=$((SEC_RAN + 1))
        local before=$IT_FAILS
        "$1"
        if [ "$IT_FAILS" -gt "$before" ]; then echo "=== FAIL $1"; else echo "=== DONE $1"; fi
}

sec_skip() {
        SEC_SKIPS=$((SEC_SKIPS + 1))
        echo "SKIP: $SEC_CUR: $*"
}

sec_finish() {
        if [ "$SEC_SKIPS" -ge "$SEC_RAN" ] && [ "$IT_FAILS" = 0 ]; then
                echo "all $SEC_RAN tests skipped"
                exit 77
        fi
        it_finish
}

# sec_broken DESC EXPECTED SEEN: a failed invariant (a product bug).
sec_broken() { it_fail "INVARIANT BROKEN: $1" "$2" "$3"; }

# sec_su USER CMD: root's `su - USER -c CMD` in the test netns, stdin
# closed, stdout+stderr; "@@pid=$$" first so the caller can tell a
# sandbox (1) from a host shell.
sec_su() {
        local u=$1; shift
        it_su - "$u" -c "echo @""@pid=\$\$; $*" </dev/null 2>&1
}

# sec_sandboxed WHAT OUTPUT: the command ran as PID 1 of a container.
sec_sandboxed() { it_eq "$1: ran inside a sandbox (\$\$ = 1)" 1 "$(it_get pid "$2")"; }

# sec_not_host WHAT OUTPUT: either refused or sandboxed; never a host shell.
sec_not_host() {
        local p
        p=$(it_get pid "$2")
        if [ -z "$p" ] || [ "$p" = 1 ]; then it_pass "$1: no host shell"
        else sec_broken "$1: no host shell (S2 fail closed)" "refusal or \$\$ = 1" "a shell with \$\$ = $p"; fi
}

# sec_user_add NAME [useradd options]: a further sandboxed student.
sec_user_add() { it_user_add "$@"; }

# sec_wait_gone PID [SECONDS]: wait until PID is gone (bounded).
sec_wait_gone() {
        local i n=$(( ${2:-10} * 10 ))
        for i in $(seq 1 "$n"); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
        return 1
}

# sec_etc_mark / sec_etc_new: files in /etc created or modified since the
# mark (other than the account databases, which concurrent runs on this
# machine change, with the lock files (NAME.lock) and temp files (NAME.PID)
# that useradd and groupadd make while they write), to show that root
# wrote nothing there.
sec_etc_mark() { touch "$IT_SCRATCH/etc-mark"; sleep 0.05; }
sec_etc_new() {
        find /etc -xdev -newer "$IT_SCRATCH/etc-mark" 2>/dev/null \
                | grep -Ev '^/etc(/(passwd|group|shadow|gshadow|subuid|subgid)(-|\.lock|\.[0-9]+)?|/\.pwd\.lock|/ld\.so\.cache)?$'
}

# sec_pid_of_sandbox USER COMM: host pid of a process COMM of USER that
# runs inside a container (its pid namespace is not ours).
sec_pid_of_sandbox() {
        local p
        p=$(it_wait_proc "$1" "$2") || return 1
        echo "$p"
}
