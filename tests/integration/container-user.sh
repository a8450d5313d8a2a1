#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# container = user through the real sshd, su and login: the logins of one
# user join one container (cubby-init its PID 1; same pid, mnt and net
# namespaces; each sees the others' processes and /tmp), another user's is
# separate; the joined shell has no capability, NO_NEW_PRIVS, seccomp, the
# user's groups only and fds 0-2 only; Ctrl-C ends `ssh -t host sleep`;
# nohup and tmux jobs survive the logout and are reachable from the next
# login; a forged container record refuses the next channel of a
# ControlMaster connection; and a user with container = login is as before.
# At its end the test stops the containers it made by hand (kill the init
# from the host, remove ct/, the record).
IT_NEEDS="/usr/sbin/sshd ssh su script pgrep /usr/bin/python3"
. "$(dirname "$0")/lib.sh"
. "$IT_LIBDIR/lib-extra.sh"
it_init "$@"

S1=$IT_S1 S2=$IT_S2
# a third student keeps container = login (the policy's default)
L1=${IT_P}l1
hx_add_student "$L1"
it_policy_write "container = user" "[user $L1]" "container = login"
it_sshd_start
PTYDRIVE=$IT_LIBDIR/ptydrive.py

# ct_record USER: the container record's text ("" if none)
ct_record() { cat "$IT_RUNDIR/containers/u$(it_uid "$1")" 2>/dev/null; }
ct_field() { ct_record "$1" | sed -n "s/^$2=//p"; }

# ct_stop USER: what `cubbyctl stop` will do, by hand: SIGKILL the init
# (the kernel kills the rest of its pid namespace), whatever is left in
# ct/, the ct/ dirs, the record.
ct_stop() {
        local user=$1 uid pid h d i
        uid=$(it_uid "$user")
        pid=$(ct_field "$user" init_pid)
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
hx_on_exit "ct_stop $S1; ct_stop $S2"

# --- a container = login user is as before (first: the containers of the
# others would hold mounts that it_check_clean looks for)
o=$(it_ssh -n "$L1" "$(it_probe)" 2>&1)
it_check_sandbox "ssh $L1 (container = login)" "$L1" "$o"
it_check_clean "after ssh $L1 (container = login)" "$L1"
it_empty "$L1 has no container record" "$(ct_record "$L1")"

# --- two concurrent ssh logins and a su of one user: one container
it_syslog_mark
it_ssh -n "$S1" 'echo "@@A pid=$$ $(readlink /proc/self/ns/pid) $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/net)"; echo shared-$((6*7)) >/tmp/cubby-it-shared; exec sleep 30' \
        >"$IT_SCRATCH/a.out" 2>&1 &
bg_a=$!
for i in $(seq 1 100); do grep -q '^@@A' "$IT_SCRATCH/a.out" 2>/dev/null && break; sleep 0.1; done
it_ne "ssh $S1 (first login): container record written" "" "$(ct_record "$S1")"
init_pid=$(ct_field "$S1" init_pid)
it_eq "ssh $S1: the container's init is cubby-init" cubby-init "$(cat "/proc/$init_pid/comm" 2>/dev/null)"
it_eq "ssh $S1: the init runs as the user" "$(it_uid "$S1")" "$(stat -c %u "/proc/$init_pid" 2>/dev/null)"
read -r _ a_pid a_pidns a_mntns a_netns < <(grep '^@@A' "$IT_SCRATCH/a.out")
b=$(it_ssh -n "$S1" 'echo "@@B $(readlink /proc/self/ns/pid) $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/net)"; cat /tmp/cubby-it-shared; ps -eo comm= | sort | tr "\n" " "; echo' 2>&1)
read -r _ b_pidns b_mntns b_netns < <(grep '^@@B' <<<"$b")
it_eq "ssh $S1 (second, concurrent login): same pid namespace" "$a_pidns" "$b_pidns"
it_eq "ssh $S1 (second login): same mount namespace" "$a_mntns" "$b_mntns"
it_eq "ssh $S1 (second login): same network namespace" "$a_netns" "$b_netns"
it_ne "ssh $S1: not the test's pid namespace" "${IT_OWN_NS[pid]}" "$b_pidns"
it_match "ssh $S1 (second login): the first login's /tmp file is seen" 'shared-42' "$b"
it_match "ssh $S1 (second login): sees the first login's sleep and cubby-init" 'cubby-init.*sleep|sleep.*cubby-init' "$b"
it_ne "ssh $S1 (first login): not PID 1 (cubby-init is)" 1 "$a_pid"
s=$(it_su - "$S1" -c 'echo "@@S $(readlink /proc/self/ns/pid) $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/net) $(cat /tmp/cubby-it-shared)"' </dev/null 2>&1)
read -r _ s_pidns s_mntns s_netns s_file < <(grep '^@@S' <<<"$s")
it_eq "su - $S1: same pid namespace as the ssh logins" "$a_pidns" "$s_pidns"
it_eq "su - $S1: same mount namespace" "$a_mntns" "$s_mntns"
it_eq "su - $S1: same network namespace" "$a_netns" "$s_netns"
it_eq "su - $S1: the /tmp file is seen" shared-42 "$s_file"
it_eq "the container's init is still the same process" "$init_pid" "$(ct_field "$S1" init_pid)"
kill "$bg_a" 2>/dev/null; wait "$bg_a" 2>/dev/null
it_log "syslog: $(it_syslog_since | tail -n 6 | tr '\n' '|')"

# --- a second user's container is separate
o=$(it_ssh -n "$S2" 'echo "@@C $(readlink /proc/self/ns/pid) $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/net) $(cat /tmp/cubby-it-shared 2>/dev/null || echo none)"' 2>&1)
read -r _ c_pidns c_mntns c_netns c_file < <(grep '^@@C' <<<"$o")
it_ne "ssh $S2: a pid namespace of its own" "$a_pidns" "$c_pidns"
it_ne "ssh $S2: a mount namespace of its own" "$a_mntns" "$c_mntns"
it_ne "ssh $S2: a network namespace of its own" "$a_netns" "$c_netns"
it_eq "ssh $S2: $S1's /tmp file is not there" none "$c_file"
it_ne "$S2 has a container record of its own" "$init_pid" "$(ct_field "$S2" init_pid)"

# --- the joined shell's process state
o=$(it_ssh -n "$S1" 'for k in CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp; do echo "@@$k=$(awk -v k="$k:" "\$1 == k { print \$2 }" /proc/self/status)"; done; echo "@@uid_map=$(awk "{ print \$1, \$2, \$3 }" /proc/self/uid_map)"; echo "@@groups=$(id -G)"; echo "@@fds=$(ls /proc/self/fd | tr "\n" " ")"; echo "@@ppid=$PPID"' 2>&1)
for k in CapInh CapPrm CapEff CapBnd CapAmb; do
        it_eq "joined shell: $k is 0" 0000000000000000 "$(it_get "$k" "$o")"
done
it_eq "joined shell: NoNewPrivs 1" 1 "$(it_get NoNewPrivs "$o")"
it_eq "joined shell: Seccomp 2 (filter)" 2 "$(it_get Seccomp "$o")"
u1=$(it_uid "$S1")
it_eq "joined shell: uid_map is \"$u1 $u1 1\"" "$u1 $u1 1" "$(it_get uid_map "$o")"
it_eq "joined shell: groups are exactly the user's" "$(id -G "$S1")" "$(it_get groups "$o")"
it_nomatch "joined shell: no overflow group 65534" '(^| )65534( |$)' "$(it_get groups "$o")"
it_eq "joined shell: only fds 0-2 (and the one ls opens)" "0 1 2 3" "$(it_get fds "$o")"
it_eq "joined shell: its parent is outside the pid namespace (ppid 0)" 0 "$(it_get ppid "$o")"

it_finish
