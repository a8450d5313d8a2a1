#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# util-linux su through the test stacks (su, su-l; pam_cubby last,
# redirect mode): root's `su - USER -c probe` lands in a sandbox; a non-root
# caller asking for a sandboxed user is refused (su honours -s for shells
# in /etc/shells, which would bypass the redirect); root still reaches the
# admin user; nothing is left after each session.
IT_NEEDS="su script perl pgrep"
. "$(dirname "$0")/lib.sh"
it_init "$@"

S1=$IT_S1 A1=$IT_A1 N1=$IT_N1

# --- the harness: root to an unsandboxed user gets a host shell.
out=$(it_su - "$N1" -c "$(it_probe)" </dev/null 2>&1)
it_check_host "su - $N1 (not sandboxed)" "$N1" "$out"

# --- root: su - (service su-l) and su (service su)
out=$(it_su - "$S1" -c "$(it_probe)" </dev/null 2>&1); rc=$?
it_eq "su - $S1 -c probe: exit status" 0 "$rc"
it_check_sandbox "su - $S1" "$S1" "$out"
it_check_clean "after su - $S1" "$S1"

out=$(it_su "$S1" -c "$(it_probe)" </dev/null 2>&1); rc=$?
it_eq "su $S1 -c probe (service su): exit status" 0 "$rc"
it_check_sandbox "su $S1" "$S1" "$out"
it_check_clean "after su $S1" "$S1"

it_su - "$S1" -c 'exit 7' </dev/null; rc=$?
it_eq "su - $S1 -c 'exit 7' returns 7" 7 "$rc"
out=$(it_su - "$S1" -c 'echo to-stdout' </dev/null 2>"$IT_SCRATCH/stderr")
it_eq "su - $S1: stdout is exactly the command's output" to-stdout "$out"
it_empty "su - $S1: nothing on stderr" "$(cat "$IT_SCRATCH/stderr")"

# --- cgroups while su runs
it_su - "$S1" -c 'sleep 6' </dev/null >/dev/null 2>&1 &
bg=$!
if pid=$(it_wait_proc "$S1" sleep); then
        it_check_session_cgroups "su - $S1 -c 'sleep 6'" "$S1" "$pid"
else
        it_fail "su - $S1 -c 'sleep 6': sandbox process seen on the host" "a sleep of uid $(it_uid "$S1")" "none within 10 s"
fi
wait "$bg"
it_check_clean "after su - $S1 -c 'sleep 6'" "$S1"

# --- non-root callers asking for a sandboxed user: refused in redirect mode
for args in "-s /bin/sh $S1 -c" "$S1 -c" "- $S1 -c"; do
        # shellcheck disable=SC2086 # word splitting wanted
        out=$(it_as "$N1" su $args 'echo cubby-it-ran-as-$(id -u)' </dev/null 2>&1); rc=$?
        it_ne "su $args CMD by $N1 (non-root): refused" 0 "$rc"
        it_nomatch "su $args CMD by $N1 (non-root): command never ran" 'cubby-it-ran-as' "$out"
        it_match "su $args CMD by $N1 (non-root): a message naming cubby" 'cubby' "$out"
done
it_check_clean "after the refused su" "$S1"

# --- root still reaches the admin user (never sandboxed)
out=$(it_su - "$A1" -c "$(it_probe)" </dev/null 2>&1); rc=$?
it_eq "su - $A1 (admin) by root: exit status" 0 "$rc"
it_check_host "su - $A1 (admin) by root" "$A1" "$out"
# and a non-root caller may su to an unsandboxed user as usual
out=$(it_as "$N1" su -s /bin/sh "$A1" -c 'echo cubby-it-ran-as-$(id -u)' </dev/null 2>&1)
it_eq "su -s /bin/sh $A1 by $N1 (admin is not sandboxed): runs" "cubby-it-ran-as-$(it_uid "$A1")" "$out"

# --- TIOCSTI: a sandbox run by `su student` from root's terminal must not
# type into that terminal (docs/THREATS.md, D; dev.tty.legacy_tiocsti may be 1).
# The same run against an unsandboxed user shows whether the kernel allows
# the injection at all (then the sandboxed result is meaningful).
# su -c would setsid() (util-linux), so the injection is typed into an
# interactive `su - USER` instead; after su ends, root's shell reads what
# is left in its terminal's input.
cat >"$IT_SCRATCH/tiocsti.sh" <<'EOS'
su - "$1"
read -r -t 3 line; rc=$?
echo "GOT=[$line] rc=$rc"
EOS
tiocsti() {
        { sleep 1
          echo "perl -e 'for (split //, qq(cubby-it-injected\\n)) { ioctl(STDIN, 0x5412, \$_) or do { print qq(ioctl-failed\\n); last } }'"
          echo exit
          sleep 6; } | timeout -k 5 30 nsenter --net="$IT_NETNS_PATH" \
                script -qec "bash --norc --noprofile $IT_SCRATCH/tiocsti.sh $1" /dev/null 2>&1 | tr -d '\r'
}
base=$(tiocsti "$N1")
out=$(tiocsti "$S1")
# Without the control, "nothing was typed" would hold even if the sandbox
# allowed TIOCSTI: the check is then a skip, never a pass.
if grep -q 'GOT=\[cubby-it-injected\]' <<<"$base"; then
        it_pass "TIOCSTI reaches root's terminal from an unsandboxed su (the test can see an injection)"
        it_nomatch "su - $S1 from root's terminal: TIOCSTI does not type into it" 'GOT=\[cubby-it-injected' "$out"
else
        it_skip_check "su - $S1 from root's terminal: TIOCSTI does not type into it" \
                "the control did not inject from an unsandboxed su (dev.tty.legacy_tiocsti=0?): $(it_clip "$base")"
fi
# read ends with 0 (a line) or > 128 (the timeout: nothing typed); 1 is
# EOF or an error: root's terminal was not usable, and "nothing typed"
# would hold for the wrong reason
it_match "su - $S1 TIOCSTI probe completed: root's shell read its terminal" 'GOT=\[[^]]*\] rc=(0|129|1[3-9][0-9]|2[0-5][0-9])$' "$out"
it_check_clean "after the TIOCSTI check" "$S1"

it_finish
