#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The lifetime of per-user containers (container = user) through the real
# sshd, with network = nat in the test's own network namespace:
#  - linger = 30s: a `nohup sleep 1000 &` survives the logout and is seen at
#    the next login; `cubbyctl stop` ends it (exit 3 when there is none);
#  - linger = 0: the job ends with the last session (close_session stops
#    the container);
#  - linger = 3s, idle_cpu = 5: at the deadline a container that burns
#    CPU is kept, an idle one is stopped by the anchor holder's sweep;
#  - a login that races a stop (a job ignoring SIGTERM holds the stop in
#    its grace) gets a live container, old or new; an admin stop while a
#    session is open (pamdrive) keeps ct/init, where the next login starts
#    a new container;
#  - gc reaps a container whose init was SIGKILLed, and kills and removes
#    one whose record is gone (run_dir wiped); the holder then exits.
# After each stop nothing is left: no process, veth on the bridge, lease,
# overlay mount, u<uid> cgroup or container record. Prints how long the
# stops took.
IT_NEEDS="/usr/sbin/sshd ssh pgrep nft"
. "$(dirname "$0")/lib.sh"
. "$IT_LIBDIR/lib-extra.sh"
it_init "$@"

S1=$IT_S1 S2=$IT_S2
NET="nsenter --net=$IT_NETNS_PATH"

# pol LINES...: container = user with NAT, stop_grace = $GRACE (1s), and
# LINES, for the students
pol() {
        it_policy_write "container = user" "network = nat" "stop_grace = ${GRACE:-1s}" "$@" \
                "[global]" "bridge = cubby0" "subnet = 10.213.0.0/16" "dns = 198.51.100.53"
}
pol "linger = 30s"
it_sshd_start

ct_record() { cat "$IT_RUNDIR/containers/u$(it_uid "$1")" 2>/dev/null; }
ct_field() { ct_record "$1" | sed -n "s/^$2=//p"; }
veths() { $NET ip -o link show type veth 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' | grep '^cb' | sort | tr '\n' ' '; }
# veth_of ADDR: the host end's name of the container with address ADDR
veth_of() { local IFS=.; set -- $1; printf 'cb%02x%02x%02x%02x' "$1" "$2" "$3" "$4"; }

# wait_record_gone USER TENTHS: until USER has no container record.
wait_record_gone() {
        local i
        for i in $(seq 1 "$2"); do
                [ -z "$(ct_record "$1")" ] && return 0
                sleep 0.1
        done
        return 1
}

# ct_clean WHAT USER [ADDR]: nothing of USER's container (whose address
# was ADDR) is left.
ct_clean() {
        local what=$1 user=$2 addr=${3:-} uid h left i
        uid=$(it_uid "$user")
        it_empty "$what: no container record" "$(ct_record "$user")"
        it_empty "$what: no idle state" "$(cat "$IT_RUNDIR/containers/u$uid.idle" 2>/dev/null)"
        for i in $(seq 1 30); do
                left=$(pgrep -a -U "$uid"; pgrep -a -u "$uid")
                [ -z "$left" ] && break
                sleep 0.1
        done
        it_empty "$what: no process of $user" "$left"
        it_cg_hier
        left=
        for h in "${!IT_CG_MNT[@]}"; do
                [ -e "$(it_cg_dir "$h" "u$uid")" ] && left+="$(it_cg_dir "$h" "u$uid") "
        done
        it_empty "$what: no u$uid cgroup" "$left"
        it_empty "$what: no lease of $user" "$(it_leases | grep -w -- "$user")"
        if [ -n "$addr" ]; then
                for i in $(seq 1 30); do
                        left=$(veths | grep -ow "$(veth_of "$addr")")
                        [ -z "$left" ] && break
                        sleep 0.1
                done
                it_empty "$what: no veth of $addr on the bridge" "$left"
        fi
        it_eq "$what: no overlay on $user's upper dir" 0 "$(hx_overlays_settle "$IT_STATEDIR/users/$user/upper")"
}

# job USER CMD: start CMD with nohup in USER's container and log out.
job() {
        it_ssh -n "$1" "nohup $2 >/dev/null 2>&1 </dev/null & echo \"@@job=\$!\"" 2>&1
}

# the records of USER's sessions are gone (sshd's close_session ran)
wait_logged_out() {
        local i
        for i in $(seq 1 100); do
                [ -z "$(it_records "$1")" ] && return 0
                sleep 0.1
        done
        return 1
}

# ------------------------------------------------------------ linger = 30s
it_syslog_mark
out=$(job "$S1" "sleep 1000")
it_match "linger 30s: the job started" '@@job=[0-9]+' "$out"
wait_logged_out "$S1"
init=$(ct_field "$S1" init_pid)
it_eq "linger 30s: the container outlives the logout (its init)" cubby-init "$(cat "/proc/${init:-0}/comm" 2>/dev/null)"
it_ne "linger 30s: the job outlives the logout" "" "$(pgrep -U "$(it_uid "$S1")" -x sleep)"
it_ne "linger 30s: the container has a veth on the bridge" "" "$(veths)"
out=$(it_ssh -n "$S1" 'echo "@@sleeps=$(pgrep -c -x sleep)"' 2>&1)
it_eq "linger 30s: the next login sees the job" 1 "$(it_get sleeps "$out")"
it_eq "linger 30s: the next login joined the same container" "$init" "$(ct_field "$S1" init_pid)"
wait_logged_out "$S1"
addr=$(ct_field "$S1" addr)
t0=$(hx_time_ms)
out=$(hx_ctl stop "$S1" 2>&1); rc=$?
t1=$(hx_time_ms)
it_eq "cubbyctl stop $S1: exit status" 0 "$rc"
it_match "cubbyctl stop $S1: says so" "stopped the container of $S1" "$out"
it_log "cubbyctl stop (a sleep that ends at SIGTERM): $((t1 - t0)) ms"
ct_clean "after cubbyctl stop" "$S1" "$addr"
out=$(hx_ctl stop "$S1" 2>&1); rc=$?
it_eq "cubbyctl stop $S1 again: exit status 3" 3 "$rc"
it_match "cubbyctl stop $S1 again: says there is none" "has no container" "$out"
out=$(hx_ctl --json stop "$S1" 2>/dev/null); rc=$?
it_eq "cubbyctl --json stop without a container: exit 3, nothing on stdout" "3 " "$rc $out"
it_match "the stop was logged with reason admin" "event=container_stop .*reason=admin" "$(it_syslog_since)"

# ------------------------------------------------------------ linger = 0
pol "linger = 0"
out=$(job "$S1" "sleep 1000")
t0=$(hx_time_ms)
wait_logged_out "$S1"
wait_record_gone "$S1" 100
t1=$(hx_time_ms)
it_log "linger 0: the container was gone $((t1 - t0)) ms after the client returned"
ct_clean "linger 0: after the last session" "$S1" "$(sed -n 's/.*address=\([0-9.]*\) .*/\1/p' <<<"$(it_syslog_since | grep "event=lease .*user=$S1 " | tail -n1)")"
it_match "linger 0: the stop was logged with reason linger" "event=container_stop .*user=$S1 .*reason=linger" "$(it_syslog_since)"

# ------------------------------------------------------------ idle deadline
# cpu = 0.5 (the students' limit): the burner runs at up to 50 % of one
# CPU, far above idle_cpu even on a loaded host.
pol "linger = 3s" "idle_cpu = 5"
it_syslog_mark
job "$S1" "sh -c 'while :; do :; done'" >/dev/null
job "$S2" "sleep 1000" >/dev/null
wait_logged_out "$S1"; wait_logged_out "$S2"
addr1=$(ct_field "$S1" addr) addr2=$(ct_field "$S2" addr)
t0=$(hx_time_ms)
it_ne "linger 3s: $S2's idle container is there after the logout" "" "$(ct_record "$S2")"
wait_record_gone "$S2" 200
t1=$(hx_time_ms)
it_log "linger 3s: the idle container was stopped $((t1 - t0)) ms after the logout (linger, then a sweep with a CPU average: up to two 5 s sweeps)"
ct_clean "linger 3s: the idle container" "$S2" "$addr2"
it_ne "linger 3s: the busy container keeps its veth" "" "$(veths | grep -ow "$(veth_of "$addr1")")"
# two more sweeps past the deadline
sleep $(( (3000 + 10000 - (t1 - t0)) / 1000 + 1 ))
it_log "the busy container's idle state [init start, sample, CPU ns, last in use]: $(cat "$IT_RUNDIR/containers/u$(it_uid "$S1").idle" 2>&1)"
it_ne "linger 3s: the busy container is kept past its deadline" "" "$(ct_record "$S1")"
it_ne "linger 3s: its CPU burner still runs" "" "$(pgrep -U "$(it_uid "$S1")" -x sh)"
out=$(hx_ctl stop "$S1" 2>&1)
ct_clean "the busy container after cubbyctl stop" "$S1" "$addr1"

# ------------------------------------------------------------ a login races a stop
# The job ignores SIGTERM: the stop at logout waits its whole grace (3 s)
# under the container lock; a login meanwhile waits for it and then gets a
# new container (or, first, the old one, which then stays).
GRACE=3s pol "linger = 0"
job "$S1" "sh -c 'trap \"\" TERM; exec sleep 1000'" >/dev/null
old=$(ct_field "$S1" init_pid)
sleep 0.3
t0=$(hx_time_ms)
out=$(it_ssh -n "$S1" 'echo "@@ok=yes"; echo "@@init=$(cat /proc/1/comm)"' 2>&1); rc=$?
t1=$(hx_time_ms)
it_eq "a login racing the stop: exit status" 0 "$rc"
it_eq "a login racing the stop: ran in a container" "yes cubby-init" "$(it_get ok "$out") $(it_get init "$out")"
it_log "a login racing a stop was answered in $((t1 - t0)) ms (old init $old, now: $(ct_field "$S1" init_pid))"
addr=$(ct_field "$S1" addr)
wait_logged_out "$S1"
wait_record_gone "$S1" 100
ct_clean "after the racing login logged out" "$S1" "$addr"

# ------------------------------------------------------------ an admin stop under an open session
# pamdrive holds a session of the user open (its record live, no shell):
# the stop keeps ct/init and that session's dir, and the next login starts
# a new container in them.
if [ -x "${CUBBY_PAMDRIVE:-}" ]; then
        pol "linger = always"
        $NET "$CUBBY_PAMDRIVE" cubby-test-sshd "$S1" -- sleep 4 >"$IT_SCRATCH/pamdrive.out" 2>&1 &
        pd=$!
        for i in $(seq 1 100); do [ -n "$(ct_record "$S1")" ] && break; sleep 0.1; done
        addr=$(ct_field "$S1" addr)
        out=$(hx_ctl stop "$S1" 2>&1); rc=$?
        it_eq "cubbyctl stop under an open session: exit status" 0 "$rc"
        it_cg_hier
        kept=0
        for h in "${!IT_CG_MNT[@]}"; do
                [ -d "$(it_cg_dir "$h" "u$(it_uid "$S1")/ct/init")" ] && kept=$((kept + 1))
        done
        it_ne "cubbyctl stop under an open session: ct/init kept for it" 0 "$kept"
        wait "$pd"
        it_match "the session held open closed normally" 'close=PAM_SUCCESS' "$(cat "$IT_SCRATCH/pamdrive.out")"
        out=$(it_ssh -n "$S1" 'echo "@@ok=$(cat /proc/1/comm)"' 2>&1)
        it_eq "the next login starts a container in the kept ct/init" cubby-init "$(it_get ok "$out")"
        wait_logged_out "$S1"
        addr=$(ct_field "$S1" addr)
        hx_ctl stop "$S1" >/dev/null 2>&1
        ct_clean "after the login in the kept ct/init" "$S1" "$addr"
else
        it_skip_check "an admin stop under an open session" "CUBBY_PAMDRIVE is not set"
fi

# ------------------------------------------------------------ gc: the init SIGKILLed
pol "linger = always"
it_syslog_mark
job "$S1" "sleep 1000" >/dev/null
wait_logged_out "$S1"
init=$(ct_field "$S1" init_pid) addr=$(ct_field "$S1" addr)
it_ne "linger always: the container outlives the logout" "" "$init"
kill -KILL "$init"
# gone, or a zombie its reaper has not collected yet
for i in $(seq 1 50); do
        st=$(awk '{ print $3 }' "/proc/$init/stat" 2>/dev/null)
        [ -z "$st" ] || [ "$st" = Z ] && break
        sleep 0.1
done
out=$(hx_ctl gc 2>&1); rc=$?
it_eq "gc after the init was killed: exit status" 0 "$rc"
ct_clean "gc after the init was killed" "$S1" "$addr"
it_match "the reap was logged with reason gc" "event=container_stop .*user=$S1 .*reason=gc" "$(it_syslog_since)"

# ------------------------------------------------------------ gc: run_dir wiped
job "$S1" "sleep 1000" >/dev/null
wait_logged_out "$S1"
read -r apid _ <"$IT_RUNDIR/anchor" 2>/dev/null
addr=$(ct_field "$S1" addr)
it_ne "linger always: the container is recorded" "" "$(ct_record "$S1")"
rm -rf --one-file-system "$IT_RUNDIR"
out=$(hx_ctl gc 2>&1); rc=$?
it_eq "gc after run_dir was wiped: exit status" 0 "$rc"
it_match "gc after run_dir was wiped: removed the unrecorded container" "removed the unrecorded container cgroup of uid $(it_uid "$S1")" "$out"
for i in $(seq 1 80); do [ -d "/proc/${apid:-0}" ] || break; sleep 0.1; done
it_eq "the anchor holder no longer recorded: it exited" gone "$( [ -d "/proc/${apid:-0}" ] && echo "alive $apid" || echo gone)"
ct_clean "gc after run_dir was wiped" "$S1" "$addr"
out=$(it_ssh -n "$S1" 'echo "@@ok=$(cat /proc/1/comm)"' 2>&1)
it_eq "a login after the wipe gets a new container" cubby-init "$(it_get ok "$out")"
wait_logged_out "$S1"
addr=$(ct_field "$S1" addr)
hx_ctl stop "$S1" >/dev/null 2>&1
ct_clean "the last stop" "$S1" "$addr"
it_empty "no veth left at all" "$(veths)"

it_finish
