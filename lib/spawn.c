/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cubby-build.h"
#include "cubby/spawn.h"
#include "cubby/util.h"

int spawn_helper_check(int *ret_fd, const char **ret_why)
{
        _cleanup_close_ int fd = -1;
        struct statvfs sv;
        struct stat st;

        fd = open(CUBBY_HELPER_PATH, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                *ret_why = "cubby-shell is not installed";
                return -errno;
        }
        if (fstat(fd, &st) < 0 || fstatvfs(fd, &sv) < 0) {
                *ret_why = "cubby-shell cannot be examined";
                return -errno;
        }
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || !(st.st_mode & S_ISUID) ||
            (st.st_mode & 022)) {
                *ret_why = "cubby-shell is not installed setuid root";
                return -EPERM;
        }
        if (sv.f_flag & ST_NOSUID) {
                *ret_why = "cubby-shell is on a nosuid mount";
                return -EACCES;
        }
        if (ret_fd)
                *ret_fd = TAKE_FD(fd);
        return 0;
}

int spawn_fixed(const char *path, char *const argv[], int stdout_fd, pid_t *ret_pid)
{
        char *const envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);

                if (stdout_fd >= 0)
                        dup2(stdout_fd, 1);
                if (null >= 0) {
                        dup2(null, 0);
                        if (stdout_fd < 0)
                                dup2(null, 1);
                        dup2(null, 2);
                }
                if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
                        for (int fd = 3; fd < 1024; fd++)
                                close(fd);
                /* root's programs run as root in every id: under a setuid
                 * su the real uid is the caller's, and the helper's
                 * root-only modes (rightly) refuse a non-root real uid */
                if (geteuid() == 0 && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
                        _exit(126);
                execve(path, argv, envp);
                _exit(127);
        }
        *ret_pid = pid;
        return 0;
}
