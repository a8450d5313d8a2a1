/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The anchor's record: <run_dir>/anchor names the holder process (pid,
 * start time, mount namespace inode) whose mount namespace holds the
 * overlay homes. Reading it and opening that namespace is all the helper
 * needs; starting and stopping the holder is in anchor-holder.c. Nothing
 * here logs; every function returns 0 or -errno. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cubby/anchor.h"
#include "cubby/proc.h"
#include "cubby/util.h"

int anchor_read(int rundir_fd, AnchorId *ret)
{
        _cleanup_free_ char *text = NULL;
        char *f[3], *p;
        uint64_t start, ino;
        struct stat st;
        size_t n;
        pid_t pid;
        int r;

        r = read_file_at(rundir_fd, ANCHOR_FILE, 128, &text, NULL, &st);
        if (r < 0)
                return r;
        if (st.st_uid != 0 || (st.st_mode & 022))
                return -EPERM;
        /* "PID START INO\n" as anchor_ensure writes it: three strict decimal
         * numbers, range checked (sscanf would wrap or truncate them) */
        n = strlen(text);
        if (n > 0 && text[n - 1] == '\n')
                text[n - 1] = 0;
        p = text;
        for (int i = 0; i < 3; i++) {
                char *sp = strchr(p, ' ');

                if ((i < 2) != (sp != NULL))
                        return -EBADMSG;
                if (sp)
                        *sp = 0;
                f[i] = p;
                if (sp)
                        p = sp + 1;
        }
        if (parse_pid(f[0], &pid) < 0 || pid <= 1 || parse_u64(f[1], &start) < 0 ||
            parse_u64(f[2], &ino) < 0)
                return -EBADMSG;
        ret->pid = pid;
        ret->start = start;
        ret->ino = ino;
        return 0;
}

int anchor_open_id(const AnchorId *id, int *ret_nsfd)
{
        _cleanup_close_ int pidfd = -1, nsfd = -1;
        char path[64];
        uint64_t start;
        struct stat st;

        int r;

        /* Pin the process first, then check it is the one recorded.
         * -ESRCH only when the holder is provably gone: anything else must
         * not make a caller start a second anchor (and a second overlay on
         * some user's upper dir). */
        pidfd = (int)syscall(SYS_pidfd_open, id->pid, 0);
        if (pidfd < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        r = proc_stat("/proc", id->pid, NULL, &start);
        if (r == -ESRCH || (r >= 0 && start != id->start))
                return -ESRCH;
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)id->pid);
        nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        if (fstat(nsfd, &st) < 0)
                return -errno;
        if ((uint64_t)st.st_ino != id->ino)
                return -ESRCH; /* a reused pid */
        *ret_nsfd = TAKE_FD(nsfd);
        return 0;
}

int anchor_open(const char *run_dir, int *ret_nsfd)
{
        _cleanup_close_ int rfd = -1;
        AnchorId id;
        int r;

        r = session_dir_open(run_dir, false, &rfd);
        if (r < 0)
                return r;
        r = anchor_read(rfd, &id);
        if (r < 0)
                return r;
        r = anchor_open_id(&id, ret_nsfd);
        return r == -ESRCH ? -ENOENT : r;
}
