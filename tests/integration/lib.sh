# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Integration test harness for cubby, sourced by tests/integration/*.sh and
# tests/pam/*.sh. Runs as root, through the real sshd, su, login and libpam.
#
# Life of a test script:
#   outer (as started by meson): checks prerequisites, picks a unique id,
#     makes the scratch dir and the network namespace cubby-<id>, then runs
#     the same script again under `unshare -m --propagation private` and
#     waits for it;
#   inner (CUBBY_IT_INNER=1): optionally makes / shared again
#     (CUBBY_PROPAGATION=shared, docs/TESTING.md, rule 7), installs the build into
#     the scratch prefix, bind-mounts a private copy of /etc/pam.d with the
#     test stacks, gives itself a private /dev/log listener, creates users
#     and groups, runs the tests.
#   Both install `it_cleanup` on EXIT/INT/TERM. The cleanup derives every
#   object from the id alone (netns, users, groups, cgroups, run/state dirs,
#   scratch, prefix), so the outer one still cleans up when the inner one
#   was killed. It never touches anything that does not carry the id.
#
# Names (id = 6 hex digits): users cby<id>XX, groups cby<id>st (students,
# sandboxed) and cby<id>ad (admin group), netns cubby-<id>, run_dir
# /run/cubby-<id>, state_dir /var/lib/cubby-<id>, cgroup dirs
# cubby-test-<id> below the test's own cgroup in each hierarchy.
#
# Assertions: it_eq/it_ne/it_match/it_nomatch/it_ok/... print PASS or FAIL
# with what was expected and what was seen; it_finish exits 1 if any failed.

set -u -o pipefail

IT_SELF=$(readlink -f "$0")
IT_NAME=$(basename "$0" .sh)
IT_LIBDIR=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
IT_FAILS=0
IT_PASSES=0
IT_SKIPS=0
IT_FAILED_NAMES=()
: "${IT_TIMEOUT:=60}"          # seconds for any one ssh / su / login run

# ---------------------------------------------------------------- logging

it_log() { printf '[%s %s] %s\n' "$(date +%T.%3N)" "$IT_NAME" "$*" >&2; }
it_skip() { echo "SKIP ($IT_NAME): $*" >&2; exit 77; }
it_fatal() { echo "FATAL ($IT_NAME): $*" >&2; exit 1; }

# ---------------------------------------------------------------- assertions

it_pass() {
        IT_PASSES=$((IT_PASSES + 1))
        printf 'PASS: %s\n' "$1"
}

# it_skip_check DESC REASON: a check whose control did not show here. It
# is reported as SKIP with the reason, never as PASS; the script goes on
# with its other checks.
it_skip_check() {
        IT_SKIPS=$((IT_SKIPS + 1))
        printf 'SKIP: %s: %s\n' "$1" "$2"
}

# it_fail DESC EXPECTED SEEN
it_fail() {
        IT_FAILS=$((IT_FAILS + 1))
        IT_FAILED_NAMES+=("$1")
        printf 'FAIL: %s\n    expected: %s\n    seen:     %s\n' "$1" "$2" "$3"
}

it_eq() { if [ "$3" = "$2" ]; then it_pass "$1"; else it_fail "$1" "'$2'" "'$3'"; fi; }
it_ne() { if [ "$3" != "$2" ]; then it_pass "$1"; else it_fail "$1" "anything but '$2'" "'$3'"; fi; }
# it_match DESC ERE TEXT
it_match() {
        # Here-strings, not pipes: with pipefail, grep -q exiting early
        # could fail the pipeline through printf's SIGPIPE.
        if grep -Eq -- "$2" <<<"$3"; then it_pass "$1"
        else it_fail "$1" "text matching /$2/" "'$(it_clip "$3")'"; fi
}
it_nomatch() {
        local hit
        if hit=$(grep -E -m1 -- "$2" <<<"$3"); then
                it_fail "$1" "no text matching /$2/" "'$(it_clip "$hit")'"
        else it_pass "$1"; fi
}
# it_in DESC VALUE ALLOWED...
it_in() {
        local desc=$1 v=$2 a; shift 2
        for a in "$@"; do [ "$v" = "$a" ] && { it_pass "$desc"; return; }; done
        it_fail "$desc" "one of: $*" "'$v'"
}
# it_int_lt DESC LIMIT VALUE
it_int_lt() {
        if [[ $3 =~ ^[0-9]+$ ]] && [ "$3" -lt "$2" ]; then it_pass "$1"
        else it_fail "$1" "a number < $2" "'$3'"; fi
}
it_empty() { if [ -z "$2" ]; then it_pass "$1"; else it_fail "$1" "nothing" "'$(it_clip "$2")'"; fi; }

it_clip() {
        local s=$1
        s=${s//$'\r'/}
        if [ ${#s} -gt 600 ]; then s="${s:0:600}...(${#s} chars)"; fi
        printf '%s' "${s//$'\n'/\\n }"
}

it_finish() {
        echo "---- $IT_NAME (propagation ${CUBBY_PROPAGATION:-private}): $IT_PASSES passed, $IT_FAILS failed, $IT_SKIPS skipped"
        local n
        for n in "${IT_FAILED_NAMES[@]}"; do echo "     failed: $n"; done
        if [ "$IT_FAILS" -gt 0 ]; then
                it_dump_logs
                exit 1
        fi
        exit 0
}

# Evidence for a failed run: the private sshd's log and what the module and
# helper sent to syslog.
it_dump_logs() {
        local f
        for f in "$IT_SCRATCH/sshd/log" "$IT_SCRATCH/syslog"; do
                [ -s "$f" ] || continue
                echo "==== $f (last 80 lines)"
                tail -n 80 "$f"
        done
}

# ---------------------------------------------------------------- setup

# Scripts set IT_NEEDS (programs, e.g. "sshd ssh sftp") before it_init.
it_init() {
        if [ -z "${CUBBY_IT_INNER:-}" ]; then
                it_outer "$@"
                exit $?         # not reached: it_outer exits
        fi
        it_inner
}

it_check_env() {
        local v
        [ "$(id -u)" = 0 ] || it_skip "needs root (runs real sshd, su, login, useradd)"
        for v in CUBBY_BUILD CUBBY_SRC CUBBY_PREFIX CUBBY_PAMDIR CUBBY_HELPER CUBBY_CTL; do
                [ -n "${!v:-}" ] || it_fatal "$v is not set: run through 'meson test --suite integration'"
        done
        # The cleanup removes the prefix: only ever a scratch prefix.
        case $CUBBY_PREFIX in
        /var/tmp/cubby-?*|/tmp/cubby-?*) ;;
        *) it_skip "CUBBY_PREFIX=$CUBBY_PREFIX is not a scratch prefix; configure with --prefix=/var/tmp/cubby-it" ;;
        esac
        case $CUBBY_PREFIX in *..*|*//*) it_skip "CUBBY_PREFIX=$CUBBY_PREFIX is not a plain path" ;; esac
        for v in CUBBY_PAMDIR CUBBY_HELPER CUBBY_CTL; do
                case ${!v} in
                "$CUBBY_PREFIX"/*) ;;
                *) it_skip "$v=${!v} is outside the scratch prefix $CUBBY_PREFIX" ;;
                esac
        done
        for v in ip nsenter unshare useradd userdel groupadd groupdel usermod setpriv \
                 script timeout findmnt mount umount flock meson ssh-keygen ${IT_NEEDS:-}; do
                command -v "$v" >/dev/null 2>&1 || it_skip "$v is not installed"
        done
        [ -e /sys/fs/cgroup ] || it_skip "no /sys/fs/cgroup"
}

it_outer() {
        it_check_env
        IT_ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
        IT_SCRATCH=$(mktemp -d "/var/tmp/cubby-it-$IT_ID.XXXXXX") || it_fatal "mktemp failed"
        # sshd reads AuthorizedKeysFile as the user: scratch is root-owned 0755.
        chmod 0755 "$IT_SCRATCH"
        export CUBBY_IT_ID=$IT_ID CUBBY_IT_SCRATCH=$IT_SCRATCH
        it_names
        trap 'it_cleanup outer' EXIT
        trap 'it_outer_signal' INT TERM HUP

        # One run at a time per build: the scratch prefix is shared.
        exec 9>"$CUBBY_BUILD/.cubby-it.lock"
        flock -w 900 9 || it_fatal "another integration run holds $CUBBY_BUILD/.cubby-it.lock"

        # The module creates the compiled-in rundir on demand; if this run
        # is the first, the outer cleanup removes it again (empty dirs only).
        [ -e "$IT_BRUNDIR" ] || export CUBBY_IT_MADE_BRUNDIR=1
        ip netns add "$IT_NETNS" || it_fatal "ip netns add $IT_NETNS failed"
        nsenter --net="$IT_NETNS_PATH" ip link set lo up || it_fatal "lo up in $IT_NETNS failed"

        it_log "id $IT_ID, scratch $IT_SCRATCH, netns $IT_NETNS, propagation ${CUBBY_PROPAGATION:-private}"
        CUBBY_IT_INNER=1 unshare -m --propagation private -- /bin/bash "$IT_SELF" "$@" &
        IT_CHILD=$!
        local rc=0
        wait "$IT_CHILD" || rc=$?
        IT_CHILD=
        exit "$rc"
}

it_outer_signal() {
        if [ -n "${IT_CHILD:-}" ]; then
                kill -TERM "$IT_CHILD" 2>/dev/null
                local i
                for i in $(seq 1 50); do
                        kill -0 "$IT_CHILD" 2>/dev/null || break
                        sleep 0.2
                done
                kill -KILL "$IT_CHILD" 2>/dev/null
        fi
        exit 130
}

# Every name derives from the id.
it_names() {
        IT_ID=${CUBBY_IT_ID}
        IT_SCRATCH=${CUBBY_IT_SCRATCH}
        IT_P=cby$IT_ID                          # user/group name prefix
        IT_NETNS=cubby-$IT_ID
        IT_NETNS_PATH=/run/netns/$IT_NETNS
        IT_RUNDIR=/run/cubby-$IT_ID
        IT_STATEDIR=/var/lib/cubby-$IT_ID
        IT_CGNAME=cubby-test-$IT_ID
        IT_CONF=$IT_SCRATCH/etc/cubby.conf
        IT_PAMD=$IT_SCRATCH/pam.d
        IT_TMPMARK=/tmp/cubby-it-$IT_ID.mark
        # Compiled in (meson option rundir): session records and the
        # module's last good copies of configs live there, not in run_dir.
        IT_BRUNDIR=${CUBBY_BUILTIN_RUNDIR:-/run/cubby}
        IT_G_STUDENTS=${IT_P}st
        IT_G_ADMIN=${IT_P}ad
        IT_S1=${IT_P}s1                         # sandboxed (students group)
        IT_S2=${IT_P}s2                         # sandboxed, a second home
        IT_A1=${IT_P}a1                         # admin group (and students)
        IT_N1=${IT_P}n1                         # not sandboxed by the policy
        IT_SSHD_DIR=$IT_SCRATCH/sshd
        IT_SSH_KEY=$IT_SCRATCH/client/id_ed25519
}

it_inner() {
        it_names
        trap 'it_cleanup inner' EXIT
        trap 'exit 143' TERM
        trap 'exit 130' INT
        trap 'exit 129' HUP

        if [ "${CUBBY_PROPAGATION:-private}" = shared ]; then
                mount --make-rshared / || it_fatal "mount --make-rshared / failed"
        fi
        it_log "mount namespace $(readlink /proc/self/ns/mnt), / is $(findmnt -no PROPAGATION /)"

        it_own_ns       # before anything else changes

        it_log "installing into $CUBBY_PREFIX"
        meson install -C "$CUBBY_BUILD" --no-rebuild --quiet >"$IT_SCRATCH/install.log" 2>&1 \
                || { cat "$IT_SCRATCH/install.log"; it_fatal "meson install failed"; }
        local st
        st=$(stat -c '%a %U %G' "$CUBBY_HELPER" 2>/dev/null)
        [ "$st" = "4755 root root" ] || it_fatal "$CUBBY_HELPER is '$st', expected '4755 root root'"
        [ -f "$CUBBY_PAMDIR/pam_cubby.so" ] || it_fatal "$CUBBY_PAMDIR/pam_cubby.so not installed"

        it_syslog_start
        it_pam_setup
        it_groups_create
        it_policy_write
        : >"$IT_TMPMARK"
        mkdir -m 0755 -p "$IT_SCRATCH/keys" "$IT_SCRATCH/client"
        chmod 0700 "$IT_SCRATCH/client"
        ssh-keygen -q -t ed25519 -N '' -C cubby-it -f "$IT_SSH_KEY" || it_fatal "ssh-keygen failed"
}

# The test's own namespaces and cgroups, to compare the sandbox against.
it_own_ns() {
        local n
        declare -gA IT_OWN_NS=()
        for n in user mnt pid uts net ipc cgroup; do
                IT_OWN_NS[$n]=$(readlink "/proc/$$/ns/$n")
        done
        IT_TESTNET_NS=$(nsenter --net="$IT_NETNS_PATH" readlink /proc/self/ns/net)
        IT_HOSTNAME_SHORT=$(hostname); IT_HOSTNAME_SHORT=${IT_HOSTNAME_SHORT%%.*}
}

# A /dev/log of our own, in our mount namespace only: /dev gets an overlay
# (so the socket never lands on the machine's /dev) and a small listener
# writes what the module and helper log to $IT_SCRATCH/syslog.
it_syslog_start() {
        local d=$IT_SCRATCH/devov
        : >"$IT_SCRATCH/syslog"
        mkdir -p "$d" && mount -t tmpfs -o mode=0755 cubby-it-devov "$d" \
                && mkdir "$d/up" "$d/work" "$d/old" \
                && mount --rbind /dev "$d/old" \
                && mount -t overlay cubby-it-dev -o "lowerdir=/dev,upperdir=$d/up,workdir=$d/work" /dev \
                && mount --rbind "$d/old/pts" /dev/pts \
                && mount --rbind "$d/old/shm" /dev/shm \
                && umount -l "$d/old" \
                || { it_log "WARNING: no private /dev/log (module syslog not captured)"; return 0; }
        rm -f /dev/log
        /usr/bin/python3 - "$IT_SCRATCH/syslog" >/dev/null 2>&1 <<'EOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
os.chmod("/dev/log", 0o666)
with open(sys.argv[1], "ab", buffering=0) as f:
    while True:
        data = s.recv(65536)
        f.write(data.rstrip(b"\0\n") + b"\n")
EOF
        IT_SYSLOG_PID=$!
        local i
        for i in $(seq 1 50); do [ -S /dev/log ] && break; sleep 0.1; done
        [ -S /dev/log ] || it_log "WARNING: syslog listener did not start"
}

# Lines the module or helper logged since the mark (it_syslog_mark).
it_syslog_mark() { IT_SYSLOG_OFF=$(stat -c %s "$IT_SCRATCH/syslog" 2>/dev/null || echo 0); }
it_syslog_since() { tail -c +"$(( ${IT_SYSLOG_OFF:-0} + 1 ))" "$IT_SCRATCH/syslog" 2>/dev/null; }

# ---------------------------------------------------------------- PAM

# Private copy of /etc/pam.d, bind-mounted over /etc/pam.d in this mount
# namespace only; test stacks for sshd (cubby-test-sshd), su, su-l, login
# and the host-job services cron, atd, systemd-user.
it_pam_setup() {
        cp -a /etc/pam.d "$IT_PAMD" || it_fatal "copy of /etc/pam.d failed"
        it_pam_stacks
        mount --bind "$IT_PAMD" /etc/pam.d || it_fatal "bind mount of $IT_PAMD failed"
}

# it_pam_stacks [MODULE ARGS...]: (re)write the test stacks; the module
# line gets config=$IT_CONF plus these args (default: none = redirect mode).
# Takes effect at the next pam_start (sshd starts PAM per connection).
it_pam_stacks() {
        local line="session required $CUBBY_PAMDIR/pam_cubby.so config=$IT_CONF${*:+ $*}"
        local s
        for s in cubby-test-sshd su su-l login; do
                {
                        echo "# cubby integration test stack ($IT_ID): private mount namespace only"
                        [ "$s" = su ] || [ "$s" = su-l ] && echo "auth     sufficient pam_rootok.so"
                        echo "auth     required   pam_permit.so"
                        echo "account  required   pam_permit.so"
                        echo "password required   pam_deny.so"
                        echo "session  optional   pam_unix.so"
                        echo "$line"
                } >"$IT_PAMD/$s.new" && mv "$IT_PAMD/$s.new" "$IT_PAMD/$s"
        done
        for s in cron atd systemd-user; do
                {
                        echo "# cubby integration test stack ($IT_ID)"
                        echo "account  required   pam_permit.so"
                        echo "session  optional   pam_unix.so"
                        echo "$line"
                } >"$IT_PAMD/$s.new" && mv "$IT_PAMD/$s.new" "$IT_PAMD/$s"
        done
        chmod 0644 "$IT_PAMD"/*
        IT_PAM_ARGS="$*"
}

# ---------------------------------------------------------------- policy

# it_policy_write [EXTRA LINES...]: the standard test policy; extra lines
# are appended verbatim (e.g. "bogus_key = 1" into the last section).
it_policy_write() {
        mkdir -p -m 0755 "$IT_SCRATCH/etc"
        {
                echo "[global]"
                echo "admin_group = $IT_G_ADMIN"
                echo "state_dir = $IT_STATEDIR"
                echo "run_dir = $IT_RUNDIR"
                echo "cgroup_parent = ./$IT_CGNAME"
                echo "[default]"
                echo "sandbox = no"
                # Our sshd's PAM service is cubby-test-sshd (named after the binary).
                echo "services = cubby-test-sshd sshd su su-l login"
                echo "[group $IT_G_STUDENTS]"
                echo "sandbox = yes"
                echo "cpu = 0.5"
                echo "memory = 256M"
                echo "pids = 128"
                local l
                for l in "$@"; do echo "$l"; done
        } >"$IT_CONF.new"
        chown root:root "$IT_CONF.new"
        chmod 0644 "$IT_CONF.new"
        mv "$IT_CONF.new" "$IT_CONF"
}

# ---------------------------------------------------------------- users

it_groups_create() {
        groupadd "$IT_G_STUDENTS" || it_fatal "groupadd $IT_G_STUDENTS"
        groupadd "$IT_G_ADMIN" || it_fatal "groupadd $IT_G_ADMIN"
        it_user_add "$IT_S1" -G "$IT_G_STUDENTS"
        it_user_add "$IT_S2" -G "$IT_G_STUDENTS"
        it_user_add "$IT_A1" -G "$IT_G_ADMIN,$IT_G_STUDENTS"
        it_user_add "$IT_N1"
}

# it_user_add NAME [useradd options]: shell /bin/bash unless -s is given;
# the test's client key is authorized for it.
it_user_add() {
        local name=$1; shift
        case $name in "$IT_P"*) ;; *) it_fatal "user name $name lacks the test prefix" ;; esac
        useradd -m -s /bin/bash -K MAIL_DIR=/nonexistent "$@" "$name" 2>"$IT_SCRATCH/useradd.err" \
                || useradd -m -s /bin/bash "$@" "$name" \
                || it_fatal "useradd $name failed"
        if [ -s "$IT_SSH_KEY.pub" ]; then
                install -m 0644 -o root -g root "$IT_SSH_KEY.pub" "$IT_SCRATCH/keys/$name"
        fi
}

it_uid() { id -u "$1"; }
it_gid() { id -g "$1"; }

# ---------------------------------------------------------------- sshd

it_sshd_start() {
        mkdir -p -m 0755 "$IT_SSHD_DIR"
        ln -sf /usr/sbin/sshd "$IT_SCRATCH/cubby-test-sshd"
        ssh-keygen -q -t ed25519 -N '' -f "$IT_SSHD_DIR/host_ed25519" || it_fatal "host key"
        local u
        for u in $(it_test_users); do
                install -m 0644 -o root -g root "$IT_SSH_KEY.pub" "$IT_SCRATCH/keys/$u"
        done
        IT_SSH_PORT=$((20000 + RANDOM % 40000))
        cat >"$IT_SSHD_DIR/sshd_config" <<EOF
# cubby integration test sshd ($IT_ID), netns $IT_NETNS only
Port $IT_SSH_PORT
ListenAddress 127.0.0.1
HostKey $IT_SSHD_DIR/host_ed25519
PidFile $IT_SSHD_DIR/sshd.pid
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AuthorizedKeysFile $IT_SCRATCH/keys/%u
# The keys live below /var/tmp (mode 1777), which StrictModes rejects; the
# key files themselves are root-owned 0644 in a root-owned 0755 dir.
StrictModes no
Subsystem sftp /usr/lib/openssh/sftp-server
PermitUserRC no
AllowTcpForwarding no
X11Forwarding no
AllowAgentForwarding no
PermitTunnel no
PrintMotd no
PrintLastLog no
UseDNS no
MaxStartups 200:30:400
LogLevel VERBOSE
EOF
        mkdir -p -m 0755 /run/sshd
        nsenter --net="$IT_NETNS_PATH" "$IT_SCRATCH/cubby-test-sshd" \
                -f "$IT_SSHD_DIR/sshd_config" -E "$IT_SSHD_DIR/log" \
                || { cat "$IT_SSHD_DIR/log"; it_fatal "sshd did not start"; }
        local i
        for i in $(seq 1 100); do
                if [ -s "$IT_SSHD_DIR/sshd.pid" ] && nsenter --net="$IT_NETNS_PATH" \
                        ss -Hltn "sport = :$IT_SSH_PORT" 2>/dev/null | grep -q LISTEN; then
                        IT_SSHD_PID=$(cat "$IT_SSHD_DIR/sshd.pid")
                        it_log "sshd pid $IT_SSHD_PID on 127.0.0.1:$IT_SSH_PORT in $IT_NETNS"
                        return 0
                fi
                sleep 0.1
        done
        cat "$IT_SSHD_DIR/log"
        it_fatal "sshd not listening after 10 s"
}

it_test_users() { getent passwd | awk -F: -v p="$IT_P" 'index($1, p) == 1 { print $1 }'; }

IT_SSH_OPTS=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
             -o LogLevel=ERROR -o ConnectTimeout=10 -o ServerAliveInterval=5)

# it_ssh [SSH OPTIONS starting with -]... USER [COMMAND...]
it_ssh() {
        local opts=()
        while [ $# -gt 0 ] && [[ $1 == -* ]]; do opts+=("$1"); shift; done
        local user=$1; shift
        timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
                ssh -F /dev/null -i "$IT_SSH_KEY" -p "$IT_SSH_PORT" "${IT_SSH_OPTS[@]}" \
                "${opts[@]}" "$user@127.0.0.1" "$@"
}

# it_sftp USER BATCHFILE
it_sftp() {
        timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
                sftp -F /dev/null -i "$IT_SSH_KEY" -P "$IT_SSH_PORT" "${IT_SSH_OPTS[@]}" \
                -b "$2" "$1@127.0.0.1"
}

# ---------------------------------------------------------------- su, login

# it_su ARGS...: su run by root inside the test netns.
it_su() { timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" su "$@"; }

# it_as USER CMD...: run CMD as USER (no supplementary groups), in the netns.
it_as() {
        local u=$1; shift
        timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
                setpriv --reuid="$(it_uid "$u")" --regid="$(it_gid "$u")" --clear-groups \
                env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/ LANG=C "$@"
}

# it_login USER: `login -f USER` by root under a pty (script(1)); the
# shell reads stdin as typed lines. Output has \r removed.
it_login() {
        local u=$1
        timeout -k 5 "$IT_TIMEOUT" nsenter --net="$IT_NETNS_PATH" \
                script -qec "login -f $u" /dev/null | tr -d '\r'
}

# ---------------------------------------------------------------- probe

# The probe prints "@@key=value" lines; the key prefix is assembled at run
# time so that a pty's echo of the typed probe never matches. Every line is
# a complete command (it is also typed into an interactive shell).
it_probe() {
        local p
        p=$(cat <<'EOF'
p=@@
echo "${p}pid=$$"
echo "${p}exe=$(readlink /proc/$$/exe)"
for n in user mnt pid uts net ipc cgroup; do echo "${p}ns_$n=$(readlink /proc/self/ns/$n)"; done
echo "${p}uid=$(id -u) ${p}gid=$(id -g)"
echo "${p}groups=$(id -G)"
echo "${p}uid_map=$(awk '{ printf "%s%s %s %s", (NR > 1 ? ";" : ""), $1, $2, $3 }' /proc/self/uid_map)"
echo "${p}gid_map=$(awk '{ printf "%s%s %s %s", (NR > 1 ? ";" : ""), $1, $2, $3 }' /proc/self/gid_map)"
echo "${p}capeff=$(awk '/^CapEff:/ { print $2 }' /proc/self/status)"
echo "${p}capbnd=$(awk '/^CapBnd:/ { print $2 }' /proc/self/status)"
echo "${p}nnp=$(awk '/^NoNewPrivs:/ { print $2 }' /proc/self/status)"
echo "${p}home=$(ls -A /home | tr '\n' ' ')"
echo "${p}hostname=$(hostname)"
echo "${p}cgroup=$(tr '\n' ';' </proc/self/cgroup)"
echo "${p}netifs=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\n' ' ')"
echo "${p}procs=$(ls /proc | grep -c '^[0-9]')"
echo "${p}scratch_visible=$(test -e @SCRATCH@ && echo yes || echo no) ${p}rundir_visible=$(test -e @RUNDIR@ && echo yes || echo no) ${p}tmpmark_visible=$(test -e @TMPMARK@ && echo yes || echo no)"
echo "${p}tmp_entries=$(ls -A /tmp | wc -l) ${p}vartmp_entries=$(ls -A /var/tmp | wc -l)"
echo "${p}done=yes"
EOF
)
        p=${p//@SCRATCH@/$IT_SCRATCH}
        p=${p//@RUNDIR@/$IT_RUNDIR}
        p=${p//@TMPMARK@/$IT_TMPMARK}
        printf '%s\n' "$p"
}

# it_get KEY TEXT: the value of the first @@KEY= in TEXT ("" if none).
it_get() {
        printf '%s\n' "$2" | tr -d '\r' | grep -ao "@@$1=[^@]*" | head -n1 \
                | sed -e "s/^@@$1=//" -e 's/[[:space:]]*$//'
}

# it_check_sandbox WHAT USER PROBE_OUTPUT: everything a sandboxed login
# must show.
it_check_sandbox() {
        local what=$1 user=$2 out=$3 uid gid n v
        uid=$(it_uid "$user"); gid=$(it_gid "$user")
        it_eq "$what: probe completed" yes "$(it_get done "$out")"
        it_eq "$what: \$\$ is 1" 1 "$(it_get pid "$out")"
        for n in user mnt pid uts net ipc cgroup; do
                v=$(it_get "ns_$n" "$out")
                if [ -z "$v" ] || [ "$v" = "${IT_OWN_NS[$n]}" ]; then
                        it_fail "$what: $n namespace differs from the test's" "not ${IT_OWN_NS[$n]}" "'$v'"
                else
                        it_pass "$what: $n namespace differs from the test's"
                fi
        done
        it_ne "$what: net namespace differs from the sshd/su netns" "$IT_TESTNET_NS" "$(it_get ns_net "$out")"
        it_eq "$what: id -u" "$uid" "$(it_get uid "$out")"
        it_eq "$what: uid_map" "$uid $uid 1" "$(it_get uid_map "$out")"
        # each of the user's groups mapped to itself, no other
        it_eq "$what: gid_map" "$(for v in $gid $(id -G "$user"); do echo "$v $v 1"; done | sort -u | tr '\n' ';')" \
                "$(it_get gid_map "$out" | tr ';' '\n' | sort -u | tr '\n' ';')"
        it_eq "$what: CapEff" 0000000000000000 "$(it_get capeff "$out")"
        it_eq "$what: CapBnd" 0000000000000000 "$(it_get capbnd "$out")"
        it_eq "$what: NoNewPrivs" 1 "$(it_get nnp "$out")"
        it_eq "$what: /home shows only the user's home" "$user" "$(it_get home "$out")"
        it_eq "$what: hostname is the host's short name" "$IT_HOSTNAME_SHORT" "$(it_get hostname "$out")"
        it_eq "$what: network interfaces (network = none)" lo "$(it_get netifs "$out")"
        it_int_lt "$what: /proc is the sandbox's own (few pids)" 10 "$(it_get procs "$out")"
        it_nomatch "$what: /proc/self/cgroup paths are all / (cgroup namespace rooted at the session)" \
                ':/[^;]' "$(it_get cgroup "$out")"
        it_eq "$what: host /var/tmp scratch invisible" no "$(it_get scratch_visible "$out")"
        it_eq "$what: host run_dir invisible (fresh /run)" no "$(it_get rundir_visible "$out")"
        it_eq "$what: host /tmp invisible (fresh /tmp)" no "$(it_get tmpmark_visible "$out")"
        it_match "$what: login shell is the real shell" '/bash$' "$(it_get exe "$out")"
}

# it_check_host WHAT USER PROBE_OUTPUT: an unsandboxed login: the host's
# namespaces (the test netns for net), not PID 1, full uid range.
it_check_host() {
        local what=$1 user=$2 out=$3 n
        it_eq "$what: probe completed" yes "$(it_get done "$out")"
        it_ne "$what: \$\$ is not 1" 1 "$(it_get pid "$out")"
        for n in user mnt pid uts ipc cgroup; do
                it_eq "$what: $n namespace is the host's" "${IT_OWN_NS[$n]}" "$(it_get "ns_$n" "$out")"
        done
        it_eq "$what: net namespace is the test netns" "$IT_TESTNET_NS" "$(it_get ns_net "$out")"
        it_eq "$what: id -u" "$(it_uid "$user")" "$(it_get uid "$out")"
        it_eq "$what: uid_map is the host's" "0 0 4294967295" "$(it_get uid_map "$out")"
        it_match "$what: shell is the real shell" '/bash$' "$(it_get exe "$out")"
}

# ---------------------------------------------------------------- cgroups

# Hierarchies cubby uses: name -> mount point, and the test's own path in
# each (from /proc/self/cgroup).
it_cg_hier() {
        declare -gA IT_CG_MNT=() IT_CG_OWN=()
        local c line mnt
        for c in cpu memory pids freezer; do
                mnt=$(findmnt -rn -t cgroup -o TARGET,OPTIONS | awk -v c="$c" \
                        '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $1; exit } }')
                [ -n "$mnt" ] || continue
                line=$(awk -F: -v c="$c" '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $3 }' /proc/$$/cgroup)
                IT_CG_MNT[$c]=$mnt
                IT_CG_OWN[$c]=${line%/}
        done
        mnt=$(findmnt -rn -t cgroup2 -o TARGET | head -n1)
        if [ -n "$mnt" ]; then
                IT_CG_MNT[unified]=$mnt
                line=$(awk -F: '$1 == "0" { print $3 }' /proc/$$/cgroup)
                IT_CG_OWN[unified]=${line%/}
        fi
}

# it_cg_user_level HIER: true where a session's (or container's) entry in
# that hierarchy is its user dir: a v1 hierarchy of memory alone (sessions
# have no memory cgroup of their own).
it_cg_user_level() {
        [ "$1" = memory ] || return 1
        findmnt -rn -t cgroup -o OPTIONS "${IT_CG_MNT[memory]}" | tr ',' '\n' |
                grep -qxE 'cpu|pids|freezer|cpuset' && return 1
        return 0
}

# it_cg_dir HIER [SUBPATH]: <mount>/<own>/cubby-test-<id>[/SUBPATH]
it_cg_dir() { printf '%s%s/%s%s' "${IT_CG_MNT[$1]}" "${IT_CG_OWN[$1]}" "$IT_CGNAME" "${2:+/$2}"; }

# it_wait_proc USER COMM: host pid of USER's process named COMM (10 s max).
it_wait_proc() {
        local uid i p
        uid=$(it_uid "$1")
        for i in $(seq 1 100); do
                p=$(pgrep -U "$uid" -x "$2" | head -n1)
                [ -n "$p" ] && { echo "$p"; return 0; }
                sleep 0.1
        done
        return 1
}

# it_check_session_cgroups WHAT USER HOSTPID: the limits on u<uid>, and the
# process in u<uid>/s<sid> in each hierarchy (in u<uid> itself in a v1
# memory hierarchy of its own: it_cg_user_level).
it_check_session_cgroups() {
        local what=$1 user=$2 pid=$3 uid h path want
        uid=$(it_uid "$user")
        it_cg_hier
        for h in cpu memory pids freezer unified; do
                [ -n "${IT_CG_MNT[$h]:-}" ] || { it_fail "$what: hierarchy $h mounted" "a mount" "none"; continue; }
                if [ "$h" = unified ]; then
                        path=$(awk -F: '$1 == "0" { print $3 }' "/proc/$pid/cgroup")
                else
                        path=$(awk -F: -v c="$h" '{ n = split($2, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) print $3 }' "/proc/$pid/cgroup")
                fi
                if it_cg_user_level "$h"; then
                        want="${IT_CG_OWN[$h]}/$IT_CGNAME/u$uid"
                        it_eq "$what: sandbox process in the $h user cgroup (no session memory cgroup)" "$want" "$path"
                        it_empty "$what: no session dir in the $h user cgroup" \
                                "$(find "${IT_CG_MNT[$h]}$want" -mindepth 1 -type d 2>&1)"
                        it_match "$what: $h u<uid> cgroup.procs lists the process" "^$pid\$" \
                                "$(grep -x "$pid" "${IT_CG_MNT[$h]}$want/cgroup.procs" 2>&1)"
                        continue
                fi
                want="${IT_CG_OWN[$h]}/$IT_CGNAME/u$uid/s"
                it_match "$what: sandbox process in $h session cgroup" "^${want//./\\.}[^/]+\$" "$path"
                if [ -d "${IT_CG_MNT[$h]}$path" ] && [[ $path == "$want"* ]]; then
                        it_match "$what: $h s<sid> cgroup.procs lists the process" "^$pid\$" \
                                "$(cat "${IT_CG_MNT[$h]}$path/cgroup.procs" 2>/dev/null)"
                fi
        done
        # The redirect lives in the opener's own (slave) mount namespace: it
        # must not propagate to the test's namespace or to the machine's.
        it_empty "$what: no cubby mount propagated into the test's mount namespace" \
                "$(grep -F "$CUBBY_PREFIX/" /proc/$$/mountinfo)"
        it_empty "$what: no cubby mount propagated into the machine's mount namespace" \
                "$(grep -F "$CUBBY_PREFIX/" /proc/1/mountinfo)"
        local u
        u=$(it_cg_dir cpu "u$uid")
        it_eq "$what: cpu.cfs_quota_us on u$uid" 50000 "$(cat "$u/cpu.cfs_quota_us" 2>&1)"
        it_eq "$what: cpu.cfs_period_us on u$uid" 100000 "$(cat "$u/cpu.cfs_period_us" 2>&1)"
        u=$(it_cg_dir memory "u$uid")
        it_eq "$what: memory.limit_in_bytes on u$uid" 268435456 "$(cat "$u/memory.limit_in_bytes" 2>&1)"
        u=$(it_cg_dir pids "u$uid")
        it_eq "$what: pids.max on u$uid" 128 "$(cat "$u/pids.max" 2>&1)"
}

# it_records USER: session records naming USER (in the compiled-in
# sessions dir, which other runs share, and in run_dir/sessions).
it_records() {
        grep -lx -F "user=$1" "$IT_BRUNDIR"/sessions/u*/* "$IT_RUNDIR"/sessions/u*/* 2>/dev/null
}

# it_leases: every address lease, one line each (ADDRESS SESSION PID START
# UID USER TIME): the files of run_dir/leases.d named by their address.
it_leases() { cat "$IT_RUNDIR"/leases.d/[0-9]* 2>/dev/null; }

# it_check_clean WHAT USER: after the last session of USER ended: no
# u<uid> dir (waits up to 10 s), no session record, no mount from cubby.
it_check_clean() {
        local what=$1 user=$2 uid h left i recs mnts
        uid=$(it_uid "$user")
        it_cg_hier
        for i in $(seq 1 100); do
                left=
                for h in "${!IT_CG_MNT[@]}"; do
                        [ -e "$(it_cg_dir "$h" "u$uid")" ] && left+="$(it_cg_dir "$h" "u$uid") "
                done
                [ -z "$left" ] && break
                sleep 0.1
        done
        it_empty "$what: no u$uid cgroup left" "$left"
        for i in $(seq 1 50); do
                left=$(pgrep -a -U "$uid"; pgrep -a -u "$uid")
                [ -z "$left" ] && break
                sleep 0.1
        done
        it_empty "$what: no process of $user left" "$left"
        recs=$(it_records "$user")
        it_empty "$what: no session record of $user left" "$recs"
        mnts=$(grep -F -e "$CUBBY_PREFIX/" -e "/home/$user " -e "$IT_STATEDIR/" \
                /proc/[0-9]*/mountinfo 2>/dev/null | head -n 5)
        it_empty "$what: no mount of the helper, home or state_dir in /proc/*/mountinfo" "$mnts"
}

# ---------------------------------------------------------------- cleanup

# it_cleanup inner|outer: remove everything this run made (idempotent,
# best effort, quiet). Only objects named with our id are touched.
it_cleanup() {
        local rc=$? where=${1:-inner}
        set +e
        trap - EXIT INT TERM HUP
        [ -n "${IT_ID:-}" ] || exit "$rc"

        # sshd and anything else still in our netns.
        local p
        if [ -e "$IT_NETNS_PATH" ]; then
                for p in $(ip netns pids "$IT_NETNS" 2>/dev/null); do
                        [ "$(readlink "/proc/$p/ns/net")" = "$(readlink /proc/self/ns/net)" ] && continue
                        kill -KILL "$p" 2>/dev/null
                done
        fi
        # Processes of our test users.
        local u uid
        for u in $(it_test_users); do
                uid=$(id -u "$u" 2>/dev/null) || continue
                it_kill_uid "$uid"
        done
        # Our cgroup dirs, wherever they are (the id is unique).
        local d
        for d in $(find /sys/fs/cgroup -maxdepth 10 -type d -name "$IT_CGNAME" 2>/dev/null); do
                it_cg_remove "$d"
        done
        [ -n "${IT_SYSLOG_PID:-}" ] && kill "$IT_SYSLOG_PID" 2>/dev/null
        # Our records and the module's last good copy of our config (their
        # names carry our user names / our scratch path, hence the id).
        for u in $(it_test_users); do
                for d in $(it_records "$u"); do rm -f -- "$d"; done
        done
        rm -f -- "$IT_BRUNDIR"/last-good/*"cubby-it-$IT_ID."*

        for u in $(it_test_users); do
                userdel -r -f "$u" >/dev/null 2>&1 || userdel -f "$u" >/dev/null 2>&1
        done
        for u in $(getent group | awk -F: -v p="$IT_P" 'index($1, p) == 1 { print $1 }'); do
                groupdel "$u" >/dev/null 2>&1
        done
        for d in "$IT_RUNDIR" "$IT_STATEDIR" "$IT_SCRATCH" "$CUBBY_PREFIX"; do
                it_rm_tree "$d"
        done
        rm -f "$IT_TMPMARK"
        if [ "$where" = outer ]; then
                ip netns del "$IT_NETNS" 2>/dev/null
                if [ -n "${CUBBY_IT_MADE_BRUNDIR:-}" ]; then
                        rmdir "$IT_BRUNDIR"/sessions "$IT_BRUNDIR"/last-good "$IT_BRUNDIR" 2>/dev/null
                fi
                if it_leftovers; then rc=1; fi
        fi
        exit "$rc"
}

it_kill_uid() {
        local uid=$1 i p any
        for i in $(seq 1 20); do
                any=
                for p in $( (pgrep -U "$uid"; pgrep -u "$uid") | sort -u); do
                        [ "$p" = "$$" ] && continue
                        kill -KILL "$p" 2>/dev/null && any=1
                done
                [ -z "$any" ] && return 0
                sleep 0.1
        done
}

# Kill what is left in one of our cgroup dirs, then rmdir depth-first.
it_cg_remove() {
        local top=$1 i d f p
        case $top in */"$IT_CGNAME") ;; *) return ;; esac
        for i in $(seq 1 50); do
                [ -e "$top/cgroup.kill" ] && echo 1 >"$top/cgroup.kill" 2>/dev/null
                for f in $(find "$top" -name freezer.state 2>/dev/null); do
                        echo THAWED >"$f" 2>/dev/null
                done
                for f in $(find "$top" -name cgroup.procs 2>/dev/null); do
                        for p in $(cat "$f" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
                done
                find "$top" -depth -type d -exec rmdir {} \; 2>/dev/null
                [ -e "$top" ] || return 0
                sleep 0.1
        done
        echo "WARNING: could not remove cgroup $top" >&2
}

# Unmount whatever is mounted below DIR in this namespace, then remove it
# without crossing into other file systems.
it_rm_tree() {
        local dir=$1 m
        [ -n "$dir" ] && [ -e "$dir" ] || return 0
        case $dir in /run/cubby-*|/var/lib/cubby-*|/var/tmp/cubby-*|/tmp/cubby-*) ;; *) return ;; esac
        for m in $(findmnt -rn -o TARGET | grep -F -- "$dir" | sort -r); do
                case $m in "$dir"|"$dir"/*) umount -l "$m" 2>/dev/null ;; esac
        done
        rm -rf --one-file-system -- "$dir"
}

# After the outer cleanup: report (and fail on) anything of ours left.
it_leftovers() {
        local bad=
        ip netns list 2>/dev/null | grep -q "^$IT_NETNS\b" && bad+="netns $IT_NETNS; "
        [ -n "$(find /sys/fs/cgroup -maxdepth 10 -name "$IT_CGNAME" 2>/dev/null)" ] && bad+="cgroups $IT_CGNAME; "
        [ -n "$(it_test_users)" ] && bad+="users $(it_test_users | tr '\n' ' '); "
        getent group | grep -q "^$IT_P" && bad+="groups ${IT_P}*; "
        local d
        for d in "$IT_RUNDIR" "$IT_STATEDIR" "$IT_SCRATCH" "$CUBBY_PREFIX" "$IT_TMPMARK" \
                 "$IT_BRUNDIR"/last-good/*"cubby-it-$IT_ID."*; do
                [ -e "$d" ] && bad+="$d; "
        done
        local suid
        suid=$(find /tmp /var/tmp -xdev -perm -4000 2>/dev/null | head -n3 | tr '\n' ' ')
        # Not ours any more (scratch and prefix are gone), but worth a word.
        [ -n "$suid" ] && echo "WARNING: setuid files in /tmp or /var/tmp: $suid" >&2
        if [ -n "$bad" ]; then
                echo "LEFTOVERS after cleanup ($IT_NAME): $bad" >&2
                return 0
        fi
        return 1
}
