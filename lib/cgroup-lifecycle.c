/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The life of cubby's cgroups: cg_create makes the tree and writes the
 * user's limits before the session directory exists, so no process ever
 * runs unlimited; at close, cg_kill empties the session (cgroup.kill, or
 * the v1 freezer, or a bounded kill loop) and cg_remove deletes it, and the
 * user level once the last session is gone. Nothing here logs; every
 * function returns 0 or -errno. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>

#include "cubby/cgroup-lifecycle.h"
#include "cubby/cgroup-limits.h"
#include "cubby/fault.h"
#include "cubby/util.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif

#define PROCS_MAX (4u << 20)
#define KILL_CHUNK 256
#define CREATE_ATTEMPTS 3
#define BACKOFF_START_NS 100000L
#define BACKOFF_MAX_NS 10000000L
/* past the timeout, rounds in a row that find a process not certain to
 * go (each kills it again) before the wait gives up */
#define NOT_DYING_ROUNDS 3

/* user->dir[i] and session->dir[i] are the same hierarchy, the session one
 * exactly one level below, or the user dir itself where it is marked so. */
static int sets_check(const CgSet *user, const CgSet *session)
{
        if (!user || !session || user->n != session->n || user->n == 0 || user->n > CG_MAX_DIRS)
                return -EINVAL;
        for (size_t i = 0; i < user->n; i++) {
                const CgDir *u = &user->dir[i], *s = &session->dir[i];
                size_t n = strlen(u->path);

                if (!cg_path_ok(u->path) || !cg_path_ok(s->path) || u->v2 != s->v2 || cg_dir_at_user(u))
                        return -EINVAL;
                if (cg_dir_at_user(s)) {
                        if (strcmp(s->path, u->path) != 0)
                                return -EINVAL;
                        continue;
                }
                if (strncmp(s->path, u->path, n) != 0 || s->path[n] != '/' || strchr(s->path + n + 1, '/'))
                        return -EINVAL;
        }
        return 0;
}

/* Split "/a/b/c" into the open parent "/a/b" and the name "c". */
static int open_parent(const CgDir *d, int *ret_fd, const char **ret_base)
{
        char parent[PATH_MAX];
        const char *slash;

        if (!cg_path_ok(d->path))
                return -EINVAL;
        slash = strrchr(d->path, '/');
        memcpy(parent, d->path, (size_t)(slash - d->path));
        parent[slash - d->path] = 0;
        *ret_base = slash + 1;
        return cg_walk_dir(parent, d->v2, false, NULL, NULL, ret_fd);
}

/* ---- create and remove ----------------------------------------------- */

static int rmdir_cg_path(const CgDir *d)
{
        _cleanup_close_ int pfd = -1;
        const char *base;
        int r = open_parent(d, &pfd, &base);

        if (r < 0)
                return r;
        return unlinkat(pfd, base, AT_REMOVEDIR) < 0 ? -errno : 0;
}

/* Open the directory path (absolute, normalised) from "/" without
 * following symlinks (dir_walk). With create, missing components are made,
 * but only where step agrees (it refuses a parent outside a cgroup file
 * system of the expected version), and step runs for each component with
 * its parent: cgroup-lifecycle.c
 * switches controllers on and fills v1 cpusets there, top-down, so each
 * child sees what its parent was given. The result is checked to be on the
 * cgroup file system. */
int cg_walk_dir(const char *path, bool v2, bool create, CgWalkStep step, void *arg, int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        int r;

        if (!path_is_normalized_absolute(path) || (create && !step))
                return -EINVAL;
        r = dir_walk(AT_FDCWD, path, create ? 0755 : 0, step, arg, &fd);
        r = r < 0 ? r : cg_fd_is_cgroupfs(fd, v2);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The directory name below dfd, not following a symlink (fd or -errno). */
static int cg_open_child_dir(int dfd, const char *name)
{
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

typedef struct CreateWalk {
        bool v2;
        unsigned enable;
} CreateWalk;

/* Each component of the parent path on the way down: v1 cpuset dirs get
 * their parent's CPUs and memory nodes (no task may enter them otherwise),
 * v2 dirs made here, and the last one, get cubby's controllers switched on. */
static int create_walk_step(int pfd, int dfd, bool created, bool last, void *arg)
{
        const CreateWalk *w = arg;

        if (dfd < 0) /* about to make a component: only on a cgroup fs */
                return cg_fd_is_cgroupfs(pfd, w->v2);
        if (!w->v2)
                return (w->enable & CG_CTRL_CPUSET) ? cg_cpuset_v1_fill_if_empty(pfd, dfd, created) : 0;
        if (w->enable && (created || last))
                return cg_enable_controllers(dfd, w->enable);
        return 0;
}

static int create_once(const CgSet *user, const CgSet *session, const CgLimits *limits)
{
        int pfd[CG_MAX_DIRS], ufd[CG_MAX_DIRS];
        bool ucreated[CG_MAX_DIRS] = { 0 }, screated[CG_MAX_DIRS] = { 0 };
        bool cpus_on_v2 = !cg_set_has_v1_cpuset(user);
        size_t n = user->n, i;
        int r = 0;

        for (i = 0; i < CG_MAX_DIRS; i++)
                pfd[i] = ufd[i] = -1;

        /* Every user dir with its limits first, in every hierarchy ... */
        for (i = 0; i < n; i++) {
                const CgDir *u = &user->dir[i];
                const char *ubase = strrchr(u->path, '/') + 1;
                char parent[PATH_MAX];
                CreateWalk walk;
                unsigned enable = u->v2 ? u->ctrl & CG_CTRL_LIMITS : u->ctrl & CG_CTRL_CPUSET;

                memcpy(parent, u->path, (size_t)(ubase - 1 - u->path));
                parent[ubase - 1 - u->path] = 0;
                if (enable && u->v2 && cpus_on_v2 && limits->cpus && *limits->cpus)
                        enable |= CG_CTRL_CPUSET;
                walk = (CreateWalk){ .v2 = u->v2, .enable = enable };
                r = cg_walk_dir(parent, u->v2, true, create_walk_step, &walk, &pfd[i]);
                if (r < 0)
                        goto undo;
                if (mkdirat(pfd[i], ubase, 0755) == 0)
                        ucreated[i] = true;
                else if (errno != EEXIST) {
                        r = -errno;
                        goto undo;
                }
                ufd[i] = cg_open_child_dir(pfd[i], ubase);
                if (ufd[i] < 0) {
                        r = ufd[i];
                        goto undo;
                }
                /* v2: the sessions get no memory cgroup of their own (see
                 * cgroup.h); the user dir itself has one, enabled above */
                if (enable && u->v2) {
                        r = cg_enable_controllers(ufd[i], enable & ~CG_CTRL_MEMORY);
                        if (r < 0)
                                goto undo;
                }
                if (ucreated[i] && (enable & CG_CTRL_CPUSET) && !u->v2) {
                        r = cg_cpuset_v1_balance_off(pfd[i], ufd[i]);
                        if (r < 0)
                                goto undo;
                }
                r = cg_limits_dir(ufd[i], u, limits, cpus_on_v2);
                if (r < 0)
                        goto undo;
                CUBBY_FAULT("lib.cgroup.user_limited");
        }
        /* ... then the session dirs, the only place a process will enter. */
        for (i = 0; i < n; i++) {
                const char *sbase = strrchr(session->dir[i].path, '/') + 1;

                if (cg_dir_at_user(&session->dir[i]))
                        continue;
                if (mkdirat(ufd[i], sbase, 0755) < 0) {
                        r = -errno;
                        goto undo;
                }
                screated[i] = true;
                CUBBY_FAULT("lib.cgroup.session_made");
                /* v1 cpuset: the user dir's CPUs and memory nodes, before
                 * anything can be attached */
                if (!user->dir[i].v2 && (user->dir[i].ctrl & CG_CTRL_CPUSET)) {
                        _cleanup_close_ int sfd = cg_open_child_dir(ufd[i], sbase);

                        if (sfd < 0) {
                                r = sfd;
                                goto undo;
                        }
                        r = cg_cpuset_v1_balance_off(ufd[i], sfd);
                        if (r >= 0)
                                r = cg_cpuset_v1_inherit(ufd[i], sfd);
                        if (r < 0)
                                goto undo;
                }
        }
        r = 0;
        goto out;

undo:
        for (i = n; i-- > 0;) {
                if (screated[i])
                        (void)unlinkat(ufd[i], strrchr(session->dir[i].path, '/') + 1, AT_REMOVEDIR);
                /* EBUSY here: another session of this user got in meanwhile. */
                if (ucreated[i] && pfd[i] >= 0)
                        (void)unlinkat(pfd[i], strrchr(user->dir[i].path, '/') + 1, AT_REMOVEDIR);
        }
out:
        for (i = 0; i < n; i++) {
                closep(&pfd[i]);
                closep(&ufd[i]);
        }
        return r;
}

int cg_create(const CgSet *user, const CgSet *session, const CgLimits *limits)
{
        int r;

        r = sets_check(user, session);
        if (r < 0)
                return r;
        r = cg_limits_enforceable(user, limits);
        if (r < 0)
                return r;
        /* -ENOENT: the last other session of this user removed the user dir
         * between our mkdir and our use of it. Start over, a few times. */
        for (int attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
                r = create_once(user, session, limits);
                if (r != -ENOENT)
                        break;
        }
        return r;
}

int cg_create_below(const CgSet *dirs, bool exclusive)
{
        bool created[CG_MAX_DIRS] = { 0 };
        size_t i;
        int r = 0;

        r = cg_set_check(dirs);
        if (r < 0)
                return r;
        for (i = 0; i < dirs->n; i++) {
                _cleanup_close_ int pfd = -1, dfd = -1;
                const CgDir *d = &dirs->dir[i];
                const char *base;

                if (cg_dir_at_user(d))
                        continue;
                r = open_parent(d, &pfd, &base);
                if (r < 0)
                        goto undo;
                if (mkdirat(pfd, base, 0755) == 0)
                        created[i] = true;
                else if (errno != EEXIST || exclusive) {
                        r = -errno;
                        goto undo;
                }
                dfd = cg_open_child_dir(pfd, base);
                if (dfd < 0) {
                        r = dfd;
                        goto undo;
                }
                r = cg_fd_is_cgroupfs(dfd, d->v2);
                if (r < 0)
                        goto undo;
                /* one made a moment ago by another login that has not
                 * filled it yet is filled here too (nobody can be in it) */
                if (!d->v2 && (d->ctrl & CG_CTRL_CPUSET)) {
                        r = created[i] ? cg_cpuset_v1_balance_off(pfd, dfd) : 0;
                        if (r >= 0)
                                r = cg_cpuset_v1_fill_if_empty(pfd, dfd, created[i]);
                        if (r < 0)
                                goto undo;
                }
        }
        return 0;

undo:
        for (size_t j = 0; j <= i && j < dirs->n; j++)
                if (created[j])
                        (void)rmdir_cg_path(&dirs->dir[j]);
        return r;
}

/* 0 when d is gone, 1 when busy_ok and it is busy (kept), or -errno. */
static int rmdir_cg(const CgDir *d, bool busy_ok)
{
        _cleanup_close_ int pfd = -1;
        const char *base;
        int r;

        r = open_parent(d, &pfd, &base);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (unlinkat(pfd, base, AT_REMOVEDIR) < 0) {
                if (errno == ENOENT)
                        return 0;
                if (busy_ok && (errno == EBUSY || errno == ENOTEMPTY))
                        return 1;
                return -errno;
        }
        return 0;
}

/* A user dir that sessions join without a dir of their own (memory): empty
 * of child dirs while the user's sessions live, so it goes only after the
 * user dir is gone in every other hierarchy, which their dirs keep. */
static bool user_dir_joined(const CgDir *d)
{
        return !cg_dir_at_user(d) && cg_hier_at_user(d->v2, d->ctrl);
}

int cg_set_unjoin(CgSet *set, const char *name)
{
        for (size_t i = 0; i < set->n; i++) {
                CgDir *d = &set->dir[i];
                size_t l = strlen(d->path);

                if (!cg_dir_at_user(d))
                        continue;
                if (snprintf(d->path + l, sizeof d->path - l, "/%s", name) >= (int)(sizeof d->path - l))
                        return -ENAMETOOLONG;
                d->ctrl &= ~CG_DIR_USER;
        }
        return cg_set_check(set);
}

int cg_remove(const CgSet *user, const CgSet *session)
{
        bool kept = false;
        int r = 0, k;

        if ((user && cg_set_check(user) < 0) || (session && cg_set_check(session) < 0))
                return -EINVAL;
        for (size_t i = 0; session && i < session->n; i++) {
                if (cg_dir_at_user(&session->dir[i]))
                        continue;
                k = rmdir_cg(&session->dir[i], false);
                if (k < 0 && r == 0)
                        r = k;
        }
        /* The parent of the user dirs is never removed: it may be delegated
         * to cubby by a unit that owns it. */
        for (int pass = 0; pass < 2 && user; pass++)
                for (size_t i = 0; i < user->n; i++) {
                        if (user_dir_joined(&user->dir[i]) != (pass == 1) || (pass == 1 && kept))
                                continue;
                        k = rmdir_cg(&user->dir[i], true);
                        kept |= k != 0;
                        if (k < 0 && r == 0)
                                r = k;
                }
        return r;
}

int cg_has_children(const CgSet *dirs)
{
        if (cg_set_check(dirs) < 0)
                return -EINVAL;
        for (size_t i = 0; i < dirs->n; i++) {
                _cleanup_close_ int fd = -1;
                struct dirent *de;
                DIR *d;
                int r;

                if (cg_dir_at_user(&dirs->dir[i]))
                        continue;
                r = cg_dir_open(&dirs->dir[i], &fd);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                d = fdopendir(fd);
                if (!d)
                        return -errno;
                (void)TAKE_FD(fd); /* d owns it now */
                while ((de = readdir(d)))
                        if (de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 &&
                            strcmp(de->d_name, "..") != 0)
                                break;
                closedir(d);
                if (de)
                        return 1;
        }
        return 0;
}

int cg_remove_dirs(const CgSet *dirs, bool busy_ok)
{
        int r = 0;

        if (cg_set_check(dirs) < 0)
                return -EINVAL;
        /* a joined user dir last, and only where every other one went */
        for (int pass = 0; pass < 2 && !(pass == 1 && r); pass++)
                for (size_t i = 0; i < dirs->n; i++) {
                        int k;

                        if (cg_dir_at_user(&dirs->dir[i]) || user_dir_joined(&dirs->dir[i]) != (pass == 1))
                                continue;
                        k = rmdir_cg_path(&dirs->dir[i]);
                        if (k == -ENOENT)
                                continue;
                        if (busy_ok && (k == -EBUSY || k == -ENOTEMPTY))
                                k = 1;
                        if (k < 0)
                                return k;
                        r |= k;
                }
        return r;
}

/* ---- populated, kill ------------------------------------------------- */

/* 1 if any process is in dfd (v2: or below it), 0 if not. */
static int dir_populated(int dfd, bool v2)
{
        _cleanup_close_ int fd = -1;
        char buf[64];
        ssize_t n;

        if (v2) {
                _cleanup_free_ char *ev = NULL;
                const char *p;
                int r = read_file_at(dfd, "cgroup.events", 4096, &ev, NULL, NULL);

                if (r < 0)
                        return r;
                for (p = ev; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                        if (strncmp(p, "populated ", 10) == 0)
                                return p[10] == '1';
                return -EBADMSG;
        }
        fd = openat(dfd, "cgroup.procs", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        do
                n = read(fd, buf, sizeof buf);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return n > 0;
}

static int dir_populated_cg(const CgDir *d)
{
        _cleanup_close_ int fd = -1;
        int r = cg_dir_open(d, &fd);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return dir_populated(fd, d->v2);
}

int cg_populated(const CgSet *set)
{
        int r = cg_set_check(set);

        if (r < 0)
                return r;
        for (size_t i = 0; i < set->n; i++) {
                if (cg_dir_at_user(&set->dir[i]))
                        continue; /* the user's other sessions are there */
                r = dir_populated_cg(&set->dir[i]);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int cmp_pid(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

        return (x > y) - (x < y);
}

/* The pids in dfd's cgroup.procs, sorted. */
static int read_pids(int dfd, pid_t **ret, size_t *ret_n)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0, cap = 0;
        char *p, *save = NULL;
        int r;

        r = read_file_at(dfd, "cgroup.procs", PROCS_MAX, &text, NULL, NULL);
        if (r < 0)
                return r;
        for (p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
                pid_t pid;

                /* 0: a process outside our pid namespace; nothing to signal. */
                if (strcmp(p, "0") == 0)
                        continue;
                r = parse_pid(p, &pid);
                if (r < 0)
                        return r;
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        pid_t *np = realloc(pids, ncap * sizeof *np);

                        if (!np)
                                return -ENOMEM;
                        pids = np;
                        cap = ncap;
                }
                pids[n++] = pid;
        }
        if (n > 1)
                qsort(pids, n, sizeof *pids, cmp_pid);
        *ret = TAKE_PTR(pids);
        *ret_n = n;
        return 0;
}

/* SIGKILL every process listed in dfd's cgroup.procs without ever hitting a
 * process outside the cgroup when a pid is recycled: pin each pid with a
 * pidfd first, then signal only those still listed afterwards (a pidfd of
 * a process that is still alive and listed is that same process). */
static int kill_listed(int dfd)
{
        _cleanup_free_ pid_t *first = NULL;
        size_t n = 0;
        int r;

        r = read_pids(dfd, &first, &n);
        if (r < 0)
                return r;
        for (size_t off = 0; off < n; off += KILL_CHUNK) {
                _cleanup_free_ pid_t *now = NULL;
                int pfd[KILL_CHUNK];
                size_t m = n - off < KILL_CHUNK ? n - off : KILL_CHUNK, n_now = 0;

                for (size_t i = 0; i < m; i++) {
                        long k = syscall(__NR_pidfd_open, first[off + i], 0);

                        /* ENOSYS (before 5.3): plain kill() below, the old race. */
                        pfd[i] = k < 0 ? (errno == ENOSYS ? -2 : -1) : (int)k;
                }
                r = read_pids(dfd, &now, &n_now);
                for (size_t i = 0; i < m; i++) {
                        if (r >= 0 && pfd[i] != -1 &&
                            bsearch(&first[off + i], now, n_now, sizeof *now, cmp_pid)) {
                                if (pfd[i] >= 0)
                                        (void)syscall(__NR_pidfd_send_signal, pfd[i], SIGKILL, NULL, 0);
                                else
                                        (void)kill(first[off + i], SIGKILL);
                        }
                        if (pfd[i] >= 0)
                                close(pfd[i]);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static int64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Sleep the current backoff step (never past deadline) and grow it. With
 * evfd (a v2 dir's cgroup.events, read since the last change) the kernel
 * wakes us as soon as the dir's state changes. */
static void backoff(long *step, int64_t deadline, int evfd)
{
        int64_t left = deadline - now_ns();
        struct timespec ts;

        if (left <= 0)
                return;
        if (left > *step)
                left = *step;
        ts.tv_sec = 0;
        ts.tv_nsec = (long)left;
        if (evfd >= 0) {
                struct pollfd p = { .fd = evfd, .events = POLLPRI };

                (void)ppoll(&p, 1, &ts, NULL);
        } else {
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
        }
        if (*step < BACKOFF_MAX_NS)
                *step *= 2;
}

int cg_task_dying_text(const char *stat, const char *status)
{
        const char *p = stat ? strrchr(stat, ')') : NULL;
        unsigned long long flags;
        char state, *end;

        /* fields after comm: state (3), then ppid, pgrp, session, tty_nr,
         * tpgid, and flags (9) six separators on */
        if (!p || p[1] != ' ' || !p[2])
                return -EBADMSG;
        p += 2;
        state = *p;
        for (int i = 0; i < 6 && p; i++) {
                p = strchr(p, ' ');
                p = p ? p + 1 : NULL;
        }
        if (!p || *p < '0' || *p > '9')
                return -EBADMSG;
        errno = 0;
        flags = strtoull(p, &end, 10);
        if (errno || end == p)
                return -EBADMSG;
        if (state == 'Z' || state == 'X' || state == 'x' || (flags & CG_PF_EXITING))
                return 1;
        for (const char *l = status; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                unsigned long long mask;

                if (strncmp(l, "SigPnd:", 7) != 0 && strncmp(l, "ShdPnd:", 7) != 0)
                        continue;
                errno = 0;
                mask = strtoull(l + 7, &end, 16);
                if (!errno && end != l + 7 && (mask & (1ull << (SIGKILL - 1))))
                        return 1;
        }
        return 0;
}

/* 1 if pid is gone or certain to go (exiting, or SIGKILL pending), 0 if
 * it may live on. */
static int task_dying(pid_t pid)
{
        _cleanup_free_ char *stat = NULL, *status = NULL;
        char path[64];
        int r;

        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        r = read_file_at(AT_FDCWD, path, 4096, &stat, NULL, NULL);
        if (r >= 0) {
                snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
                r = read_file_at(AT_FDCWD, path, 1 << 16, &status, NULL, NULL);
        }
        if (r == -ENOENT || r == -ESRCH)
                return 1;
        return r < 0 ? r : cg_task_dying_text(stat, status);
}

/* 1 if every process listed in dfd's cgroup.procs is certain to go, 0 if
 * one is not (a fork that raced the kill, a pid of another pid namespace
 * listed as 0, which we cannot judge), -errno. */
static int listed_dying(int dfd)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r;

        r = read_file_at(dfd, "cgroup.procs", PROCS_MAX, &text, NULL, NULL);
        if (r < 0)
                return r;
        /* read_pids drops the 0s: a process we cannot see may not be dying */
        for (const char *p = text; *p; p = strchr(p, '\n'), p = p ? p + 1 : "")
                if (p[0] == '0' && (p[1] == '\n' || p[1] == 0))
                        return 0;
        r = read_pids(dfd, &pids, &n);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = task_dying(pids[i]);
                if (r == 0)
                        return 0;
        }
        return r < 0 ? r : 1;
}

/* v1 freezer: nothing in a frozen cgroup can fork, exit or be reaped, so the
 * pids read while frozen are exactly its processes. A task that does not
 * freeze in time (stuck in D state) is killed anyway, with the pidfd check. */
static void freeze_kill(int ffd, int64_t deadline)
{
        int64_t half = now_ns() + (deadline - now_ns()) / 2;
        long step = BACKOFF_START_NS;

        if (write_string_at(ffd, "freezer.state", "FROZEN") >= 0)
                for (;;) {
                        _cleanup_free_ char *st = NULL;

                        if (read_file_at(ffd, "freezer.state", 64, &st, NULL, NULL) < 0)
                                break;
                        if (strncmp(st, "FROZEN", 6) == 0 || now_ns() >= half)
                                break;
                        backoff(&step, half, -1);
                }
        (void)kill_listed(ffd);
        /* SIGKILL is delivered once the tasks run again. */
        (void)write_string_at(ffd, "freezer.state", "THAWED");
}

/* The v2 dir's cgroup.events, read: what backoff polls, 1 if populated. */
static int events_populated(int evfd)
{
        char buf[256];
        ssize_t n;

        do
                n = pread(evfd, buf, sizeof buf - 1, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        buf[n] = 0;
        for (const char *p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, "populated ", 10) == 0)
                        return p[10] == '1';
        return -EBADMSG;
}

/* Past the timeout: 1 if every populated dir holds only processes certain
 * to go, 0 if not, -errno. */
static int set_dying(const CgSet *session, const int *fds, const int *pop)
{
        for (size_t i = 0; i < session->n; i++) {
                int r;

                if (pop[i] <= 0 || fds[i] < 0)
                        continue;
                r = listed_dying(fds[i]);
                if (r == -ENOENT || r == -ENODEV)
                        continue; /* removed meanwhile */
                if (r <= 0)
                        return r;
        }
        return 1;
}

int cg_kill(const CgSet *session, unsigned timeout_ms, unsigned cap_ms)
{
        int fds[CG_MAX_DIRS];
        int64_t t0 = now_ns();
        int64_t soft = t0 + (int64_t)timeout_ms * 1000000;
        int64_t hard = t0 + (int64_t)(cap_ms > timeout_ms ? cap_ms : timeout_ms) * 1000000;
        long step = BACKOFF_START_NS;
        int v2_killed = -1, evdir = -1, r;
        _cleanup_close_ int evfd = -1;
        unsigned not_dying = 0;
        bool loop = false;

        r = cg_set_check(session);
        if (r < 0)
                return r;
        for (size_t i = 0; i < CG_MAX_DIRS; i++)
                fds[i] = -1;
        /* a dir marked as the user's is never opened: the user's other
         * sessions are in it (fds[i] stays -1, "empty") */
        for (size_t i = 0; i < session->n; i++) {
                if (cg_dir_at_user(&session->dir[i]))
                        continue;
                r = cg_dir_open(&session->dir[i], &fds[i]);
                if (r < 0 && r != -ENOENT)
                        goto out;
                if (evfd < 0 && fds[i] >= 0 && session->dir[i].v2) {
                        evfd = openat(fds[i], "cgroup.events", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        evdir = (int)i;
                }
        }

        /* cgroup.kill (5.14+) kills the whole subtree atomically, forks included. */
        for (size_t i = 0; i < session->n && v2_killed < 0; i++)
                if (session->dir[i].v2 && fds[i] >= 0 &&
                    write_string_at(fds[i], "cgroup.kill", "1") >= 0)
                        v2_killed = (int)i;
        if (v2_killed < 0) {
                loop = true;
                for (size_t i = 0; i < session->n; i++)
                        if (!session->dir[i].v2 && (session->dir[i].ctrl & CG_CTRL_FREEZER) && fds[i] >= 0) {
                                freeze_kill(fds[i], soft);
                                break;
                        }
        }

        /* Wait for every dir to empty. Processes listed in a dir that the
         * first method did not reach (no cgroup.kill and no freezer, or
         * strays present in a v1 dir only) are swept with the kill loop.
         * Past timeout_ms the wait follows the processes, not the clock:
         * with thousands exiting at once on a few CPUs, a process killed
         * seconds ago may still wait for a CPU to run its exit. It goes on
         * while every process left is certain to go (exiting, a zombie,
         * SIGKILL pending); one that is not (a fork that raced the kill)
         * is killed again, and if that does not take, or at cap_ms (a
         * task stuck in D state on a dead NFS server), it is -ETIMEDOUT. */
        for (unsigned round = 0;; round++) {
                bool any = false, v2_busy = false;
                int pop[CG_MAX_DIRS];

                for (size_t i = 0; i < session->n; i++) {
                        if (fds[i] < 0)
                                pop[i] = 0;
                        else if ((int)i == evdir && evfd >= 0)
                                pop[i] = events_populated(evfd);
                        else
                                pop[i] = dir_populated(fds[i], session->dir[i].v2);
                        if (pop[i] == -ENOENT || pop[i] == -ENODEV)
                                pop[i] = 0; /* removed meanwhile */
                        if (pop[i] < 0) {
                                r = pop[i];
                                goto out;
                        }
                        any |= pop[i] > 0;
                }
                if (!any) {
                        r = 0;
                        goto out;
                }
                if (now_ns() >= hard) {
                        r = -ETIMEDOUT;
                        goto out;
                }
                if (now_ns() >= soft) {
                        r = set_dying(session, fds, pop);
                        if (r < 0)
                                goto out;
                        not_dying = r ? 0 : not_dying + 1;
                        /* killed again below; still there after that, twice */
                        if (not_dying > NOT_DYING_ROUNDS) {
                                r = -ETIMEDOUT;
                                goto out;
                        }
                }
                if (v2_killed >= 0)
                        v2_busy = pop[v2_killed] > 0;
                for (size_t i = 0; i < session->n; i++)
                        if (pop[i] > 0 && (loop || not_dying > 0 || (round >= 2 && !v2_busy)))
                                (void)kill_listed(fds[i]);
                backoff(&step, hard, evfd);
        }
out:
        for (size_t i = 0; i < CG_MAX_DIRS; i++)
                closep(&fds[i]);
        return r;
}
