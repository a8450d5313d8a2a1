#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# home = direct through real logins (sshd, su, login): the user's real home
# (pw_dir) bound read-write at its path, nosuid and nodev; what is written
# inside is in the real home, owned by the user; nothing passes through
# state_dir and no anchor is made; the same with container = user; the
# home is opened as the user (a parent only root may traverse refuses it,
# a parent the user's group may traverse does not) without following any
# symlink, and must be the user's own: a symlinked component, a symlinked
# home, another user's home and a missing home each refuse the login with
# a message, and no command runs on the host; home_size is ignored with
# direct (this machine has no project quotas, which a persistent home
# with home_size would need). Names as LDAP/SSSD give them (capitals, a
# dot, '@' as in fully qualified names, a group with digits and '@'):
# their [user] and [group] sections apply, in explain too, and the
# container's passwd and group files name them.
IT_NEEDS="/usr/sbin/sshd ssh su login script addgroup"
. "$(dirname "$0")/lib.sh"
it_init "$@"
. "$(dirname "$0")/lib-extra.sh"

D1=${IT_P}d1            # home = direct (and home_size, ignored)
D2=${IT_P}d2            # home = direct, container = user
DL=${IT_P}dl            # a symlink as a component of pw_dir
DH=${IT_P}dh            # pw_dir itself swapped for a symlink to its own dir
DO=${IT_P}do            # pw_dir is another user's home
DM=${IT_P}dm            # pw_dir missing
DR=${IT_P}dr            # pw_dir below a dir only root may traverse
DG=${IT_P}dg            # pw_dir below a dir only a group of the user may traverse
DQ=${IT_P}Q.u@example.org   # an SSSD-style fully qualified name
GQ=${IT_P}G.2026@example.org
G_REACH=${IT_P}gr
# The odd homes live here: not below /tmp, /var/tmp or /run (IT_SCRATCH
# is in /var/tmp), which the container gets fresh, so a home there has no
# parent to be bound into.
HB=/home/${IT_P}x
mkdir -m 0755 "$HB" || it_fatal "mkdir $HB"
hx_on_exit "rm -rf -- '$HB'"
groupadd "$G_REACH" || it_fatal "groupadd $G_REACH"   # removed with the prefix
hx_add_student "$D1"
hx_add_student "$D2"
# a component the student owns: <HB>/dl is the user's, pw_dir <HB>/dl/home
mkdir -m 0755 "$HB/dl"
hx_add_student "$DL" -d "$HB/dl/home"
chown "$DL:" "$HB/dl"
hx_add_student "$DH" -d "$HB/dhome"
hx_add_student "$DO"
rm -rf -- "$(getent passwd "$DO" | cut -d: -f6)"     # the one useradd made: unused
usermod -d "$(getent passwd "$IT_S2" | cut -d: -f6)" "$DO" || it_fatal "usermod -d $DO"
hx_add_student "$DM" -d "$HB/missing"
rm -rf "$HB/missing"
mkdir -m 0700 "$HB/rootonly"
hx_add_student "$DR" -d "$HB/rootonly/home"
mkdir -m 0710 "$HB/grouponly"
chgrp "$G_REACH" "$HB/grouponly"
hx_add_student "$DG" -d "$HB/grouponly/home" -G "$IT_G_STUDENTS,$G_REACH"
# (groupadd checks names even where useradd --badname does not)
addgroup --quiet --allow-bad-names "$GQ" >/dev/null || it_fatal "addgroup $GQ"
hx_add_student "$DQ" --badname -G "$IT_G_STUDENTS,$GQ"
it_policy_write \
        "home = direct" \
        "[group $GQ]" "hostname = grp-%u" \
        "[user $DQ]" "pids = 99" \
        "[user $D1]" "home_size = 1G" "home_inodes = 1000" \
        "[user $D2]" "container = user"
it_sshd_start

H1=$(getent passwd "$D1" | cut -d: -f6)
H2=$(getent passwd "$D2" | cut -d: -f6)

# ------------------------------------------------------------ the real home, read-write
echo original >"$H1/hd-existing.txt"
chown "$D1:" "$H1/hd-existing.txt"
out=$(it_ssh -n "$D1" 'cat hd-existing.txt && echo changed > hd-existing.txt && echo via-ssh > hd-ssh.txt && echo ok' 2>&1)
it_eq "ssh $D1: reads and changes a file of the real home" "$(printf 'original\nok')" "$out"
it_eq "the change is in the real home" changed "$(cat "$H1/hd-existing.txt" 2>&1)"
it_eq "the new file is in the real home" via-ssh "$(cat "$H1/hd-ssh.txt" 2>&1)"
it_eq "the new file is owned by the user" "$(it_uid "$D1"):$(it_gid "$D1")" "$(stat -c %u:%g "$H1/hd-ssh.txt" 2>&1)"
out=$(it_su - "$D1" -c 'echo via-su > hd-su.txt; echo "@@home=$HOME @@pwd=$(pwd)"; awk -v h="$HOME" "\$5 == h { print \"@@opts=\" \$6 }" /proc/self/mountinfo; echo "@@stdir=$(ls -d '"$IT_STATEDIR"' 2>&1 | head -c 200)"; echo "@@pid1=$(cat /proc/1/comm)"' </dev/null 2>&1)
it_eq "su - $D1: the file is in the real home" via-su "$(cat "$H1/hd-su.txt" 2>&1)"
it_eq "su - $D1: inside, the home is at pw_dir" "$H1" "$(it_get home "$out")"
it_eq "su - $D1: the shell starts in the home" "$H1" "$(it_get pwd "$out")"
it_match "su - $D1: inside, the home is mounted rw" '^rw(,|$)' "$(it_get opts "$out")"
it_match "su - $D1: inside, the home is mounted nosuid" '(^|,)nosuid(,|$)' "$(it_get opts "$out")"
it_match "su - $D1: inside, the home is mounted nodev" '(^|,)nodev(,|$)' "$(it_get opts "$out")"
it_ne "su - $D1: the shell is in a container (PID 1 is not the host's init)" "$(cat /proc/1/comm)" "$(it_get pid1 "$out")"
# (the pty echoes the typed line: the key is assembled at run time)
out=$( { echo 'p=@@; echo "${p}c=$(cat hd-su.txt)"; echo via-login > hd-login.txt'; echo exit; } | it_login "$D1" 2>&1)
it_eq "login -f $D1 reads the file too" via-su "$(it_get c "$out")"
it_eq "login -f $D1: its file is in the real home" via-login "$(cat "$H1/hd-login.txt" 2>&1)"
it_eq "home = direct: nothing in state_dir for $D1" no "$(hx_yn test -e "$IT_STATEDIR/users/$D1")"
it_eq "home = direct: no anchor holder was made" no "$(hx_yn test -e "$IT_RUNDIR/anchor")"
it_eq "home = direct: no home reference count" "" "$(ls "$IT_RUNDIR/locks/" 2>/dev/null | grep '\.homes$')"
# Kerberos (docs/CLUSTER.md): a FILE: ticket cache in the host's /tmp,
# where rpc.gssd finds it for NFS, is not visible inside (the container's
# /tmp is its own)
CC=/tmp/krb5cc_$(it_uid "$D1")_cubby$IT_ID
install -m 0600 -o "$D1" -g "$(it_gid "$D1")" /dev/null "$CC"
hx_on_exit "rm -f '$CC'"
out=$(it_su - "$D1" -c "test -e $CC && echo @@cc=seen || echo @@cc=hidden" </dev/null 2>&1)
it_eq "su - $D1: the host's /tmp ticket cache is not visible inside" hidden "$(it_get cc "$out")"
rm -f "$CC"
out=$(hx_ctl explain "$D1" 2>&1)
it_match "cubbyctl explain $D1: home direct" 'home[^a-z_].*direct' "$out"
it_match "cubbyctl explain $D1: home_size ignored with direct" 'home_size.*ignored with home = direct' "$out"
out=$(hx_ctl check 2>&1)
it_match "cubbyctl check: home_size with home = direct is a warning" \
        "warning: \\[user $D1\\]: home_size/home_inodes are ignored with home = direct" "$out"
out=$(hx_ctl home reset "$D1" 2>&1); rc=$?
it_ne "cubbyctl home reset $D1 (direct): refused" 0 "$rc"
it_match "cubbyctl home reset $D1 (direct): says why" 'home = direct' "$out"
it_eq "cubbyctl home reset $D1 (direct): the real home is untouched" via-su "$(cat "$H1/hd-su.txt" 2>&1)"
it_check_clean "after the direct logins" "$D1"

# ------------------------------------------------------------ container = user
out=$(it_su - "$D2" -c 'echo ct-su > hd-ct.txt; echo "@@init=$(cat /proc/1/comm)"' </dev/null 2>&1)
it_eq "container = user, su - $D2: the file is in the real home" ct-su "$(cat "$H2/hd-ct.txt" 2>&1)"
it_eq "container = user, su - $D2: owned by the user" "$(it_uid "$D2")" "$(stat -c %u "$H2/hd-ct.txt" 2>&1)"
it_eq "container = user, su - $D2: joined the user's container" cubby-init "$(it_get init "$out")"
out=$(it_ssh -n "$D2" 'cat hd-ct.txt; echo ct-ssh > hd-ct2.txt' 2>&1)
it_eq "container = user, ssh $D2 (second login) reads it" ct-su "$out"
it_eq "container = user, ssh $D2: its file is in the real home" ct-ssh "$(cat "$H2/hd-ct2.txt" 2>&1)"
it_eq "container = user: nothing in state_dir for $D2" no "$(hx_yn test -e "$IT_STATEDIR/users/$D2")"
hx_ctl stop "$D2" >/dev/null 2>&1
it_check_clean "container = user: after cubbyctl stop $D2" "$D2"

# ------------------------------------------------------------ names from LDAP/SSSD
HQ=$(getent passwd "$DQ" | cut -d: -f6)
# (it_get's values end at an '@': printed with '%' for '@')
out=$(it_ssh -n "$DQ" 'echo "@@who=$(id -un | tr @ %) @@grps=$(id -Gn | tr " @" ,%) @@host=$(hostname)"; echo q > hd-q.txt' 2>&1)
it_eq "ssh $DQ: the container's passwd names the user" "${DQ//@/%}" "$(it_get who "$out")"
it_match "ssh $DQ: the container's group names $GQ" "(^|,)${GQ//@/%}(,|\$)" "$(it_get grps "$out")"
it_match "ssh $DQ: [group $GQ] applies (its hostname pattern)" '^grp-' "$(it_get host "$out")"
it_eq "ssh $DQ: the file is in the real home" q "$(cat "$HQ/hd-q.txt" 2>&1)"
out=$(it_su - "$DQ" -c 'echo "@@who=$(whoami | tr @ %)"; echo su-q > hd-q.txt' </dev/null 2>&1)
it_eq "su - $DQ: the container's passwd names the user" "${DQ//@/%}" "$(it_get who "$out")"
it_eq "su - $DQ: the file is in the real home" su-q "$(cat "$HQ/hd-q.txt" 2>&1)"
out=$(hx_ctl explain "$DQ" 2>&1)
it_match "cubbyctl explain $DQ: [group $GQ]'s hostname" 'hostname +grp-%u' "$out"
it_match "cubbyctl explain $DQ: [user $DQ]'s pids" 'pids +99 ' "$out"
it_match "cubbyctl explain $DQ: home direct" 'home +direct' "$out"
it_check_clean "after the LDAP-style names" "$DQ"

# ------------------------------------------------------------ refusals

# a component the user owns, swapped for a symlink to a dir the user also
# owns: still refused (no symlink is followed anywhere)
mkdir -m 0755 "$HB/dl-real"
mv "$HB/dl/home" "$HB/dl-real/home"
ln -s "$HB/dl-real/home" "$HB/dl/home"
chown -h "$DL:" "$HB/dl/home" "$HB/dl-real"
hx_refused "$DL" "pw_dir's last component a symlink to the user's own dir" 'cubby-shell: .*symlink'
rm "$HB/dl/home"
mv "$HB/dl" "$HB/dl-moved"
ln -s "$HB/dl-real" "$HB/dl"
hx_refused "$DL" "a middle component of pw_dir a symlink" 'cubby-shell: .*symlink'
# swapped for a symlink to another user's home: refused, and the other
# home is untouched
rm "$HB/dl"
mkdir -m 0755 "$HB/dl"
chown "$DL:" "$HB/dl"
ln -s "$(getent passwd "$IT_S2" | cut -d: -f6)" "$HB/dl/home"
fp=$(hx_fingerprint "$(getent passwd "$IT_S2" | cut -d: -f6)")
hx_refused "$DL" "pw_dir a symlink to another user's home" 'cubby-shell: .*symlink'
it_eq "the other user's home is untouched" "$fp" "$(hx_fingerprint "$(getent passwd "$IT_S2" | cut -d: -f6)")"
# pw_dir itself a symlink to a dir of the user's
mv "$HB/dhome" "$HB/dhome-real"
ln -s "$HB/dhome-real" "$HB/dhome"
hx_refused "$DH" "pw_dir a symlink" 'cubby-shell: .*symlink'
hx_refused "$DO" "pw_dir another user's home" 'cubby-shell: .*not owned by the user'
hx_refused "$DM" "pw_dir missing" 'cubby-shell: .*does not exist'
# resolved as the user, not as root: root may pass <HB>/rootonly, the
# user may not
hx_refused "$DR" "pw_dir below a dir only root may traverse" 'cubby-shell: .*cannot reach'
out=$(it_su - "$DG" -c 'echo grp > hd-grp.txt; echo cubby-it-ran' </dev/null 2>&1)
it_match "pw_dir below a dir the user's group may traverse: su works" 'cubby-it-ran' "$out"
it_eq "pw_dir below a dir the user's group may traverse: the file is there" grp \
        "$(cat "$HB/grouponly/home/hd-grp.txt" 2>&1)"
it_check_clean "after the group-reachable home" "$DG"

# ------------------------------------------------------------ an overlay lower on a network file system
# A FUSE directory (fuse-dir, served by the test) is on the list of
# network file systems. It is mounted in the test's own mount namespace,
# which cubbyctl check (run here) sees and the anchor (PID 1's) does not:
# the login's refusal itself is test_home_lower's (lib/home.c on the real
# kernel); a real NFS lower is the cluster VM suite's.
FD=$HB/netlower
mkdir -m 0755 "$FD"
"$CUBBY_BUILD/tests/unit/fuse-dir" "$FD" >"$IT_SCRATCH/fuse-dir.log" 2>&1 &
fpid=$!
hx_on_exit "umount -l '$FD'; kill $fpid"
for i in $(seq 1 50); do [ "$(stat -f -c %t "$FD" 2>/dev/null)" = 65735546 ] && break; sleep 0.1; done
if [ "$(stat -f -c %t "$FD" 2>/dev/null)" != 65735546 ]; then
        it_skip_check "cubbyctl check: a home_lower on FUSE" "fuse-dir could not mount: $(cat "$IT_SCRATCH/fuse-dir.log")"
else
        it_policy_write "home = direct" "[user $D1]" "home = persistent" "home_lower = $FD/%u"
        out=$(hx_ctl check 2>&1)
        it_match "cubbyctl check: a persistent home_lower on FUSE is reported" \
                "home_lower $FD/%u \\(\\[user $D1\\]\\) is on a network file system \\(fuse\\)" "$out"
        it_policy_write "home = direct" "[user $D1]" "home = persistent" "home_lower = $FD/%u" \
                "home_lower_static = yes"
        out=$(hx_ctl check 2>&1)
        it_nomatch "cubbyctl check: with home_lower_static = yes it is not" 'network file system' "$out"
        it_policy_write "home = direct" "[user $D1]" "home_lower = $FD/%u"
        out=$(hx_ctl check 2>&1)
        it_nomatch "cubbyctl check: with home = direct home_lower is not used" 'network file system' "$out"
fi
umount "$FD" 2>/dev/null
wait "$fpid" 2>/dev/null

it_finish
