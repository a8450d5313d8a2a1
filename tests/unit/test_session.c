/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/session.c: the per-user lock, the home reference counts, the count of
 * live sessions and the garbage collector, on real files in a scratch dir.
 * The lock and the counts run as any user; what reads records (count_live,
 * gc, session_dir_open's owner check) needs root, because only a
 * root-owned record is trusted: those tests skip otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cubby/proc.h"
#include "cubby/record-write.h"
#include "cubby/record.h"
#include "cubby/gc.h"
#include "cubby/session.h"
#include "cubby/util.h"
#include "scratch.h"

typedef struct Scratch {
        char dir[64];
        int dfd;
} Scratch;

static int scratch_setup(void **state)
{
        Scratch *s = calloc(1, sizeof *s);

        assert_non_null(s);
        strcpy(s->dir, "/tmp/cubby-test-session-XXXXXX");
        s->dfd = scratch_make(s->dir);
        assert_true(s->dfd >= 0);
        *state = s;
        return 0;
}

static int scratch_teardown(void **state)
{
        Scratch *s = *state;

        close(s->dfd);
        assert_int_equal(scratch_remove(s->dir), 0);
        free(s);
        return 0;
}

static uint64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the per-user lock -------------------------------------------------- */

static void test_lock_exclusive_and_bounded(void **state)
{
        Scratch *s = *state;
        _cleanup_close_ int a = -1, b = -1, other = -1;
        struct stat st;
        uint64_t t0;

        assert_int_equal(session_lock_user(s->dfd, 1234, 0, &a), 0);
        assert_int_equal(fstatat(s->dfd, "u1234.lock", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0600);
        /* A second holder (its own open file description, as another
         * process would have) waits, then gives up after the timeout. */
        t0 = now_ms();
        assert_int_equal(session_lock_user(s->dfd, 1234, 60, &b), -ETIMEDOUT);
        assert_true(now_ms() - t0 >= 50);
        assert_int_equal(b, -1);
        /* Another user's lock is independent. */
        assert_int_equal(session_lock_user(s->dfd, 1235, 0, &other), 0);
        /* Closing the fd releases the lock. */
        close(a);
        a = -1;
        assert_int_equal(session_lock_user(s->dfd, 1234, 0, &b), 0);
}

static void test_lock_waits_for_release(void **state)
{
        Scratch *s = *state;
        _cleanup_close_ int held = -1, got = -1;
        int ready[2], rc;
        pid_t child;
        char c;

        assert_int_equal(pipe(ready), 0);
        child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                int fd;

                close(ready[0]);
                if (session_lock_user(s->dfd, 77, 0, &fd) < 0)
                        _exit(1);
                /* tell the parent we hold it, hold it a while, exit */
                if (write(ready[1], "x", 1) != 1)
                        _exit(1);
                usleep(150 * 1000);
                _exit(0);
        }
        close(ready[1]);
        assert_int_equal(read(ready[0], &c, 1), 1);
        close(ready[0]);
        assert_int_equal(session_lock_user(s->dfd, 77, 0, &held), -ETIMEDOUT);
        /* The holder exits within its 150 ms; the wait is bounded at 10 s. */
        assert_int_equal(session_lock_user(s->dfd, 77, 10000, &got), 0);
        /* its status says nothing more (under valgrind a child's _exit
         * reports the parent's heap): the byte above proved it held it */
        assert_int_equal(waitpid(child, &rc, 0), child);
}

static void test_lock_refuses_symlink(void **state)
{
        Scratch *s = *state;
        _cleanup_close_ int fd = -1;
        struct stat st;

        /* a planted symlink must not make root create or lock its target */
        assert_int_equal(symlinkat("victim", s->dfd, "u55.lock"), 0);
        assert_int_equal(session_lock_user(s->dfd, 55, 0, &fd), -ELOOP);
        assert_int_equal(fstatat(s->dfd, "victim", &st, 0), -1);
        assert_int_equal(errno, ENOENT);
}

/* ---- home reference counts --------------------------------------------- */

static void test_home_refs(void **state)
{
        Scratch *s = *state;
        unsigned n = 99;
        struct stat st;

        /* missing file: no sessions */
        assert_int_equal(session_home_refs_get(s->dfd, 1001, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(session_home_refs_set(s->dfd, 1001, 3), 0);
        assert_int_equal(session_home_refs_get(s->dfd, 1001, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(fstatat(s->dfd, "u1001.homes", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        /* per user */
        assert_int_equal(session_home_refs_get(s->dfd, 1002, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(session_home_refs_set(s->dfd, 1001, UINT32_MAX), 0);
        assert_int_equal(session_home_refs_get(s->dfd, 1001, &n), 0);
        assert_int_equal(n, UINT32_MAX);
        /* 0 removes the file, and removing twice is harmless */
        assert_int_equal(session_home_refs_set(s->dfd, 1001, 0), 0);
        assert_int_equal(fstatat(s->dfd, "u1001.homes", &st, AT_SYMLINK_NOFOLLOW), -1);
        assert_int_equal(session_home_refs_set(s->dfd, 1001, 0), 0);
        assert_int_equal(session_home_refs_get(s->dfd, 1001, &n), 0);
        assert_int_equal(n, 0);
}

static void test_home_refs_malformed(void **state)
{
        static const char *const bad[] = {
                "", "\n", "-1\n", "+1\n", " 1\n", "1 \n", "1x\n", "0x10\n", "4294967296\n",
                "18446744073709551616\n",
        };
        Scratch *s = *state;

        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                unsigned n = 7;

                assert_int_equal(write_file_atomic_at_nosync(s->dfd, "u9.homes", bad[i], strlen(bad[i]),
                                                             0600),
                                 0);
                if (session_home_refs_get(s->dfd, 9, &n) != -EBADMSG)
                        fail_msg("count file '%s' accepted as %u", bad[i], n);
        }
        /* a symlink in place of the count is not followed */
        assert_int_equal(unlinkat(s->dfd, "u9.homes", 0), 0);
        assert_int_equal(write_file_atomic_at_nosync(s->dfd, "target", "5\n", 2, 0600), 0);
        assert_int_equal(symlinkat("target", s->dfd, "u9.homes"), 0);
        {
                unsigned n = 7;

                assert_true(session_home_refs_get(s->dfd, 9, &n) < 0);
        }
}

/* ---- small pieces -------------------------------------------------------- */

static void test_user_set(void **state)
{
        CgSet sess = { 0 }, user;

        (void)state;
        sess.n = 2;
        strcpy(sess.dir[0].path, "/sys/fs/cgroup/memory/cubby/u1001/s0123456789abcdef");
        strcpy(sess.dir[1].path, "/sys/fs/cgroup/unified/cubby/u1001/s0123456789abcdef");
        assert_int_equal(session_user_set(&sess, &user), 0);
        assert_int_equal(user.n, 2);
        assert_string_equal(user.dir[0].path, "/sys/fs/cgroup/memory/cubby/u1001");
        assert_string_equal(user.dir[1].path, "/sys/fs/cgroup/unified/cubby/u1001");
        /* not <...>/u<uid>/s<id>: refused, never a guess at a parent */
        strcpy(sess.dir[1].path, "/sys/fs/cgroup/unified/cubby/x1001/s01");
        assert_int_equal(session_user_set(&sess, &user), -EINVAL);
        strcpy(sess.dir[1].path, "/sys/fs/cgroup/unified/cubby/u1001/t01");
        assert_int_equal(session_user_set(&sess, &user), -EINVAL);
        strcpy(sess.dir[1].path, "/s01");
        assert_int_equal(session_user_set(&sess, &user), -EINVAL);
}

static void test_lock_dir_path(void **state)
{
        char buf[PATH_MAX], small[8];

        (void)state;
        assert_int_equal(session_lock_dir_path("/run/cubby", buf, sizeof buf), 0);
        assert_string_equal(buf, "/run/cubby/locks");
        assert_int_equal(session_lock_dir_path("/run/cubby", small, sizeof small), -ENAMETOOLONG);
}

static void test_dir_open(void **state)
{
        Scratch *s = *state;
        char path[PATH_MAX];
        _cleanup_close_ int fd = -1;
        struct stat st;

        assert_int_equal(session_dir_open("relative/path", true, &fd), -EINVAL);
        assert_int_equal(session_dir_open("/tmp/../etc", true, &fd), -EINVAL);
        snprintf(path, sizeof path, "%s/missing", s->dir);
        assert_int_equal(session_dir_open(path, false, &fd), -ENOENT);
        /* a symlinked component is refused and nothing is made below it */
        assert_int_equal(mkdirat(s->dfd, "real", 0700), 0);
        assert_int_equal(symlinkat("real", s->dfd, "link"), 0);
        snprintf(path, sizeof path, "%s/link/sessions", s->dir);
        {
                /* O_NOFOLLOW|O_DIRECTORY on a symlink: ENOTDIR here, ELOOP
                 * on other kernels; refused either way */
                int r = session_dir_open(path, true, &fd);

                assert_true(r == -ENOTDIR || r == -EPERM);
        }
        assert_int_equal(fstatat(s->dfd, "real/sessions", &st, 0), -1);
        if (geteuid() != 0) {
                /* what an ordinary user creates is not root's: refused */
                snprintf(path, sizeof path, "%s/a/b", s->dir);
                assert_int_equal(session_dir_open(path, true, &fd), -EPERM);
                return;
        }
        snprintf(path, sizeof path, "%s/a/b", s->dir);
        assert_int_equal(session_dir_open(path, true, &fd), 0);
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(fstatat(s->dfd, "a", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        close(fd);
        fd = -1;
        /* open again; then loosened modes or another owner are refused */
        assert_int_equal(session_dir_open(path, false, &fd), 0);
        close(fd);
        fd = -1;
        assert_int_equal(chmod(path, 0750), 0);
        assert_int_equal(session_dir_open(path, false, &fd), -EPERM);
        assert_int_equal(chmod(path, 0700), 0);
        assert_int_equal(chown(path, 65534, 0), 0);
        assert_int_equal(session_dir_open(path, false, &fd), -EPERM);
}

/* ---- live counts and gc (records: root only) --------------------------- */

typedef struct Tree {
        int sessions;
        int locks;
} Tree;

static void tree_open(Scratch *s, Tree *t)
{
        assert_int_equal(mkdirat(s->dfd, "sessions", 0700), 0);
        assert_int_equal(mkdirat(s->dfd, "locks", 0700), 0);
        t->sessions = openat(s->dfd, "sessions", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        t->locks = openat(s->dfd, "locks", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(t->sessions >= 0 && t->locks >= 0);
}

static void tree_close(Tree *t)
{
        close(t->sessions);
        close(t->locks);
}

/* A record of uid for the opener pid/start. Its cgroup dir names a path
 * that does not exist (a component with our pid that nothing creates), so
 * a teardown finds nothing to kill or remove and gc only removes the
 * record. */
static char home_run_dir[PATH_MAX] = "/run/cubby";

static void put_record_home(int sessions, pid_t pid, uint64_t start, uid_t uid, bool sandbox, bool ready,
                            const char *home_mount, bool home_direct)
{
        _cleanup_free_ Record *r = calloc(1, sizeof *r);

        assert_non_null(r);
        r->version = 1;
        strcpy(r->id, "0123456789abcdef");
        r->ready = ready;
        r->opener_pid = pid;
        r->opener_start = start;
        r->uid = uid;
        r->gid = uid;
        snprintf(r->user, sizeof r->user, "u%u", (unsigned)uid);
        snprintf(r->home, sizeof r->home, "/home/u%u", (unsigned)uid);
        strcpy(r->shell, "/bin/bash");
        r->mode = RECORD_MODE_REDIRECT;
        strcpy(r->redirect, "/bin/bash");
        r->sandbox = sandbox;
        strcpy(r->service, "sshd");
        strcpy(r->hostname, "lab");
        r->created = 1700000000;
        strcpy(r->state_dir, "/var/lib/cubby");
        strcpy(r->run_dir, "/run/cubby");
        r->cgroup.n = 1;
        r->cgroup.dir[0] = (CgDir){ .v2 = true, .ctrl = CG_CTRL_NONE_V2 };
        snprintf(r->cgroup.dir[0].path, sizeof r->cgroup.dir[0].path,
                 "/sys/fs/cgroup/cubby-unit-absent-%d/u%u/s0123456789abcdef", (int)getpid(),
                 (unsigned)uid);
        snprintf(r->home_mount, sizeof r->home_mount, "%s", home_mount);
        r->home_direct = home_direct;
        /* where a home is named: a run dir of the test's own */
        if (home_mount[0])
                snprintf(r->run_dir, sizeof r->run_dir, "%s", home_run_dir);
        assert_int_equal(session_record_write(sessions, r), 0);
}

static void put_record(int sessions, pid_t pid, uint64_t start, uid_t uid, bool sandbox, bool ready)
{
        put_record_home(sessions, pid, start, uid, sandbox, ready, "", false);
}

/* The start times of this process and of its parent: two live openers. */
static void opener_starts(uint64_t *ret_me, uint64_t *ret_parent)
{
        assert_int_equal(proc_stat("/proc", getpid(), NULL, ret_me), 0);
        assert_int_equal(proc_stat("/proc", getppid(), NULL, ret_parent), 0);
}

/* A pid that existed and is gone (reaped): nothing can be alive there
 * with our start time. */
static pid_t dead_pid(void)
{
        pid_t p = fork();

        assert_true(p >= 0);
        if (p == 0)
                _exit(0);
        assert_int_equal(waitpid(p, NULL, 0), p);
        return p;
}

static void test_count_live(void **state)
{
        Scratch *s = *state;
        char key[RECORD_KEY_MAX];
        uint64_t me_start;
        pid_t me = getpid();
        int u = -1;
        Tree t;

        if (geteuid() != 0)
                skip(); /* records are trusted only when root-owned */
        tree_open(s, &t);
        assert_int_equal(proc_stat("/proc", me, NULL, &me_start), 0);
        assert_int_equal(session_count_live(t.sessions, 2001, NULL, false), 0);
        /* alive: our own pid and start time */
        put_record(t.sessions, me, me_start, 2001, true, true);
        assert_int_equal(session_count_live(t.sessions, 2001, NULL, false), 1);
        /* the same pid with another start time is a reused pid: not alive */
        put_record(t.sessions, me, me_start + 1, 2001, true, true);
        /* a dead opener */
        put_record(t.sessions, dead_pid(), me_start, 2001, true, true);
        /* alive (our parent), but still preparing */
        {
                uint64_t pstart;

                assert_int_equal(proc_stat("/proc", getppid(), NULL, &pstart), 0);
                put_record(t.sessions, getppid(), pstart, 2001, true, false);
        }
        /* temp files and unreadable entries are not records */
        assert_int_equal(record_user_dir(t.sessions, 2001, false, &u), 0);
        assert_int_equal(write_file_atomic_at_nosync(u, ".tmp-1-x", "junk", 4, 0600), 0);
        assert_int_equal(write_file_atomic_at_nosync(u, "123-456", "junk", 4, 0600), 0);

        assert_int_equal(session_count_live(t.sessions, 2001, NULL, false), 2);
        assert_int_equal(session_count_live(t.sessions, 2001, NULL, true), 1);
        assert_int_equal(record_key(me, me_start, key, sizeof key), 0);
        assert_int_equal(session_count_live(t.sessions, 2001, key, false), 1);
        assert_int_equal(session_count_live(t.sessions, 2001, key, true), 0);
        /* a record not owned by root does not count */
        assert_int_equal(fchownat(u, key, 65534, 0, AT_SYMLINK_NOFOLLOW), 0);
        assert_int_equal(session_count_live(t.sessions, 2001, NULL, false), 1);
        close(u);
        tree_close(&t);
}

/* Only the user's own sandboxed records count: not another user's, not a
 * pass-through record (a user the policy does not sandbox). */
static void test_count_live_per_user(void **state)
{
        Scratch *s = *state;
        uint64_t me_start, p_start;
        Tree t;

        if (geteuid() != 0)
                skip();
        tree_open(s, &t);
        opener_starts(&me_start, &p_start);
        put_record(t.sessions, getpid(), me_start, 2003, false, true);
        put_record(t.sessions, getppid(), p_start, 2002, true, true);
        assert_int_equal(session_count_live(t.sessions, 2003, NULL, false), 0);
        assert_int_equal(session_count_live(t.sessions, 2002, NULL, false), 1);
        assert_int_equal(session_count_live(t.sessions, 2004, NULL, false), 0);
        tree_close(&t);
}

/* session_home_release: only the user's last holder resets the count
 * (and unmounts, where an anchor is); a record that may hold the home (an
 * overlay, or a login not ready yet) keeps it and takes no lock, a home =
 * direct one or another user's does not. */
static void test_home_release_last(void **state)
{
        Scratch *s = *state;
        uint64_t me_start, p_start;
        char key[RECORD_KEY_MAX];
        HomeSpec hs = { .state_dir = "/var/lib/cubby-unit-absent", .run_dir = s->dir, .user = "u2101",
                        .uid = 2101, .gid = 2101 };
        unsigned refs = 0;
        int held = -1;
        Tree t;

        if (geteuid() != 0)
                skip();
        tree_open(s, &t);
        opener_starts(&me_start, &p_start);
        assert_int_equal(record_key(getpid(), me_start, key, sizeof key), 0);
        assert_int_equal(session_home_refs_set(t.locks, 2101, 3), 0);

        /* another session with the overlay: not the last, and it does not
         * wait for the lock (held here by us: the count stays as it is) */
        put_record_home(t.sessions, getpid(), me_start, 2101, true, true, "/x/u2101/merged", false);
        assert_int_equal(session_lock_user(t.locks, 2101, 0, &held), 0);
        assert_int_equal(session_home_release(t.sessions, t.locks, &hs, 0), 0);
        close(held);
        assert_int_equal(session_home_refs_get(t.locks, 2101, &refs), 0);
        assert_int_equal(refs, 3);

        /* a login between its record and its home; the lock is free: the
         * count goes down by one, never to 0 while a holder is left */
        assert_int_equal(session_record_remove(t.sessions, 2101, key), 0);
        put_record_home(t.sessions, getpid(), me_start, 2101, true, false, "", false);
        assert_int_equal(session_home_release(t.sessions, t.locks, &hs, 1000), 0);
        assert_int_equal(session_home_refs_get(t.locks, 2101, &refs), 0);
        assert_int_equal(refs, 2);
        assert_int_equal(session_home_refs_set(t.locks, 2101, 1), 0);
        assert_int_equal(session_home_release(t.sessions, t.locks, &hs, 1000), 0);
        assert_int_equal(session_home_refs_get(t.locks, 2101, &refs), 0);
        assert_int_equal(refs, 1);

        /* home = direct, and another user's overlay: the last holder is gone */
        assert_int_equal(session_record_remove(t.sessions, 2101, key), 0);
        put_record_home(t.sessions, getpid(), me_start, 2101, true, true, "", true);
        put_record_home(t.sessions, getppid(), p_start, 2102, true, true, "/x/u2102/merged", false);
        assert_int_equal(session_home_release(t.sessions, t.locks, &hs, 1000), 0); /* no anchor here */
        assert_int_equal(session_home_refs_get(t.locks, 2101, &refs), 0);
        assert_int_equal(refs, 0);
        assert_int_equal(session_home_refs_get(t.locks, 2102, &refs), 0);
        assert_int_equal(refs, 0);

        /* gc reaps a dead session with the overlay: its close never
         * released the home, so gc does, and it was the last holder */
        snprintf(home_run_dir, sizeof home_run_dir, "%s", s->dir);
        assert_int_equal(session_home_refs_set(t.locks, 2103, 2), 0);
        put_record_home(t.sessions, dead_pid(), me_start, 2103, true, true, "/x/u2103/merged", false);
        assert_int_equal(session_gc(t.sessions, t.locks, NULL, NULL, NULL), 0);
        assert_int_equal(session_home_refs_get(t.locks, 2103, &refs), 0);
        assert_int_equal(refs, 0);
        snprintf(home_run_dir, sizeof home_run_dir, "/run/cubby");
        tree_close(&t);
}

typedef struct Reaped {
        unsigned n;
        pid_t pids[8];
} Reaped;

static void on_reap(const Record *rec, int result, void *userdata)
{
        Reaped *r = userdata;

        assert_int_equal(result, 0);
        if (r->n < 8)
                r->pids[r->n] = rec->opener_pid;
        r->n++;
}

static void test_gc(void **state)
{
        Scratch *s = *state;
        char key[RECORD_KEY_MAX], live[RECORD_KEY_MAX + 16], dead[RECORD_KEY_MAX + 16],
                reused[RECORD_KEY_MAX + 16];
        uint64_t me_start;
        pid_t gone = dead_pid();
        unsigned n = 99;
        Reaped rp = { 0 };
        struct stat st;
        Tree t;

        if (geteuid() != 0)
                skip();
        tree_open(s, &t);
        assert_int_equal(proc_stat("/proc", getpid(), NULL, &me_start), 0);
        put_record(t.sessions, getpid(), me_start, 3001, true, true);
        put_record(t.sessions, gone, me_start, 3001, true, true);
        put_record(t.sessions, getpid(), me_start + 7, 3002, true, false);
        /* each in its user's dir */
        assert_int_equal(record_key(getpid(), me_start, key, sizeof key), 0);
        snprintf(live, sizeof live, "u3001/%s", key);
        assert_int_equal(record_key(gone, me_start, key, sizeof key), 0);
        snprintf(dead, sizeof dead, "u3001/%s", key);
        assert_int_equal(record_key(getpid(), me_start + 7, key, sizeof key), 0);
        snprintf(reused, sizeof reused, "u3002/%s", key);
        /* unreadable: left for an admin to look at */
        assert_int_equal(write_file_atomic_at_nosync(t.sessions, "1-2", "junk", 4, 0600), 0);

        /* while another collector holds the gc lock, this one does nothing */
        {
                _cleanup_close_ int g = openat(t.locks, "gc.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);

                assert_true(g >= 0);
                assert_int_equal(flock(g, LOCK_EX), 0);
                assert_int_equal(session_gc(t.sessions, t.locks, on_reap, &rp, &n), 0);
                assert_int_equal(rp.n, 0);
                assert_int_equal(fstatat(t.sessions, dead, &st, 0), 0);
        }

        assert_int_equal(session_gc(t.sessions, t.locks, on_reap, &rp, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(rp.n, 2);
        assert_int_equal(fstatat(t.sessions, live, &st, 0), 0);
        assert_int_equal(fstatat(t.sessions, dead, &st, 0), -1);
        assert_int_equal(fstatat(t.sessions, reused, &st, 0), -1);
        assert_int_equal(fstatat(t.sessions, "1-2", &st, 0), 0);
        /* the user dir of the last reaped record goes with it */
        assert_int_equal(fstatat(t.sessions, "u3002", &st, 0), -1);
        assert_int_equal(fstatat(t.sessions, "u3001", &st, 0), 0);
        /* twice is harmless */
        rp.n = 0;
        assert_int_equal(session_gc(t.sessions, t.locks, on_reap, &rp, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(rp.n, 0);
        assert_int_equal(fstatat(t.sessions, live, &st, 0), 0);
        tree_close(&t);
}

static void count_note(const char *line, void *userdata)
{
        unsigned *n = userdata;

        if (strcmp(line, "reaped session 0123456789abcdef (user u3101): ok") == 0)
                (*n)++;
}

/* gc_run: GC_THROTTLE (the module's choice) reaps at most every
 * GC_INTERVAL_S, a stamp from the future counts as stale, no flag (as in
 * cubbyctl's GC_FULL) always reaps; each reaped record is one note line. */
static void test_gc_run_throttle(void **state)
{
        Scratch *s = *state;
        ConfGlobal global = { 0 };
        char name[RECORD_KEY_MAX], key[RECORD_KEY_MAX + 16];
        struct timespec future[2] = { { .tv_sec = time(NULL) + 3600 }, { .tv_sec = time(NULL) + 3600 } };
        uint64_t me_start;
        unsigned n = 99, notes = 0;
        struct stat st;
        pid_t gone;
        GcCtx g;
        Tree t;

        if (geteuid() != 0)
                skip();
        tree_open(s, &t);
        g = (GcCtx){ .global = &global, .sessions = t.sessions, .locks = t.locks, .note = count_note,
                     .userdata = &notes };
        assert_int_equal(proc_stat("/proc", getpid(), NULL, &me_start), 0);

        put_record(t.sessions, dead_pid(), me_start, 3101, true, true);
        assert_int_equal(gc_run(&g, GC_THROTTLE, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(notes, 1);
        assert_int_equal(fstatat(t.locks, "gc.stamp", &st, 0), 0);

        gone = dead_pid();
        put_record(t.sessions, gone, me_start, 3101, true, true);
        assert_int_equal(record_key(gone, me_start, name, sizeof name), 0);
        snprintf(key, sizeof key, "u3101/%s", name);
        assert_int_equal(gc_run(&g, GC_THROTTLE, &n), 0);
        assert_int_equal(n, 0); /* throttled: the dead record stays */
        assert_int_equal(fstatat(t.sessions, key, &st, 0), 0);

        assert_int_equal(utimensat(t.locks, "gc.stamp", future, 0), 0);
        assert_int_equal(gc_run(&g, GC_THROTTLE, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(fstatat(t.sessions, key, &st, 0), -1);

        put_record(t.sessions, dead_pid(), me_start, 3101, true, true);
        assert_int_equal(gc_run(&g, 0, &n), 0); /* unthrottled: reaps at once */
        assert_int_equal(n, 1);
        assert_int_equal(notes, 3);
        tree_close(&t);
}

typedef struct Walked {
        unsigned ok, bad;
        uid_t uids[64];
} Walked;

static int on_walk(int dirfd, const char *key, const Record *rec, int err, void *userdata)
{
        Walked *w = userdata;

        if (!rec) {
                assert_true(err < 0);
                w->bad++;
                return 0;
        }
        if (w->ok < 64)
                w->uids[w->ok] = rec->uid;
        w->ok++;
        return 0;
}

/* The one walker: a user's walk opens only that user's records, however
 * many other users hold (counted by the walk's own stats); the walk of
 * everything finds every user's, the records of an older cubby at the
 * top, and calls a record filed under another user's dir unreadable. */
static void test_walk_per_user(void **state)
{
        Scratch *s = *state;
        SessionWalkStats st = { 0 };
        Walked w = { 0 };
        uint64_t me_start;
        uid_t uid = 4000;
        char key[RECORD_KEY_MAX];
        Tree t;

        if (geteuid() != 0)
                skip();
        tree_open(s, &t);
        assert_int_equal(proc_stat("/proc", getpid(), NULL, &me_start), 0);
        /* 60 sessions of 20 other users, 3 of ours */
        for (unsigned i = 0; i < 60; i++)
                put_record(t.sessions, getpid(), me_start + 100 + i, 4100 + i % 20, true, true);
        for (unsigned i = 0; i < 3; i++)
                put_record(t.sessions, getpid(), me_start + i, uid, true, true);
        assert_int_equal(session_walk(t.sessions, &uid, NULL, on_walk, &w, &st), 0);
        assert_int_equal(w.ok, 3);
        assert_int_equal(w.bad, 0);
        assert_int_equal(st.read, 3);
        for (unsigned i = 0; i < 3; i++)
                assert_int_equal(w.uids[i], uid);
        /* the login path's counts go through it */
        assert_int_equal(session_count_live(t.sessions, uid, NULL, false), 1); /* only i = 0 is our start time */
        /* a user with no dir: nothing read */
        {
                uid_t none = 4999;

                w = (Walked){ 0 };
                st.read = 0;
                assert_int_equal(session_walk(t.sessions, &none, NULL, on_walk, &w, &st), 0);
                assert_int_equal(w.ok + w.bad + st.read, 0);
        }
        /* an older cubby's record at the top, and one of 4100 filed in 4101's dir */
        {
                _cleanup_close_ int u = -1;
                _cleanup_free_ char *text = NULL;
                Record *r = calloc(1, sizeof *r);

                assert_non_null(r);
                assert_int_equal(record_read_user(t.sessions, uid, (record_key(getpid(), me_start, key, sizeof key), key), r), 0);
                r->opener_start = me_start + 1000;
                assert_int_equal(record_write(t.sessions, r), 0);
                r->opener_start = me_start + 1001;
                r->uid = 4100;
                assert_int_equal(record_user_dir(t.sessions, 4101, false, &u), 0);
                assert_int_equal(record_write(u, r), 0);
                free(r);
        }
        w = (Walked){ 0 };
        st.read = 0;
        assert_int_equal(session_walk(t.sessions, NULL, NULL, on_walk, &w, &st), 0);
        assert_int_equal(w.ok, 64);
        assert_int_equal(w.bad, 1);
        assert_int_equal(st.read, 65);
        tree_close(&t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_lock_exclusive_and_bounded, scratch_setup, scratch_teardown),
                cmocka_unit_test_setup_teardown(test_lock_waits_for_release, scratch_setup, scratch_teardown),
                cmocka_unit_test_setup_teardown(test_lock_refuses_symlink, scratch_setup, scratch_teardown),
                cmocka_unit_test_setup_teardown(test_home_refs, scratch_setup, scratch_teardown),
                cmocka_unit_test_setup_teardown(test_home_refs_malformed, scratch_setup, scratch_teardown),
                cmocka_unit_test(test_user_set),
                cmocka_unit_test(test_lock_dir_path),
                cmocka_unit_test_setup_teardown(test_dir_open, scratch_setup, scratch_teardown),
                cmocka_unit_test_setup_teardown(test_count_live, scratch_setup, scratch_teardown),
                cmocka_unit_test_setup_teardown(test_count_live_per_user, scratch_setup, scratch_teardown),
                cmocka_unit_test_setup_teardown(test_home_release_last, scratch_setup, scratch_teardown),
                cmocka_unit_test_setup_teardown(test_gc, scratch_setup, scratch_teardown),
                cmocka_unit_test_setup_teardown(test_gc_run_throttle, scratch_setup, scratch_teardown),
                cmocka_unit_test_setup_teardown(test_walk_per_user, scratch_setup, scratch_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
