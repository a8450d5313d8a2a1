/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubby's cgroup directories: the checks every cgroup path passes, the
 * walk that reaches a directory by fd, and the record form of a directory.
 * The other cgroup files build on this one: cgroup-layout.c finds the
 * directories, cgroup-limits.c writes the limits, cgroup-lifecycle.c makes,
 * empties and removes them, cgroup-attach.c moves the helper's child in.
 *
 * Every directory is reached by walking its path from "/" with O_NOFOLLOW
 * and checked to be on a cgroup file system before anything is created,
 * written or removed in it; paths from records pass cg_dir_parse first.
 * Nothing here logs; every function returns 0 or -errno. */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cubby/cgroup.h"
#include "cubby/util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

bool cg_path_ok(const char *p)
{
        if (!path_is_normalized_absolute(p) || strncmp(p, CG_ROOT "/", strlen(CG_ROOT "/")) != 0)
                return false;
        for (const char *c = p; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        return false;
        return true;
}

int cg_fd_is_cgroupfs(int fd, bool v2)
{
        struct statfs sf;

        if (fstatfs(fd, &sf) < 0)
                return -errno;
        if ((unsigned long)sf.f_type != (v2 ? CGROUP2_SUPER_MAGIC : CGROUP_SUPER_MAGIC))
                return -ENOMEDIUM;
        return 0;
}

int cg_dir_open(const CgDir *d, int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        int r;

        if (!cg_path_ok(d->path))
                return -EINVAL;
        r = dir_walk(AT_FDCWD, d->path, 0, NULL, NULL, &fd);
        r = r < 0 ? r : cg_fd_is_cgroupfs(fd, d->v2);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int cg_set_check(const CgSet *set)
{
        if (!set || set->n > CG_MAX_DIRS)
                return -EINVAL;
        for (size_t i = 0; i < set->n; i++)
                if (!cg_path_ok(set->dir[i].path))
                        return -EINVAL;
        return 0;
}

bool cg_set_joins_user(const CgSet *set)
{
        for (size_t i = 0; i < set->n; i++)
                if (!cg_hier_at_user(set->dir[i].v2, set->dir[i].ctrl))
                        return true;
        return false;
}

/* The last component is u<digits>. */
static bool path_is_user_dir(const char *p)
{
        const char *b = strrchr(p, '/');

        return b && b[1] == 'u' && b[2] && strspn(b + 2, "0123456789") == strlen(b + 2);
}

int cg_set_append(const CgSet *set, const char *suffix, CgSet *ret)
{
        bool joins = cg_set_joins_user(set);

        *ret = *set;
        for (size_t i = 0; i < ret->n; i++) {
                CgDir *d = &ret->dir[i];
                size_t l = strlen(d->path);
                int n;

                if (cg_dir_at_user(d) ||
                    (joins && cg_hier_at_user(d->v2, d->ctrl) && path_is_user_dir(d->path))) {
                        d->ctrl |= CG_DIR_USER;
                        continue;
                }
                n = snprintf(d->path + l, sizeof d->path - l, "/%s", suffix);
                if (n < 0 || (size_t)n >= sizeof d->path - l)
                        return -ENAMETOOLONG;
        }
        return cg_set_check(ret);
}

int cg_dir_format(const CgDir *d, char *buf, size_t size)
{
        int n;

        if (!d || !buf || !cg_path_ok(d->path) || (d->ctrl & CG_CTRL_ALL) == 0 ||
            (d->ctrl & ~(CG_CTRL_ALL | CG_DIR_USER)))
                return -EINVAL;
        /* what cg_dir_parse takes back */
        if (cg_dir_at_user(d) && (d->v2 || d->ctrl != (CG_CTRL_MEMORY | CG_DIR_USER)))
                return -EINVAL;
        n = snprintf(buf, size, "%s:%u:%s", d->v2 ? "v2" : "v1", d->ctrl, d->path);
        if (n < 0)
                return -EINVAL;
        if ((size_t)n >= size)
                return -ENOSPC;
        return 0;
}

int cg_dir_parse(const char *s, CgDir *ret)
{
        char num[12];
        const char *c;
        uint64_t ctrl;
        size_t n;
        bool v2;
        int r;

        if (!s || !ret)
                return -EINVAL;
        if (strncmp(s, "v2:", 3) == 0)
                v2 = true;
        else if (strncmp(s, "v1:", 3) == 0)
                v2 = false;
        else
                return -EINVAL;
        s += 3;
        c = strchr(s, ':');
        if (!c)
                return -EINVAL;
        n = (size_t)(c - s);
        if (n == 0 || n >= sizeof num)
                return -EINVAL;
        memcpy(num, s, n);
        num[n] = 0;
        r = parse_u64(num, &ctrl);
        if (r < 0)
                return r;
        if ((ctrl & CG_CTRL_ALL) == 0 || (ctrl & ~(uint64_t)(CG_CTRL_ALL | CG_DIR_USER)))
                return -EINVAL;
        /* The freezer and the cpuset bit only exist on v1; the controller-less
         * marker only on v2; the user-dir mark only on a v1 memory hierarchy
         * of its own. */
        if ((v2 && (ctrl & (CG_CTRL_FREEZER | CG_CTRL_CPUSET))) || (!v2 && (ctrl & CG_CTRL_NONE_V2)))
                return -EINVAL;
        if ((ctrl & CG_DIR_USER) && (v2 || ctrl != (CG_CTRL_MEMORY | CG_DIR_USER)))
                return -EINVAL;
        if (!cg_path_ok(c + 1))
                return -EINVAL;
        r = strscpy(ret->path, sizeof ret->path, c + 1);
        if (r < 0)
                return r;
        ret->v2 = v2;
        ret->ctrl = (unsigned)ctrl;
        return 0;
}
