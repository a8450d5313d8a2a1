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
# At its end the test stops the containers it made (`cubbyctl stop`) and
# checks that nothing of them is left.
IT_NEEDS="/usr/sbin/sshd ssh su script pgrep /usr/bin/python3"
. "$(dirname "$0")/lib.sh"
. "$IT_LIBDIR/lib-extra.sh"
it_init "$@"

S1=$IT_S1 S2=$IT_S2
# a third student keeps container = login (the policy's default)
L1=${IT_P}l1
hx_add_student "$L1"
# linger = always: the containers outlive their logins until stopped (the
# lifetime keys have tests of their own)
# $S2 has a CPU list: the container's dirs below the user dir get its
# cpuset (a v1 cpuset dir takes no task until it has CPUs)
it_policy_write "container = user" "linger = always" "[user $L1]" "container = login" \
        "[user $S2]" "cpus = 0"
it_sshd_start
PTYDRIVE=$IT_LIBDIR/ptydrive.py

# ct_record USER: the container record's text ("" if none)
ct_record() { cat "$IT_RUNDIR/containers/u$(it_uid "$1")" 2>/dev/null; }
ct_field() { ct_record "$1" | sed -n "s/^$2=//p"; }

# ct_stop USER: the user's container stopped (the init, what is left in
# ct/, the ct/ dirs, the lease, the home reference, the record)
ct_stop() { hx_ctl stop "$1" >/dev/null 2>&1; }
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
# the cgroup tree: <user>/ct/init holds the init alone, the logins are in
# <user>/ct/s<sid>, in every hierarchy cubby uses; memory (v1, alone) is
# the user's: the init and the logins are in <user> itself, no ct/ there
u1=$(it_uid "$S1")
sleep_pid=$(pgrep -u "$u1" -f '^sleep 30$' | head -n1)
it_cg_hier
for h in "${!IT_CG_MNT[@]}"; do
        if it_cg_user_level "$h"; then
                d=$(it_cg_dir "$h" "u$u1")
                it_empty "cgroup $h: no ct/ (the container is charged to the user dir)" \
                        "$(find "$d" -mindepth 1 -type d 2>&1)"
                it_match "cgroup $h: the init is in the user dir" "^$init_pid\$" "$(grep -x "$init_pid" "$d/cgroup.procs" 2>&1)"
                it_match "cgroup $h: the first login's sleep is in the user dir" "^$sleep_pid\$" \
                        "$(grep -x "$sleep_pid" "$d/cgroup.procs" 2>&1)"
                continue
        fi
        d=$(it_cg_dir "$h" "u$u1/ct")
        it_log "cgroup $h: $(cd "$d" 2>/dev/null && find . -type d | sort | tr '\n' ' ')"
        it_eq "cgroup $h: ct/init holds the init alone" "$init_pid" "$(cat "$d/init/cgroup.procs" 2>&1)"
        it_match "cgroup $h: the first login's sleep is in ct/s<sid>" "^$d/s[0-9a-f]{16}/cgroup.procs:$sleep_pid\$" \
                "$(grep -H -x "$sleep_pid" "$d"/s*/cgroup.procs 2>&1)"
        it_empty "cgroup $h: no process in ct itself" "$(cat "$d/cgroup.procs" 2>&1)"
done
pkill -u "$u1" -f '^sleep 30$'
wait "$bg_a" 2>/dev/null
it_log "syslog: $(it_syslog_since | tail -n 6 | tr '\n' '|')"

# --- a second user's container is separate
o=$(it_ssh -n "$S2" 'echo "@@C $(readlink /proc/self/ns/pid) $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/net) $(cat /tmp/cubby-it-shared 2>/dev/null || echo none)"; echo "@@cpus=$(awk "/^Cpus_allowed_list:/ { print \$2 }" /proc/self/status) @@initcpus=$(awk "/^Cpus_allowed_list:/ { print \$2 }" /proc/1/status)"' 2>&1)
it_eq "ssh $S2 (cpus = 0): the joined shell runs on CPU 0 only" 0 "$(it_get cpus "$o")"
it_eq "ssh $S2 (cpus = 0): so does its container's init" 0 "$(it_get initcpus "$o")"
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

# --- login(1) joins the same container
o=$(printf '%s\n' 'echo "@""@L=$(readlink /proc/self/ns/pid)"' 'exit' | it_login "$S1" 2>&1)
it_eq "login $S1: same pid namespace as the ssh logins" "$a_pidns" "$(it_get L "$o")"

# --- the idle init's memory (for the record) and a join's time next to a
# creation (the helper's own setup_ms: its start to the shell's exec)
init_pid=$(ct_field "$S1" init_pid)
it_log "cubby-init $init_pid smaps_rollup: $(grep -E '^(Rss|Pss|Private_Dirty):' "/proc/$init_pid/smaps_rollup" | tr -s ' ' | tr '\n' ' ')"
it_log "setup_ms of creations: $(grep -ao 'event=user_container_start.*setup_ms=[0-9.]*' "$IT_SCRATCH/syslog" | sed 's/.*setup_ms=//' | tr '\n' ' ')"
it_log "setup_ms of login containers (container = login): $(grep -ao 'event=container_start.*setup_ms=[0-9.]*' "$IT_SCRATCH/syslog" | sed 's/.*setup_ms=//' | tr '\n' ' ')"
it_log "pam setup_ms of $S1's sessions (the first one starts the container): $(grep -a "event=session_start.*user=$S1 " "$IT_SCRATCH/syslog" | grep -ao 'setup_ms=[0-9.]*' | sed 's/.*=//' | tr '\n' ' ')"
it_log "setup_ms of joins: $(grep -ao 'event=container_join.*setup_ms=[0-9.]*' "$IT_SCRATCH/syslog" | sed 's/.*setup_ms=//' | tr '\n' ' ')"

# --- root's --enter (cubbyctl shell): the same container; refused to a user
o=$(timeout 20 "$CUBBY_HELPER" --enter "$(it_uid "$S1")" --run-dir "$IT_RUNDIR" -- 'echo "@@E=$(readlink /proc/self/ns/pid) $(id -u)"' </dev/null 2>&1)
it_eq "--enter by root: the user's container, as the user" "$a_pidns $(it_uid "$S1")" "$(it_get E "$o")"
it_match "--enter by root: logged as container_enter" 'event=container_enter' "$(cat "$IT_SCRATCH/syslog")"
o=$(it_as "$S1" "$CUBBY_HELPER" --enter "$(it_uid "$S1")" --run-dir "$IT_RUNDIR" -- 'echo "@@E=ran"' </dev/null 2>&1)
it_ne "--enter by the user: refused" ran "$(it_get E "$o")"
it_match "--enter by the user: says it is root's only" "root's only" "$o"
o=$(it_as "$S1" "$CUBBY_HELPER" --start-container x </dev/null 2>&1)
it_match "--start-container by the user: refused" "root's only" "$o"

# --- Ctrl-C ends `ssh -t host sleep 100` (the joined shell is not PID 1),
# with what ssh reports for the same on the host
cat >"$IT_SCRATCH/ctrlc.steps" <<'EOF2'
sleep 3
send \x03
EOF2
ctrlc() {
        timeout 60 /usr/bin/python3 "$PTYDRIVE" "$IT_SCRATCH/ctrlc.steps" -- \
                nsenter --net="$IT_NETNS_PATH" ssh -F /dev/null -i "$IT_SSH_KEY" -p "$IT_SSH_PORT" \
                "${IT_SSH_OPTS[@]}" -t "$1@127.0.0.1" sleep 100 2>&1
}
host_rc=$(it_get drive_status "$(ctrlc "$IT_N1")")
t0=$(hx_time_ms)
o=$(ctrlc "$S1")
t1=$(hx_time_ms)
it_ne "ssh -t $IT_N1 (host) sleep 100, Ctrl-C: ends before ptydrive kills it" 137 "$host_rc"
it_eq "ssh -t $S1 sleep 100, Ctrl-C: ssh reports what it does on the host" "$host_rc" \
        "$(it_get drive_status "$o")"
it_int_lt "ssh -t $S1 sleep 100, Ctrl-C: ends within 20 s" 20000 "$((t1 - t0))"

# --- jobs outlive the logout: nohup, and tmux (if installed)
u1=$(it_uid "$S1")
it_ssh -n "$S1" 'nohup sleep 1000 >/dev/null 2>&1 & echo started' >/dev/null 2>&1
for i in $(seq 1 30); do [ -z "$(it_records "$S1")" ] && break; sleep 0.1; done
sleep 1
it_ne "nohup sleep 1000: runs on after the logout" "" "$(pgrep -u "$u1" -f '^sleep 1000$')"
o=$(it_ssh -n "$S1" 'echo "@@seen=$(pgrep -f "^sleep 1000$" | wc -l)"; pkill -f "^sleep 1000$"; echo "@@killed=$?"' 2>&1)
it_eq "next login: sees the nohup job" 1 "$(it_get seen "$o")"
it_eq "next login: kills it" 0 "$(it_get killed "$o")"
# the container's reference on the home: `cubbyctl gc` with no session of
# the user open leaves its overlay alone, and the next login shares it
hx_ctl gc >/dev/null 2>&1
up1=$IT_STATEDIR/users/$S1/upper
o=$(it_ssh -n "$S1" 'echo "@@ok=yes"; sleep 2' 2>&1 &
    sleep 1; echo "@@n=$(hx_overlays_on "$up1")"; wait)
it_eq "cubbyctl gc while only $S1's container runs, then a login: one overlay of the home" 1 \
        "$(it_get n "$o")"
if command -v tmux >/dev/null 2>&1; then
        it_ssh -n "$S1" 'tmux new -d -s cubbyit bash; echo "@@tmux=$?"' >/dev/null 2>&1
        for i in $(seq 1 30); do [ -z "$(it_records "$S1")" ] && break; sleep 0.1; done
        sleep 1
        o=$(it_ssh -n "$S1" 'tmux ls' 2>&1)
        it_match "tmux session made in one login is listed by the next" '^cubbyit:' "$o"
        cat >"$IT_SCRATCH/tmux.steps" <<'EOF2'
sleep 2
send echo "@""@att=$((40+2))"\n
expect 10 @@att=42
send tmux detach-client\n
expect 10 detached
EOF2
        o=$(timeout 60 /usr/bin/python3 "$PTYDRIVE" "$IT_SCRATCH/tmux.steps" -- \
                nsenter --net="$IT_NETNS_PATH" ssh -F /dev/null -i "$IT_SSH_KEY" -p "$IT_SSH_PORT" \
                "${IT_SSH_OPTS[@]}" -t "$S1@127.0.0.1" tmux attach -t cubbyit 2>&1)
        it_empty "tmux attach from the next login: every step seen" "$(it_get drive_step "$o")"
        it_eq "tmux attach from the next login: exit status" 0 "$(it_get drive_status "$o")"
        o=$(it_ssh -n "$S1" 'tmux kill-session -t cubbyit; echo "@@kill=$?"; tmux ls 2>&1 | grep -c cubbyit' 2>&1)
        it_eq "tmux kill-session from another login" 0 "$(it_get kill "$o")"
else
        it_skip_check "tmux sessions outlive the logout" "tmux is not installed (tools/install-deps test)"
fi

# --- su typed at root's terminal: the joined shell gets a pty of the
# container's devpts, relayed (never root's terminal)
cat >"$IT_SCRATCH/sutty.steps" <<'EOF2'
expect 20 @@asking=1
send typed-at-root\n
expect 20 @@got=
EOF2
o=$(timeout -k 5 60 nsenter --net="$IT_NETNS_PATH" /usr/bin/python3 "$PTYDRIVE" "$IT_SCRATCH/sutty.steps" -- \
        su - "$S1" -c 'echo "@@asking=1"; read -r l; echo "@@got=$l @@tty=$(tty) @@pidns=$(readlink /proc/self/ns/pid)"' 2>&1)
it_eq "su at a terminal: the joined shell reads what root types" typed-at-root "$(it_get got "$o")"
it_match "su at a terminal: a pty of its own" '^/dev/pts/[0-9]+$' "$(it_get tty "$o")"
it_eq "su at a terminal: in the user's container" "$a_pidns" "$(it_get pidns "$o")"
it_eq "su at a terminal: su's exit status" 0 "$(it_get drive_status "$o")"

# --- the opener goes away: the shell is hung up (SIGHUP), the container
# and its other jobs live on
it_ssh -n "$S1" 'nohup sleep 1001 >/dev/null 2>&1 & exec sleep 201' >/dev/null 2>&1 &
bg=$!
for i in $(seq 1 100); do sp=$(pgrep -u "$u1" -f '^sleep 201$'); [ -n "$sp" ] && break; sleep 0.1; done
opener=
for r in $(it_records "$S1"); do opener=$(sed -n 's/^opener=\([0-9]*\)-.*/\1/p' "$r"); done
if [ -n "$sp" ] && [ -n "$opener" ]; then
        kill -KILL "$opener"
        for i in $(seq 1 100); do kill -0 "$sp" 2>/dev/null || break; sleep 0.1; done
        it_eq "opener killed: the joined shell ends (SIGHUP, then SIGKILL to it alone)" gone \
                "$(kill -0 "$sp" 2>/dev/null && echo running || echo gone)"
        it_ne "opener killed: a nohup job of that login lives on" "" "$(pgrep -u "$u1" -f '^sleep 1001$')"
        it_eq "opener killed: the container's init lives on" "$init_pid" "$(ct_field "$S1" init_pid)"
        it_eq "opener killed: the init is still there" cubby-init "$(cat "/proc/$init_pid/comm" 2>/dev/null)"
else
        it_fail "a login whose opener can be killed" "a sleep 201 and its record's opener" "'$sp' '$opener'"
fi
kill "$bg" 2>/dev/null; wait "$bg" 2>/dev/null
pkill -u "$u1" -f '^sleep 1001$'

# --- a dead container (its init killed from the host) is replaced by the
# next login: a new init, the home reference taken over (not a second one)
refs() { cat "$IT_RUNDIR/locks/u$u1.homes" 2>/dev/null | tr -d '\n'; }
hx_ctl gc >/dev/null 2>&1     # the killed opener's record goes
it_eq "no session of $S1 open: the container holds the home's only reference" 1 "$(refs)"
kill -KILL "$init_pid"
for i in $(seq 1 50); do [ -e "/proc/$init_pid" ] || break; sleep 0.1; done
o=$(it_ssh -n "$S1" 'echo "@@pidns=$(readlink /proc/self/ns/pid)"' 2>&1)
new_init=$(ct_field "$S1" init_pid)
it_ne "init killed: the next login starts a new container" "$init_pid" "$new_init"
it_eq "init killed: the new init is cubby-init" cubby-init "$(cat "/proc/$new_init/comm" 2>/dev/null)"
it_eq "init killed: the next login is in the new container" "$(readlink "/proc/$new_init/ns/pid")" \
        "$(it_get pidns "$o")"
for i in $(seq 1 50); do [ -z "$(it_records "$S1")" ] && break; sleep 0.1; done
it_eq "init killed: after that login, the home's only reference is the new container's (taken over)" \
        1 "$(refs)"
init_pid=$new_init
a_pidns=$(it_get pidns "$o")

# --- no cubby-init to start a container with: the login is refused, no
# shell runs anywhere
kill -KILL "$init_pid"
for i in $(seq 1 50); do [ -e "/proc/$init_pid" ] || break; sleep 0.1; done
mv "$CUBBY_PREFIX/libexec/cubby-init" "$CUBBY_PREFIX/libexec/cubby-init.away"
o=$(it_ssh -n "$S1" 'echo "@@ran=yes"' 2>&1); rc=$?
mv "$CUBBY_PREFIX/libexec/cubby-init.away" "$CUBBY_PREFIX/libexec/cubby-init"
it_ne "no cubby-init: the login fails" 0 "$rc"
it_ne "no cubby-init: nothing ran" yes "$(it_get ran "$o")"
it_match "no cubby-init: the user is told" "login refused \(the user's container cannot be started\)" "$o"
o=$(it_ssh -n "$S1" 'echo "@@pidns=$(readlink /proc/self/ns/pid)"' 2>&1)
init_pid=$(ct_field "$S1" init_pid)
a_pidns=$(it_get pidns "$o")
it_eq "cubby-init back: the next login starts the container" cubby-init "$(cat "/proc/$init_pid/comm" 2>/dev/null)"

# --- a forged container record refuses the next channel of a ControlMaster
# connection (no new PAM session: the same record, the helper joins again)
sock=$IT_SCRATCH/cm.sock
nsenter --net="$IT_NETNS_PATH" ssh -F /dev/null -i "$IT_SSH_KEY" -p "$IT_SSH_PORT" "${IT_SSH_OPTS[@]}" \
        -o ControlMaster=yes -o ControlPath="$sock" -o ControlPersist=yes -fN "$S1@127.0.0.1"
cm() { timeout 20 nsenter --net="$IT_NETNS_PATH" ssh -F /dev/null -o ControlPath="$sock" \
        "${IT_SSH_OPTS[@]}" "$S1@127.0.0.1" "$@"; }
it_eq "ControlMaster channel 1: joins" "$a_pidns" "$(cm 'readlink /proc/self/ns/pid' 2>&1)"
rec=$IT_RUNDIR/containers/u$u1
cp -p "$rec" "$IT_SCRATCH/ct.saved"
forge() { # forge KEY VALUE: the record with KEY=VALUE, root's 0600
        sed "s|^$1=.*|$1=$2|" "$IT_SCRATCH/ct.saved" >"$rec.new"
        chmod 0600 "$rec.new"
        mv "$rec.new" "$rec"
}
it_as "$S1" sleep 300 &
host_sleep=$!
for i in $(seq 1 50); do hp=$(pgrep -n -u "$u1" -f '^sleep 300$'); [ -n "$hp" ] && break; sleep 0.1; done
forge init_pid "$hp"
sed -i "s|^init_start=.*|init_start=$(awk '{ print $22 }' "/proc/$hp/stat")|" "$rec"
o=$(cm 'echo "@@ran=yes"' 2>&1)
it_ne "forged record (init_pid: a host process of $S1): channel refused" yes "$(it_get ran "$o")"
it_match "forged record (init_pid): the user is told" 'your container is not running; log in again' "$o"
ns=$(sed -n 's/^ns=//p' "$IT_SCRATCH/ct.saved")
forge ns "${ns%:*}:1"
o=$(cm 'echo "@@ran=yes"' 2>&1)
it_ne "forged record (a wrong ns inode): channel refused" yes "$(it_get ran "$o")"
it_match "forged record (ns): the user is told" 'your container is not running; log in again' "$o"
chmod 0644 "$IT_SCRATCH/ct.saved"; cp "$IT_SCRATCH/ct.saved" "$rec.new"; chmod 0644 "$rec.new"; mv "$rec.new" "$rec"
o=$(cm 'echo "@@ran=yes"' 2>&1)
it_ne "a record others may read (0644): channel refused" yes "$(it_get ran "$o")"
cp -p "$IT_SCRATCH/ct.saved" "$rec.new"; chmod 0600 "$rec.new"; mv "$rec.new" "$rec"
# (the containers' sweep may have reaped the container while its record
# did not verify: then the next login starts a new one; either way it is
# sandboxed, under cubby-init)
it_eq "after the forged records: the next login is in a container" cubby-init \
        "$(it_ssh -n "$S1" 'cat /proc/1/comm' 2>&1)"
pkill -u "$u1" -f '^sleep 300$'
wait "$host_sleep" 2>/dev/null
nsenter --net="$IT_NETNS_PATH" ssh -F /dev/null -o ControlPath="$sock" -O exit "$S1@127.0.0.1" 2>/dev/null

# --- the end: cubbyctl stop leaves nothing of the containers
ct_stop "$S1"
ct_stop "$S2"
it_check_clean "after cubbyctl stop $S1" "$S1"
it_check_clean "after cubbyctl stop $S2" "$S2"
it_empty "after cubbyctl stop: no container record of $S1" "$(ct_record "$S1")"

it_finish
