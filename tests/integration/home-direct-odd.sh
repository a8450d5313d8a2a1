#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# home = direct against the homes and groups a hostile student (or an odd
# directory service) can present: a pw_dir with a trailing '/' or a '..'
# in it, a FIFO or a device node of the user's at pw_dir, each refused
# with a message and no command run; a home that is a mount point of its
# own (a tmpfs of the user's) is bound as that mount, nosuid and nodev;
# a component of pw_dir the student swaps for a symlink during logins
# never has root make anything where the symlink points;
# a group name with '=' (the record's separator) is not carried in the
# record, and the container's /etc/group has the host's one line for it;
# a user in more groups than the record holds is refused with a message, never let
# in with some groups dropped.
IT_NEEDS="/usr/sbin/sshd ssh su addgroup mkfifo mknod /usr/bin/python3"
. "$(dirname "$0")/lib.sh"
it_init "$@"
. "$(dirname "$0")/lib-extra.sh"

OT=${IT_P}ot            # pw_dir ends in '/'
OD=${IT_P}od            # pw_dir has a '..' in it
OF=${IT_P}of            # pw_dir is a FIFO of the user's
OC=${IT_P}oc            # pw_dir is a device node of the user's
OM=${IT_P}om            # pw_dir is a tmpfs mount point of the user's
OG=${IT_P}og            # odd group names
OR=${IT_P}or            # swaps a component of pw_dir during logins
ON=${IT_P}on            # in more groups than a record holds
HB=/home/${IT_P}o
mkdir -m 0755 "$HB" || it_fatal "mkdir $HB"
hx_on_exit "umount '$HB/mnt' 2>/dev/null; rm -rf -- '$HB'"

# (useradd keeps pw_dir as given; usermod drops a trailing '/')
hx_add_student "$OT" -d "$HB/trail/"
hx_add_student "$OD" -d "$HB/dd"
mkdir -m 0755 "$HB/dd/sub"; chown "$OD:" "$HB/dd/sub"
usermod -d "$HB/dd/sub/.." "$OD" || it_fatal "usermod -d $HB/dd/sub/.."
it_eq "setup: pw_dir ends in '/'" "$HB/trail/" "$(getent passwd "$OT" | cut -d: -f6)"
it_eq "setup: pw_dir has '..'" "$HB/dd/sub/.." "$(getent passwd "$OD" | cut -d: -f6)"
# (useradd makes a directory there: replaced)
hx_add_student "$OF" -d "$HB/fifo"
rm -rf -- "$HB/fifo"
mkfifo -m 0600 "$HB/fifo"; chown "$OF:" "$HB/fifo"
hx_add_student "$OC" -d "$HB/dev"
rm -rf -- "$HB/dev"
mknod -m 0600 "$HB/dev" c 1 3; chown "$OC:" "$HB/dev"
hx_add_student "$OM" -d "$HB/mnt"
mount -t tmpfs -o "size=1m,mode=0700,uid=$(it_uid "$OM"),gid=$(it_gid "$OM")" "cubby-it-$IT_ID" "$HB/mnt" \
        || it_fatal "mount tmpfs on $HB/mnt"
# pw_dir <HB>/race/mid/h: <HB>/race is the student's, who swaps "mid"
# between a dir of their own and a symlink to <HB>/victim, a dir of
# root's the student may not write in
mkdir -m 0755 "$HB/race" "$HB/victim"
hx_add_student "$OR" -d "$HB/race/mid/h"
chown "$OR:" "$HB/race" "$HB/race/mid"
echo mine >"$HB/race/mid/h/marker"; chown "$OR:" "$HB/race/mid/h/marker"
# (addgroup --allow-all-names takes '=' where groupadd does not; ':', a
# newline and names over 32 bytes are refused by every tool)
addgroup --quiet --allow-all-names "${IT_P}g=x" >/dev/null || it_fatal "addgroup ${IT_P}g=x"
hx_add_student "$OG" --badname -G "$IT_G_STUDENTS,${IT_P}g=x"
NG=70
gl=$IT_G_STUDENTS
for i in $(seq 1 $NG); do
        groupadd "${IT_P}gg$i" || it_fatal "groupadd ${IT_P}gg$i"
        gl+=",${IT_P}gg$i"
done
hx_add_student "$ON" -G "$gl"
it_policy_write "home = direct"
it_sshd_start



hx_refused "$OT" "pw_dir ending in '/'" "home path \\(pw_dir\\) is not usable"
hx_refused "$OD" "pw_dir with '..' in it" "home path \\(pw_dir\\) is not usable"
hx_refused "$OF" "pw_dir a FIFO of the user's" 'cubby-shell: .*not a directory'
hx_refused "$OC" "pw_dir a device node of the user's" 'cubby-shell: .*not a directory'
it_eq "the FIFO is still a FIFO" fifo "$(stat -c %F "$HB/fifo" | sed 's/.*fifo.*/fifo/')"

# a home that is a mount point: that mount, nosuid and nodev, and what is
# written lands in it
out=$(it_su - "$OM" -c 'echo m > hd-m.txt; awk -v h="$HOME" "\$5 == h { o = \$6; sub(/.* - /, \"\"); print \"@@opts=\" o; print \"@@fs=\" \$1 }" /proc/self/mountinfo; echo cubby-it-ran' </dev/null 2>&1)
it_match "a tmpfs home: su works" 'cubby-it-ran' "$out"
it_eq "a tmpfs home: the file is in the mount" m "$(cat "$HB/mnt/hd-m.txt" 2>&1)"
it_eq "a tmpfs home: inside, the home is the tmpfs" tmpfs "$(it_get fs "$out")"
it_match "a tmpfs home: inside, nosuid" '(^|,)nosuid(,|$)' "$(it_get opts "$out")"
it_match "a tmpfs home: inside, nodev" '(^|,)nodev(,|$)' "$(it_get opts "$out")"
it_check_clean "after the tmpfs home" "$OM"

# the race: the student renames the component back and forth, as fast as
# it can, while logins open the home and build the container's tree
# (which is the host's file system below its mounts): each login gets the
# student's own home or is refused, and nothing is made in the victim dir
fp=$(hx_fingerprint "$HB/victim")
setpriv --reuid="$(it_uid "$OR")" --regid="$(it_gid "$OR")" --clear-groups \
        /usr/bin/python3 -c '
import os, sys
os.chdir(sys.argv[1])
os.symlink(sys.argv[2], "evil")
while True:
        os.rename("mid", "aside"); os.rename("evil", "mid")
        os.rename("mid", "evil"); os.rename("aside", "mid")
' "$HB/race" "$HB/victim" &
rpid=$!
hx_on_exit "kill $rpid 2>/dev/null"
own=0 refusedn=0 odd=
for i in $(seq 1 150); do
        [ "$(hx_fingerprint "$HB/victim")" = "$fp" ] || break
        out=$(IT_TIMEOUT=30 it_su - "$OR" -c 'echo "@@m=$(cat marker 2>&1 | head -c 40)"' </dev/null 2>&1)
        printf '%s\n' "$out" | grep -o 'cubby-shell: [^(]*' >>"$IT_SCRATCH/race-msgs"
        case $(it_get m "$out") in
        mine) own=$((own + 1)) ;;
        *) if printf '%s' "$out" | grep -q 'cubby-shell: ' && ! printf '%s' "$out" | grep -q '@@m='; then
                   refusedn=$((refusedn + 1))
           else
                   odd+="[$out] "
           fi ;;
        esac
done
it_eq "pw_dir raced: the student's renaming loop ran throughout" yes "$(hx_yn kill -0 "$rpid")"
kill "$rpid"; wait "$rpid" 2>/dev/null
it_log "pw_dir raced: the helper's messages: $(sort "$IT_SCRATCH/race-msgs" | uniq -c | tr '\n' ';')"
it_log "pw_dir raced: $i logins, $own got the own home, $refusedn were refused with a message"
it_empty "pw_dir raced: every login got the own home or was refused with a message (no shell ran elsewhere)" "$odd"
it_eq "pw_dir raced: nothing was made in the root-owned dir the symlink names" "$fp" "$(hx_fingerprint "$HB/victim")"
it_check_clean "after the race" "$OR"

# a group name with '=' (the record's key separator): the record does not
# carry it (name_is_safe), the container's /etc/group copies the host's own
# line for it, once, and no other line appears for its gid
geq=$(getent group "${IT_P}g=x" | cut -d: -f3)
out=$(it_su - "$OG" -c 'echo "@@ids=$(id -G | tr " " ,)"; echo "@@root=$(grep -c "^root:" /etc/group)"; echo "@@n=$(grep -c "^[^:]*:[^:]*:'"$geq"':" /etc/group)"; echo "@@line=$(grep "^[^:]*:[^:]*:'"$geq"':" /etc/group | tr "=@" "%%")"; echo cubby-it-ran' </dev/null 2>&1)
it_match "odd group names: su works" 'cubby-it-ran' "$out"
it_match "odd group names: the '=' group is among the ids" "(^|,)$geq(,|\$)" "$(it_get ids "$out")"
it_eq "odd group names: one line of /etc/group for the '=' group" 1 "$(it_get n "$out")"
it_eq "odd group names: it is the host's line (with the user as member)" \
        "${IT_P}g%x:x:$geq:$OG" "$(it_get line "$out")"
it_eq "odd group names: one root line in /etc/group" 1 "$(it_get root "$out")"
it_check_clean "after the odd group names" "$OG"

# more groups than a record holds: refused, not let in with fewer
hx_refused "$ON" "a user in $NG groups" 'too many groups'

it_finish
