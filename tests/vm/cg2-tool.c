/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cg2-tool: the small workloads tests/vm/cgroup2-login.sh runs inside a
 * cubby sandbox in the VM (shell loops and python are too slow or too
 * clumsy under TCG, and bash retries a failed fork for 15 s).
 *
 *   cg2-tool spin SECONDS [STOPFILE]
 *                           burn CPU for SECONDS of wall time, print the
 *                           CPU time this process got ("spin cpu_ms=N
 *                           wall_ms=N"); with STOPFILE, burn until that
 *                           file exists (the test says when it has its
 *                           sample), SECONDS being only the bound: exit 1
 *                           if it is reached first
 *   cg2-tool hog MB         allocate MB mebibytes and touch every page;
 *                           prints "hog survived" and exits 0 if it was
 *                           not killed
 *   cg2-tool forks N        fork up to N children that wait; stop at the
 *                           first failure, print "forks ok=K errno=NAME",
 *                           then end the children and reap them; exit 0
 *
 * Every mode is bounded in time and count.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_FORKS 4096
#define MAX_SPIN_S 60
#define MAX_HOG_MB 1024

static long long ms_now(clockid_t clk)
{
        struct timespec ts;

        clock_gettime(clk, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int spin(long seconds, const char *stopfile)
{
        long long t0 = ms_now(CLOCK_MONOTONIC), c0 = ms_now(CLOCK_PROCESS_CPUTIME_ID);
        volatile unsigned long x = 0;
        int rc = 0;

        for (;;) {
                if (stopfile && access(stopfile, F_OK) == 0)
                        break;
                if (ms_now(CLOCK_MONOTONIC) - t0 >= seconds * 1000) {
                        rc = stopfile ? 1 : 0;
                        break;
                }
                for (int i = 0; i < 100000; i++)
                        x += (unsigned long)i;
        }
        printf("spin cpu_ms=%lld wall_ms=%lld%s\n", ms_now(CLOCK_PROCESS_CPUTIME_ID) - c0,
               ms_now(CLOCK_MONOTONIC) - t0, rc ? " (the stop file never appeared)" : "");
        return rc;
}

static int hog(long mb)
{
        size_t len = (size_t)mb << 20;
        long page = sysconf(_SC_PAGESIZE);
        char *p = malloc(len);

        if (!p) {
                printf("hog malloc failed: %s\n", strerror(errno));
                return 2;
        }
        for (size_t o = 0; o < len; o += (size_t)page)
                p[o] = 1;
        printf("hog survived (%ld MiB touched)\n", mb);
        free(p);
        return 0;
}

static int forks(long n)
{
        static pid_t kids[MAX_FORKS];
        int pipefd[2], err = 0;
        long ok = 0;

        /* children wait for EOF on this pipe: closing it ends them all */
        if (pipe(pipefd) < 0)
                return 2;
        for (; ok < n; ok++) {
                pid_t p = fork();

                if (p < 0) {
                        err = errno;
                        break;
                }
                if (p == 0) {
                        char c;

                        close(pipefd[1]);
                        alarm(30); /* bounded even if the parent vanishes */
                        while (read(pipefd[0], &c, 1) > 0)
                                ;
                        _exit(0);
                }
                kids[ok] = p;
        }
        close(pipefd[1]);
        printf("forks ok=%ld errno=%s\n", ok, err ? (err == EAGAIN ? "EAGAIN" : strerror(err)) : "none");
        fflush(stdout);
        for (long i = 0; i < ok; i++)
                (void)waitpid(kids[i], NULL, 0);
        return 0;
}

int main(int argc, char **argv)
{
        long v;
        char *end;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc != 3 && !(argc == 4 && strcmp(argv[1], "spin") == 0))
                goto usage;
        errno = 0;
        v = strtol(argv[2], &end, 10);
        if (errno || *end || v <= 0)
                goto usage;
        if (strcmp(argv[1], "spin") == 0 && v <= MAX_SPIN_S)
                return spin(v, argc == 4 ? argv[3] : NULL);
        if (strcmp(argv[1], "hog") == 0 && v <= MAX_HOG_MB)
                return hog(v);
        if (strcmp(argv[1], "forks") == 0 && v <= MAX_FORKS)
                return forks(v);
usage:
        fprintf(stderr, "usage: cg2-tool spin SECONDS [STOPFILE]|hog MB|forks N\n");
        return 64;
}
