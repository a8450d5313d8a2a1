#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vm-asan-logins (suite sanitize): real logins through an ASan+UBSan build of
# pam_cubby.so, cubby-shell and cubbyctl, installed (the helper setuid) only
# inside the throwaway QEMU guest of tests/vm (docs/TESTING.md, rule 9: never setuid
# outside a VM; ASAN_OPTIONS is honoured in a setuid program). Any report of
# a sanitizer about cubby's code fails the test and is printed.
#
# On the host (no CUBBY_VM_GUEST): configures and compiles its own sanitizer
# build in BUILD/asan-build (-Db_sanitize=address,undefined, UBSan not
# recoverable, -Dsanitizer_log_dir), then boots the VM with this same script
# as the guest command and returns its exit code (77 = skipped, with the
# reason).
#
# How each program gets its runtime and options:
#  - pam_cubby.so is dlopen'ed by su and sshd, which are not ASan builds: the
#    runtime must come first, so su and sshd run with LD_PRELOAD of the
#    libasan the module links (root running su is not AT_SECURE) and of the
#    module itself (pam_end dlcloses it; kept mapped, its frames in a leak
#    report found at exit are still symbolized). Options from ASAN_OPTIONS:
#    log_path in a root-owned directory, exitcode=0 (su's own leak at exit,
#    below, must not replace the status su returns; reports are found in
#    the logs, not by exit codes). sshd runs with detect_leaks=0: its
#    pre-auth child is under a seccomp filter, and LeakSanitizer's
#    stop-the-world (clone + ptrace) at its exit kills it with SIGSYS.
#  - cubby-shell (setuid, environment cleared) and cubbyctl (run by the
#    module with an empty environment) have their options compiled in
#    (lib/sanitizer.c). cubby-shell reports on its stderr (the
#    login's output, saved here), cubbyctl into the log directory.
#  - gcc links UBSan as a second runtime beside ASan's; measured: its
#    report text goes to stderr even with log_path set (only the summary
#    line reaches the file). So the scan reads every saved output as well.
#
# What the logins cover: su - and su (services su-l, su), network = nat,
# the persistent overlay home across sessions, home = ephemeral with
# network = none for a second user, concurrent sessions with
# max_sessions refusing one more, a broken policy refusing, an opener
# killed (SIGKILL to su) and gc reaping its session, cubbyctl list, show,
# explain, home show, check, net status, kill, gc, net down and home reset,
# a real sshd (command and pty sessions), and teardown at logout (no
# cgroup, record, veth, lease, home mount or process left).
#
# Then every sanitizer log and every saved output is scanned. The one
# report that is not about cubby: util-linux su leaks the 10-byte copy of
# the shell it strdup()s itself (frame #1 in /usr/bin/su); a leak whose
# allocating frame is in su itself is counted and shown, every other report
# fails the test. A canary (a deliberate double free() in python3 with the
# runtime preloaded, not in cubby) proves the scan finds reports.
#
# LeakSanitizer and cubby-shell: the helper never returns from main (all
# three of its processes end in _exit() or execve()), so the check at exit
# never runs in it. A sanitizer build runs it once explicitly, when the
# container is set up and the helper is still root (san_leak_check(),
# include/cubby/sanitizer.h): the runtime makes the non-dumpable process
# dumpable while it stops the world, one more reason such a build is never
# setuid outside a VM. Measured with a planted leak: the check works in all
# three processes (setup as root, the supervisor as the user, the child as
# the user in its new namespaces under seccomp, across the raw clone3());
# it runs once, in setup, which is where the helper allocates.
#
# Why not tests/integration/*.sh in the guest: measured with su.sh (no
# sanitizers), it fails there as it is: its state_dir is on the guest's
# overlayfs root, which the kernel refuses as the upper layer of the home
# overlay (cubby-shell: "cannot build the container's file system"); its
# cgroup checks are cgroup v1 files; and su.sh alone took 157 s in the guest.
#
# Environment (from tests/vm/meson.build): CUBBY_BUILD, CUBBY_SRC.

set -uo pipefail

#### Host side: build with the sanitizers, boot the VM with this script. ####
if [ -z "${CUBBY_VM_GUEST:-}" ]; then
	HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
	for v in CUBBY_BUILD CUBBY_SRC; do
		[ -n "${!v:-}" ] || { echo "$v is not set (run through meson test)" >&2; exit 99; }
	done
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: the VM tests need root"; exit 77; }
	for p in meson ninja cc python3; do
		command -v "$p" >/dev/null || { echo "SKIP: $p is not installed"; exit 77; }
	done
	t0=$(date +%s.%N)
	since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}'; }
	tmpc=$(mktemp -d /tmp/cubby-asan-cc.XXXXXX) || exit 99
	echo 'int main(void) { return 0; }' >"$tmpc/t.c"
	if ! cc -fsanitize=address,undefined "$tmpc/t.c" -o "$tmpc/t" 2>"$tmpc/err"; then
		echo "SKIP: the compiler cannot link -fsanitize=address,undefined: $(head -n 3 "$tmpc/err")"
		rm -rf "$tmpc"
		exit 77
	fi
	rm -rf "$tmpc"

	# The sanitizer build: guest-only install paths, its own rundir.
	AB=$CUBBY_BUILD/asan-build
	PREFIX=/var/tmp/cubby-asan
	LOGDIR=/var/log/cubby-sanitizer
	RUNDIR=/run/cubby-asan
	# shellcheck disable=SC2054 # the commas are meson's
	opts=(-Db_sanitize=address,undefined -Db_lundef=false
	      "-Dc_args=-fno-sanitize-recover=undefined -fno-omit-frame-pointer"
	      -Dtests=false -Dfuzz=false -Dfault_injection=false
	      "--prefix=$PREFIX" "-Drundir=$RUNDIR" "-Dsanitizer_log_dir=$LOGDIR")
	if [ -f "$AB/build.ninja" ]; then
		meson setup --reconfigure "$AB" "$CUBBY_SRC" "${opts[@]}" >"$CUBBY_BUILD/asan-setup.log" 2>&1
	else
		rm -rf "$AB"
		meson setup "$AB" "$CUBBY_SRC" "${opts[@]}" >"$CUBBY_BUILD/asan-setup.log" 2>&1
	fi || { cat "$CUBBY_BUILD/asan-setup.log"; echo "FAIL: meson setup of the sanitizer build"; exit 1; }
	ninja -C "$AB" helper/cubby-shell helper/cubby-init pam_module/pam_cubby.so cubbyctl/cubbyctl \
		>"$CUBBY_BUILD/asan-ninja.log" 2>&1 ||
		{ tail -n 40 "$CUBBY_BUILD/asan-ninja.log"; echo "FAIL: compiling the sanitizer build"; exit 1; }
	t_build=$(since "$t0")
	# where meson install puts the three (prefix, libdir and pamlibdir as configured)
	paths=$(python3 - "$AB" <<'EOF'
import json, subprocess, sys
inst = json.loads(subprocess.check_output(["meson", "introspect", "--installed", sys.argv[1]]))
want = {"helper/cubby-shell": "HELPER", "pam_module/pam_cubby.so": "PAMSO", "cubbyctl/cubbyctl": "CTL"}
for src, dst in inst.items():
    for suffix, name in want.items():
        if src.endswith("/" + suffix):
            print("%s=%s" % (name, dst))
EOF
	) || { echo "FAIL: meson introspect --installed $AB"; exit 1; }
	eval "$paths"
	for v in HELPER PAMSO CTL; do
		[ -n "${!v:-}" ] || { echo "FAIL: no install path for $v in $AB"; exit 1; }
	done
	echo "vm-asan-logins: sanitizer build $AB ready in $t_build s"

	cd "$CUBBY_BUILD" || exit 99
	"$HERE/run.sh" --build-dir "$CUBBY_BUILD" --timeout "${CUBBY_VM_TIMEOUT:-600}" \
		-e CUBBY_VM_GUEST=1 -e "CUBBY_SRC=$CUBBY_SRC" -e "CUBBY_ASAN_BUILD=$AB" \
		-e "CUBBY_SAN_LOGDIR=$LOGDIR" -e "CUBBY_ASAN_RUNDIR=$RUNDIR" \
		-e "CUBBY_HELPER=$HELPER" -e "CUBBY_PAMSO=$PAMSO" -e "CUBBY_CTL=$CTL" \
		-- /bin/bash "$HERE/asan-logins.sh"
	rc=$?
	echo "vm-asan-logins: exit $rc after $(since "$t0") s (sanitizer build $t_build s + kit + boot + test)"
	exit $rc
fi

#### Guest side. #############################################################
CG=/sys/fs/cgroup
U=cbasan1                           # sandboxed (group $G)
U2=cbasan2                          # sandboxed, ephemeral home, network = none
G=cbasanst
POLICY=/etc/cubby-asan/cubby.conf
L=$CUBBY_SAN_LOGDIR                 # the runtimes' log files
W=/srv/cubby-asan                   # scratch: every command's output, *.out
FIFO=$W/keeper.fifo
SESSIONS=$CUBBY_ASAN_RUNDIR/sessions  # the build's -Drundir + /sessions
SSHD_PORT=2222
keeper_pid=
sshd_pid=

uptime_s() { local u _; read -r u _ </proc/uptime; echo "$u"; }
T0=$(uptime_s)
dts() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN{printf "%.1f", b - a}'; }
ok() { echo "ok: [+$(dts "$T0") s] $*"; }
fig() { echo "figure: $*"; }

diag() {
	echo "---- diagnostics ----"
	for f in "$W"/*.out "$W/sshd.log"; do [ -s "$f" ] && { echo "== $f"; tail -n 30 "$f"; }; done
	echo "== sanitizer logs"; ls -l "$L" 2>/dev/null
	echo "== records"; ls -lR "$SESSIONS" 2>/dev/null
	echo "== cgroups under $CG/cubby"; find "$CG/cubby" -maxdepth 3 -type d 2>/dev/null
	echo "== dmesg (tail)"; dmesg 2>/dev/null | tail -n 15
	echo "----"
}
fail() {
	echo "FAIL: $*"
	diag
	scan_reports >/dev/null 2>&1 && true
	[ -s "$W/reports.txt" ] && { echo "---- sanitizer reports so far ----"; cat "$W/reports.txt"; }
	stop_keeper
	stop_sshd
	exit 1
}

# wait_for TENTHS CONDITION: poll every 0.1 s, at most TENTHS times.
wait_for() {
	local n=$1 i=0
	shift
	while ! eval "$1"; do
		i=$((i + 1))
		[ $i -lt "$n" ] || return 1
		sleep 0.1
	done
}

stop_keeper() {
	[ -n "$keeper_pid" ] || return 0
	timeout 5 sh -c 'echo stop >"$1"' sh "$FIFO" 2>/dev/null
	wait_for 100 "! kill -0 $keeper_pid 2>/dev/null" || kill -TERM "$keeper_pid" 2>/dev/null
	wait "$keeper_pid" 2>/dev/null
	keeper_rc=$?
	keeper_pid=
}
stop_sshd() {
	[ -n "$sshd_pid" ] || return 0
	kill -TERM "$sshd_pid" 2>/dev/null
	wait_for 50 "! kill -0 $sshd_pid 2>/dev/null"
	sshd_pid=
}

# ---- the sanitizer logs -----------------------------------------------------
# classify FILE: prints "foreign" when FILE holds only leak reports whose
# allocating frame (#1, the caller of the allocator) is in /usr/bin/su
# itself, "cubby" for anything else that looks like a report.
classify() {
	awk '
		/ERROR: AddressSanitizer|runtime error:|ERROR: UndefinedBehaviorSanitizer|Sanitizer: (CHECK|fatal|nested)|LeakSanitizer has encountered/ { other = 1 }
		/^(Direct|Indirect) leak of/ { inleak = 1; leaks++; next }
		inleak && /^ *#1 / {
			if ($0 ~ /\(\/usr\/bin\/su\+0x[0-9a-f]+\)$/) foreign++
			inleak = 0
		}
		END {
			if (other || leaks > foreign) print "cubby"
			else if (leaks) print "foreign"
			else print "none"
		}' "$1"
}

# scan_reports: every log in $L, every saved output and the sshd log. The
# reports about cubby go to $W/reports.txt; returns 1 if there are any.
scan_reports() {
	local f c
	: >"$W/reports.txt"
	N_LOGS=0 N_FOREIGN=0 N_CUBBY=0
	for f in "$L"/*; do
		[ -f "$f" ] || continue
		N_LOGS=$((N_LOGS + 1))
		c=$(classify "$f")
		case $c in
		foreign)
			N_FOREIGN=$((N_FOREIGN + 1))
			[ -n "${FOREIGN_SAMPLE:-}" ] || FOREIGN_SAMPLE=$f ;;
		cubby|none)
			# a log file without a recognisable report is still a report
			N_CUBBY=$((N_CUBBY + 1))
			{ echo "==== $f"; cat "$f"; } >>"$W/reports.txt" ;;
		esac
	done
	for f in "$W"/*.out "$W/sshd.log"; do
		[ -f "$f" ] || continue
		if grep -qE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer|Sanitizer CHECK failed|ERROR: Can.t open file|AddressSanitizer:DEADLYSIGNAL' "$f"; then
			N_CUBBY=$((N_CUBBY + 1))
			{ echo "==== (output) $f"; cat "$f"; } >>"$W/reports.txt"
		fi
	done
	[ "$N_CUBBY" -eq 0 ]
}

# ---- 0. the guest, the build -------------------------------------------------
[ "$(stat -f -c %T $CG)" = cgroup2fs ] || fail "$CG is not cgroup2"
mkdir -p "$W" || fail "mkdir $W"
t=$(uptime_s)
meson install -C "$CUBBY_ASAN_BUILD" --no-rebuild --quiet >"$W/install.log" 2>&1 ||
	{ cat "$W/install.log"; fail "meson install of the sanitizer build"; }
[ "$(stat -c '%u %a' "$CUBBY_HELPER")" = "0 4755" ] ||
	fail "$CUBBY_HELPER is not setuid root: $(stat -c '%U %a' "$CUBBY_HELPER")"
for b in "$CUBBY_HELPER" "$CUBBY_CTL"; do
	grep -q ' T __asan_default_options$' <<<"$(nm -D "$b")" || fail "$b is not the sanitizer build (no __asan_default_options)"
done
LIBASAN=$(ldd "$CUBBY_PAMSO" | awk '$1 ~ /^libasan\.so/ {print $3}')
[ -f "$LIBASAN" ] || fail "pam_cubby.so does not link libasan: $(ldd "$CUBBY_PAMSO")"
# root-owned; sticky and writable for all, not listable: sshd's user child
# (also under the runtime) may have to write here
mkdir -p "$L" && chown root:root "$L" && chmod 1733 "$L" || fail "mkdir $L"
ok "sanitizer build installed in $(dts "$t") s: helper $(stat -c '%U %a' "$CUBBY_HELPER"), runtime $LIBASAN, logs in $L"

# The environment of su and sshd: the runtime first, then the module.
# exitcode=0: su's own leak at exit must not replace su's status.
ASAN_COMMON=halt_on_error=1:exitcode=0:detect_stack_use_after_return=1:strict_string_checks=1
SAN_ENV=(LD_PRELOAD="$LIBASAN $CUBBY_PAMSO"
	 "ASAN_OPTIONS=log_path=$L/su:$ASAN_COMMON:detect_leaks=1:fast_unwind_on_malloc=0"
	 "UBSAN_OPTIONS=log_path=$L/su.ubsan:halt_on_error=1:print_stacktrace=1")
SSHD_ENV=(LD_PRELOAD="$LIBASAN $CUBBY_PAMSO"
	  "ASAN_OPTIONS=log_path=$L/sshd:$ASAN_COMMON:detect_leaks=0"
	  "UBSAN_OPTIONS=log_path=$L/sshd.ubsan:halt_on_error=1:print_stacktrace=1")

# The scan must be able to see a report: a double free() under the same
# preloaded runtime (in python3, not in cubby), logged to a directory of its own.
CANARY=$W/canary-logs
mkdir -p "$CANARY"
env LD_PRELOAD="$LIBASAN" "ASAN_OPTIONS=log_path=$CANARY/py:detect_leaks=0" \
	python3 -c 'import ctypes; c = ctypes.CDLL(None); c.malloc.restype = ctypes.c_void_p; p = ctypes.c_void_p(c.malloc(16)); c.free(p); c.free(p)' >/dev/null 2>&1
canary=$(cat "$CANARY"/py.* 2>/dev/null)
[ "$(L=$CANARY; for f in "$L"/*; do classify "$f"; done)" = cubby ] ||
	fail "the canary's double free() was not seen as a report: '$canary'"
ok "canary: the scan sees a planted report ($(grep -m1 -o 'ERROR: AddressSanitizer: [^ ]* [^ ]*' <<<"$canary"))"

# ---- 1. user, policy, PAM ------------------------------------------------------
groupadd "$G" || fail "groupadd"
useradd -m -s /bin/bash -g "$G" "$U" || fail "useradd"
useradd -m -s /bin/bash -g "$G" "$U2" || fail "useradd $U2"
uid=$(id -u "$U")
UD=$CG/cubby/u$uid
mkdir -p "${POLICY%/*}"
# state_dir on a plain file system: an overlayfs (the guest's /) cannot be
# the upper layer of cubby's home overlay
mkdir -p /var/lib/cubby-asan && mount -t tmpfs -o mode=0700 cubby-asan-state /var/lib/cubby-asan ||
	fail "tmpfs on /var/lib/cubby-asan"
cat >"$POLICY" <<EOF
[global]
admin_group = sudo
state_dir = /var/lib/cubby-asan
run_dir = /run/cubby-asan-run
cgroup_parent = /cubby
[default]
sandbox = no
services = sshd su su-l
[group $G]
sandbox = yes
network = nat
memory = 256M
pids = 64
max_sessions = 2
[user $U2]
home = ephemeral
network = none
EOF
chmod 0644 "$POLICY"
for svc in su su-l sshd; do
	cat >"/etc/pam.d/$svc" <<EOF
auth     sufficient pam_rootok.so
auth     required   pam_permit.so
account  required   pam_permit.so
password required   pam_deny.so
session  required   pam_unix.so
session  required   $CUBBY_PAMSO config=$POLICY
EOF
done
mkfifo -m 0666 "$FIFO" || fail "mkfifo"
ctl() { timeout -k 5 120 "$CUBBY_CTL" --config "$POLICY" "$@"; }
ok "users $U (uid $uid) and $U2 in $G; network = nat, persistent home, max_sessions = 2 ($U2: ephemeral, none); su, su-l, sshd end with pam_cubby"

# ---- 2. su logins ------------------------------------------------------------
N_LOGINS=0
LOGIN_S=()
# san_su NAME SU-ARGS...: su with the runtime preloaded; output in $W/NAME.out
san_su() {
	local name=$1 t rc
	shift
	t=$(uptime_s)
	timeout -k 5 120 env "${SAN_ENV[@]}" su "$@" </dev/null >"$W/$name.out" 2>&1
	rc=$?
	N_LOGINS=$((N_LOGINS + 1))
	LOGIN_S+=("$(dts "$t")")
	return $rc
}
probe='echo "pid=$$"; echo "uid=$(id -u)"; echo "cg=$(cat /proc/self/cgroup)"; ip -4 -o addr show dev eth0 | awk "{print \"addr=\" \$4}"; ip route | sed -n "s/^default via \([0-9.]*\) .*/gw=\1/p"; awk "\$5 == \"/home/'"$U"'\" {print \"home=\" \$0}" /proc/self/mountinfo; echo "done=yes"'
get() { sed -n "s/^$1=//p" "$W/$2.out" | head -n1; }

san_su probe - "$U" -c "$probe"
rc=$?
[ $rc -eq 0 ] || fail "su - $U probe exited $rc: $(cat "$W/probe.out")"
[ "$(get "done" probe)" = yes ] || fail "probe incomplete: $(cat "$W/probe.out")"
[ "$(get pid probe)" = 1 ] || fail "the shell is not PID 1: $(get pid probe)"
[ "$(get uid probe)" = "$uid" ] || fail "uid inside: $(get uid probe)"
[ "$(get cg probe)" = "0::/" ] || fail "cgroup inside: $(get cg probe)"
addr=$(get addr probe)
[[ $addr == 10.213.* ]] || fail "network = nat: eth0 has '$addr', want 10.213.x.y"
[ "$(get gw probe)" = 10.213.0.1 ] || fail "default route via '$(get gw probe)', want 10.213.0.1"
case $(get home probe) in *" - overlay "*"upperdir=/var/lib/cubby-asan/users/$U/upper"*) ;;
*) fail "/home/$U is not cubby's overlay: $(get home probe)" ;; esac
ok "su - $U: PID 1, cgroup ns rooted at the session, eth0 $addr via 10.213.0.1, /home/$U an overlay (${LOGIN_S[-1]} s)"

san_su exit7 - "$U" -c 'echo to-stdout; exit 7'
rc=$?
[ $rc -eq 7 ] || fail "su - $U -c 'exit 7' returned $rc"
[ "$(cat "$W/exit7.out")" = to-stdout ] || fail "su - $U: output is not exactly the command's: $(cat "$W/exit7.out")"
san_su plain "$U" -c 'echo "plain pid=$$"'
[ "$(cat "$W/plain.out")" = "plain pid=1" ] || fail "su $U (service su): $(cat "$W/plain.out")"
ok "su - returns the shell's status (7) and exactly its output; su (service su) lands in a sandbox too"

san_su home1 - "$U" -c 'echo persisted-$((6 * 7)) >asan-home.txt'
san_su home2 - "$U" -c 'cat asan-home.txt'
[ "$(cat "$W/home2.out")" = persisted-42 ] || fail "the home did not persist: $(cat "$W/home2.out")"
[ ! -e "/home/$U/asan-home.txt" ] || fail "the file went to the lower home, not the overlay"
[ "$(cat "/var/lib/cubby-asan/users/$U/upper/asan-home.txt" 2>/dev/null)" = persisted-42 ] ||
	fail "the file is not in the overlay's upper layer"
ok "the overlay home persists across sessions (upper layer in state_dir, lower home untouched)"

# home = ephemeral, network = none: the changes are gone after logout
san_su eph1 - "$U2" -c 'echo gone >asan-eph.txt; cat asan-eph.txt; ip -o link | awk -F": " "{print \$2}" | tr "\n" " "'
san_su eph2 - "$U2" -c 'cat asan-eph.txt 2>&1; echo "pid=$$"'
[ "$(head -n1 "$W/eph1.out")" = gone ] || fail "ephemeral home: cannot write: $(cat "$W/eph1.out")"
[ "$(sed -n 2p "$W/eph1.out")" = "lo " ] || fail "network = none: interfaces '$(sed -n 2p "$W/eph1.out")', want only lo"
grep -q 'No such file' "$W/eph2.out" && grep -qx 'pid=1' "$W/eph2.out" ||
	fail "ephemeral home: the file outlived the session: $(cat "$W/eph2.out")"
[ ! -e "/home/$U2/asan-eph.txt" ] || fail "ephemeral home: the file went to the lower home"
ok "home = ephemeral (a file is gone at the next login) with network = none (lo only) for $U2"

# a broken policy refuses a sandboxed user (the parser's error path)
cp "$POLICY" "$W/policy.good"
echo "bogus_key = 1" >>"$POLICY"
san_su broken - "$U" -c 'echo broken-ran'
rc=$?
cp "$W/policy.good" "$POLICY"
[ $rc -ne 0 ] || fail "a login with a broken policy was not refused: $(cat "$W/broken.out")"
grep -q broken-ran "$W/broken.out" && fail "the command ran under a broken policy"
ok "a broken policy refuses the login (su exit $rc: $(head -n1 "$W/broken.out"))"

# ---- 3. concurrent sessions and cubbyctl ---------------------------------------
timeout -k 5 300 env "${SAN_ENV[@]}" su - "$U" -c "echo \"keeper pid=\$\$\"; read -r x <$FIFO; echo keeper-down" \
	</dev/null >"$W/keeper.out" 2>&1 &
keeper_pid=$!
wait_for 600 "grep -q '^keeper pid=' '$W/keeper.out' || ! kill -0 $keeper_pid" || fail "keeper: no output after 60 s"
kill -0 "$keeper_pid" 2>/dev/null || fail "keeper login ended early: $(cat "$W/keeper.out")"
su_pid=$(pgrep -P "$keeper_pid" -x su | head -n1)
grep -qF "$LIBASAN" "/proc/$su_pid/maps" 2>/dev/null || fail "su ($su_pid) does not have $LIBASAN mapped"
grep -qF "$CUBBY_PAMSO" "/proc/$su_pid/maps" 2>/dev/null || fail "su ($su_pid) does not have pam_cubby.so mapped"
timeout -k 5 300 env "${SAN_ENV[@]}" su - "$U" -c 'echo "second pid=$$"; exec sleep 240' \
	</dev/null >"$W/second.out" 2>&1 &
second_pid=$!
wait_for 600 "grep -q '^second pid=' '$W/second.out' || ! kill -0 $second_pid" || fail "second: no output after 60 s"
N_LOGINS=$((N_LOGINS + 2))
ok "two concurrent sessions; su ($su_pid) runs with the runtime and the module mapped"

ctl list >"$W/list.out" 2>&1 || fail "cubbyctl list: $(cat "$W/list.out")"
[ "$(grep -c " $U " "$W/list.out")" -eq 2 ] || fail "cubbyctl list does not show two sessions: $(cat "$W/list.out")"
grep -qE " $U +$uid su-l .* yes +live +10\.213\." "$W/list.out" || fail "cubbyctl list: $(cat "$W/list.out")"
ctl --json list >"$W/list-json.out" 2>&1 || fail "cubbyctl --json list"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert len(d) == 2, d' "$W/list-json.out" ||
	fail "cubbyctl --json list: $(cat "$W/list-json.out")"
keeper_id=$(awk -v u="$U" '$2 == u {print $1}' "$W/list.out" | head -n1)
second_id=$(awk -v u="$U" '$2 == u {print $1}' "$W/list.out" | sed -n 2p)
# which of the two is the second login: its record names the sleeping shell's session
sleep_pid=$(pgrep -u "$uid" -x sleep | head -n1)
grep -q "s$second_id\$" "/proc/$sleep_pid/cgroup" 2>/dev/null ||
	{ t_=$keeper_id; keeper_id=$second_id; second_id=$t_; }
grep -q "s$second_id\$" "/proc/$sleep_pid/cgroup" || fail "no session id matches the sleeping shell's cgroup $(cat "/proc/$sleep_pid/cgroup")"
ctl show "$second_id" >"$W/show.out" 2>&1 || fail "cubbyctl show: $(cat "$W/show.out")"
grep -qx "user=$U" "$W/show.out" && grep -qx "network=nat" "$W/show.out" && grep -qx 'sandbox=yes' "$W/show.out" ||
	fail "cubbyctl show $second_id: $(cat "$W/show.out")"
ctl --json show "$second_id" >"$W/show-json.out" 2>&1 || fail "cubbyctl --json show"
ctl show 0123456789abcdef >"$W/show-unknown.out" 2>&1 && fail "cubbyctl show of an unknown id succeeded"
ctl explain "$U" >"$W/explain.out" 2>&1 || fail "cubbyctl explain: $(cat "$W/explain.out")"
grep -qE '^sandbox +yes' "$W/explain.out" || fail "cubbyctl explain $U: $(cat "$W/explain.out")"
ctl home show "$U" >"$W/home-show.out" 2>&1 || fail "cubbyctl home show: $(cat "$W/home-show.out")"
ctl net status >"$W/net-status.out" 2>&1 || fail "cubbyctl net status: $(cat "$W/net-status.out")"
grep -qE '^network: +up' "$W/net-status.out" && grep -qE '^leases: +2$' "$W/net-status.out" ||
	fail "cubbyctl net status: $(cat "$W/net-status.out")"
ok "cubbyctl list (text, --json), show (known, unknown), explain, home show, net status (up, 2 leases)"

# max_sessions = 2: a third login is refused, before any container starts
san_su third - "$U" -c 'echo third-ran'
rc=$?
[ $rc -ne 0 ] || fail "a third session was not refused: $(cat "$W/third.out")"
grep -q third-ran "$W/third.out" && fail "the refused login's command ran"
ok "max_sessions = 2: the third login is refused (su exit $rc)"

ctl kill "$second_id" >"$W/kill.out" 2>&1 || fail "cubbyctl kill: $(cat "$W/kill.out")"
grep -q "killed session $second_id" "$W/kill.out" || fail "cubbyctl kill: $(cat "$W/kill.out")"
wait_for 300 "! kill -0 $second_pid 2>/dev/null" || fail "the killed session's su is still there after 30 s"
wait "$second_pid"
kill -0 "$keeper_pid" 2>/dev/null || fail "kill $second_id took the keeper too"
ctl kill no-such-user-asan >/dev/null 2>&1 && fail "cubbyctl kill of an unknown user succeeded"
ok "cubbyctl kill ended the second session only"

# The opener killed: su gets SIGKILL, so its close_session never runs. The
# supervisor ends the container (it polls the opener's pidfd) and gc reaps
# what the session left (record, cgroup, lease, home reference).
timeout -k 5 300 env "${SAN_ENV[@]}" su - "$U" -c 'echo "orphan pid=$$"; exec sleep 240' \
	</dev/null >"$W/orphan.out" 2>&1 &
orphan_pid=$!
wait_for 600 "grep -q '^orphan pid=' '$W/orphan.out' || ! kill -0 $orphan_pid" || fail "orphan: no output after 60 s"
N_LOGINS=$((N_LOGINS + 1))
osu=$(pgrep -P "$orphan_pid" -x su | head -n1)
[ -n "$osu" ] || fail "orphan: no su below $orphan_pid"
kill -KILL "$osu"
wait "$orphan_pid"
wait_for 100 "! pgrep -u $uid -x sleep >/dev/null" || fail "the container outlived its opener (su killed)"
[ "$(find "$SESSIONS" -type f | wc -l)" -eq 2 ] || fail "want the keeper's and the orphan's records, have: $(ls "$SESSIONS")"
ctl gc >"$W/gc-orphan.out" 2>&1 || fail "cubbyctl gc: $(cat "$W/gc-orphan.out")"
grep -q 'gc: 1 sessions reaped' "$W/gc-orphan.out" || fail "cubbyctl gc did not reap the orphan: $(cat "$W/gc-orphan.out")"
[ "$(find "$SESSIONS" -type f | wc -l)" -eq 1 ] || fail "records after gc: $(ls "$SESSIONS")"
[ "$(find "$UD" -mindepth 1 -maxdepth 1 -type d -name 's*' | wc -l)" -eq 1 ] ||
	fail "session cgroups after gc: $(find "$UD" -mindepth 1 -maxdepth 1 -type d)"
ctl net status >"$W/net-status-gc.out" 2>&1
grep -qE '^leases: +1$' "$W/net-status-gc.out" || fail "leases after gc: $(cat "$W/net-status-gc.out")"
kill -0 "$keeper_pid" 2>/dev/null || fail "gc took the keeper session"
ok "su SIGKILLed: the container went with its opener; gc: $(tr '\n' ' ' <"$W/gc-orphan.out")"

# ---- 4. sshd ----------------------------------------------------------------------
if [ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v ssh-keygen >/dev/null &&
	getent passwd sshd >/dev/null; then
	S=$W/sshd
	mkdir -p "$S/keys" /run/sshd && chmod 0755 "$S" "$S/keys"
	ssh-keygen -q -t ed25519 -N '' -f "$S/host_ed25519" && ssh-keygen -q -t ed25519 -N '' -f "$S/client" ||
		fail "ssh-keygen"
	install -m 0644 "$S/client.pub" "$S/keys/$U"
	cat >"$S/sshd_config" <<EOF
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $S/host_ed25519
PidFile $S/sshd.pid
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AuthorizedKeysFile $S/keys/%u
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel VERBOSE
EOF
	# the shipped Match block for sandboxed users, for our group
	sed -n '/^Match Group /,$p' "$CUBBY_SRC/etc/ssh/sshd_config.d/cubby.conf" |
		sed "s/^Match Group .*/Match Group $G/" >>"$S/sshd_config"
	grep -q "^Match Group $G\$" "$S/sshd_config" || fail "no Match block from etc/ssh/sshd_config.d/cubby.conf"
	ip link set lo up
	env "${SSHD_ENV[@]}" /usr/sbin/sshd -f "$S/sshd_config" -E "$W/sshd.log" ||
		fail "sshd did not start: $(cat "$W/sshd.log")"
	wait_for 100 "[ -s $S/sshd.pid ]" || fail "sshd wrote no pid file: $(cat "$W/sshd.log")"
	sshd_pid=$(cat "$S/sshd.pid")
	grep -qF "$LIBASAN" "/proc/$sshd_pid/maps" || fail "sshd does not have $LIBASAN mapped"
	sshc() {
		timeout -k 5 120 ssh -F /dev/null -i "$S/client" -p "$SSHD_PORT" -o StrictHostKeyChecking=no \
			-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR "$@"
	}
	t=$(uptime_s)
	sshc -n "$U@127.0.0.1" "$probe; exit 5" >"$W/ssh-probe.out" 2>&1
	rc=$?
	LOGIN_S+=("$(dts "$t")"); N_LOGINS=$((N_LOGINS + 1))
	[ $rc -eq 5 ] || fail "ssh $U probe exited $rc (want 5): $(cat "$W/ssh-probe.out")"
	[ "$(get pid ssh-probe)" = 1 ] && [ "$(get "done" ssh-probe)" = yes ] || fail "ssh probe: $(cat "$W/ssh-probe.out")"
	[[ $(get addr ssh-probe) == 10.213.* ]] || fail "ssh: eth0 has '$(get addr ssh-probe)'"
	case $(get home ssh-probe) in *" - overlay "*) ;; *) fail "ssh: /home/$U is not an overlay" ;; esac
	ok "ssh $U (command): PID 1, eth0 $(get addr ssh-probe), overlay home, exit status 5 ($(dts "$t") s)"
	t=$(uptime_s)
	printf '%s\n' 'echo "tty pid=$$ flags=$-"' 'cat asan-home.txt' 'exit 4' | sshc -tt "$U@127.0.0.1" >"$W/ssh-tty.out" 2>&1
	rc=$?
	LOGIN_S+=("$(dts "$t")"); N_LOGINS=$((N_LOGINS + 1))
	[ $rc -eq 4 ] || fail "ssh -tt exited $rc (want 4): $(cat "$W/ssh-tty.out")"
	tr -d '\r' <"$W/ssh-tty.out" | grep -qE '^tty pid=1 flags=[a-zA-Z]*i' ||
		fail "ssh -tt: no interactive shell as PID 1: $(cat "$W/ssh-tty.out")"
	tr -d '\r' <"$W/ssh-tty.out" | grep -qx persisted-42 || fail "ssh -tt: the home is not the persistent one"
	ok "ssh -tt $U (pty): an interactive shell as PID 1 with the persistent home, exit status 4 ($(dts "$t") s)"
	# check: the policy, the installation and sshd -T for a sandboxed user
	ctl check --sshd-config "$S/sshd_config" >"$W/check.out" 2>&1 ||
		fail "cubbyctl check with the shipped Match block: $(cat "$W/check.out")"
	ok "cubbyctl check --sshd-config (the shipped Match block): $(tail -n1 "$W/check.out")"
	stop_sshd
else
	echo "note: no sshd, ssh or sshd user in the guest: the sshd part is not run"
fi

# ---- 5. logout and teardown -----------------------------------------------------
stop_keeper
[ "${keeper_rc:-1}" -eq 0 ] || fail "keeper su exited ${keeper_rc:-?}: $(cat "$W/keeper.out")"
grep -qx keeper-down "$W/keeper.out" || fail "keeper did not end by itself: $(cat "$W/keeper.out")"
wait_for 100 "[ ! -e $UD ]" || fail "$UD still exists after the last logout: $(find "$UD")"
[ ! -e "$CG/cubby/u$(id -u "$U2")" ] || fail "the cgroup of $U2 is left"
procs=$(pgrep -u "$uid"; pgrep -U "$uid")
[ -z "$procs" ] || fail "processes of $U left: $(ps -o pid,user,args -p "$(echo $procs | tr ' ' ,)")"
[ -z "$(ls -A "$SESSIONS" 2>/dev/null)" ] || fail "records left: $(ls "$SESSIONS")"
veths=$(ip -o link show type veth 2>/dev/null)
[ -z "$veths" ] || fail "veths left after the last logout: $veths"
ctl net status >"$W/net-status2.out" 2>&1
grep -qE '^leases: +0$' "$W/net-status2.out" || fail "leases left: $(cat "$W/net-status2.out")"
ctl gc >"$W/gc.out" 2>&1 || fail "cubbyctl gc: $(cat "$W/gc.out")"
grep -q 'gc: 0 sessions reaped' "$W/gc.out" || fail "cubbyctl gc found something: $(cat "$W/gc.out")"
ctl net down >"$W/net-down.out" 2>&1 || fail "cubbyctl net down: $(cat "$W/net-down.out")"
ip link show cubby0 >/dev/null 2>&1 && fail "bridge cubby0 left after net down"
[ -z "$(nft list tables 2>/dev/null | grep cubby)" ] || fail "nft tables left after net down: $(nft list tables)"
left=$(find "$CG/cubby" -mindepth 1 -type d 2>/dev/null | grep -vx "$CG/cubby/anchor")
[ -z "$left" ] || fail "cgroups left under $CG/cubby: $left"
mnts=$(grep -hF "upperdir=/var/lib/cubby-asan/users/$U/upper," /proc/[0-9]*/mountinfo 2>/dev/null | head -n 3)
[ -z "$mnts" ] || fail "the home of $U is still mounted somewhere: $mnts"
ok "logout: no cgroup, process, record, veth, lease or home mount left; gc found nothing; net down removed bridge and tables"
ctl home reset "$U" >"$W/home-reset.out" 2>&1 || fail "cubbyctl home reset: $(cat "$W/home-reset.out")"
[ ! -e "/var/lib/cubby-asan/users/$U/upper/asan-home.txt" ] || fail "home reset left the upper layer's files"
ok "cubbyctl home reset: $(cat "$W/home-reset.out")"

# ---- 6. the sanitizers' verdict --------------------------------------------------
FOREIGN_SAMPLE=
if ! scan_reports; then
	echo "---- sanitizer reports about cubby ($N_CUBBY) ----"
	cat "$W/reports.txt"
	echo "----"
	echo "FAIL: $N_CUBBY sanitizer report(s) about cubby (above)"
	exit 1
fi
fig "logins: $N_LOGINS (su and ssh) under ASan+UBSan; login times (s): ${LOGIN_S[*]}"
fig "sanitizer logs: $N_LOGS, of which $N_FOREIGN are su's own leak (not cubby's), 0 about cubby"
if [ -n "$FOREIGN_SAMPLE" ]; then
	echo "note: su's own leak, as reported (ignored):"
	grep -E 'leak of|#[01] ' "$FOREIGN_SAMPLE" | sed 's/^/    /'
fi
echo "PASS: real logins through the ASan+UBSan build, no sanitizer report about cubby (guest time $(dts "$T0") s)"
exit 0
