/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The limits on a user's cgroup directories: cpu, memory (+swap), pids and
 * the CPU list (cpuset), written before any process can enter. A limit
 * that cannot be enforced here is refused, never skipped. Nothing here
 * logs; every function returns 0 or -errno. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cubby/cgroup-layout.h"
#include "cubby/cgroup-limits.h"
#include "cubby/util.h"

#define CG_PERIOD_US 100000
#define CPUS_ARG_MAX 256
/* a cpuset.cpus or cpuset.mems value as the kernel prints it */
#define CPUSET_KNOB_MAX (64u << 10)
/* bounds the walk up a cpuset hierarchy (cgroup paths are far shallower) */
#define CPUSET_DEPTH_MAX 64

/* ---- limits ---------------------------------------------------------- */

static int knob_exists(int dfd, const char *name)
{
        struct stat st;

        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        return 1;
}

/* Write a limit knob. A missing knob is fine when there is nothing to
 * limit, and refused (-EOPNOTSUPP) when a limit was asked for: a session
 * must never run without the budget it was promised. If the whole directory
 * vanished (a concurrent cg_remove), -ENOENT lets cg_create retry. */
static int knob_write(int dfd, const char *name, const char *val, bool limited)
{
        int r = write_string_at(dfd, name, val);

        if (r != -ENOENT)
                return r;
        if (knob_exists(dfd, "cgroup.procs") == 0)
                return -ENOENT;
        return limited ? -EOPNOTSUPP : 0;
}

/* knob_write, skipped when the knob already reads val (as the kernel
 * prints it). For the v1 and v2 CPU bandwidth knobs: the kernel checks
 * every write against the whole task-group tree of the host
 * (tg_cfs_schedulable_down), so an equal write costs time that grows with
 * every cpu cgroup there is; the read does not. A value that reads
 * differently (another spelling, a changed policy) is written. */
static int knob_write_changed(int dfd, const char *name, const char *val, bool limited)
{
        _cleanup_free_ char *cur = NULL;

        if (read_file_at(dfd, name, 64, &cur, NULL, NULL) >= 0) {
                cur[strcspn(cur, "\n")] = 0;
                if (strcmp(cur, val) == 0)
                        return 0;
        }
        return knob_write(dfd, name, val, limited);
}

/* Enable cubby's controllers for the children of dfd where this cgroup has
 * them available and they are not on yet. One write per controller, so a
 * controller the kernel refuses is reported by name (errno) and not hidden
 * by an all-or-nothing write. */
int cg_enable_controllers(int dfd, unsigned want)
{
        _cleanup_free_ char *avail = NULL, *on = NULL;
        unsigned have, enabled;
        int r;

        want &= CG_CTRL_LIMITS | CG_CTRL_CPUSET;
        if (!want)
                return 0;
        r = read_file_at(dfd, "cgroup.controllers", 4096, &avail, NULL, NULL);
        if (r < 0)
                return r;
        r = read_file_at(dfd, "cgroup.subtree_control", 4096, &on, NULL, NULL);
        if (r < 0)
                return r;
        have = cg_ctrl_bits_of_list(avail, strcspn(avail, "\n"), ' ');
        enabled = cg_ctrl_bits_of_list(on, strcspn(on, "\n"), ' ');
        /* cpuset is only asked for when cpus is set: a session must not
         * run without the CPU list it was promised. */
        if ((want & CG_CTRL_CPUSET) && !(have & CG_CTRL_CPUSET))
                return -EOPNOTSUPP;
        for (unsigned bit = 1; bit <= CG_CTRL_CPUSET; bit <<= 1) {
                const char *name = cg_ctrl_name(bit);
                char cmd[32];

                if (!name || !(want & have & bit) || (enabled & bit))
                        continue;
                snprintf(cmd, sizeof cmd, "+%s", name);
                r = write_string_at(dfd, "cgroup.subtree_control", cmd);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void fmt_u64(char *buf, size_t size, uint64_t v, const char *unlimited)
{
        if (v == UINT64_MAX)
                snprintf(buf, size, "%s", unlimited);
        else
                snprintf(buf, size, "%llu", (unsigned long long)v);
}

static int limits_cpu(int dfd, bool v2, uint64_t milli)
{
        bool limited = milli != UINT64_MAX;
        char q[32], buf[64];
        int r;

        /* quota = milli * period / 1000; v1 keeps quotas in a signed long long */
        if (limited && milli > (uint64_t)INT64_MAX / (CG_PERIOD_US / 1000))
                return -ERANGE;
        if (limited)
                snprintf(q, sizeof q, "%llu", (unsigned long long)(milli * (CG_PERIOD_US / 1000)));
        if (v2) {
                snprintf(buf, sizeof buf, "%s %d", limited ? q : "max", CG_PERIOD_US);
                return knob_write_changed(dfd, "cpu.max", buf, limited);
        }
        snprintf(buf, sizeof buf, "%d", CG_PERIOD_US);
        r = knob_write_changed(dfd, "cpu.cfs_period_us", buf, limited);
        if (r < 0)
                return r;
        return knob_write_changed(dfd, "cpu.cfs_quota_us", limited ? q : "-1", limited);
}

static int limits_memory_v1(int dfd, uint64_t mem, uint64_t swap)
{
        _cleanup_free_ char *cur_s = NULL;
        uint64_t cur, memsw;
        char m[32], ms[32];
        int r;

        fmt_u64(m, sizeof m, mem, "-1");
        r = knob_exists(dfd, "memory.memsw.limit_in_bytes");
        if (r < 0)
                return r;
        /* Without swap accounting (swapaccount=0) there is no memory+swap
         * knob and swap cannot be limited on v1: memory alone is. */
        if (r == 0)
                return knob_write(dfd, "memory.limit_in_bytes", m, mem != UINT64_MAX);

        if (mem == UINT64_MAX || swap == UINT64_MAX || mem > UINT64_MAX - 1 - swap)
                memsw = UINT64_MAX;
        else
                memsw = mem + swap;
        fmt_u64(ms, sizeof ms, memsw, "-1");

        /* v1 refuses memory.limit_in_bytes > memory.memsw.limit_in_bytes in
         * either write: raise memsw first, lower memory first. */
        r = read_file_at(dfd, "memory.limit_in_bytes", 64, &cur_s, NULL, NULL);
        if (r < 0)
                return r == -ENOENT ? -EOPNOTSUPP : r;
        cur_s[strcspn(cur_s, "\n")] = 0;
        r = parse_u64(cur_s, &cur);
        if (r < 0)
                return r;
        if (mem >= cur) {
                r = knob_write(dfd, "memory.memsw.limit_in_bytes", ms, memsw != UINT64_MAX);
                if (r < 0)
                        return r;
                return knob_write(dfd, "memory.limit_in_bytes", m, mem != UINT64_MAX);
        }
        r = knob_write(dfd, "memory.limit_in_bytes", m, true);
        if (r < 0)
                return r;
        return knob_write(dfd, "memory.memsw.limit_in_bytes", ms, memsw != UINT64_MAX);
}

static int limits_memory_v2(int dfd, uint64_t mem, uint64_t swap)
{
        char m[32], s[32];
        int r;

        fmt_u64(m, sizeof m, mem, "max");
        fmt_u64(s, sizeof s, swap, "max");
        r = knob_write(dfd, "memory.max", m, mem != UINT64_MAX);
        if (r < 0)
                return r;
        /* memory.swap.max is absent without swap accounting; as on v1, the
         * memory limit then stands alone. */
        if (knob_exists(dfd, "memory.max") > 0 && knob_exists(dfd, "memory.swap.max") == 0)
                return 0;
        return knob_write(dfd, "memory.swap.max", s, swap != UINT64_MAX);
}

/* ---- cpuset ---------------------------------------------------------- */

/* limits->cpus, "" when not set; -EINVAL unless digits, ',' and '-' (the
 * policy parser checks the grammar; the kernel has the last word). */
static int cpus_arg(const CgLimits *l, const char **ret)
{
        const char *c = l->cpus ? l->cpus : "";
        size_t n = strnlen(c, CPUS_ARG_MAX + 1);

        if (n > CPUS_ARG_MAX || strspn(c, "0123456789,-") != n)
                return -EINVAL;
        *ret = c;
        return 0;
}

bool cg_set_has_v1_cpuset(const CgSet *set)
{
        for (size_t i = 0; i < set->n; i++)
                if (!set->dir[i].v2 && (set->dir[i].ctrl & CG_CTRL_CPUSET))
                        return true;
        return false;
}

static int cpuset_read(int dfd, const char *name, char **ret)
{
        int r = read_file_at(dfd, name, CPUSET_KNOB_MAX, ret, NULL, NULL);

        return r == -ENOENT && knob_exists(dfd, "cgroup.procs") > 0 ? -EOPNOTSUPP : r;
}

/* Copy a v1 cpuset knob from the dir pfd to its child dfd. */
static int cpuset_copy(int pfd, int dfd, const char *name)
{
        _cleanup_free_ char *v = NULL;
        int r = cpuset_read(pfd, name, &v);

        if (r < 0)
                return r;
        return knob_write(dfd, name, v, true);
}

/* A new v1 cpuset dir has empty cpuset.cpus and cpuset.mems, and no task
 * may enter it (ENOSPC) until both are set: give it its parent's. */
int cg_cpuset_v1_inherit(int pfd, int dfd)
{
        int r = cpuset_copy(pfd, dfd, "cpuset.mems");

        if (r < 0)
                return r;
        return cpuset_copy(pfd, dfd, "cpuset.cpus");
}

/* 1 if the v1 cpuset dir fd or one of its ancestors balances load
 * (cpuset.sched_load_balance 1, the default), 0 if none does (up to the
 * hierarchy's root: above it the knob is missing), -errno. */
static int cpuset_v1_balanced_from(int fd)
{
        _cleanup_close_ int cur = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        for (int depth = 0; depth < CPUSET_DEPTH_MAX; depth++) {
                _cleanup_free_ char *v = NULL;
                int up, r;

                if (cur < 0)
                        return -errno;
                r = read_file_at(cur, "cpuset.sched_load_balance", 8, &v, NULL, NULL);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
                if (v[0] == '1')
                        return 1;
                up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                closep(&cur);
                cur = up;
        }
        return 0;
}

/* For a v1 cpuset dir dfd that cubby just made (a user's, a session's,
 * the container's), before its CPUs are set. Every write of CPUs to a
 * cpuset that balances load makes the kernel rebuild the scheduler
 * domains, which walks every cpuset of the host: milliseconds with
 * thousands of sessions, at every login. So load balancing goes off
 * while the dir has no CPUs (no rebuild then either), but only where an
 * ancestor (pfd or above) balances: the kernel still balances a dir's CPUs
 * where a cpuset that overlaps them does, and an ancestor holds all of
 * them, so the scheduling is the same. */
int cg_cpuset_v1_balance_off(int pfd, int dfd)
{
        int r = cpuset_v1_balanced_from(pfd);

        if (r <= 0)
                return r;
        return knob_write(dfd, "cpuset.sched_load_balance", "0", false);
}

/* For cg_create's walk: a component it made, or one with no CPUs (made by another
 * login a moment ago that has not filled it yet; nobody can be in it). A
 * component without the knob is no cpuset dir (/sys, the tmpfs). */
int cg_cpuset_v1_fill_if_empty(int pfd, int dfd, bool created)
{
        _cleanup_free_ char *v = NULL;
        int r;

        if (!created) {
                r = read_file_at(dfd, "cpuset.cpus", CPUSET_KNOB_MAX, &v, NULL, NULL);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return r;
                if (v[strspn(v, " \n")] != 0)
                        return 0;
        }
        r = cg_fd_is_cgroupfs(dfd, false);
        if (r < 0)
                return r;
        return cg_cpuset_v1_inherit(pfd, dfd);
}

static void closedirp(DIR **d)
{
        if (*d)
                (void)closedir(*d);
}

/* Set cpuset.cpus in every session dir (s<sid>) of the v1 user dir dfd
 * that does not have it yet. */
static int cpuset_v1_sessions(int dfd, const char *cpus)
{
        _cleanup_(closedirp) DIR *d = NULL;
        int fd;

        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -ENOMEM;
        }
        for (;;) {
                _cleanup_close_ int sfd = -1;
                _cleanup_free_ char *cur = NULL;
                struct dirent *de;
                int r;

                errno = 0;
                de = readdir(d);
                if (!de)
                        return -errno;
                if (de->d_type != DT_DIR || de->d_name[0] != 's' || !cg_sid_ok(de->d_name + 1))
                        continue;
                sfd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sfd < 0 && errno == ENOENT)
                        continue; /* removed meanwhile */
                if (sfd < 0)
                        return -errno;
                r = read_file_at(sfd, "cpuset.cpus", CPUSET_KNOB_MAX, &cur, NULL, NULL);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                /* an equal write would be a no-op for the kernel too */
                if (strcmp(cur, cpus) == 0)
                        continue;
                r = write_string_at(sfd, "cpuset.cpus", cpus);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
}

/* The user dir dfd of a v1 cpuset hierarchy: mems from its parent, cpus
 * from the policy or else the parent's, and the same cpus in the user's
 * session dirs (on v2 they would inherit them). When a session has CPUs
 * outside the new list (the policy changed), v1 refuses to narrow the user
 * dir (EBUSY): it is widened to the parent's CPUs, the sessions are set,
 * then the user dir. */
static int cpuset_v1_user(int dfd, const char *cpus)
{
        _cleanup_close_ int pfd = -1;
        _cleanup_free_ char *pcpus = NULL, *before = NULL, *now = NULL;
        int r;

        pfd = openat(dfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0)
                return -errno;
        r = cg_fd_is_cgroupfs(pfd, false);
        if (r < 0)
                return r;
        r = cpuset_read(pfd, "cpuset.cpus", &pcpus);
        if (r < 0)
                return r;
        r = cpuset_copy(pfd, dfd, "cpuset.mems");
        if (r < 0)
                return r;
        r = cpuset_read(dfd, "cpuset.cpus", &before);
        if (r < 0)
                return r;
        r = knob_write(dfd, "cpuset.cpus", *cpus ? cpus : pcpus, true);
        if (r == -EBUSY) {
                r = knob_write(dfd, "cpuset.cpus", pcpus, true);
                if (r < 0)
                        return r;
                r = cpuset_v1_sessions(dfd, *cpus ? cpus : pcpus);
                if (r < 0)
                        return r;
                return knob_write(dfd, "cpuset.cpus", *cpus ? cpus : pcpus, true);
        }
        if (r < 0)
                return r;
        /* as the kernel prints it, to compare with the sessions' */
        r = cpuset_read(dfd, "cpuset.cpus", &now);
        if (r < 0)
                return r;
        /* Unchanged: every session dir already has these CPUs (each one
         * got the user dir's when it was made, and the walk below ran at
         * each change); v1 keeps a child's CPUs within its parent's, so
         * none can have more. Walking them costs a read per session of
         * this user. */
        if (strcmp(before, now) == 0)
                return 0;
        return cpuset_v1_sessions(dfd, now);
}

int cg_limits_dir(int dfd, const CgDir *d, const CgLimits *l, bool cpus_on_v2)
{
        const char *cpus;
        char buf[32];
        int r;

        r = cpus_arg(l, &cpus);
        if (r < 0)
                return r;
        if (!d->v2 && (d->ctrl & CG_CTRL_CPUSET)) {
                r = cpuset_v1_user(dfd, cpus);
                if (r < 0)
                        return r;
        }
        /* v2: the list, or "" (inherit) to undo an earlier one; no knob is
         * fine then (cpuset not enabled). */
        if (d->v2 && cpus_on_v2 && (d->ctrl & CG_CTRL_LIMITS)) {
                r = knob_write(dfd, "cpuset.cpus", *cpus ? cpus : "\n", *cpus != 0);
                if (r < 0)
                        return r;
        }

        if (d->ctrl & CG_CTRL_CPU) {
                r = limits_cpu(dfd, d->v2, l->cpu_milli);
                if (r < 0)
                        return r;
        }
        if (d->ctrl & CG_CTRL_MEMORY) {
                r = d->v2 ? limits_memory_v2(dfd, l->memory, l->swap) : limits_memory_v1(dfd, l->memory, l->swap);
                if (r < 0)
                        return r;
        }
        if (d->ctrl & CG_CTRL_PIDS) {
                fmt_u64(buf, sizeof buf, l->pids, "max");
                r = knob_write(dfd, "pids.max", buf, l->pids != UINT64_MAX);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A limit that no hierarchy here can enforce is refused, as a missing knob
 * is: never run a session without the budget it was promised. */
int cg_limits_enforceable(const CgSet *set, const CgLimits *l)
{
        unsigned have = 0, need = 0;
        const char *cpus;
        int r;

        if (!l)
                return -EINVAL;
        for (size_t i = 0; i < set->n; i++)
                have |= set->dir[i].ctrl;
        if (l->cpu_milli != UINT64_MAX)
                need |= CG_CTRL_CPU;
        if (l->memory != UINT64_MAX || l->swap != UINT64_MAX)
                need |= CG_CTRL_MEMORY;
        if (l->pids != UINT64_MAX)
                need |= CG_CTRL_PIDS;
        if (need & ~have)
                return -EOPNOTSUPP;
        r = cpus_arg(l, &cpus);
        if (r < 0)
                return r;
        /* a v1 cpuset hierarchy, or v2 with controllers (cpuset is checked
         * when it is enabled) */
        if (*cpus && !cg_set_has_v1_cpuset(set)) {
                for (size_t i = 0; i < set->n; i++)
                        if (set->dir[i].v2 && (set->dir[i].ctrl & CG_CTRL_LIMITS))
                                return 0;
                return -EOPNOTSUPP;
        }
        return 0;
}

int cg_set_limits(const CgSet *user, const CgLimits *limits)
{
        int r;

        r = cg_set_check(user);
        if (r < 0)
                return r;
        r = cg_limits_enforceable(user, limits);
        if (r < 0)
                return r;
        for (size_t i = 0; i < user->n; i++) {
                _cleanup_close_ int fd = -1;

                r = cg_dir_open(&user->dir[i], &fd);
                if (r < 0)
                        return r;
                r = cg_limits_dir(fd, &user->dir[i], limits, !cg_set_has_v1_cpuset(user));
                if (r < 0)
                        return r;
        }
        return 0;
}
