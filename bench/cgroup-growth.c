/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench/cgroup-growth: which cgroup operation of a login grows with the
 * cgroups already on the host. As root, below this process's own cgroup in
 * every hierarchy cubby uses (./cubby-cgg-<pid>, laid out as cubby lays it
 * out: u<uid>/s<sid>, limits on the user dirs), it holds K session dirs
 * spread over --users users, for each K of --steps, and times (median of
 * --reps, microseconds):
 *  - each kernel operation alone: a session dir's mkdir and rmdir in the
 *    user dir that holds K/users sessions, the attach of a process to it
 *    (tasks, or cgroup.procs on v2), a new user dir's mkdir and rmdir, and
 *    every limit write cubby's cg_create does on an existing user dir
 *    (the same value again), and the scan of that user's v1 cpuset
 *    session dirs;
 *  - cubby's own cg_create and cg_remove (lib/cgroup-lifecycle.c) for a
 *    new session of that user, with the bench policy's limits (cpu = 1,
 *    memory = 16G, pids = 16384).
 * It prints one table (a row per operation, a column per K). Everything it
 * made is removed at exit, also on SIGINT, SIGTERM and SIGHUP. It is not a
 * test: it never passes or fails on a timing. See docs/PERFORMANCE.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cubby/cgroup-layout.h"
#include "cubby/cgroup-lifecycle.h"
#include "cubby/cgroup-limits.h"

#define MAX_STEPS 8
#define MAX_OPS 64
#define MAX_REPS 200
#define BASE_UID 990000u

static volatile sig_atomic_t stop;
static char parent_spec[64];
static CgSet tops; /* ./cubby-cgg-<pid> in every hierarchy */
static pid_t child = -1;

static const CgLimits bench_limits = { .cpu_milli = 1000, .memory = 16ull << 30, .swap = UINT64_MAX,
                                       .pids = 16384, .cpus = NULL };

typedef struct Op {
        char name[64];
        double us[MAX_STEPS];
} Op;
static Op ops[MAX_OPS];
static size_t n_ops;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

static double now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof *v, cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void record(const char *name, int step, double us)
{
        size_t i;

        for (i = 0; i < n_ops; i++)
                if (strcmp(ops[i].name, name) == 0)
                        break;
        if (i == n_ops) {
                if (n_ops == MAX_OPS)
                        return;
                snprintf(ops[n_ops].name, sizeof ops[n_ops].name, "%s", name);
                for (int s = 0; s < MAX_STEPS; s++)
                        ops[n_ops].us[s] = -1;
                n_ops++;
        }
        ops[i].us[step] = us;
}

static const char *hier_name(const CgDir *d)
{
        static const unsigned bits[] = { CG_CTRL_CPU, CG_CTRL_MEMORY, CG_CTRL_PIDS, CG_CTRL_FREEZER,
                                         CG_CTRL_CPUSET };

        if (d->v2)
                return "v2";
        for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++)
                if (d->ctrl & bits[i])
                        return cg_ctrl_name(bits[i]);
        return "?";
}

static int set_for(unsigned u, const char *sid, CgSet *ret_user, CgSet *ret_session)
{
        return cg_paths(parent_spec, 0, BASE_UID + u, sid, ret_user, ret_session);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        (void)st;
        (void)f;
        if (flag == FTW_DP && rmdir(p) < 0 && errno != ENOENT)
                fprintf(stderr, "cgroup-growth: rmdir %s: %m\n", p);
        return 0;
}

/* Everything below ./cubby-cgg-<pid>, deepest first, in every hierarchy. */
static void cleanup(void)
{
        sigset_t all;

        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        if (child > 0) {
                kill(child, SIGKILL);
                waitpid(child, NULL, 0);
                child = -1;
        }
        for (size_t i = 0; i < tops.n; i++)
                if (access(tops.dir[i].path, F_OK) == 0)
                        nftw(tops.dir[i].path, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int write_at(int dfd, const char *name, const char *val)
{
        int fd = openat(dfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = write(fd, val, strlen(val));
        n = n < 0 ? -errno : 0;
        close(fd);
        return (int)n;
}

static int read_at(int dfd, const char *name, char *buf, size_t size)
{
        int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        return 0;
}

/* Time a mkdir (make) or rmdir of path into *ret_us; 0 or -errno. */
static int time_dir(bool make, const char *path, double *ret_us)
{
        double t = now_us();

        if ((make ? mkdir(path, 0755) : rmdir(path)) < 0)
                return -errno;
        *ret_us = now_us() - t;
        return 0;
}

/* Time writing back what the knob holds now (what a login of a user whose
 * dir exists writes). */
static void time_rewrite(int dfd, const char *knob, double *acc, int rep)
{
        char val[4096];
        double t;

        if (read_at(dfd, knob, val, sizeof val) < 0)
                return;
        t = now_us();
        if (write_at(dfd, knob, val) < 0)
                return;
        acc[rep] = now_us() - t;
}

/* Time copying knob from pfd to dfd (a new cpuset dir's fill). */
static void time_copy(int pfd, int dfd, const char *knob, double *acc, int rep)
{
        char val[4096];
        double t;

        if (dfd < 0 || read_at(pfd, knob, val, sizeof val) < 0)
                return;
        t = now_us();
        if (write_at(dfd, knob, val) < 0)
                return;
        acc[rep] = now_us() - t;
}

/* cubby's v1 cpuset walk over a user's session dirs (read each one's cpus). */
static double time_cpuset_scan(int dfd)
{
        char buf[4096];
        double t = now_us();
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        struct dirent *de;

        if (!d)
                return -1;
        while ((de = readdir(d))) {
                int sfd;

                if (de->d_type != DT_DIR || de->d_name[0] != 's')
                        continue;
                sfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (sfd < 0)
                        continue;
                (void)read_at(sfd, "cpuset.cpus", buf, sizeof buf);
                close(sfd);
        }
        closedir(d);
        return now_us() - t;
}

static int hold(unsigned users, int from, int to)
{
        for (int k = from; k < to && !stop; k++) {
                CgSet u, s;
                char sid[32];
                int r;

                snprintf(sid, sizeof sid, "%x", 0x100000 + k);
                r = set_for((unsigned)k % users, sid, &u, &s);
                if (r >= 0)
                        r = k < (int)users ? cg_create(&u, &s, &bench_limits) : cg_create_below(&s, true);
                if (r < 0) {
                        fprintf(stderr, "cgroup-growth: session %d: %s\n", k, strerror(-r));
                        return r;
                }
        }
        return 0;
}

#define NAMED(fmt, ...) (snprintf(name, sizeof name, fmt, __VA_ARGS__), name)

/* The limits cg_create writes on an existing user dir, written again. */
static const struct {
        unsigned ctrl;
        const char *knob;
} rewrites[] = {
        { CG_CTRL_CPU, "cpu.cfs_period_us" },
        { CG_CTRL_CPU, "cpu.cfs_quota_us" },
        { CG_CTRL_MEMORY, "memory.memsw.limit_in_bytes" },
        { CG_CTRL_MEMORY, "memory.limit_in_bytes" },
        { CG_CTRL_PIDS, "pids.max" },
        { CG_CTRL_CPUSET, "cpuset.mems" },
        { CG_CTRL_CPUSET, "cpuset.cpus" },
};

/* One step: reps times each operation, the median recorded for step. */
static int measure(int step, int reps)
{
        static double acc[MAX_OPS][MAX_REPS];
        char name[64], sid[32];
        CgSet u0, s0, un, sn;
        int r;

        for (size_t o = 0; o < MAX_OPS; o++)
                for (int i = 0; i < reps; i++)
                        acc[o][i] = -1;
        snprintf(sid, sizeof sid, "%x", 0xfffff);
        r = set_for(0, sid, &u0, &s0);
        if (r >= 0)
                r = set_for(9999, sid, &un, &sn);
        if (r < 0)
                return r;

        for (int rep = 0; rep < reps && !stop; rep++) {
                size_t o = 0;
                double t;

                /* the raw operations, hierarchy by hierarchy */
                for (size_t i = 0; i < u0.n; i++) {
                        const char *h = hier_name(&u0.dir[i]);
                        int ufd = open(u0.dir[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        char pid[32];

                        if (ufd < 0)
                                return -errno;
                        r = time_dir(true, s0.dir[i].path, &acc[o][rep]);
                        if (r < 0) {
                                close(ufd);
                                return r;
                        }
                        record(NAMED("%s: mkdir session", h), step, 0);
                        o++;
                        if (u0.dir[i].ctrl & CG_CTRL_CPUSET) {
                                int sfd = open(s0.dir[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                                /* what a new v1 cpuset dir needs before a
                                 * task may enter: the parent's mems, cpus */
                                time_copy(ufd, sfd, "cpuset.mems", acc[o], rep);
                                record(NAMED("%s: fill new session's mems", h), step, 0);
                                o++;
                                time_copy(ufd, sfd, "cpuset.cpus", acc[o], rep);
                                record(NAMED("%s: fill new session's cpus", h), step, 0);
                                o++;
                                if (sfd >= 0)
                                        close(sfd);
                        }
                        child = fork();
                        if (child == 0) {
                                pause();
                                _exit(0);
                        }
                        snprintf(pid, sizeof pid, "%d", (int)child);
                        {
                                int sfd = open(s0.dir[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                                t = now_us();
                                r = sfd < 0 ? -errno : write_at(sfd, u0.dir[i].v2 ? "cgroup.procs" : "tasks", pid);
                                acc[o][rep] = r < 0 ? -1 : now_us() - t;
                                if (sfd >= 0)
                                        close(sfd);
                        }
                        record(NAMED("%s: attach a process", h), step, 0);
                        o++;
                        kill(child, SIGKILL);
                        waitpid(child, NULL, 0);
                        child = -1;
                        r = time_dir(false, s0.dir[i].path, &acc[o][rep]);
                        if (r >= 0) {
                                record(NAMED("%s: rmdir session", h), step, 0);
                                o++;
                                r = time_dir(true, un.dir[i].path, &acc[o][rep]);
                        }
                        if (r < 0) {
                                close(ufd);
                                return r;
                        }
                        record(NAMED("%s: mkdir new user", h), step, 0);
                        o++;
                        if (un.dir[i].ctrl & CG_CTRL_CPU) {
                                int nfd = open(un.dir[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                                t = now_us();
                                r = nfd < 0 ? -1 : write_at(nfd, "cpu.cfs_quota_us", "100000");
                                acc[o][rep] = r < 0 ? -1 : now_us() - t;
                                record(NAMED("%s: new user's cfs_quota_us", h), step, 0);
                                o++;
                                if (nfd >= 0)
                                        close(nfd);
                        }
                        (void)time_dir(false, un.dir[i].path, &acc[o][rep]);
                        record(NAMED("%s: rmdir new user", h), step, 0);
                        o++;
                        for (size_t k = 0; k < sizeof rewrites / sizeof rewrites[0]; k++) {
                                if (!(u0.dir[i].ctrl & rewrites[k].ctrl))
                                        continue;
                                time_rewrite(ufd, rewrites[k].knob, acc[o], rep);
                                record(NAMED("%s: write %s again", h, rewrites[k].knob), step, 0);
                                o++;
                        }
                        if (u0.dir[i].ctrl & CG_CTRL_CPU) {
                                t = now_us();
                                (void)read_at(ufd, "cpu.cfs_quota_us", pid, sizeof pid);
                                acc[o][rep] = now_us() - t;
                                record(NAMED("%s: read cfs_quota_us", h), step, 0);
                                o++;
                        }
                        if (u0.dir[i].ctrl & CG_CTRL_CPUSET) {
                                acc[o][rep] = time_cpuset_scan(ufd);
                                record(NAMED("%s: scan the user's sessions", h), step, 0);
                                o++;
                        }
                        close(ufd);
                }
                /* cubby's own calls, all hierarchies: an existing user's
                 * new session, then a new user's */
                for (size_t c = 0; c < 4; c++, o++) {
                        static const char *const what[] = {
                                "cubby: cg_create (user has K/users)", "cubby: cg_remove (user has K/users)",
                                "cubby: cg_create (new user)", "cubby: cg_remove (new user)",
                        };
                        const CgSet *cu = c < 2 ? &u0 : &un, *cs = c < 2 ? &s0 : &sn;

                        t = now_us();
                        r = c % 2 ? cg_remove(cu, cs) : cg_create(cu, cs, &bench_limits);
                        acc[o][rep] = now_us() - t;
                        if (r < 0)
                                return r;
                        record(what[c], step, 0);
                }
        }
        for (size_t o = 0; o < n_ops; o++) {
                double v[MAX_REPS];
                int n = 0;

                for (int i = 0; i < reps; i++)
                        if (acc[o][i] >= 0)
                                v[n++] = acc[o][i];
                ops[o].us[step] = n ? median(v, n) : -1;
        }
        return 0;
}

static void usage(void)
{
        fprintf(stderr, "usage: cgroup-growth [--steps \"0 500 1000 2000\"] [--users N] [--reps N]\n");
        exit(2);
}

int main(int argc, char **argv)
{
        int steps[MAX_STEPS] = { 0, 500, 1000, 2000 }, n_steps = 4, reps = 15, held = 0, r = 0;
        unsigned users = 10;
        struct sigaction sa = { .sa_handler = on_signal };
        CgSet unused;

        for (int i = 1; i < argc; i++) {
                if (i + 1 >= argc)
                        usage();
                if (strcmp(argv[i], "--steps") == 0) {
                        char *save = NULL, *s = argv[++i];

                        n_steps = 0;
                        for (char *t = strtok_r(s, " ,", &save); t && n_steps < MAX_STEPS;
                             t = strtok_r(NULL, " ,", &save))
                                steps[n_steps++] = atoi(t);
                } else if (strcmp(argv[i], "--users") == 0)
                        users = (unsigned)atoi(argv[++i]);
                else if (strcmp(argv[i], "--reps") == 0)
                        reps = atoi(argv[++i]);
                else
                        usage();
        }
        if (n_steps == 0 || users == 0 || users > 1000 || reps < 1 || reps > MAX_REPS)
                usage();
        for (int i = 1; i < n_steps; i++)
                if (steps[i] < steps[i - 1])
                        usage();
        if (geteuid() != 0) {
                fprintf(stderr, "cgroup-growth: needs root\n");
                return 77;
        }
        snprintf(parent_spec, sizeof parent_spec, "./cubby-cgg-%d", (int)getpid());
        /* the top dirs, for the clean-up: the user dir's parent */
        r = set_for(0, "0", &tops, &unused);
        if (r < 0) {
                fprintf(stderr, "cgroup-growth: cgroup layout: %s\n", strerror(-r));
                return 1;
        }
        for (size_t i = 0; i < tops.n; i++)
                *strrchr(tops.dir[i].path, '/') = 0;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        atexit(cleanup);

        for (int s = 0; s < n_steps && !stop; s++) {
                r = hold(users, held, steps[s]);
                if (r < 0)
                        break;
                held = steps[s];
                /* user 0 must exist for the rows that use it */
                if (held == 0)
                        r = hold(users, 0, 1), held = 1;
                if (r < 0)
                        break;
                fprintf(stderr, "cgroup-growth: %d session dirs held, measuring\n", held);
                r = measure(s, reps);
                if (r < 0) {
                        fprintf(stderr, "cgroup-growth: measuring: %s\n", strerror(-r));
                        break;
                }
        }
        printf("%-40s", "median us; K session dirs held");
        for (int s = 0; s < n_steps; s++)
                printf(" %9d", steps[s]);
        printf("\n");
        for (size_t o = 0; o < n_ops; o++) {
                printf("%-40s", ops[o].name);
                for (int s = 0; s < n_steps; s++)
                        ops[o].us[s] < 0 ? printf(" %9s", "-") : printf(" %9.1f", ops[o].us[s]);
                printf("\n");
        }
        if (stop)
                fprintf(stderr, "cgroup-growth: interrupted\n");
        return r < 0 || stop ? 1 : 0;
}
