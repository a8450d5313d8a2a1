/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Moving the helper's child into the session cgroups. The helper opens
 * the session directories before clone3 (cg_attach_open): the child enters
 * the v2 one through CLONE_INTO_CGROUP and moves itself into each v1 one by
 * writing "0" into the "tasks" file the parent opened. Nothing here logs;
 * every function returns 0 or -errno. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "cubby/cgroup-attach.h"
#include "cubby/util.h"

void cg_attach_close(CgAttach *a)
{
        if (!a)
                return;
        closep(&a->v2_fd);
        a->v2_fd = -1;
        for (size_t i = 0; i < a->n_v1 && i < CG_MAX_DIRS; i++) {
                closep(&a->v1_fds[i]);
                a->v1_fds[i] = -1;
        }
        a->n_v1 = 0;
}

int cg_attach_open(const CgSet *session, CgAttach *ret)
{
        CgAttach a = { .v2_fd = -1 };
        int r;

        for (size_t i = 0; i < CG_MAX_DIRS; i++)
                a.v1_fds[i] = -1;
        if (!ret)
                return -EINVAL;
        r = cg_set_check(session);
        if (r < 0)
                return r;
        for (size_t i = 0; i < session->n; i++) {
                _cleanup_close_ int fd = -1;

                r = cg_dir_open(&session->dir[i], &fd);
                if (r < 0)
                        goto fail;
                if (session->dir[i].v2) {
                        if (a.v2_fd >= 0) {
                                r = -EINVAL;
                                goto fail;
                        }
                        a.v2_fd = TAKE_FD(fd);
                        continue;
                }
                /* Opened by root here: the kernel checks the opener's creds
                 * on v1, so the child may write it after it changed. */
                a.v1_fds[a.n_v1] = openat(fd, "tasks", O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (a.v1_fds[a.n_v1] < 0) {
                        r = -errno;
                        goto fail;
                }
                a.n_v1++;
        }
        *ret = a;
        return 0;
fail:
        cg_attach_close(&a);
        return r;
}

/* Runs in the child between clone3 and exec: no allocation, no locks. */
int cg_attach_self_v1(CgAttach *a)
{
        int r = 0;

        if (!a)
                return -EINVAL;
        for (size_t i = 0; i < a->n_v1 && i < CG_MAX_DIRS; i++) {
                ssize_t n;

                do
                        n = write(a->v1_fds[i], "0", 1);
                while (n < 0 && errno == EINTR);
                if (n < 0 && r == 0)
                        r = -errno;
                else if (n == 0 && r == 0)
                        r = -EIO;
                close(a->v1_fds[i]);
                a->v1_fds[i] = -1;
        }
        a->n_v1 = 0;
        return r;
}

bool cg_attach_v2_limited(const CgSet *set)
{
        for (size_t i = 0; set && i < set->n; i++) {
                const CgDir *d = &set->dir[i];

                if (d->v2 && !(d->ctrl & CG_CTRL_NONE_V2) && (d->ctrl & CG_CTRL_LIMITS))
                        return true;
        }
        return false;
}

int cg_attach_self_v2(const CgAttach *a)
{
        _cleanup_close_ int fd = -1;
        ssize_t n;

        if (!a || a->v2_fd < 0)
                return -EINVAL;
        fd = openat(a->v2_fd, "cgroup.procs", O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        do
                n = write(fd, "0", 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                return n < 0 ? -errno : -EIO;
        return 0;
}

int cg_join(const CgSet *session)
{
        CgAttach a;
        int r;

        r = cg_attach_open(session, &a);
        if (r < 0)
                return r;
        r = cg_attach_self_v1(&a);
        if (r >= 0 && a.v2_fd >= 0 && cg_attach_v2_limited(session))
                r = cg_attach_self_v2(&a);
        cg_attach_close(&a);
        return r;
}
