/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cubby/ipam.h"
#include "cubby/proc.h"
#include "cubby/util.h"

#define SUBNET 0x0ad50000u /* 10.213.0.0 */
#define SESS_A "00000000000000aa"
#define SESS_B "00000000000000bb"

typedef struct Fixture {
        char dir[64];
        pid_t live[4];   /* children that wait until the test ends */
        int live_fd[4];
        size_t n_live;
} Fixture;

static int setup(void **state)
{
        Fixture *f = calloc(1, sizeof *f);

        if (!f)
                return -1;
        snprintf(f->dir, sizeof f->dir, "/tmp/cubby-ipam-XXXXXX");
        if (!mkdtemp(f->dir))
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        Fixture *f = *state;
        char p[128];

        for (size_t i = 0; i < f->n_live; i++) {
                close(f->live_fd[i]);
                waitpid(f->live[i], NULL, 0);
        }
        snprintf(p, sizeof p, "%s/leases", f->dir);
        unlink(p);
        snprintf(p, sizeof p, "%s/leases.lock", f->dir);
        unlink(p);
        rmdir(f->dir);
        free(f);
        return 0;
}

/* A child that lives until the test closes the pipe. */
static IpamOwner live_owner(Fixture *f, const char *session, const char *user)
{
        int p[2];
        pid_t pid;
        IpamOwner o;
        char c;

        assert_int_equal(pipe(p), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[1]);
                /* not holding the other children's pipes open */
                for (size_t i = 0; i < f->n_live; i++)
                        close(f->live_fd[i]);
                (void)!read(p[0], &c, 1);
                _exit(0);
        }
        close(p[0]);
        assert_true(f->n_live < ELEMENTSOF(f->live));
        f->live[f->n_live] = pid;
        f->live_fd[f->n_live++] = p[1];
        assert_int_equal(ipam_owner_init(&o, session, pid, 1000, user), 0);
        return o;
}

/* A process that existed and is gone. */
static IpamOwner dead_owner(const char *session)
{
        int p[2];
        pid_t pid;
        IpamOwner o;
        char c;

        assert_int_equal(pipe(p), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[1]);
                (void)!read(p[0], &c, 1);
                _exit(0);
        }
        close(p[0]);
        assert_int_equal(ipam_owner_init(&o, session, pid, 1001, "bob"), 0);
        close(p[1]);
        waitpid(pid, NULL, 0);
        assert_false(ipam_owner_alive(&o));
        return o;
}

static void test_acquire_round_robin(void **state)
{
        Fixture *f = *state;
        IpamOwner me, b, c;
        uint32_t a1, a2, a3, again;
        IpamLease *l = NULL;
        size_t n;
        struct stat st;
        char p[128];

        assert_int_equal(ipam_owner_init(&me, SESS_A, 0, 1000, "alice"), 0);
        assert_true(ipam_owner_alive(&me));
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 16, &me, &a1), 0);
        assert_int_equal(a1, SUBNET + 2); /* not the network, not the gateway */
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 16, &me, &again), 0);
        assert_int_equal(again, a1); /* one lease per owner */

        b = live_owner(f, SESS_A, "alice");
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 16, &b, &a2), 0);
        assert_int_equal(a2, SUBNET + 3);

        /* a freed address is not reused at once */
        assert_int_equal(ipam_release(f->dir, me.pid, me.starttime), 0);
        assert_int_equal(ipam_release(f->dir, me.pid, me.starttime), -ENOENT);
        c = live_owner(f, SESS_B, "carol");
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 16, &c, &a3), 0);
        assert_int_equal(a3, SUBNET + 4);

        assert_int_equal(ipam_list(f->dir, &l, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(l[0].addr, a2);
        assert_string_equal(l[1].owner.user, "carol");
        assert_int_equal(l[1].owner.uid, 1000);
        assert_true(l[1].owner.time > 1600000000);
        free(l);

        snprintf(p, sizeof p, "%s/leases", f->dir);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_small_pool_and_reclaim(void **state)
{
        Fixture *f = *state;
        IpamOwner x = live_owner(f, SESS_A, "alice"), y = live_owner(f, SESS_A, "alice");
        IpamOwner dead = dead_owner(SESS_B), fake;
        uint32_t a, seen = 0;
        IpamLease *reaped = NULL;
        size_t n = 0;

        /* a /30 has one host besides the gateway */
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 30, &dead, &a), 0);
        assert_int_equal(a, SUBNET + 2);
        /* the pool is full of a dead owner: reclaimed */
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 30, &x, &a), 0);
        assert_int_equal(a, SUBNET + 2);
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 30, &y, &a), -EADDRNOTAVAIL);

        /* a live pid with another start time is a reused pid: dead */
        fake = x;
        fake.starttime++;
        assert_false(ipam_owner_alive(&fake));

        /* /29: hosts .2 .. .6, handed out in order then wrapping */
        assert_int_equal(ipam_release(f->dir, x.pid, x.starttime), 0);
        for (int i = 0; i < 5; i++) {
                IpamOwner d = dead_owner(SESS_B);

                assert_int_equal(ipam_acquire(f->dir, SUBNET, 29, &d, &a), 0);
                assert_true(a >= SUBNET + 2 && a <= SUBNET + 6);
                assert_false(seen & (1u << (a - SUBNET)));
                seen |= 1u << (a - SUBNET);
        }
        assert_int_equal(ipam_gc(f->dir, &reaped, &n), 5);
        assert_int_equal(n, 5);
        assert_string_equal(reaped[0].owner.user, "bob");
        free(reaped);
        assert_int_equal(ipam_gc(f->dir, NULL, NULL), 0);
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 29, &x, &a), 0);
        assert_true(a >= SUBNET + 2 && a <= SUBNET + 6);
}

static void test_per_user_cap(void **state)
{
        Fixture *f = *state;
        IpamOwner x = live_owner(f, SESS_A, "alice"), y = live_owner(f, SESS_A, "alice");
        IpamOwner z = live_owner(f, SESS_B, "alice"), other = live_owner(f, SESS_B, "bob");
        IpamOwner dead = dead_owner(SESS_B);
        uint32_t a, ax;

        other.uid = 1001;
        dead.uid = 1000;
        /* a dead owner's lease does not count against the user */
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 24, &dead, &a), 0);
        assert_int_equal(ipam_acquire_capped(f->dir, SUBNET, 24, &x, 2, &ax), 0);
        assert_int_equal(ipam_acquire_capped(f->dir, SUBNET, 24, &y, 2, &a), 0);
        assert_int_equal(ipam_acquire_capped(f->dir, SUBNET, 24, &z, 2, &a), -EDQUOT);
        /* the owner that already holds one keeps it */
        assert_int_equal(ipam_acquire_capped(f->dir, SUBNET, 24, &x, 2, &a), 0);
        assert_int_equal(a, ax);
        /* another user is not affected; no cap is no cap */
        assert_int_equal(ipam_acquire_capped(f->dir, SUBNET, 24, &other, 2, &a), 0);
        assert_int_equal(ipam_acquire_capped(f->dir, SUBNET, 24, &z, 0, &a), 0);
        /* a released place is free again */
        assert_int_equal(ipam_release(f->dir, z.pid, z.starttime), 0);
        assert_int_equal(ipam_release(f->dir, y.pid, y.starttime), 0);
        assert_int_equal(ipam_acquire_capped(f->dir, SUBNET, 24, &z, 2, &a), 0);
}

static void test_release_session(void **state)
{
        Fixture *f = *state;
        IpamOwner x = live_owner(f, SESS_A, "alice"), y = live_owner(f, SESS_A, "alice");
        IpamOwner z = live_owner(f, SESS_B, "bob");
        uint32_t a;
        IpamLease *l = NULL;
        size_t n;

        assert_int_equal(ipam_acquire(f->dir, SUBNET, 24, &x, &a), 0);
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 24, &y, &a), 0);
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 24, &z, &a), 0);
        assert_int_equal(ipam_release_session(f->dir, SESS_A), 2);
        assert_int_equal(ipam_release_session(f->dir, SESS_A), 0);
        assert_int_equal(ipam_release_session(f->dir, "nothex"), -EINVAL);
        assert_int_equal(ipam_list(f->dir, &l, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(l[0].owner.pid, z.pid);
        free(l);
}

static void write_leases(Fixture *f, const char *text, mode_t mode)
{
        char p[128];
        int fd;

        snprintf(p, sizeof p, "%s/leases", f->dir);
        unlink(p);
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL, mode);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        fchmod(fd, mode);
        close(fd);
}

static void test_corrupt_and_unsafe(void **state)
{
        Fixture *f = *state;
        IpamOwner me;
        uint32_t a;
        IpamLease *l = NULL;
        size_t n;

        assert_int_equal(ipam_owner_init(&me, SESS_A, 0, 1000, "alice"), 0);
        write_leases(f, "garbage\n", 0600);
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 16, &me, &a), -EBADMSG);
        write_leases(f, "cubby-leases 1\nnext 10.213.0.9\n", 0644);
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 16, &me, &a), -EPERM);
        write_leases(f, "cubby-leases 1\nnext 10.213.0.9\n", 0600);
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 16, &me, &a), 0);
        assert_int_equal(a, SUBNET + 10); /* round-robin goes on after "next" */
        assert_int_equal(ipam_list(f->dir, &l, &n), 0);
        free(l);

        /* arguments */
        assert_int_equal(ipam_acquire("relative", SUBNET, 16, &me, &a), -EINVAL);
        assert_int_equal(ipam_acquire(f->dir, SUBNET + 1, 16, &me, &a), -EINVAL);
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 31, &me, &a), -EINVAL);
        assert_int_equal(ipam_owner_init(&me, "ABC", 0, 0, "alice"), -EINVAL);
        assert_int_equal(ipam_owner_init(&me, SESS_A, 0, 0, "a b"), -EINVAL);
        assert_int_equal(ipam_owner_init(&me, SESS_A, 0, 0, "-x"), -EINVAL);
}

static void test_parse(void **state)
{
        static const char *const bad[] = {
                "x",
                "cubby-leases 1\n",
                "cubby-leases 2\nnext 10.0.0.1\n",
                "cubby-leases 1\nnext 10.0.0.1",
                "cubby-leases 1\nnext 10.0.0.01\n",
                "cubby-leases 1\nnext 10.0.0.1\n10.0.0.2 00000000000000aa 1 2 3 u 4 extra\n",
                "cubby-leases 1\nnext 10.0.0.1\n10.0.0.2 00000000000000aa 1 2 3 u\n",
                "cubby-leases 1\nnext 10.0.0.1\n10.0.0.2  00000000000000aa 1 2 3 u 4\n",
                "cubby-leases 1\nnext 10.0.0.1\n10.0.0.2 00000000000000AA 1 2 3 u 4\n",
                "cubby-leases 1\nnext 10.0.0.1\n10.0.0.2 00000000000000aa 0 2 3 u 4\n",
                "cubby-leases 1\nnext 10.0.0.1\n10.0.0.2 00000000000000aa -1 2 3 u 4\n",
                "cubby-leases 1\nnext 10.0.0.1\n10.0.0.2 00000000000000aa 1 2 4294967295 u 4\n",
                "cubby-leases 1\nnext 10.0.0.1\n10.0.0.2 00000000000000aa 1 2 3 ../u 4\n",
                "cubby-leases 1\nnext 10.0.0.1\n10.0.0.2 00000000000000aa 1 2 3 u 99999999999999999999\n",
                "cubby-leases 1\nnext 10.0.0.1\n10.0.0.2 00000000000000aa 1 2 3 u 4\n"
                "10.0.0.2 00000000000000aa 5 2 3 u 4\n", /* same address twice */
                "cubby-leases 1\nnext 10.0.0.1\n10.0.0.2 00000000000000aa 1 2 3 u 4\n"
                "10.0.0.3 00000000000000aa 1 2 3 u 4\n", /* same owner twice */
                "cubby-leases 1\nnext 10.0.0.1\n\n",
        };
        const char good[] = "cubby-leases 1\nnext 10.0.0.1\n"
                            "10.0.0.3 00000000000000aa 7 8 9 u 10\n"
                            "10.0.0.2 00000000000000bb 1 2 3 v 4\n";
        IpamLease *l = NULL;
        size_t n;
        uint32_t next;
        char *text = NULL;
        size_t len;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(ipam_parse(bad[i], strlen(bad[i]), &l, &n, &next), -EBADMSG);
        assert_int_equal(ipam_parse("a\0b\n", 4, &l, &n, &next), -EBADMSG);
        assert_int_equal(ipam_parse(good, strlen(good), &l, &n, &next), 0);
        assert_int_equal(n, 2);
        assert_int_equal(next, 0x0a000001);
        assert_int_equal(l[0].addr, 0x0a000002); /* sorted */
        assert_int_equal(ipam_format(l, n, next, &text, &len), 0);
        assert_string_equal(text, "cubby-leases 1\nnext 10.0.0.1\n"
                                  "10.0.0.2 00000000000000bb 1 2 3 v 4\n"
                                  "10.0.0.3 00000000000000aa 7 8 9 u 10\n");
        free(text);
        free(l);
}

static void test_lock_contention(void **state)
{
        Fixture *f = *state;
        char p[128];
        int fd, sync[2];
        pid_t pid;
        IpamOwner me;
        uint32_t a;
        struct timespec t0, t1;
        char c;

        assert_int_equal(ipam_owner_init(&me, SESS_A, 0, 1000, "alice"), 0);
        snprintf(p, sizeof p, "%s/leases.lock", f->dir);
        assert_int_equal(pipe(sync), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct timespec ts = { .tv_nsec = 200 * 1000 * 1000 };

                fd = open(p, O_RDWR | O_CREAT, 0600);
                if (fd < 0 || flock(fd, LOCK_EX) < 0)
                        _exit(1);
                (void)!write(sync[1], "x", 1);
                nanosleep(&ts, NULL);
                _exit(0);
        }
        close(sync[1]);
        assert_int_equal(read(sync[0], &c, 1), 1);
        close(sync[0]);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(ipam_acquire(f->dir, SUBNET, 16, &me, &a), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        /* waited for the holder, but not for the whole timeout */
        assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 100);
        waitpid(pid, NULL, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_acquire_round_robin, setup, teardown),
                cmocka_unit_test_setup_teardown(test_small_pool_and_reclaim, setup, teardown),
                cmocka_unit_test_setup_teardown(test_per_user_cap, setup, teardown),
                cmocka_unit_test_setup_teardown(test_release_session, setup, teardown),
                cmocka_unit_test_setup_teardown(test_corrupt_and_unsafe, setup, teardown),
                cmocka_unit_test(test_parse),
                cmocka_unit_test_setup_teardown(test_lock_contention, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
