/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's generated /etc files (part of step 4): passwd and group
 * with the system accounts and the user only, hostname, and a resolv.conf
 * that works inside. Written in the root-only staging dir, the top layer
 * of a read-only overlay on the container's /etc. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cubby-build.h"
#include "cubby/util.h"
#include "helper.h"

/* /etc/passwd and /etc/group of the container: the system accounts of the
 * host (uid/gid below 1000, and nobody) with group member lists emptied,
 * plus the user with the real shell. Nothing of the host's other users.
 * The host's files are read for their system accounts only; the user and
 * the user's groups come from the record, which pam_cubby filled from NSS
 * (so an LDAP/SSSD user and LDAP groups, which are in neither file, are
 * named too). */
static bool system_id(const char *field)
{
        uint64_t v;

        return parse_u64(field, &v) == 0 && (v < 1000 || v == 65534);
}

static int gen_passwd(const Record *rec, int stagefd)
{
        _cleanup_free_ char *in = NULL, *out = NULL;
        size_t o = 0, cap;
        char *save = NULL;
        int r;

        r = read_file_at(AT_FDCWD, "/etc/passwd", (size_t)4 * 1024 * 1024, &in, NULL, NULL);
        if (r < 0)
                return r;
        cap = strlen(in) + PATH_MAX * 3;
        out = malloc(cap);
        if (!out)
                return -ENOMEM;
        for (char *line = strtok_r(in, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char copy[1024], *f[7] = {}, *s2 = NULL, *tok;
                int n = 0;

                if (strscpy(copy, sizeof copy, line) < 0)
                        continue;
                for (tok = copy; n < 7; n++) {
                        f[n] = tok;
                        tok = strchr(tok, ':');
                        if (!tok)
                                break;
                        *tok++ = 0;
                }
                (void)s2;
                if (n < 6 || !system_id(f[2]) || strcmp(f[0], rec->user) == 0)
                        continue;
                o += (size_t)snprintf(out + o, cap - o, "%s\n", line);
        }
        o += (size_t)snprintf(out + o, cap - o, "%s:x:%u:%u:%s:%s:%s\n", rec->user,
                              (unsigned)rec->uid, (unsigned)rec->gid, rec->gecos, rec->home,
                              rec->shell);
        if (o >= cap)
                return -E2BIG;
        return write_file_atomic_at_nosync(stagefd, "passwd", out, o, 0644);
}

/* gid's index in the record's groups, or -1 */
static int group_index(const Record *rec, gid_t gid)
{
        for (size_t i = 0; i < rec->n_groups && i < RECORD_MAX_GROUPS; i++)
                if (rec->groups[i] == gid)
                        return (int)i;
        return -1;
}

/* the name NSS gave gid when the session opened, or NULL */
static const char *recorded_name(const Record *rec, gid_t gid)
{
        for (size_t i = 0; i < rec->n_group_names && i < RECORD_MAX_GROUPS; i++)
                if (rec->group_names[i].gid == gid)
                        return rec->group_names[i].name;
        return NULL;
}

/* "name:x:gid:member\n" at out + *o; -E2BIG rather than past cap. */
static int group_line(char *out, size_t cap, size_t *o, const char *name, uint64_t gid,
                      const char *member)
{
        int n = snprintf(out + *o, cap - *o, "%s:x:%llu:%s\n", name, (unsigned long long)gid,
                         member);

        if (n < 0 || (size_t)n >= cap - *o)
                return -E2BIG;
        *o += (size_t)n;
        return 0;
}

static int gen_group(const Record *rec, int stagefd)
{
        _cleanup_free_ char *in = NULL, *out = NULL;
        bool named[RECORD_MAX_GROUPS] = {};
        const char *own = NULL;
        size_t o = 0, cap;
        char *save = NULL;
        int r = 0;

        r = read_file_at(AT_FDCWD, "/etc/group", (size_t)4 * 1024 * 1024, &in, NULL, NULL);
        if (r < 0)
                return r;
        /* lines only shrink but for "x" and the user as member */
        cap = strlen(in) * 2 + 256 + (size_t)RECORD_MAX_GROUPS * sizeof rec->user;
        out = malloc(cap);
        if (!out)
                return -ENOMEM;
        for (char *line = strtok_r(in, "\n", &save); line && r >= 0;
             line = strtok_r(NULL, "\n", &save)) {
                char *name = line, *c1, *c2, *c3;
                uint64_t gid;
                int k;

                c1 = strchr(name, ':');
                c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                c3 = c2 ? strchr(c2 + 1, ':') : NULL;
                if (!c3)
                        continue;
                *c1 = *c2 = *c3 = 0;
                if (parse_u64(c2 + 1, &gid) < 0)
                        continue;
                if (gid == rec->gid) {
                        if (!own && strlen(name) < 64)
                                own = name;
                } else if (gid <= UINT32_MAX && (k = group_index(rec, (gid_t)gid)) >= 0) {
                        /* mapped 1:1 in the container (ns.c): named as on
                         * the host, the user its only member */
                        named[k] = true;
                        r = group_line(out, cap, &o, name, gid, rec->user);
                } else if (gid < 1000 || gid == 65534) {
                        r = group_line(out, cap, &o, name, gid, "");
                }
        }
        /* the user's groups that are in no /etc/group (LDAP): by the
         * name NSS gave them */
        for (size_t i = 0; i < rec->n_groups && i < RECORD_MAX_GROUPS && r >= 0; i++) {
                const char *n = recorded_name(rec, rec->groups[i]);

                /* (named already, the primary one below, no name, or a
                 * gid listed twice) */
                if (named[i] || rec->groups[i] == rec->gid || !n ||
                    group_index(rec, rec->groups[i]) != (int)i)
                        continue;
                r = group_line(out, cap, &o, n, rec->groups[i], rec->user);
        }
        if (!own)
                own = recorded_name(rec, rec->gid);
        if (r >= 0)
                r = group_line(out, cap, &o, own ? own : rec->user, rec->gid, "");
        if (r < 0)
                return r;
        return write_file_atomic_at_nosync(stagefd, "group", out, o, 0644);
}

/* The generated files go into a directory of their own in the root-only
 * staging tmpfs, the top layer of a read-only overlay mounted on the
 * container's /etc, with the host's /etc below it. The mount point is the
 * /etc directory, which the host never replaces: a bind on the host's
 * /etc/passwd dentry was detached in every namespace as soon as useradd,
 * groupadd or passwd renamed a new file over it, and the sandbox fell
 * through to the host's full account list. */
int mnt_build_etc(int rootfd, const Record *rec)
{
        _cleanup_close_ int gen = -1, etc = -1;
        char line[80], opts[64];
        int r;

        if (mkdir(STAGE_DIR "/etc", 0755) < 0)
                return -errno;
        gen = open(STAGE_DIR "/etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (gen < 0)
                return -errno;
        r = gen_passwd(rec, gen);
        if (r >= 0)
                r = gen_group(rec, gen);
        if (r < 0)
                return r;
        snprintf(line, sizeof line, "%s\n", rec->hostname[0] ? rec->hostname : "cubby");
        r = write_file_atomic_at_nosync(gen, "hostname", line, strlen(line), 0644);
        /* the servers the PAM module chose, as a plain file: where the
         * host's is a link into its /run (systemd-resolved), the link's
         * target does not exist in the container's fresh /run */
        if (r >= 0 && rec->network && rec->resolv[0])
                r = write_file_atomic_at_nosync(gen, "resolv.conf", rec->resolv,
                                                strlen(rec->resolv), 0644);
        /* host mounts below /etc would lie under the overlay, listed in
         * the container's mountinfo and pinned by it */
        if (r >= 0)
                r = mnt_detach_below("/etc");
        if (r < 0)
                return r;
        etc = mnt_open_in_root(rootfd, "/etc", O_DIRECTORY | O_NOFOLLOW);
        if (etc < 0)
                return etc;
        /* no upper layer: read-only by construction, whatever the flags;
         * nosuid and nodev as everywhere in the container */
        snprintf(opts, sizeof opts, "lowerdir=/proc/self/fd/%d:/proc/self/fd/%d", gen, etc);
        return mnt_on_fd("cubby-etc", etc, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, opts);
}
