#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs/THREATS.md, D (namespaces and kernel surface) and S5: propagation, unmount to
# uncover, capabilities, nested user namespaces, setgroups and negative
# group permissions, /proc /sys /dev, TIOCSTI/TIOCLINUX, keyrings, io_uring,
# IPC and /dev/shm.
IT_NEEDS="su pgrep script ipcmk ipcrm findmnt"
. "$(dirname "$0")/seclib.sh"
sec_init "$@"
S1=$IT_S1 N1=$IT_N1
H1=$(getent passwd "$S1" | cut -d: -f6)

test_D_mount_propagation() {
        local bg sp out d=$IT_STATEDIR-prop
        # in -> out: no mount can be made inside at all
        out=$(sec_su "$S1" "mkdir -p ~/m; $SECPROBE mount ~/m; mount -t tmpfs x ~/m 2>&1; echo @@rc=\$?")
        sec_sandboxed "propagation" "$out"
        it_match "mount(2) of a tmpfs inside: refused" 'mount_tmpfs=E(PERM|ACCES)' "$out"
        it_match "bind mount of / inside: refused" 'mount_bind=E(PERM|ACCES)' "$out"
        it_ne "mount -t tmpfs inside: fails" 0 "$(it_get rc "$out")"
        # out -> in: a mount made in the machine's namespace (and in the
        # test's) after login does not appear in a running sandbox
        install -d -m 0755 "$d"
        it_su - "$S1" -c 'sleep 6' </dev/null >/dev/null 2>&1 &
        bg=$!
        if ! sp=$(sec_pid_of_sandbox "$S1" sleep); then it_fail "propagation: session" "running" "none"; wait "$bg"; return; fi
        # The controls: a mount counts only once it is seen where it was
        # made, or its absence in the sandbox shows nothing. The machine's
        # namespace is out of reach on some hosts (root cannot open
        # /proc/1/ns/mnt); the test's own (private or shared) always works.
        local made=""
        if nsenter -t 1 -m mount -t tmpfs "cubby-sec-$IT_ID" "$d" 2>/dev/null &&
                grep -qF "cubby-sec-$IT_ID " /proc/1/mountinfo; then
                made+=" the machine's"
        else
                it_log "propagation: cannot mount in the machine's namespace here; the test's own is checked"
        fi
        if mount -t tmpfs "cubby-sec2-$IT_ID" "$d" && grep -qF "cubby-sec2-$IT_ID " /proc/self/mountinfo; then
                made+=" the test's"
        fi
        if [ -n "$made" ]; then
                it_pass "control: a mount made after login is in the mount table of:$made"
                # mount(2) propagates synchronously: a copy would already be there
                it_empty "a host mount made after login is not in the sandbox's mount table" \
                        "$(grep -F "cubby-sec" "/proc/$sp/mountinfo")"
        else
                sec_skip "no control mount appeared where it was made, so an absence in the sandbox shows nothing"
        fi
        it_empty "no mount of the sandbox is in the machine's mount table" \
                "$(grep -F -e "cubby-stage" -e "$H1 " /proc/1/mountinfo)"
        umount "$d" 2>/dev/null
        nsenter -t 1 -m umount "$d" 2>/dev/null
        rmdir "$d"
        kill -KILL "$sp"; wait "$bg"
        it_check_clean "propagation" "$S1"
}

test_D_unmount_to_uncover() {
        local out m
        out=$(sec_su "$S1" "for m in ~ /tmp /etc/passwd /etc /dev /proc /sys /run /home /; do $SECPROBE umount \$m; done; echo @@others=\$(cut -d: -f3 /etc/passwd | awk '\$1 >= 1000 && \$1 != 65534' | wc -l); echo @@homes=\$(ls -A /home)")
        sec_sandboxed "unmount" "$out"
        it_nomatch "umount of any mount inside: never succeeds" '^umount(_detach)?=ok' "$out"
        it_eq "after the umount attempts: /etc/passwd still lists only the user" 1 "$(it_get others "$out")"
        it_eq "after the umount attempts: /home still shows only the user" "$S1" "$(it_get homes "$out")"
}

test_D_no_capabilities() {
        local out
        out=$(sec_su "$S1" 'grep -E "^(Cap|NoNewPrivs|Seccomp:)" /proc/self/status | tr -d "\t" | sed "s/^/@@/; s/:/=/"; echo @@sg=$(cat /proc/self/setgroups); echo @@uidmap=$(cat /proc/self/uid_map | tr -s " ")')
        sec_sandboxed "capabilities" "$out"
        local c
        for c in CapInh CapPrm CapEff CapBnd CapAmb; do
                it_eq "$c is empty" 0000000000000000 "$(it_get "$c" "$out")"
        done
        it_eq "NoNewPrivs is 1" 1 "$(it_get NoNewPrivs "$out")"
        it_eq "a seccomp filter is on (mode 2)" 2 "$(it_get Seccomp "$out")"
        it_eq "uid_map maps only the user" " $(it_uid "$S1") $(it_uid "$S1") 1" "$(it_get uidmap "$out")"
        out=$(sec_su "$S1" "su -c true root </dev/null 2>&1; echo @@su=\$?; sudo -n true 2>&1; echo @@sudo=\$?; ping -c1 -W1 127.0.0.1 >/dev/null 2>&1; echo @@ping=\$?; awk '\$6 !~ /nosuid/ { print \"@@suidmount=\" \$5 }' /proc/self/mountinfo")
        it_ne "su to root inside fails" 0 "$(it_get su "$out")"
        # sudo (setuid) and ping (a file capability on Debian) prove something
        # only where the host has them: 127 would be "not found", not "refused".
        if [ -u /usr/bin/sudo ]; then
                it_eq "setuid sudo inside fails as refused (1), not as missing" 1 "$(it_get sudo "$out")"
        else
                sec_skip "no setuid /usr/bin/sudo on the host (tools/install-deps test installs it): sudo check not run"
        fi
        if [ -x /usr/bin/ping ]; then
                local pingrc
                pingrc=$(it_get ping "$out")
                if [ "$pingrc" != 0 ] && [ "$pingrc" != 127 ]; then
                        it_pass "ping (needs CAP_NET_RAW or a file capability) fails inside: exit $pingrc"
                else
                        it_fail "ping fails inside (no raw sockets, file capabilities ignored)" "exit 1 or 2" "exit $pingrc"
                fi
        else
                sec_skip "no /usr/bin/ping on the host (tools/install-deps test installs it): ping check not run"
        fi
        it_empty "every mount inside is nosuid" "$(grep -o '@@suidmount=[^@]*' <<<"$out")"
        out=$(sec_su "$S1" "awk '\$6 !~ /nodev/ { print \"@@devmount=\" \$5 }' /proc/self/mountinfo")
        local devm
        devm=$(grep -o '@@devmount=[^@]*' <<<"$out" | sed 's/@@devmount=//' \
                | grep -Evx '/dev/(null|zero|full|random|urandom|tty|console|pts)' | tr '\n' ' ')
        if [ -n "$devm" ]; then
                sec_broken "S5: every mount inside is nodev except cubby's device nodes and devpts" "none" "$devm"
        else
                it_pass "every mount inside is nodev except the device nodes and devpts"
        fi
}

test_D_nested_user_namespaces() {
        local out
        out=$(sec_su "$S1" "$SECPROBE kernel; unshare -U true 2>/dev/null; echo @@unshare_cmd=\$?; unshare -Ur true 2>/dev/null; echo @@unshare_r=\$?")
        sec_sandboxed "nested userns" "$out"
        it_match "clone3 returns ENOSYS" '^clone3_newuser=ENOSYS' "$out"
        it_match "plain clone3 returns ENOSYS too (libc falls back to clone)" '^clone3_plain=ENOSYS' "$out"
        it_match "unshare(CLONE_NEWUSER) fails" '^unshare_newuser=E(PERM|NOSPC|INVAL)' "$out"
        it_match "clone(CLONE_NEWUSER) fails" '^clone_newuser=E(PERM|NOSPC|INVAL)' "$out"
        it_ne "unshare -U fails" 0 "$(it_get unshare_cmd "$out")"
        it_ne "unshare -Ur fails" 0 "$(it_get unshare_r "$out")"
        it_match "unshare(CLONE_NEWNS) fails" '^unshare_newns=EPERM' "$out"
        it_match "unshare(CLONE_NEWNET) fails" '^unshare_newnet=EPERM' "$out"
        it_match "bpf refused" '^bpf=EPERM' "$out"
        it_match "userfaultfd refused" '^userfaultfd=EPERM' "$out"
        it_match "perf_event_open refused" '^perf_event_open=EPERM' "$out"
        it_match "raw sockets refused" '^raw_socket=EPERM' "$out"
        it_match "sethostname refused" '^sethostname=EPERM' "$out"
        it_match "mknod refused" '^mknod=EPERM' "$out"
        it_match "setuid(0) refused" '^setuid0=E(PERM|INVAL)' "$out"
}

test_D_setgroups_and_negative_groups() {
        local out d=$IT_STATEDIR-neg
        # CVE-2014-8989: a file that denies the students group but lets
        # others read (mode 0604, group students). On the host the student
        # cannot read it; dropping groups must not let them.
        install -d -m 0755 "$d"
        echo cubby-sec-negperm >"$d/secret"
        chown "root:$IT_G_STUDENTS" "$d/secret"; chmod 0604 "$d/secret"
        local host
        host=$(timeout 10 setpriv --reuid="$(it_uid "$S1")" --regid="$(it_gid "$S1")" --init-groups cat "$d/secret" 2>&1)
        it_nomatch "negative group permission: the student cannot read it on the host (baseline)" 'cubby-sec-negperm' "$host"
        out=$(sec_su "$S1" "echo @@sg=\$(cat /proc/self/setgroups); $SECPROBE kernel | grep setgroups; cat $d/secret 2>&1; echo @@groups=\$(id -G)")
        sec_sandboxed "setgroups" "$out"
        it_eq "/proc/self/setgroups is deny" deny "$(it_get sg "$out")"
        it_match "setgroups(0, NULL) refused" '^setgroups=EPERM' "$out"
        if grep -q 'cubby-sec-negperm' <<<"$out"; then
                sec_broken "negative group permission (CVE-2014-8989): a file mode 0604 group $IT_G_STUDENTS is unreadable for $S1 on the host but readable inside (supplementary groups dropped: groups inside '$(it_get groups "$out")')" \
                        "no read (S1: nothing an ordinary user could not do)" "read it"
        else
                it_pass "negative group permission: still denied inside"
        fi
        rm -rf "$d"
        it_check_clean "setgroups" "$S1"
}

test_D_proc_sys_dev_exposure() {
        local out
        out=$(sec_su "$S1" 'echo @@pids=$(ls /proc | grep -E "^[0-9]+$" | tr "\n" " "); echo @@init=$(tr "\0" "\n" </proc/1/cmdline | head -n1 | tr -d @); touch /sys/cubby-sec 2>/dev/null; echo @@sysw=$?; echo @@sysro=$(awk "\$5 == \"/sys\" { print \$6 }" /proc/self/mountinfo); echo @@dev=$(ls -A /dev | sort | tr "\n" " "); echo @@kmsg=$(cat /dev/kmsg 2>/dev/null | head -c 40 | wc -c); echo @@cg=$(ls /sys/fs/cgroup 2>/dev/null | wc -l); echo @@run=$(ls -A /run/ | tr "\n" " "); test -S /run/dbus/system_bus_socket && echo @@dbus=yes; test -e /run/systemd/private && echo @@systemd=yes; echo @@end=1')
        sec_sandboxed "exposure" "$out"
        it_int_lt "/proc lists only the sandbox's few pids" 6 "$(wc -w <<<"$(it_get pids "$out")")"
        it_nomatch "/proc/1 is the sandbox's shell, not the host's init" 'systemd|init|sshd|supervisord' "$(it_get init "$out")"
        it_ne "/sys is not writable" 0 "$(it_get sysw "$out")"
        it_match "/sys is mounted read-only" '^ro' "$(it_get sysro "$out")"
        it_eq "/dev has only the expected nodes" "console fd full null ptmx pts random shm stderr stdin stdout tty urandom zero" \
                "$(it_get dev "$out" | sed 's/ *$//')"
        it_eq "no /dev/kmsg to read" 0 "$(it_get kmsg "$out")"
        it_eq "no host D-Bus socket" "" "$(it_get dbus "$out")"
        it_eq "no systemd private socket" "" "$(it_get systemd "$out")"
        it_empty "/run is empty (fresh)" "$(it_get run "$out")"
}

tiocsti_run() { # USER PROGRAM: root's terminal (script), su - USER, inject
        cat >"$IT_SCRATCH/tiocsti.sh" <<'EOS'
su - "$1"
read -r -t 3 line; rc=$?
echo "GOT=[$line] rc=$rc"
EOS
        { sleep 1.5
          echo "$2"
          echo exit
          sleep 5; } | timeout -k 5 30 nsenter --net="$IT_NETNS_PATH" \
                script -qec "bash --norc --noprofile $IT_SCRATCH/tiocsti.sh $1" /dev/null 2>&1 | tr -d '\r'
}

test_D_tiocsti() {
        local base out
        base=$(tiocsti_run "$N1" "$SECPROBE tiocsti cubby-sec-injected")
        if ! grep -q 'GOT=\[cubby-sec-injected\]' <<<"$base"; then
                it_log "baseline: $(it_clip "$base")"
                sec_skip "TIOCSTI does not inject even from an unsandboxed su here (dev.tty.legacy_tiocsti=0?): nothing to prove"
                return
        fi
        it_pass "TIOCSTI injects from an unsandboxed su - $N1 into root's terminal (baseline)"
        out=$(tiocsti_run "$S1" "$SECPROBE tiocsti cubby-sec-injected")
        it_match "TIOCSTI inside the sandbox: EPERM" 'tiocsti=EPERM' "$out"
        it_nomatch "TIOCSTI: nothing typed into root's terminal after su ends" 'GOT=\[cubby-sec-injected' "$out"
        # read ends with 0 (a line) or > 128 (the timeout: nothing typed);
        # 1 is EOF or an error: root's terminal was not usable, and the
        # check above would hold for the wrong reason
        it_match "TIOCSTI: root's shell read its terminal afterwards" 'GOT=\[[^]]*\] rc=(0|129|1[3-9][0-9]|2[0-5][0-9])$' "$out"
        out=$(tiocsti_run "$S1" "$SECPROBE tioclinux")
        it_match "TIOCLINUX inside the sandbox: EPERM" 'tioclinux=EPERM' "$out"
        it_check_clean "TIOCSTI" "$S1"
}

test_D_keyrings() {
        local out
        out=$(sec_su "$S1" "$SECPROBE kernel | grep -E 'key'")
        it_match "add_key refused" '^add_key=EPERM' "$out"
        it_match "keyctl refused" '^keyctl=EPERM' "$out"
        it_match "request_key refused" '^request_key=EPERM' "$out"
}

# io_uring: refused by default; seccomp = allow_io_uring in the policy
# reaches the helper through the session record and lets only it through.
test_D_io_uring() {
        local out base
        out=$(sec_su "$S1" "$SECPROBE io_uring")
        sec_sandboxed "io_uring" "$out"
        it_match "io_uring_setup refused" '^io_uring_setup=EPERM' "$out"
        it_match "io_uring_enter refused" '^io_uring_enter=EPERM' "$out"
        it_match "io_uring_register refused" '^io_uring_register=EPERM' "$out"
        base=$(sec_su "$N1" "$SECPROBE io_uring")
        if ! grep -q '^io_uring_setup=ok' <<<"$base"; then
                it_log "baseline: $(it_clip "$base")"
                sec_skip "io_uring does not work here even unsandboxed (kernel.io_uring_disabled?): the relaxation cannot be shown"
                return
        fi
        it_policy_write "seccomp = allow_io_uring"
        out=$(sec_su "$S1" "$SECPROBE io_uring; $SECPROBE kernel | grep -E '^(bpf|keyctl|clone3_plain)='")
        it_policy_write
        sec_sandboxed "io_uring allowed" "$out"
        it_match "seccomp = allow_io_uring: io_uring_setup works" '^io_uring_setup=ok' "$out"
        it_match "seccomp = allow_io_uring: io_uring_enter works" '^io_uring_enter=ok' "$out"
        it_match "seccomp = allow_io_uring: io_uring_register reaches the kernel" '^io_uring_register=ENXIO' "$out"
        it_match "seccomp = allow_io_uring: bpf still refused" '^bpf=EPERM' "$out"
        it_match "seccomp = allow_io_uring: keyctl still refused" '^keyctl=EPERM' "$out"
        it_match "seccomp = allow_io_uring: clone3 still ENOSYS" '^clone3_plain=ENOSYS' "$out"
        it_check_clean "io_uring" "$S1"
}

test_D_ipc_and_shm() {
        local out id f=/dev/shm/cubby-sec-$IT_ID
        echo host-shm >"$f"; chmod 0644 "$f"
        id=$(ipcmk -M 4096 -p 0644 2>/dev/null | grep -o '[0-9]*$')
        local mq=
        out=$(sec_su "$S1" "echo @@shm=\$(ls -A /dev/shm | tr '\n' ' '); echo @@ipcs=\$(ipcs -m | awk 'NR > 3 && NF' | wc -l); echo @@ipcns=\$(readlink /proc/self/ns/ipc)")
        sec_sandboxed "IPC" "$out"
        it_eq "/dev/shm inside is empty (not the host's)" "" "$(it_get shm "$out")"
        it_eq "no SysV shared memory of the host is listed inside" 0 "$(it_get ipcs "$out")"
        it_ne "IPC namespace is not the host's" "$(readlink /proc/self/ns/ipc)" "$(it_get ipcns "$out")"
        [ -n "$id" ] && ipcrm -m "$id"
        rm -f "$f" "$mq"
        it_check_clean "IPC" "$S1"
}

for t in test_D_mount_propagation test_D_unmount_to_uncover test_D_no_capabilities \
         test_D_nested_user_namespaces test_D_setgroups_and_negative_groups \
         test_D_proc_sys_dev_exposure test_D_tiocsti test_D_keyrings test_D_io_uring \
         test_D_ipc_and_shm; do
        sec_test "$t"
done
sec_finish
