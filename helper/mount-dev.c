/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's /dev (part of step 4), and the session's terminal on
 * /dev/console (child step 3). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cubby/util.h"
#include "helper.h"

/* /dev: a tmpfs with the few device nodes a shell needs, bound from the
 * host's /dev (a tmpfs made here cannot hold device nodes usable from the
 * user namespace), a devpts instance of the container's own (mounted by
 * the child) and a fresh /dev/shm. */
int mnt_build_dev(int rootfd)
{
        static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
        static const char *const links[][2] = {
                { "ptmx", "pts/ptmx" },     { "fd", "/proc/self/fd" },
                { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
                { "stderr", "/proc/self/fd/2" },
        };
        _cleanup_close_ int dev = -1;
        char src[32], path[32];
        int r;

        /* nodev on the tmpfs itself: the device nodes are bind mounts
         * with flags of their own, devpts a mount of its own */
        r = mnt_tmpfs_at(rootfd, "/dev", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k", false);
        if (r < 0)
                return r;
        dev = mnt_open_dir_in_root(rootfd, "/dev");
        if (dev < 0)
                return dev;
        if (mkdirat(dev, "pts", 0755) < 0 || mkdirat(dev, "shm", 01777) < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i][1], dev, links[i][0]) < 0)
                        return -errno;
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                r = mnt_create_file_at(dev, nodes[i], 0666);
                if (r < 0)
                        return r;
                snprintf(src, sizeof src, "/dev/%s", nodes[i]);
                snprintf(path, sizeof path, "/dev/%s", nodes[i]);
                /* device nodes need dev; nosuid and noexec still apply */
                r = mnt_bind_at(rootfd, src, path, MS_NOSUID | MS_NOEXEC);
                if (r < 0)
                        return r;
        }
        r = mnt_create_file_at(dev, "console", 0600);
        if (r < 0)
                return r;
        if (fchmodat(dev, "shm", 01777, 0) < 0)
                return -errno;
        return mnt_tmpfs_at(rootfd, "/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777", false);
}

/* The session's terminal on /dev/console, for tools that look for it.
 * fd 0 was opened in the opener's mount namespace, where a bind cannot
 * take it from: open the same device by name in ours, and only if it is
 * the same device. Best effort: a shell works without it. */
void mnt_bind_console(void)
{
        _cleanup_close_ int fd = -1;
        char name[64], src[64];
        struct stat a, b;

        if (!isatty(0) || ttyname_r(0, name, sizeof name) != 0 || fstat(0, &a) < 0)
                return;
        fd = open(name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &b) < 0 || !S_ISCHR(b.st_mode) || b.st_rdev != a.st_rdev)
                return;
        snprintf(src, sizeof src, "/proc/self/fd/%d", fd);
        (void)mount(src, "dev/console", NULL, MS_BIND, NULL);
}
