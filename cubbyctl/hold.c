/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl hold [--stop]: keeps cubby.service's cgroup in existence.
 *
 * systemd removes the cgroup of a Type=oneshot service as soon as its
 * commands have exited, RemainAfterExit=yes or not, and pam_cubby refuses
 * sandboxed logins while cgroup_parent (the unit's cgroup) is missing. A
 * long-running main process is no way out either: once cubby has enabled
 * controllers for its subtree, the unit's own cgroup may hold no process,
 * so systemd cannot start the main process of a restart there (status
 * 219/CGROUP). The unit therefore starts `cubbyctl hold` as ExecStartPost=,
 * a control command, which systemd runs in the ".control" child of a
 * delegated unit's cgroup: the holder forks a process that stays there and
 * does nothing until `cubbyctl hold --stop` (ExecStop=, in the same
 * cgroup) sends it SIGTERM. Both find holders by their name and by having
 * exactly the caller's /proc/self/cgroup, so a holder elsewhere (another
 * unit, a container) is never touched. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "cubby/util.h"

#define HOLD_NAME "cubby-hold"

static int read_small(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        return (int)n;
}

/* Signals (or, with sig 0, counts) the holders in the caller's cgroup. */
static int holders(int sig)
{
        char mine[4096], theirs[4096], path[64], comm[32];
        struct dirent *de;
        DIR *d;
        int n = 0;

        if (read_small("/proc/self/cgroup", mine, sizeof mine) <= 0)
                return -EIO;
        d = opendir("/proc");
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                uint64_t pid;

                if (parse_u64(de->d_name, &pid) < 0 || pid == 0 || (pid_t)pid == getpid())
                        continue;
                snprintf(path, sizeof path, "/proc/%" PRIu64 "/comm", pid);
                if (read_small(path, comm, sizeof comm) <= 0 || strcmp(comm, HOLD_NAME "\n") != 0)
                        continue;
                snprintf(path, sizeof path, "/proc/%" PRIu64 "/cgroup", pid);
                if (read_small(path, theirs, sizeof theirs) <= 0 || strcmp(mine, theirs) != 0)
                        continue;
                if (sig == 0 || kill((pid_t)pid, sig) == 0)
                        n++;
        }
        closedir(d);
        return n;
}

_Noreturn static void hold(void)
{
        sigset_t set;
        int null;

        (void)prctl(PR_SET_NAME, HOLD_NAME);
        (void)setsid();
        if (chdir("/") < 0)
                _exit(1);
        null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                (void)dup2(null, 0);
                (void)dup2(null, 1);
                (void)dup2(null, 2);
        }
        for (int fd = 3; fd < 1024; fd++)
                (void)close(fd);
        /* everything but SIGTERM (whose default action ends it) */
        sigfillset(&set);
        sigdelset(&set, SIGTERM);
        sigprocmask(SIG_SETMASK, &set, NULL);
        for (;;)
                pause();
}

int cmd_hold(Ctl *c, int argc, char **argv)
{
        int r;
        pid_t pid;

        (void)c;
        if (argc == 2 && strcmp(argv[1], "--stop") == 0) {
                r = holders(SIGTERM);
                if (r < 0) {
                        fprintf(stderr, "cubbyctl: hold --stop: %s\n", strerror(-r));
                        return 1;
                }
                return 0;
        }
        if (argc != 1) {
                fprintf(stderr, "usage: cubbyctl hold [--stop]\n");
                return 2;
        }
        r = holders(0);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: hold: %s\n", strerror(-r));
                return 1;
        }
        if (r > 0)
                return 0; /* one is there already */
        (void)fflush(NULL);
        pid = fork();
        if (pid < 0) {
                fprintf(stderr, "cubbyctl: hold: fork: %s\n", strerror(errno));
                return 1;
        }
        if (pid == 0)
                hold();
        return 0;
}
