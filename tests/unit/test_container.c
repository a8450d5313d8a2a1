/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container record (container.h): the strict parse and its round
 * trip, the reader's owner/mode/link checks on real files, and
 * ct_open_init() against a live child: the right process and namespaces
 * give a pidfd, a wrong start time, a wrong namespace or a dead process do
 * not. The file checks need root (the record must be root's); they skip
 * otherwise. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "cubby/cgroup-lifecycle.h"
#include "cubby/container.h"
#include "cubby/proc.h"
#include "scratch.h"

static const char good[] =
        "version=1\n"
        "uid=1001\n"
        "gid=1001\n"
        "user=alice\n"
        "session=0123456789abcdef\n"
        "init_pid=4242\n"
        "init_start=99\n"
        "ns=4:11:12:13:14:15:16:17\n"
        "addr=10.88.0.5\n"
        "created=1700000000\n"
        "cgroup=v1:1:/sys/fs/cgroup/cpu/cubby/u1001/ct\n"
        "cgroup=v1:2:/sys/fs/cgroup/memory/cubby/u1001/ct\n"
        "home=/home/al\\x20ice\n"
        "shell=/bin/bash\n"
        "seccomp=yes\n"
        "groups=1001,27\n";

static void test_parse_good(void **state)
{
        CtRecord r;
        (void)state;

        assert_int_equal(ct_parse(good, strlen(good), &r), 0);
        assert_int_equal(r.uid, 1001);
        assert_string_equal(r.user, "alice");
        assert_int_equal(r.init_pid, 4242);
        assert_int_equal(r.ns_dev, 4);
        assert_int_equal(r.ns_ino[CT_NS_USER], 11);
        assert_int_equal(r.ns_ino[CT_NS_CGROUP], 17);
        assert_int_equal(r.addr, (10u << 24) | (88u << 16) | 5u);
        assert_int_equal(r.cgroup.n, 2);
        assert_string_equal(r.home, "/home/al ice");
        assert_int_equal(r.n_groups, 2);
        assert_int_equal(r.groups[1], 27);
}

static void test_round_trip(void **state)
{
        CtRecord r, r2;
        char *text = NULL;
        size_t len;
        (void)state;

        assert_int_equal(ct_parse(good, strlen(good), &r), 0);
        assert_int_equal(ct_format(&r, &text, &len), 0);
        assert_int_equal(ct_parse(text, len, &r2), 0);
        assert_memory_equal(&r, &r2, sizeof r);
        free(text);
        r.addr = 0;
        assert_int_equal(ct_format(&r, &text, &len), 0);
        assert_non_null(strstr(text, "addr=-\n"));
        free(text);
}

/* Each variant breaks one thing; each must be refused. */
static void test_parse_bad(void **state)
{
        static const struct {
                const char *from, *to;
        } edits[] = {
                { "version=1\n", "version=2\n" },
                { "uid=1001\n", "" },                               /* missing */
                { "uid=1001\n", "uid=1001\nuid=1001\n" },           /* repeated */
                { "user=alice\n", "user=-alice\n" },
                { "session=0123456789abcdef\n", "session=0123\n" },
                { "init_pid=4242\n", "init_pid=0\n" },
                { "ns=4:11:12:13:14:15:16:17\n", "ns=4:11:12:13:14:15:16\n" },
                { "ns=4:11:12:13:14:15:16:17\n", "ns=4:11:12:13:14:15:16:17:18\n" },
                { "ns=4:11:12:13:14:15:16:17\n", "ns=4:11:0:13:14:15:16:17\n" },
                { "addr=10.88.0.5\n", "addr=10.88.0\n" },
                { "cgroup=v1:1:/sys/fs/cgroup/cpu/cubby/u1001/ct\n", "cgroup=v1:1:/tmp/x\n" },
                { "home=/home/al\\x20ice\n", "home=home\n" },
                { "shell=/bin/bash\n", "shell=/bin/../bash\n" },
                { "seccomp=yes\n", "seccomp=maybe\n" },
                { "groups=1001,27\n", "groups=1001,\n" },
                { "created=1700000000\n", "created=1700000000\nextra=1\n" },
                { "groups=1001,27\n", "groups=1001,27" },           /* no final newline */
        };
        (void)state;

        for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
                char buf[2048];
                const char *at = strstr(good, edits[i].from);
                CtRecord r;

                assert_non_null(at);
                snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - good), good, edits[i].to,
                         at + strlen(edits[i].from));
                if (ct_parse(buf, strlen(buf), &r) == 0)
                        fail_msg("accepted variant %zu: %s", i, buf);
        }
}

static void test_cgroup_sets(void **state)
{
        CgSet user = { .n = 3 }, s, init, sess, ct;
        (void)state;

        user.dir[0].ctrl = CG_CTRL_CPU;
        strcpy(user.dir[0].path, "/sys/fs/cgroup/cpu/cubby/u7");
        /* memory alone (v1): the container is charged to the user dir */
        user.dir[1].ctrl = CG_CTRL_MEMORY;
        strcpy(user.dir[1].path, "/sys/fs/cgroup/memory/cubby/u7");
        /* co-mounted with cpu: it keeps dirs of its own */
        user.dir[2].ctrl = CG_CTRL_MEMORY | CG_CTRL_PIDS;
        strcpy(user.dir[2].path, "/sys/fs/cgroup/memory,pids/cubby/u7");
        assert_int_equal(ct_init_cgroup_set(&user, &init), 0);
        assert_int_equal(ct_session_cgroup_set(&user, "abc", &sess), 0);
        assert_int_equal(ct_cgroup_set(&user, &ct), 0);
        for (size_t k = 0; k < 3; k++) {
                const CgSet *set = k == 0 ? &ct : k == 1 ? &init : &sess;

                assert_string_equal(set->dir[1].path, "/sys/fs/cgroup/memory/cubby/u7");
                assert_int_equal(set->dir[1].ctrl, CG_CTRL_MEMORY | CG_DIR_USER);
                assert_false(cg_dir_at_user(&set->dir[0]));
                assert_false(cg_dir_at_user(&set->dir[2]));
        }
        assert_string_equal(ct.dir[2].path, "/sys/fs/cgroup/memory,pids/cubby/u7/ct");
        /* below a set that has the mark, it stays the user dir */
        assert_int_equal(cg_set_append(&ct, "init", &s), 0);
        assert_string_equal(s.dir[0].path, "/sys/fs/cgroup/cpu/cubby/u7/ct/init");
        assert_string_equal(s.dir[1].path, "/sys/fs/cgroup/memory/cubby/u7");
        assert_int_equal(s.dir[1].ctrl, CG_CTRL_MEMORY | CG_DIR_USER);
        /* a container record from before (memory's u7/ct unmarked): its
         * init stays below it, not in the user dir */
        ct.dir[1].ctrl = CG_CTRL_MEMORY;
        strcpy(ct.dir[1].path, "/sys/fs/cgroup/memory/cubby/u7/ct");
        assert_int_equal(cg_set_append(&ct, "init", &s), 0);
        assert_string_equal(s.dir[1].path, "/sys/fs/cgroup/memory/cubby/u7/ct/init");
        assert_false(cg_dir_at_user(&s.dir[1]));
        /* gc of what may be from before: the marked entry gets its own dir
         * back, never the user dir */
        assert_int_equal(ct_cgroup_set(&user, &s), 0);
        assert_int_equal(cg_set_unjoin(&s, "ct"), 0);
        assert_string_equal(s.dir[1].path, "/sys/fs/cgroup/memory/cubby/u7/ct");
        assert_int_equal(s.dir[1].ctrl, CG_CTRL_MEMORY);
        assert_string_equal(s.dir[0].path, "/sys/fs/cgroup/cpu/cubby/u7/ct");
        /* memory the only hierarchy: nothing is marked */
        user.n = 1;
        user.dir[0] = user.dir[1];
        assert_int_equal(ct_cgroup_set(&user, &s), 0);
        assert_string_equal(s.dir[0].path, "/sys/fs/cgroup/memory/cubby/u7/ct");
        assert_false(cg_dir_at_user(&s.dir[0]));
        user.dir[0].ctrl = CG_CTRL_CPU;
        strcpy(user.dir[0].path, "/sys/fs/cgroup/cpu/cubby/u7");
        assert_int_equal(ct_cgroup_set(&user, &s), 0);
        assert_string_equal(s.dir[0].path, "/sys/fs/cgroup/cpu/cubby/u7/ct");
        assert_int_equal(ct_init_cgroup_set(&user, &s), 0);
        assert_string_equal(s.dir[0].path, "/sys/fs/cgroup/cpu/cubby/u7/ct/init");
        assert_int_equal(ct_session_cgroup_set(&user, "abc", &s), 0);
        assert_string_equal(s.dir[0].path, "/sys/fs/cgroup/cpu/cubby/u7/ct/sabc");
        assert_int_equal(ct_session_cgroup_set(&user, "../x", &s), -EINVAL);
}

/* Files: owner, mode, links, the uid inside. */
static void test_read_checks(void **state)
{
        char dir[] = "/tmp/cubby-ct-XXXXXX";
        int dfd;
        CtRecord r, got;
        (void)state;

        if (geteuid() != 0)
                skip();
        dfd = scratch_make(dir);
        assert_true(dfd >= 0);
        assert_int_equal(ct_parse(good, strlen(good), &r), 0);
        assert_int_equal(ct_read(dfd, 1001, &got), -ENOENT);
        assert_int_equal(ct_write(dfd, &r), 0);
        assert_int_equal(ct_read(dfd, 1001, &got), 0);
        assert_int_equal(got.init_pid, 4242);
        assert_int_equal(fchmodat(dfd, "u1001", 0644, 0), 0);
        assert_int_equal(ct_read(dfd, 1001, &got), -EPERM);
        assert_int_equal(fchmodat(dfd, "u1001", 0600, 0), 0);
        assert_int_equal(linkat(dfd, "u1001", dfd, "second", 0), 0);
        assert_int_equal(ct_read(dfd, 1001, &got), -EPERM);
        assert_int_equal(unlinkat(dfd, "second", 0), 0);
        assert_int_equal(fchownat(dfd, "u1001", 1, 0, 0), 0);
        assert_int_equal(ct_read(dfd, 1001, &got), -EPERM);
        assert_int_equal(fchownat(dfd, "u1001", 0, 0, 0), 0);
        /* a record under another uid's name */
        assert_int_equal(renameat(dfd, "u1001", dfd, "u1002"), 0);
        assert_int_equal(ct_read(dfd, 1002, &got), -EINVAL);
        assert_int_equal(unlinkat(dfd, "u1002", 0), 0);
        assert_int_equal(symlinkat("/etc/passwd", dfd, "u1001"), 0);
        assert_true(ct_read(dfd, 1001, &got) < 0);
        assert_int_equal(ct_remove(dfd, 1001), 0);
        assert_int_equal(ct_remove(dfd, 1001), 0);
        close(dfd);
        assert_int_equal(scratch_remove(dir), 0);
}

/* ct_open_init against a child of ours (our own namespaces). */
static void test_open_init(void **state)
{
        CtRecord r;
        pid_t pid;
        int fd = -1;
        (void)state;

        /* valgrind has no pidfd_open: nothing to check there */
        fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
        if (fd < 0 && errno == ENOSYS)
                skip();
        if (fd >= 0)
                close(fd);
        fd = -1;
        assert_int_equal(ct_parse(good, strlen(good), &r), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* never outlives the test, whatever the test does */
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                alarm(30);
                pause();
                _exit(0);
        }
        r.init_pid = pid;
        assert_int_equal(proc_stat("/proc", pid, NULL, &r.init_start), 0);
        assert_int_equal(ct_ns_read("/proc", pid, &r.ns_dev, r.ns_ino), 0);
        assert_int_equal(ct_open_init("/proc", &r, &fd), 0);
        assert_true(fd >= 0);
        close(fd);
        r.init_start++;
        assert_int_equal(ct_open_init("/proc", &r, &fd), -ESRCH);
        r.init_start--;
        r.ns_ino[CT_NS_NET]++;
        assert_int_equal(ct_open_init("/proc", &r, &fd), -ESTALE);
        r.ns_ino[CT_NS_NET]--;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        assert_int_equal(ct_open_init("/proc", &r, &fd), -ESRCH);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_good),  cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_parse_bad),   cmocka_unit_test(test_cgroup_sets),
                cmocka_unit_test(test_read_checks), cmocka_unit_test(test_open_init),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
