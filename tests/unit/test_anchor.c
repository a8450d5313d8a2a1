/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The anchor record (<run_dir>/anchor: "PID START INO\n"), through its
 * public readers: anchor_open() trusts it only when the file is root's,
 * not writable by others, three strict decimal numbers, and names a live
 * process with that start time and that mount namespace; anchor_stop()
 * stops the process it names and removes the record. The holder here is a
 * child of the test, so nothing of the machine is touched. Needs root (the
 * run dir and the record must be root's); skips otherwise. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cubby/anchor-holder.h"
#include "cubby/anchor.h"
#include "cubby/home.h"
#include "cubby/proc.h"
#include "cubby/util.h"
#include "scratch.h"

typedef struct Fixture {
        char dir[64];
        int dfd;
        pid_t holder;           /* a child standing in for the holder */
        uint64_t start;
        uint64_t ino;           /* its mount namespace (ours) */
        bool no_pidfd;          /* pidfd_open gives ENOSYS: every test skips */
} Fixture;

static int setup(void **state)
{
        Fixture *f = calloc(1, sizeof *f);
        struct stat st;
        int p[2];
        char c;

        assert_non_null(f);
        /* the anchor code pins the holder with pidfd_open, which valgrind
         * (the unit suite's valgrind setup) does not know */
        {
                int pfd = (int)syscall(SYS_pidfd_open, getpid(), 0);

                if (pfd >= 0)
                        close(pfd);
                else if (errno == ENOSYS)
                        f->no_pidfd = true;
        }
        if (geteuid() != 0 || f->no_pidfd) {
                *state = f;
                f->dfd = -1;
                return 0;
        }
        strcpy(f->dir, "/tmp/cubby-test-anchor-XXXXXX");
        f->dfd = scratch_make(f->dir); /* root 0700, as a run dir must be */
        assert_true(f->dfd >= 0);
        assert_int_equal(pipe(p), 0);
        f->holder = fork();
        assert_true(f->holder >= 0);
        if (f->holder == 0) {
                close(p[0]);
                (void)!write(p[1], "r", 1);
                for (int i = 0; i < 600; i++) /* bounded: 60 s at most */
                        usleep(100 * 1000);
                _exit(0);
        }
        close(p[1]);
        assert_int_equal(read(p[0], &c, 1), 1);
        close(p[0]);
        assert_int_equal(proc_stat("/proc", f->holder, NULL, &f->start), 0);
        assert_int_equal(stat("/proc/self/ns/mnt", &st), 0);
        f->ino = (uint64_t)st.st_ino;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        Fixture *f = *state;

        if (f->holder > 0) {
                kill(f->holder, SIGKILL);
                waitpid(f->holder, NULL, 0);
        }
        if (f->dfd >= 0) {
                close(f->dfd);
                assert_int_equal(scratch_remove(f->dir), 0);
        }
        free(f);
        return 0;
}

static void put(Fixture *f, const char *text, mode_t mode)
{
        assert_int_equal(write_file_atomic_at_nosync(f->dfd, "anchor", text, strlen(text), mode), 0);
}

static void put_id(Fixture *f, pid_t pid, uint64_t start, uint64_t ino)
{
        char text[96];

        snprintf(text, sizeof text, "%d %llu %llu\n", (int)pid, (unsigned long long)start,
                 (unsigned long long)ino);
        put(f, text, 0600);
}

static void test_valid(void **state)
{
        Fixture *f = *state;
        _cleanup_close_ int ns = -1;
        struct stat st;

        if (geteuid() != 0 || f->no_pidfd)
                skip();
        assert_int_equal(anchor_open(f->dir, &ns), -ENOENT); /* no record */
        put_id(f, f->holder, f->start, f->ino);
        assert_int_equal(anchor_open(f->dir, &ns), 0);
        assert_int_equal(fstat(ns, &st), 0);
        assert_int_equal((uint64_t)st.st_ino, f->ino);
        close(ns);
        ns = -1;
        /* without the trailing newline too */
        {
                char text[96];

                snprintf(text, sizeof text, "%d %llu %llu", (int)f->holder,
                         (unsigned long long)f->start, (unsigned long long)f->ino);
                put(f, text, 0644);
        }
        assert_int_equal(anchor_open(f->dir, &ns), 0);
}

/* A record that names another process, or the right pid at another start
 * time or in another namespace, is a reused pid: no live anchor. */
static void test_not_the_recorded_process(void **state)
{
        Fixture *f = *state;
        _cleanup_close_ int ns = -1;
        pid_t gone;

        if (geteuid() != 0 || f->no_pidfd)
                skip();
        put_id(f, f->holder, f->start + 1, f->ino);
        assert_int_equal(anchor_open(f->dir, &ns), -ENOENT);
        put_id(f, f->holder, f->start, f->ino + 1);
        assert_int_equal(anchor_open(f->dir, &ns), -ENOENT);
        gone = fork();
        assert_true(gone >= 0);
        if (gone == 0)
                _exit(0);
        assert_int_equal(waitpid(gone, NULL, 0), gone);
        put_id(f, gone, f->start, f->ino);
        assert_int_equal(anchor_open(f->dir, &ns), -ENOENT);
        assert_int_equal(ns, -1);
}

/* tmpl with P, S and I standing for the holder's pid, start time and
 * namespace inode */
static void expand(const char *tmpl, const Fixture *f, char *out, size_t size)
{
        size_t o = 0;

        out[0] = 0;
        for (const char *c = tmpl; *c && o + 24 < size; c++) {
                if (*c == 'P')
                        o += (size_t)snprintf(out + o, size - o, "%d", (int)f->holder);
                else if (*c == 'S')
                        o += (size_t)snprintf(out + o, size - o, "%llu", (unsigned long long)f->start);
                else if (*c == 'I')
                        o += (size_t)snprintf(out + o, size - o, "%llu", (unsigned long long)f->ino);
                else {
                        out[o++] = *c;
                        out[o] = 0;
                }
        }
}

static void test_malformed(void **state)
{
        static const char *const bad[] = {
                "",         "\n",        "P",          "P S",          "P S I 1",
                "P  S I",   "P S I ",    " P S I",     "P\tS I",       "+P S I",
                "-P S I",   "Px S I",    "P S 18446744073709551616",   "P 0x10 I",
                "1 S I",    "0 S I",     "99999999999 S I",            "P S I\n\n",
                "P S\nI",   "P S -1",
        };
        Fixture *f = *state;

        if (geteuid() != 0 || f->no_pidfd)
                skip();
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                _cleanup_close_ int ns = -1;
                char text[128];
                int r;

                expand(bad[i], f, text, sizeof text);
                put(f, text, 0600);
                r = anchor_open(f->dir, &ns);
                if (r != -EBADMSG)
                        fail_msg("anchor record '%s' gave %d, not -EBADMSG", text, r);
                /* gc must not act on it either, nor remove it */
                assert_int_equal(anchor_stop(f->dir, NULL), -EBADMSG);
                assert_int_equal(kill(f->holder, 0), 0);
        }
        /* the same expansion of a good record is accepted: the cases above
         * fail for their defect alone */
        {
                _cleanup_close_ int ns = -1;
                char text[128];

                expand("P S I\n", f, text, sizeof text);
                put(f, text, 0600);
                assert_int_equal(anchor_open(f->dir, &ns), 0);
        }
}

static void test_unsafe_file(void **state)
{
        Fixture *f = *state;
        _cleanup_close_ int ns = -1;
        char big[200];

        if (geteuid() != 0 || f->no_pidfd)
                skip();
        put_id(f, f->holder, f->start, f->ino);
        /* writable by others: anyone could name a process for root to join */
        assert_int_equal(fchmodat(f->dfd, "anchor", 0622, 0), 0);
        assert_int_equal(anchor_open(f->dir, &ns), -EPERM);
        assert_int_equal(fchmodat(f->dfd, "anchor", 0600, 0), 0);
        assert_int_equal(fchownat(f->dfd, "anchor", 65534, 0, 0), 0);
        assert_int_equal(anchor_open(f->dir, &ns), -EPERM);
        /* a symlink in its place is not followed */
        assert_int_equal(unlinkat(f->dfd, "anchor", 0), 0);
        put_id(f, f->holder, f->start, f->ino);
        assert_int_equal(renameat(f->dfd, "anchor", f->dfd, "real"), 0);
        assert_int_equal(symlinkat("real", f->dfd, "anchor"), 0);
        assert_true(anchor_open(f->dir, &ns) < 0);
        assert_int_equal(ns, -1);
        assert_int_equal(unlinkat(f->dfd, "anchor", 0), 0);
        /* oversized */
        memset(big, '1', sizeof big - 1);
        big[sizeof big - 1] = 0;
        put(f, big, 0600);
        assert_true(anchor_open(f->dir, &ns) < 0);
        /* the run dir itself must be root's 0700 */
        assert_int_equal(unlinkat(f->dfd, "anchor", 0), 0);
        put_id(f, f->holder, f->start, f->ino);
        assert_int_equal(chmod(f->dir, 0755), 0);
        assert_int_equal(anchor_open(f->dir, &ns), -EPERM);
        assert_int_equal(chmod(f->dir, 0700), 0);
        assert_int_equal(anchor_open(f->dir, &ns), 0);
}

static void test_stop(void **state)
{
        Fixture *f = *state;
        struct stat st;
        int rc;

        if (geteuid() != 0 || f->no_pidfd)
                skip();
        assert_int_equal(anchor_stop(f->dir, NULL), 0); /* nothing recorded */
        /* a reused pid is not killed, but its stale record goes */
        put_id(f, f->holder, f->start + 1, f->ino);
        assert_int_equal(anchor_stop(f->dir, NULL), 1);
        assert_int_equal(kill(f->holder, 0), 0);
        assert_int_equal(fstatat(f->dfd, "anchor", &st, 0), -1);
        /* the recorded process is stopped and the record removed */
        put_id(f, f->holder, f->start, f->ino);
        assert_int_equal(anchor_stop(f->dir, NULL), 1);
        assert_int_equal(waitpid(f->holder, &rc, 0), f->holder);
        assert_true(WIFSIGNALED(rc) && WTERMSIG(rc) == SIGKILL);
        f->holder = 0;
        assert_int_equal(fstatat(f->dfd, "anchor", &st, 0), -1);
        assert_int_equal(anchor_stop(f->dir, NULL), 0); /* twice is harmless */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_valid, setup, teardown),
                cmocka_unit_test_setup_teardown(test_not_the_recorded_process, setup, teardown),
                cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unsafe_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
