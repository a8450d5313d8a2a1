/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's generated /etc files (part of step 4): passwd and group
 * with the system accounts and the user only, hostname, and a resolv.conf
 * that works inside. Written in the root-only staging dir and bound
 * read-only over the host's copies. */
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
 * plus the user with the real shell. Nothing of the host's other users. */
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

static bool in_groups(const Record *rec, gid_t gid)
{
        for (size_t i = 0; i < rec->n_groups; i++)
                if (rec->groups[i] == gid)
                        return true;
        return false;
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
                } else if (gid <= UINT32_MAX && in_groups(rec, (gid_t)gid)) {
                        /* mapped 1:1 in the container (ns.c): named as on
                         * the host, the user its only member */
                        r = group_line(out, cap, &o, name, gid, rec->user);
                } else if (gid < 1000 || gid == 65534) {
                        r = group_line(out, cap, &o, name, gid, "");
                }
        }
        if (r >= 0)
                r = group_line(out, cap, &o, own ? own : rec->user, rec->gid, "");
        if (r < 0)
                return r;
        return write_file_atomic_at_nosync(stagefd, "group", out, o, 0644);
}

/* Create the file at path (under the container's fresh /run), with its
 * missing parents, for a symlinked /etc/resolv.conf to point at. */
static int create_in_run(int rootfd, const char *path)
{
        _cleanup_close_ int run = -1, dir = -1;
        char buf[PATH_MAX], *base;
        int r;

        if (strncmp(path, "/run/", 5) != 0 || !path_is_normalized_absolute(path))
                return -EINVAL;
        r = strscpy(buf, sizeof buf, path + 5);
        if (r < 0)
                return r;
        run = mnt_open_dir_in_root(rootfd, "/run");
        if (run < 0)
                return run;
        base = strrchr(buf, '/');
        if (!base)
                return mnt_create_file_at(run, buf, 0644);
        *base = 0;
        r = dir_walk(run, buf, 0755, NULL, NULL, &dir);
        return r < 0 ? r : mnt_create_file_at(dir, base + 1, 0644);
}

/* A resolv.conf that works inside (the PAM module chose the servers). On
 * hosts where /etc/resolv.conf links into /run (systemd-resolved), the
 * link's target is made in the container's fresh /run instead. */
static int build_resolv(int rootfd, int stage, const Record *rec)
{
        _cleanup_close_ int fd = -1;
        char target[PATH_MAX], path[PATH_MAX];
        struct stat st;
        ssize_t n;
        int r;

        r = write_file_atomic_at_nosync(stage, "resolv.conf", rec->resolv, strlen(rec->resolv), 0644);
        if (r < 0)
                return r;
        fd = mnt_open_in_root(rootfd, "/etc/resolv.conf", O_NOFOLLOW);
        if (fd == -ENOENT)
                return 0; /* nothing to mount on: the host has no resolver config either */
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISLNK(st.st_mode))
                return mnt_bind_at(rootfd, STAGE_DIR "/resolv.conf", "/etc/resolv.conf",
                               MS_RDONLY | MS_NOSUID | MS_NODEV);
        n = readlinkat(fd, "", target, sizeof target - 1);
        if (n < 0)
                return -errno;
        target[n] = 0;
        if (strncmp(target, "../run/", 7) == 0)
                snprintf(path, sizeof path, "/%s", target + 3);
        else
                snprintf(path, sizeof path, "%s", target);
        r = create_in_run(rootfd, path);
        if (r < 0)
                return r;
        return mnt_bind_at(rootfd, STAGE_DIR "/resolv.conf", path, MS_RDONLY | MS_NOSUID | MS_NODEV);
}

int mnt_build_etc(int rootfd, const Record *rec)
{
        _cleanup_close_ int stage = -1;
        char line[80];
        int r;

        stage = open(STAGE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (stage < 0)
                return -errno;
        r = gen_passwd(rec, stage);
        if (r >= 0)
                r = gen_group(rec, stage);
        if (r < 0)
                return r;
        snprintf(line, sizeof line, "%s\n", rec->hostname[0] ? rec->hostname : "cubby");
        r = write_file_atomic_at_nosync(stage, "hostname", line, strlen(line), 0644);
        if (r < 0)
                return r;
        r = mnt_bind_at(rootfd, STAGE_DIR "/passwd", "/etc/passwd", MS_RDONLY | MS_NOSUID | MS_NODEV);
        if (r >= 0)
                r = mnt_bind_at(rootfd, STAGE_DIR "/group", "/etc/group", MS_RDONLY | MS_NOSUID | MS_NODEV);
        if (r >= 0)
                r = mnt_bind_at(rootfd, STAGE_DIR "/hostname", "/etc/hostname",
                            MS_RDONLY | MS_NOSUID | MS_NODEV);
        if (r >= 0 && rec->network && rec->resolv[0])
                r = build_resolv(rootfd, stage, rec);
        return r;
}
