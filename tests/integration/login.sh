#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shadow's login, run by root as `login -f USER` under a pty (script(1)),
# through the test login stack (pam_cubby last, redirect mode): the login
# shell is PID 1 of a sandbox and the probe passes; the admin gets a host
# shell; nothing is left afterwards.
IT_NEEDS="login script pgrep"
. "$(dirname "$0")/lib.sh"
it_init "$@"

S1=$IT_S1 A1=$IT_A1

# The probe is typed into the interactive login shell.
out=$( { it_probe; echo 'echo "@""@tty=$(tty)"'; echo 'echo "@""@flags=$-"'; echo exit; } | it_login "$S1" 2>&1)
it_check_sandbox "login -f $S1" "$S1" "$out"
it_match "login -f $S1: the shell has a terminal" '^/dev/' "$(it_get tty "$out")"
it_match "login -f $S1: interactive shell with job control" 'm' "$(it_get flags "$out")"
it_nomatch "login -f $S1: no 'no job control' message" 'no job control|cannot set terminal process group' "$out"
it_check_clean "after login -f $S1" "$S1"

# exit status of the login shell: as login reports it for a host shell
echo 'exit 7' | it_login "$IT_N1" >/dev/null 2>&1; base=$?
echo 'exit 7' | it_login "$S1" >/dev/null 2>&1; rc=$?
it_eq "login -f $S1 with 'exit 7': status as for a host shell" "$base" "$rc"
it_check_clean "after login -f $S1 'exit 7'" "$S1"

# cgroups while the login runs
{ echo 'sleep 6'; echo exit; } | it_login "$S1" >/dev/null 2>&1 &
bg=$!
if pid=$(it_wait_proc "$S1" sleep); then
        it_check_session_cgroups "login -f $S1: 'sleep 6'" "$S1" "$pid"
else
        it_fail "login -f $S1: sandbox process seen on the host" "a sleep of uid $(it_uid "$S1")" "none within 10 s"
fi
wait "$bg"
it_check_clean "after login -f $S1 'sleep 6'" "$S1"

# the admin
out=$( { it_probe; echo exit; } | it_login "$A1" 2>&1)
it_check_host "login -f $A1 (admin)" "$A1" "$out"

it_finish
