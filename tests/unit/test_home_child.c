/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The anchor's child (lib/home.c, run_in_anchor) shares the opener's
 * memory (CLONE_VM | CLONE_VFORK) but nothing else: on the real kernel,
 * home_mount and home_umount must leave the opener as they found it, in
 * every thread: its mount namespace (the overlay is in the anchor's only),
 * its supplementary groups, fsuid and fsgid, its effective capabilities
 * (mount_creds drops CAP_SYS_RESOURCE in the child) and its signal mask.
 * A second thread checks that the child's setgroups reached no other
 * task of the opener.
 *
 * Root only, in a private mount namespace of its own; the "anchor" is a
 * child process in a second one, killed at the end. Skips (77) without
 * root. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/capability.h>
#include <linux/magic.h>

#include "cubby/home.h"
#include "cubby/home-quota.h"
#include "scratch.h"

#define TEST_UID 4243

static char base[64], lower[128], state[128];
static pid_t anchor = -1;
static int anchor_ns = -1, log_sock = -1;

/* A /dev/log of the test's own (a datagram socket it never reads), bound
 * over the machine's in this namespace and the anchor's: syslog connects,
 * whether or not the machine runs a syslog daemon. */
static void private_dev_log(void)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/log", base);
        log_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(log_sock >= 0);
        assert_int_equal(bind(log_sock, (struct sockaddr *)&sa, sizeof sa), 0);
        if (mount(sa.sun_path, "/dev/log", NULL, MS_BIND, NULL) < 0) {
                print_message("SKIP: cannot bind a /dev/log of our own: %s\n", strerror(errno));
                exit(77);
        }
}

static int setup(void **state_)
{
        int p[2];
        char c, path[64];

        (void)state_;
        scratch_private_mounts(true, "root");
        snprintf(base, sizeof base, "/tmp/cubby-child-XXXXXX");
        assert_non_null(mkdtemp(base));
        snprintf(lower, sizeof lower, "%s/lower", base);
        snprintf(state, sizeof state, "%s/state", base);
        assert_int_equal(mkdir(lower, 0755), 0);
        private_dev_log();
        /* the anchor: a namespace of its own, held by a process that never
         * outlives the test */
        assert_int_equal(pipe(p), 0);
        anchor = fork();
        assert_true(anchor >= 0);
        if (anchor == 0) {
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                c = unshare(CLONE_NEWNS) == 0 ? 'k' : 'e';
                (void)!write(p[1], &c, 1);
                for (;;)
                        pause();
        }
        close(p[1]);
        assert_int_equal(read(p[0], &c, 1), 1);
        close(p[0]);
        assert_int_equal(c, 'k');
        snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)anchor);
        anchor_ns = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(anchor_ns >= 0);
        return 0;
}

static int teardown(void **state_)
{
        (void)state_;
        if (anchor_ns >= 0)
                close(anchor_ns);
        if (log_sock >= 0)
                close(log_sock);
        /* the overlay goes with the anchor's namespace */
        if (anchor > 0) {
                (void)kill(anchor, SIGKILL);
                (void)waitpid(anchor, NULL, 0);
        }
        return scratch_remove(base);
}

typedef struct Creds {
        gid_t groups[8];
        int n_groups;
        uid_t fsuid;
        gid_t fsgid;
        uint32_t eff[2];
        sigset_t mask;
} Creds;

static void creds_get(Creds *c)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2];

        memset(c, 0, sizeof *c);
        c->n_groups = getgroups(8, c->groups);
        assert_true(c->n_groups >= 0);
        c->fsuid = (uid_t)setfsuid((uid_t)-1);
        c->fsgid = (gid_t)setfsgid((gid_t)-1);
        assert_int_equal(syscall(SYS_capget, &hdr, d), 0);
        c->eff[0] = d[0].effective;
        c->eff[1] = d[1].effective;
        assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &c->mask), 0);
}

static void creds_same(const Creds *a, const Creds *b)
{
        assert_int_equal(a->n_groups, b->n_groups);
        assert_memory_equal(a->groups, b->groups, sizeof a->groups[0] * (size_t)a->n_groups);
        assert_int_equal(a->fsuid, b->fsuid);
        assert_int_equal(a->fsgid, b->fsgid);
        assert_int_equal(a->eff[0], b->eff[0]);
        assert_int_equal(a->eff[1], b->eff[1]);
        for (int s = 1; s < NSIG; s++)
                assert_int_equal(sigismember(&a->mask, s), sigismember(&b->mask, s));
}

/* The "Groups:" line of /proc/self/task/<tid>/status, as text. */
static void task_groups(pid_t tid, char buf[300])
{
        char path[64], text[256];
        FILE *f;

        snprintf(path, sizeof path, "/proc/self/task/%d/status", (int)tid);
        f = fopen(path, "re");
        assert_non_null(f);
        buf[0] = 0;
        while (fgets(text, sizeof text, f))
                if (strncmp(text, "Groups:", 7) == 0)
                        snprintf(buf, 300, "%s", text);
        fclose(f);
        assert_true(buf[0] != 0);
}

static pthread_barrier_t started, done;
static pid_t other_tid;

static void *other_thread(void *arg)
{
        (void)arg;
        other_tid = (pid_t)syscall(SYS_gettid);
        pthread_barrier_wait(&started);
        pthread_barrier_wait(&done);
        return NULL;
}

static bool merged_is_overlay_here(const char *user)
{
        char p[256];
        struct statfs sf;

        snprintf(p, sizeof p, "%s/users/%s/merged", state, user);
        return statfs(p, &sf) == 0 && sf.f_type == OVERLAYFS_SUPER_MAGIC;
}

static void test_child_leaves_opener_alone(void **state_)
{
        const gid_t groups[2] = { 1234, 5678 };
        HomeSpec hs = { .state_dir = state, .run_dir = "/nonexistent", .user = "cubbychild",
                        .uid = TEST_UID, .gid = TEST_UID, .lower = lower, .may_mount = true };
        char other_before[300], other_after[300];
        Creds before, after;
        pthread_t t;
        sigset_t one;

        (void)state_;
        assert_int_equal(setgroups(2, groups), 0);
        /* a signal mask that is not the default one, to see it come back */
        sigemptyset(&one);
        sigaddset(&one, SIGUSR2);
        assert_int_equal(pthread_sigmask(SIG_BLOCK, &one, NULL), 0);
        assert_int_equal(pthread_barrier_init(&started, NULL, 2), 0);
        assert_int_equal(pthread_barrier_init(&done, NULL, 2), 0);
        assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
        pthread_barrier_wait(&started);
        task_groups(other_tid, other_before);
        creds_get(&before);

        assert_int_equal(home_mount(&hs, anchor_ns), 1);
        creds_get(&after);
        creds_same(&before, &after);
        task_groups(other_tid, other_after);
        assert_string_equal(other_before, other_after);
        /* mounted in the anchor's namespace, not in ours */
        assert_int_equal(home_is_mounted(&hs, anchor_ns), 1);
        assert_false(merged_is_overlay_here(hs.user));

        /* mounted already: the second call takes the other path */
        hs.may_mount = false;
        assert_int_equal(home_mount(&hs, anchor_ns), 0);
        assert_int_equal(home_umount(&hs, anchor_ns), 0);
        assert_int_equal(home_is_mounted(&hs, anchor_ns), 0);
        creds_get(&after);
        creds_same(&before, &after);

        pthread_barrier_wait(&done);
        assert_int_equal(pthread_join(t, NULL), 0);
}

/* A child that fails (its setns refused: not a namespace fd) reports the
 * error, not a result left over in memory. */
static void test_child_error(void **state_)
{
        HomeSpec hs = { .state_dir = state, .run_dir = "/nonexistent", .user = "cubbychild",
                        .uid = TEST_UID, .gid = TEST_UID, .lower = lower, .may_mount = true };
        int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        (void)state_;
        assert_true(fd >= 0);
        assert_int_equal(home_mount(&hs, fd), -EINVAL);
        assert_int_equal(home_is_mounted(&hs, fd), -EINVAL);
        close(fd);
}

/* What the child logs (here: a quota the file system cannot give) is
 * logged by the opener: a syslog socket opened by the child would be named
 * in the memory both share but exist only in the child's fd table, and the
 * opener's next syslog would send to, then close, whatever fd it has by
 * that number (here: one of the next files it opens). */
static void test_child_log_in_opener(void **state_)
{
        HomeSpec hs = { .state_dir = state, .run_dir = "/nonexistent", .user = "cubbyquota",
                        .uid = TEST_UID, .gid = TEST_UID, .lower = lower, .may_mount = true,
                        .size_limit = 1024 * 1024, .inode_limit = QUOTA_NONE };
        struct stat a, b;
        int r, fds[32];

        (void)state_;
        closelog(); /* syslog not connected, as in sshd between its lines */
        r = home_mount(&hs, anchor_ns);
        if (r != -EMEDIUMTYPE) {
                /* this file system has project quotas: nothing was logged */
                if (r >= 0)
                        (void)home_umount(&hs, anchor_ns);
                skip();
        }
        /* the fd numbers the child had open (its socket among them) */
        for (int i = 0; i < 32; i++) {
                fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC);
                assert_true(fds[i] >= 0);
        }
        assert_int_equal(fstat(fds[0], &a), 0);
        syslog(LOG_AUTHPRIV | LOG_DEBUG, "test_home_child: after the child logged");
        for (int i = 0; i < 32; i++) {
                assert_int_equal(fstat(fds[i], &b), 0);
                assert_int_equal(a.st_rdev, b.st_rdev);
                close(fds[i]);
        }
        closelog();
}

int main(void)
{
        /* memcheck runs a CLONE_VM child as a fork of its own (it cannot
         * share a guest's memory between two tasks that are no threads):
         * the anchor child's result never reaches the opener there */
        if (getenv("CUBBY_UNDER_VALGRIND"))
                return 77;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_child_leaves_opener_alone),
                cmocka_unit_test(test_child_error),
                cmocka_unit_test(test_child_log_in_opener),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
