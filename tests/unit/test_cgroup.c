/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/cgroup*.c against the real kernel (root), plus its pure parsers.
 *
 * docs/TESTING.md, rule 2: every cgroup made here is below the cgroup this
 * process is in, in each hierarchy ("./cubby-test-cg-<pid>"), and only
 * children made here are moved, only into those cgroups. The tests run in a
 * forked process; the parent removes the whole ./cubby-test-cg-<pid> tree
 * afterwards whatever happened (failed asserts, crashes), killing anything
 * left in it, and fails if something could not be removed.
 *
 * Runs unchanged on a pure cgroup v2 host (the VM of docs/TESTING.md): parts
 * that need v1 hierarchies (freezer, v1-only kill loop) say so and pass. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <cmocka.h>

#include "cubby/cgroup-attach.h"
#include "cubby/cgroup-layout.h"
#include "cubby/cgroup-lifecycle.h"
#include "cubby/session.h"
#include "cubby/util.h"
#include "scratch.h"

#define TEST_UID 4242001u /* need not exist: cgroups take any number */
#define MiB (1024ull * 1024)

static char spec[64];

/* ---- small helpers ---------------------------------------------------- */

static int64_t now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Usable outside a test too (main): no cmocka asserts. */
static bool dirname_of(const char *p, char *ret, size_t size)
{
        const char *s = strrchr(p, '/');

        if (!s || (size_t)(s - p) >= size)
                return false;
        memcpy(ret, p, (size_t)(s - p));
        ret[s - p] = 0;
        return true;
}

static bool exists(const char *dir, const char *name)
{
        char p[PATH_MAX + 64];
        struct stat st;

        snprintf(p, sizeof p, "%s%s%s", dir, name ? "/" : "", name ? name : "");
        return lstat(p, &st) == 0;
}

/* All of dir/name, or NULL. */
static char *knob_all(const char *dir, const char *name)
{
        char p[PATH_MAX + 64];
        char *s = NULL;

        snprintf(p, sizeof p, "%s/%s", dir, name);
        if (read_file_at(AT_FDCWD, p, 1 << 22, &s, NULL, NULL) < 0)
                return NULL;
        return s;
}

/* The first line of dir/name, or NULL. */
static char *knob(const char *dir, const char *name)
{
        char *s = knob_all(dir, name);

        if (s)
                s[strcspn(s, "\n")] = 0;
        return s;
}

static void assert_knob(const char *dir, const char *name, const char *want)
{
        _cleanup_free_ char *v = knob(dir, name);

        if (!v || strcmp(v, want) != 0)
                fail_msg("%s/%s is \"%s\", want \"%s\"", dir, name, v ? v : "(unreadable)", want);
}

static bool pid_listed(const char *dir, pid_t pid)
{
        _cleanup_free_ char *s = knob_all(dir, "cgroup.procs");
        char *p, *save = NULL;

        if (!s)
                return false;
        for (p = strtok_r(s, "\n", &save); p; p = strtok_r(NULL, "\n", &save))
                if (atoi(p) == pid)
                        return true;
        return false;
}

static size_t count_listed(const char *dir)
{
        _cleanup_free_ char *s = knob_all(dir, "cgroup.procs");
        size_t n = 0;

        for (char *p = s; p && *p; p++)
                n += *p == '\n';
        return n;
}

static void new_session(CgSet *user, CgSet *session, char sid[CUBBY_ID_LEN + 1])
{
        assert_int_equal(random_id(sid), 0);
        assert_int_equal(cg_paths(spec, 0, TEST_UID, sid, user, session), 0);
}

/* Keep only the dirs for which keep() is true (the same in both sets). */
static void subset(CgSet *user, CgSet *session, bool (*keep)(const CgDir *))
{
        size_t j = 0;

        for (size_t i = 0; i < user->n; i++) {
                if (!keep(&user->dir[i]))
                        continue;
                user->dir[j] = user->dir[i];
                session->dir[j] = session->dir[i];
                j++;
        }
        user->n = session->n = j;
}

static bool is_v1(const CgDir *d) { return !d->v2; }
static bool is_v1_no_freezer(const CgDir *d) { return !d->v2 && !(d->ctrl & CG_CTRL_FREEZER); }

static const CgLimits limits_a = {
        .cpu_milli = 500, .memory = 64 * MiB, .swap = 32 * MiB, .pids = 64,
};

/* ---- pure: cg_paths_from_text ----------------------------------------- */

static const char mi_hybrid[] =
        "24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
        "31 24 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
        "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
        "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
        "36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
        "37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
        "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
        "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
        "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
static const char pc_hybrid[] = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n5:devices:/\n"
                                "4:memory:/process_api/b59d\n3:cpuset:/\n2:cpuacct:/\n1:cpu:/\n0::/\n";

static const char mi_v2[] =
        "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n"
        "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
        "rw,nsdelegate,memory_recursiveprot\n";
static const char pc_v2[] = "0::/user.slice/user-1000.slice/session-3.scope\n";
static const char ctl_v2[] = "cpuset cpu io memory hugetlb pids rdma misc\n";

static const char sid0[] = "0123456789abcdef";

static void test_paths_text_hybrid(void **state)
{
        CgSet u, s;

        assert_int_equal(cg_paths_from_text(mi_hybrid, pc_hybrid, "hugetlb\n", "./t", 1000, sid0, &u, &s), 0);
        assert_int_equal(u.n, 6);
        assert_int_equal(s.n, 6);
        assert_false(u.dir[0].v2);
        assert_int_equal(u.dir[0].ctrl, CG_CTRL_CPU);
        assert_string_equal(u.dir[0].path, "/sys/fs/cgroup/cpu/t/u1000");
        assert_string_equal(s.dir[0].path, "/sys/fs/cgroup/cpu/t/u1000/s0123456789abcdef");
        assert_false(u.dir[1].v2);
        assert_int_equal(u.dir[1].ctrl, CG_CTRL_CPUSET);
        assert_string_equal(u.dir[1].path, "/sys/fs/cgroup/cpuset/t/u1000");
        assert_int_equal(u.dir[2].ctrl, CG_CTRL_MEMORY);
        /* memory: the session's entry is the user dir, marked */
        assert_string_equal(u.dir[2].path, "/sys/fs/cgroup/memory/process_api/b59d/t/u1000");
        assert_string_equal(s.dir[2].path, u.dir[2].path);
        assert_int_equal(s.dir[2].ctrl, CG_CTRL_MEMORY | CG_DIR_USER);
        for (size_t i = 0; i < s.n; i++)
                if (i != 2)
                        assert_int_equal(s.dir[i].ctrl, u.dir[i].ctrl);
        assert_int_equal(u.dir[3].ctrl, CG_CTRL_FREEZER);
        assert_int_equal(u.dir[4].ctrl, CG_CTRL_PIDS);
        assert_true(u.dir[5].v2);
        assert_int_equal(u.dir[5].ctrl, CG_CTRL_NONE_V2);
        assert_string_equal(u.dir[5].path, "/sys/fs/cgroup/unified/t/u1000");

        /* absolute: relative to each mount, /proc/PID/cgroup not needed */
        assert_int_equal(cg_paths_from_text(mi_hybrid, NULL, NULL, "/cubby", 7, "ab", &u, &s), 0);
        assert_string_equal(s.dir[2].path, "/sys/fs/cgroup/memory/cubby/u7");
        assert_string_equal(u.dir[5].path, "/sys/fs/cgroup/unified/cubby/u7");
        assert_int_equal(cg_paths_from_text(mi_hybrid, NULL, NULL, "/", 7, "ab", &u, &s), 0);
        assert_string_equal(u.dir[0].path, "/sys/fs/cgroup/cpu/u7");
        assert_int_equal(cg_paths_from_text(mi_hybrid, NULL, NULL, "./t", 7, "ab", &u, &s), -EINVAL);
}

static void test_paths_text_v2(void **state)
{
        CgSet u, s;

        assert_int_equal(cg_paths_from_text(mi_v2, pc_v2, ctl_v2, "/cubby", 1000, sid0, &u, &s), 0);
        assert_int_equal(u.n, 1);
        assert_true(u.dir[0].v2);
        assert_int_equal(u.dir[0].ctrl, CG_CTRL_CPU | CG_CTRL_MEMORY | CG_CTRL_PIDS);
        assert_string_equal(s.dir[0].path, "/sys/fs/cgroup/cubby/u1000/s0123456789abcdef");

        assert_int_equal(cg_paths_from_text(mi_v2, pc_v2, ctl_v2, "./a/b", 1000, "f", &u, &s), 0);
        assert_string_equal(s.dir[0].path, "/sys/fs/cgroup/user.slice/user-1000.slice/session-3.scope/a/b/u1000/sf");

        /* a controller not offered by the root is not claimed */
        assert_int_equal(cg_paths_from_text(mi_v2, pc_v2, "cpu memory\n", "/c", 1, "f", &u, &s), 0);
        assert_int_equal(u.dir[0].ctrl, CG_CTRL_CPU | CG_CTRL_MEMORY);
        assert_int_equal(cg_paths_from_text(mi_v2, pc_v2, "", "/c", 1, "f", &u, &s), 0);
        assert_int_equal(u.dir[0].ctrl, CG_CTRL_NONE_V2);
}

static void test_paths_text_layouts(void **state)
{
        CgSet u, s;

        /* cpu co-mounted with cpuacct, in a container: mount roots are not "/" */
        static const char mi_c[] =
                "50 40 0:40 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n"
                "51 40 0:41 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
                "52 40 0:42 /docker/abc /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids,clone_children\n";
        static const char pc_c[] = "12:pids:/docker/abc\n4:cpu,cpuacct:/docker/abc/sub\n3:memory:/docker/abc\n";

        assert_int_equal(cg_paths_from_text(mi_c, pc_c, NULL, "./x", 0, "a", &u, &s), 0);
        assert_int_equal(u.n, 3);
        assert_string_equal(u.dir[0].path, "/sys/fs/cgroup/cpu,cpuacct/sub/x/u0");
        assert_int_equal(u.dir[0].ctrl, CG_CTRL_CPU);
        assert_string_equal(u.dir[1].path, "/sys/fs/cgroup/memory/x/u0");
        /* memory alone next to other hierarchies: the session joins u0 */
        assert_int_equal(s.dir[1].ctrl, CG_CTRL_MEMORY | CG_DIR_USER);
        assert_string_equal(s.dir[1].path, u.dir[1].path);
        assert_string_equal(s.dir[2].path, "/sys/fs/cgroup/pids/x/u0/sa");
        /* memory the only hierarchy: the session keeps a dir of its own
         * there (its kill and teardown need one) */
        {
                static const char mi_m[] = "51 40 0:41 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";

                assert_int_equal(cg_paths_from_text(mi_m, NULL, NULL, "/x", 0, "a", &u, &s), 0);
                assert_int_equal(s.n, 1);
                assert_int_equal(s.dir[0].ctrl, CG_CTRL_MEMORY);
                assert_string_equal(s.dir[0].path, "/sys/fs/cgroup/memory/x/u0/sa");
        }
        /* memory co-mounted with a controller sessions need: a dir of its own */
        {
                static const char mi_cm[] = "51 40 0:41 / /sys/fs/cgroup/memory,pids rw - cgroup cgroup rw,memory,pids\n"
                                            "52 40 0:42 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";

                assert_int_equal(cg_paths_from_text(mi_cm, NULL, NULL, "/x", 0, "a", &u, &s), 0);
                assert_int_equal(s.n, 2);
                assert_false(cg_dir_at_user(&s.dir[0]));
                assert_string_equal(s.dir[0].path, "/sys/fs/cgroup/memory,pids/x/u0/sa");
        }
        /* the cgroup of pid is outside what the mount shows */
        assert_int_equal(cg_paths_from_text(mi_c, "4:cpu,cpuacct:/other\n3:memory:/docker/abc\n12:pids:/docker/abc\n",
                                            NULL, "./x", 0, "a", &u, &s),
                         -ENOENT);
        /* no line for a hierarchy */
        assert_int_equal(cg_paths_from_text(mi_c, "3:memory:/docker/abc\n", NULL, "./x", 0, "a", &u, &s), -ENOENT);
        /* a path seen from another cgroup namespace */
        assert_int_equal(cg_paths_from_text(mi_c, "4:cpu,cpuacct:/../..\n", NULL, "./x", 0, "a", &u, &s), -EINVAL);

        /* a cgroup2 hidden by a later tmpfs over /sys/fs/cgroup, mounts
         * elsewhere and foreign v1 hierarchies are not used */
        static const char mi_o[] = "30 24 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
                                   "31 24 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
                                   "32 31 0:29 / /mnt/cg rw - cgroup cgroup rw,memory\n"
                                   "33 31 0:30 / /sys/fs/cgroup/net_cls rw - cgroup cgroup rw,net_cls\n"
                                   "34 31 0:31 / /sys/fs/cgroup/my\\040pids rw - cgroup cgroup rw,pids\n";
        assert_int_equal(cg_paths_from_text(mi_o, NULL, ctl_v2, "/c", 1, "a", &u, &s), 0);
        assert_int_equal(u.n, 1);
        assert_false(u.dir[0].v2);
        assert_string_equal(u.dir[0].path, "/sys/fs/cgroup/my pids/c/u1");

        assert_int_equal(cg_paths_from_text("31 24 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n", NULL, NULL, "/c", 1,
                                            "a", &u, &s),
                         -ENOMEDIUM);
        assert_int_equal(cg_paths_from_text("garbage\n", NULL, NULL, "/c", 1, "a", &u, &s), -EINVAL);
}

static void test_paths_text_refused(void **state)
{
        static const char *const bad_specs[] = {
                "", "x", ".", "./", "../x", "./../x", "./a/../b", "./a/", "/a/..", "/a//b", "/a/./b", ".//a",
        };
        static const char *const bad_sids[] = { "", "XYZ", "0123-", "../x", "ABCDEF", "g",
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0" };
        CgSet u, s;

        for (size_t i = 0; i < ELEMENTSOF(bad_specs); i++)
                if (cg_paths_from_text(mi_hybrid, pc_hybrid, NULL, bad_specs[i], 1, "a", &u, &s) != -EINVAL)
                        fail_msg("spec \"%s\" accepted", bad_specs[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad_sids); i++)
                if (cg_paths_from_text(mi_hybrid, pc_hybrid, NULL, "/c", 1, bad_sids[i], &u, &s) != -EINVAL)
                        fail_msg("sid \"%s\" accepted", bad_sids[i]);
        assert_int_equal(cg_paths_from_text(mi_hybrid, pc_hybrid, NULL, "/c", (uid_t)-1, "a", &u, &s), -EINVAL);
        assert_int_equal(cg_paths_from_text(mi_hybrid, pc_hybrid, NULL, "/c", 1, NULL, &u, &s), -EINVAL);
}

/* ---- pure: records ---------------------------------------------------- */

/* ---- pure: which process is certain to go ------------------------------- */

static void test_task_dying_text(void **state)
{
        /* comm with ") " in it: fields count from the last ')' */
        const char *run = "123 (a) b) R 1 123 123 0 -1 4194560 100 0 0 0 5 1 0 0 20 0 1 0 99 0 0\n";
        const char *exiting = "123 (sh) R 1 123 123 0 -1 4194564 100 0 0 0 5 1 0 0 20 0 1 0 99 0 0\n";
        const char *zombie = "123 (sh) Z 1 123 123 0 -1 4194560 100 0 0 0 5 1 0 0 20 0 1 0 99 0 0\n";
        const char *dead = "123 (sh) X 1 123 123 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0\n";
        const char *quiet = "Name:\tsh\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n";
        const char *term = "Name:\tsh\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000004000\n";
        const char *killed = "Name:\tsh\nSigPnd:\t0000000000000100\nShdPnd:\t0000000000000000\n";
        const char *group = "Name:\tsh\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000102\n";

        assert_int_equal(cg_task_dying_text(run, quiet), 0);
        assert_int_equal(cg_task_dying_text(run, term), 0); /* SIGTERM may be caught */
        assert_int_equal(cg_task_dying_text(run, killed), 1);
        assert_int_equal(cg_task_dying_text(run, group), 1);
        assert_int_equal(cg_task_dying_text(exiting, quiet), 1);
        assert_int_equal(cg_task_dying_text(zombie, quiet), 1);
        assert_int_equal(cg_task_dying_text(dead, NULL), 1);
        assert_int_equal(cg_task_dying_text(run, NULL), 0);
        assert_int_equal(cg_task_dying_text("123 sh R 1", quiet), -EBADMSG);
        assert_int_equal(cg_task_dying_text("123 (sh)", quiet), -EBADMSG);
        assert_int_equal(cg_task_dying_text(NULL, quiet), -EBADMSG);
}

static void test_dir_record(void **state)
{
        static const char *const bad[] = {
                "", "garbage", "v2", "v2:", "v2:16", "v2:16:", "v3:16:/sys/fs/cgroup/a", "v2::/sys/fs/cgroup/a",
                "v2:x:/sys/fs/cgroup/a", "v2:+16:/sys/fs/cgroup/a", "v2:-1:/sys/fs/cgroup/a",
                "v2:0:/sys/fs/cgroup/a", "v2:99999999999:/sys/fs/cgroup/a", "v1:64:/sys/fs/cgroup/a",
                "v2:8:/sys/fs/cgroup/a",         /* freezer is v1 only */
                "v2:32:/sys/fs/cgroup/a",        /* the cpuset bit too */
                "v1:16:/sys/fs/cgroup/a",        /* NONE_V2 on v1 */
                "v2:16:/sys/fs/cgroup",          /* the mount itself */
                "v2:16:/sys/fs/cgroup/",         "v2:16:/sys/fs/cgroupx/a", "v2:16:/sys/fs/cgroup/../../etc",
                "v2:16:/sys/fs/cgroup/a/../../../etc", "v2:16:/sys/fs/cgroup/./a", "v2:16:/sys/fs/cgroup//a",
                "v2:16:/sys/fs/cgroup/a/", "v2:16:sys/fs/cgroup/a", "v2:16:/etc/passwd", "v2:16:../sys/fs/cgroup/a",
                "v2:16:/sys/fs/cgroup/a\n", "v2:16:/sys/fs/cgroup/a\tb", "V2:16:/sys/fs/cgroup/a",
                " v2:16:/sys/fs/cgroup/a", "v2: 16:/sys/fs/cgroup/a",
        };
        CgDir d = { .v2 = true, .ctrl = CG_CTRL_NONE_V2 }, e;
        char buf[PATH_MAX + 32];

        strcpy(d.path, "/sys/fs/cgroup/unified/cubby/u1000/s0123456789abcdef");
        assert_int_equal(cg_dir_format(&d, buf, sizeof buf), 0);
        assert_string_equal(buf, "v2:16:/sys/fs/cgroup/unified/cubby/u1000/s0123456789abcdef");
        memset(&e, 0xa5, sizeof e);
        assert_int_equal(cg_dir_parse(buf, &e), 0);
        assert_true(e.v2);
        assert_int_equal(e.ctrl, CG_CTRL_NONE_V2);
        assert_string_equal(e.path, d.path);
        assert_int_equal(cg_dir_format(&d, buf, 20), -ENOSPC);

        d.v2 = false;
        d.ctrl = CG_CTRL_CPU | CG_CTRL_FREEZER;
        strcpy(d.path, "/sys/fs/cgroup/cpu,cpuacct/x/u1");
        assert_int_equal(cg_dir_format(&d, buf, sizeof buf), 0);
        assert_string_equal(buf, "v1:9:/sys/fs/cgroup/cpu,cpuacct/x/u1");
        assert_int_equal(cg_dir_parse(buf, &e), 0);
        assert_false(e.v2);
        assert_int_equal(e.ctrl, 9);

        d.ctrl = CG_CTRL_CPUSET;
        strcpy(d.path, "/sys/fs/cgroup/cpuset/x/u1/sab");
        assert_int_equal(cg_dir_format(&d, buf, sizeof buf), 0);
        assert_string_equal(buf, "v1:32:/sys/fs/cgroup/cpuset/x/u1/sab");
        assert_int_equal(cg_dir_parse(buf, &e), 0);
        assert_false(e.v2);
        assert_int_equal(e.ctrl, CG_CTRL_CPUSET);
        assert_string_equal(e.path, d.path);

        strcpy(d.path, "/sys/fs/cgroup/../etc");
        assert_int_equal(cg_dir_format(&d, buf, sizeof buf), -EINVAL);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (cg_dir_parse(bad[i], &e) >= 0)
                        fail_msg("record \"%s\" accepted", bad[i]);
}

/* ---- real: paths ------------------------------------------------------ */

static void test_paths_real(void **state)
{
        CgSet u, s, au, as;
        char sid[CUBBY_ID_LEN + 1], own[PATH_MAX], parent[PATH_MAX];

        new_session(&u, &s, sid);
        assert_true(u.n >= 1);
        assert_int_equal(cg_paths("/cubby", getpid(), TEST_UID, sid, &au, &as), 0);
        assert_int_equal(au.n, u.n);
        for (size_t i = 0; i < u.n; i++) {
                char tail[128];

                /* "./" is below the cgroup this process is in: its dir lists us */
                assert_true(dirname_of(u.dir[i].path, parent, sizeof parent));
                assert_non_null(strstr(parent, spec + 1));
                assert_true(dirname_of(parent, own, sizeof own));
                if (!pid_listed(own, getpid()))
                        fail_msg("%s does not list pid %d", own, (int)getpid());
                snprintf(tail, sizeof tail, "/s%s", sid);
                /* memory (v1): the session's entry is the user dir, marked */
                if (cg_hier_at_user(u.dir[i].v2, u.dir[i].ctrl)) {
                        assert_true(cg_dir_at_user(&s.dir[i]));
                        assert_string_equal(s.dir[i].path, u.dir[i].path);
                } else {
                        assert_false(cg_dir_at_user(&s.dir[i]));
                        assert_string_equal(s.dir[i].path + strlen(u.dir[i].path), tail);
                }

                /* "/cubby" is at the top of the same hierarchy (not created) */
                assert_int_equal(au.dir[i].v2, u.dir[i].v2);
                assert_int_equal(au.dir[i].ctrl, u.dir[i].ctrl);
                snprintf(tail, sizeof tail, "/cubby/u%u", TEST_UID);
                assert_true(strlen(au.dir[i].path) > strlen(tail));
                assert_string_equal(au.dir[i].path + strlen(au.dir[i].path) - strlen(tail), tail);
                assert_true(dirname_of(au.dir[i].path, parent, sizeof parent));
                assert_true(dirname_of(parent, own, sizeof own));
                assert_true(exists(own, "cgroup.procs"));
                print_message("  %s:%-2u %s\n", u.dir[i].v2 ? "v2" : "v1", u.dir[i].ctrl, s.dir[i].path);

                /* what the record keeps reads back the same */
                {
                        char rec[PATH_MAX + 32];
                        CgDir back;

                        assert_int_equal(cg_dir_format(&s.dir[i], rec, sizeof rec), 0);
                        assert_int_equal(cg_dir_parse(rec, &back), 0);
                        assert_int_equal(back.v2, s.dir[i].v2);
                        assert_int_equal(back.ctrl, s.dir[i].ctrl);
                        assert_string_equal(back.path, s.dir[i].path);
                }
        }
        {
                CgAttach a;

                /* nothing created yet: nothing to open, nothing leaked */
                assert_int_equal(cg_attach_open(&s, &a), -ENOENT);
                assert_int_equal(cg_populated(&s), 0);
        }
        assert_int_equal(cg_paths("./x", -1, TEST_UID, sid, &au, &as), -EINVAL);
        assert_int_equal(cg_paths(spec, 0, TEST_UID, "../x", &au, &as), -EINVAL);
}

/* ---- real: create and limits ------------------------------------------ */

static void check_limits(const CgSet *u, const CgLimits *l)
{
        for (size_t i = 0; i < u->n; i++) {
                const CgDir *d = &u->dir[i];
                char buf[64];

                if (d->ctrl & CG_CTRL_CPU) {
                        if (d->v2) {
                                if (l->cpu_milli == UINT64_MAX)
                                        snprintf(buf, sizeof buf, "max 100000");
                                else
                                        snprintf(buf, sizeof buf, "%llu 100000", (unsigned long long)l->cpu_milli * 100);
                                assert_knob(d->path, "cpu.max", buf);
                        } else {
                                assert_knob(d->path, "cpu.cfs_period_us", "100000");
                                snprintf(buf, sizeof buf, "%lld",
                                         l->cpu_milli == UINT64_MAX ? -1LL : (long long)l->cpu_milli * 100);
                                assert_knob(d->path, "cpu.cfs_quota_us", buf);
                        }
                }
                if (d->ctrl & CG_CTRL_MEMORY) {
                        if (d->v2) {
                                snprintf(buf, sizeof buf, "%llu", (unsigned long long)l->memory);
                                assert_knob(d->path, "memory.max", l->memory == UINT64_MAX ? "max" : buf);
                                if (exists(d->path, "memory.swap.max")) {
                                        snprintf(buf, sizeof buf, "%llu", (unsigned long long)l->swap);
                                        assert_knob(d->path, "memory.swap.max", l->swap == UINT64_MAX ? "max" : buf);
                                }
                        } else {
                                /* v1 shows "unlimited" as PAGE_COUNTER_MAX pages */
                                const char *unl = "9223372036854771712";

                                snprintf(buf, sizeof buf, "%llu", (unsigned long long)l->memory);
                                assert_knob(d->path, "memory.limit_in_bytes", l->memory == UINT64_MAX ? unl : buf);
                                if (exists(d->path, "memory.memsw.limit_in_bytes")) {
                                        bool unlimited = l->memory == UINT64_MAX || l->swap == UINT64_MAX;

                                        snprintf(buf, sizeof buf, "%llu",
                                                 (unsigned long long)(l->memory + (unlimited ? 0 : l->swap)));
                                        assert_knob(d->path, "memory.memsw.limit_in_bytes", unlimited ? unl : buf);
                                }
                        }
                }
                if (d->ctrl & CG_CTRL_PIDS) {
                        snprintf(buf, sizeof buf, "%llu", (unsigned long long)l->pids);
                        assert_knob(d->path, "pids.max", l->pids == UINT64_MAX ? "max" : buf);
                }
        }
}

/* A session's entry that is its user dir goes with the user level. */
static void assert_gone(const CgSet *set)
{
        for (size_t i = 0; i < set->n; i++)
                if (!cg_dir_at_user(&set->dir[i]) && exists(set->dir[i].path, NULL))
                        fail_msg("%s still exists", set->dir[i].path);
}

static void assert_there(const CgSet *set)
{
        for (size_t i = 0; i < set->n; i++)
                if (!exists(set->dir[i].path, "cgroup.procs"))
                        fail_msg("%s missing", set->dir[i].path);
}

/* Two sessions of one user, both made with limits_a. */
static void two_sessions(CgSet *u, CgSet *s1, char sid1[CUBBY_ID_LEN + 1], CgSet *s2,
                         char sid2[CUBBY_ID_LEN + 1])
{
        new_session(u, s1, sid1);
        assert_int_equal(random_id(sid2), 0);
        assert_int_equal(cg_paths(spec, 0, TEST_UID, sid2, u, s2), 0);
        assert_int_equal(cg_create(u, s1, &limits_a), 0);
        assert_int_equal(cg_create(u, s2, &limits_a), 0);
}

static void test_create_limits(void **state)
{
        CgSet u, s;
        char sid[CUBBY_ID_LEN + 1];
        CgLimits l = limits_a;
        int64_t t0;

        new_session(&u, &s, sid);
        t0 = now_us();
        assert_int_equal(cg_create(&u, &s, &l), 0);
        print_message("  cg_create (first, mkdir -p): %lld us\n", (long long)(now_us() - t0));
        assert_there(&u);
        assert_there(&s);
        check_limits(&u, &l);
        assert_int_equal(cg_create(&u, &s, &l), -EEXIST);

        /* v1 memory+swap must stay >= memory: raise, lower, unlimit, limit */
        l.memory = 128 * MiB;
        l.swap = 0;
        assert_int_equal(cg_set_limits(&u, &l), 0);
        check_limits(&u, &l);
        l.memory = 16 * MiB;
        l.swap = 16 * MiB;
        l.cpu_milli = 2000;
        l.pids = 10;
        assert_int_equal(cg_set_limits(&u, &l), 0);
        check_limits(&u, &l);
        l = (CgLimits){ UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
        assert_int_equal(cg_set_limits(&u, &l), 0);
        check_limits(&u, &l);
        l = limits_a;
        l.swap = UINT64_MAX;
        assert_int_equal(cg_set_limits(&u, &l), 0);
        check_limits(&u, &l);
        l.cpu_milli = UINT64_MAX / 10;
        assert_int_equal(cg_set_limits(&u, &l), -ERANGE);

        assert_int_equal(cg_remove(&u, &s), 0);
        assert_gone(&s);
        assert_gone(&u);
        /* missing is fine */
        assert_int_equal(cg_remove(&u, &s), 0);
        assert_int_equal(cg_kill(&s, 100, 100), 0);
        assert_int_equal(cg_populated(&s), 0);
}

/* A limit the kernel refuses (cpu quota below 1 ms) must stop cg_create
 * before any session dir exists, and leave no user dir it made. */
static void test_create_limits_first(void **state)
{
        CgSet u, s;
        char sid[CUBBY_ID_LEN + 1];
        CgLimits l = limits_a;
        bool cpu = false;

        new_session(&u, &s, sid);
        for (size_t i = 0; i < u.n; i++)
                cpu |= (u.dir[i].ctrl & CG_CTRL_CPU) != 0;
        if (!cpu) {
                print_message("  no cpu controller for cubby here: part skipped\n");
                return;
        }
        l.cpu_milli = 1;
        assert_int_equal(cg_create(&u, &s, &l), -EINVAL);
        assert_gone(&s);
        assert_gone(&u);
}

static bool no_pids(const CgDir *d) { return !(d->ctrl & CG_CTRL_PIDS); }

/* A limit no hierarchy can enforce is refused before anything is made. */
static void test_create_unenforceable(void **state)
{
        CgSet u, s;
        char sid[CUBBY_ID_LEN + 1];
        CgLimits l = limits_a;

        new_session(&u, &s, sid);
        subset(&u, &s, no_pids);
        if (u.n == 0) {
                print_message("  every hierarchy here carries pids: part skipped\n");
                return;
        }
        assert_int_equal(cg_create(&u, &s, &l), -EOPNOTSUPP);
        assert_gone(&u);
        assert_int_equal(cg_set_limits(&u, &l), -EOPNOTSUPP);
        l.pids = UINT64_MAX;
        assert_int_equal(cg_create(&u, &s, &l), 0);
        assert_there(&s);
        assert_int_equal(cg_remove(&u, &s), 0);
        assert_gone(&u);
}

/* Watch the user dirs while a second session is created: in every dir that
 * carries limits, the knob writes come before the session mkdir. */
static void test_create_order_inotify(void **state)
{
        CgSet u, s1, s2;
        char sid1[CUBBY_ID_LEN + 1], sid2[CUBBY_ID_LEN + 1];
        int wd[CG_MAX_DIRS];
        _cleanup_close_ int ifd = -1;
        bool modified[CG_MAX_DIRS] = { 0 }, created[CG_MAX_DIRS] = { 0 };
        char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
        CgLimits l2 = limits_a;
        ssize_t n;

        l2.cpu_milli = 250;
        new_session(&u, &s1, sid1);
        assert_int_equal(random_id(sid2), 0);
        assert_int_equal(cg_paths(spec, 0, TEST_UID, sid2, &u, &s2), 0);
        assert_int_equal(cg_create(&u, &s1, &limits_a), 0);

        ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        assert_true(ifd >= 0);
        for (size_t i = 0; i < u.n; i++) {
                wd[i] = inotify_add_watch(ifd, u.dir[i].path, IN_CREATE | IN_MODIFY);
                assert_true(wd[i] >= 0);
        }
        /* a changed policy: the CPU bandwidth knobs are written only
         * where they differ (test_limits_next_login) */
        assert_int_equal(cg_create(&u, &s2, &l2), 0);
        n = read(ifd, buf, sizeof buf);
        assert_true(n > 0);
        for (char *p = buf; p < buf + n;) {
                const struct inotify_event *ev = (const struct inotify_event *)p;

                for (size_t i = 0; i < u.n; i++) {
                        if (ev->wd != wd[i])
                                continue;
                        if (ev->mask & IN_MODIFY) {
                                if (created[i])
                                        fail_msg("%s/%s written after the session dir", u.dir[i].path, ev->name);
                                modified[i] = true;
                        }
                        if (ev->mask & IN_CREATE)
                                created[i] = true;
                }
                p += sizeof *ev + ev->len;
        }
        for (size_t i = 0; i < u.n; i++) {
                /* no session dir where the session joins the user dir */
                assert_int_equal(created[i], !cg_dir_at_user(&s2.dir[i]));
                if (u.dir[i].ctrl & (CG_CTRL_CPU | CG_CTRL_MEMORY | CG_CTRL_PIDS | CG_CTRL_CPUSET))
                        assert_true(modified[i]);
        }
        assert_int_equal(cg_remove(&u, &s1), 0);
        assert_int_equal(cg_remove(&u, &s2), 0);
        assert_gone(&u);
}

static void test_two_sessions(void **state)
{
        CgSet u, s1, s2;
        char sid1[CUBBY_ID_LEN + 1], sid2[CUBBY_ID_LEN + 1];

        two_sessions(&u, &s1, sid1, &s2, sid2);
        assert_int_equal(cg_remove(&u, &s1), 0);
        assert_gone(&s1);
        assert_there(&u);
        assert_there(&s2);
        check_limits(&u, &limits_a);
        assert_int_equal(cg_remove(&u, &s2), 0);
        assert_gone(&s2);
        assert_gone(&u);
}

/* A changed policy applies at the next login of a user whose session is
 * still open: the user dir exists and carries the old limits. cg_create
 * writes the CPU bandwidth knobs only where they read differently (the
 * kernel walks every cpu cgroup of the host on each such write); a
 * compare that trusted anything but the knob itself would miss the
 * changed policy here, or a quota changed behind cubby's back. */
static void test_limits_next_login(void **state)
{
        CgSet u, s1, s2, s3;
        char sid1[CUBBY_ID_LEN + 1], sid2[CUBBY_ID_LEN + 1], sid3[CUBBY_ID_LEN + 1];
        CgLimits l = limits_a;

        new_session(&u, &s1, sid1);
        assert_int_equal(random_id(sid2), 0);
        assert_int_equal(cg_paths(spec, 0, TEST_UID, sid2, &u, &s2), 0);
        assert_int_equal(random_id(sid3), 0);
        assert_int_equal(cg_paths(spec, 0, TEST_UID, sid3, &u, &s3), 0);
        assert_int_equal(cg_create(&u, &s1, &l), 0);
        check_limits(&u, &l);

        /* the policy changed: tighter and looser knobs, s1 still open */
        l.cpu_milli = 250;
        l.memory = 48 * MiB;
        l.pids = 100;
        assert_int_equal(cg_create(&u, &s2, &l), 0);
        check_limits(&u, &l);

        /* the same policy, but the quota and period were changed in the
         * user dir since: the next login sets them again */
        for (size_t i = 0; i < u.n; i++) {
                if (!(u.dir[i].ctrl & CG_CTRL_CPU))
                        continue;
                char p[PATH_MAX + 32];

                if (u.dir[i].v2) {
                        snprintf(p, sizeof p, "%s/cpu.max", u.dir[i].path);
                        assert_int_equal(write_string_at(AT_FDCWD, p, "max 50000"), 0);
                        continue;
                }
                snprintf(p, sizeof p, "%s/cpu.cfs_quota_us", u.dir[i].path);
                assert_int_equal(write_string_at(AT_FDCWD, p, "-1"), 0);
                snprintf(p, sizeof p, "%s/cpu.cfs_period_us", u.dir[i].path);
                assert_int_equal(write_string_at(AT_FDCWD, p, "50000"), 0);
        }
        assert_int_equal(cg_create(&u, &s3, &l), 0);
        check_limits(&u, &l);

        assert_int_equal(cg_remove(&u, &s1), 0);
        assert_int_equal(cg_remove(&u, &s2), 0);
        assert_int_equal(cg_remove(&u, &s3), 0);
        assert_gone(&u);
}

/* session_teardown's order: each session removes its own dirs without
 * the user lock (cg_remove(NULL, s)); while another session's dir is
 * there (cg_has_children) it stops; the last takes the lock and removes
 * the user level (cg_remove(u, NULL)). */
static void test_split_removal(void **state)
{
        CgSet u, s1, s2;
        char sid1[CUBBY_ID_LEN + 1], sid2[CUBBY_ID_LEN + 1];

        two_sessions(&u, &s1, sid1, &s2, sid2);
        assert_int_equal(cg_has_children(&u), 1);
        assert_int_equal(cg_remove(NULL, &s1), 0);
        assert_gone(&s1);
        assert_there(&u);
        assert_int_equal(cg_has_children(&u), 1); /* s2: teardown leaves the user level alone */
        assert_int_equal(cg_remove(&u, NULL), 0); /* s2 is there: EBUSY is fine */
        assert_there(&u);
        assert_there(&s2);
        assert_int_equal(cg_remove(NULL, &s2), 0);
        assert_there(&u);
        assert_int_equal(cg_has_children(&u), 0); /* the last: it takes the lock and removes */
        assert_int_equal(cg_remove(&u, NULL), 0);
        assert_gone(&u);
        assert_int_equal(cg_has_children(&u), 0); /* missing: empty */
        /* twice is harmless */
        assert_int_equal(cg_remove(NULL, &s2), 0);
        assert_int_equal(cg_remove(&u, NULL), 0);
}

/* ---- real: attach and kill -------------------------------------------- */

static pid_t clone3_into(int cgfd, uint64_t flags)
{
        struct clone_args args = {
                .flags = flags | (cgfd >= 0 ? CLONE_INTO_CGROUP : 0),
                .exit_signal = SIGCHLD,
                .cgroup = cgfd >= 0 ? (uint64_t)cgfd : 0,
        };

        return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

/* The session's first process: moves itself into the v1 dirs as the helper's
 * child does, ignores SIGTERM, and keeps forking grandchildren that ignore
 * it too. Everything here ends by itself (alarm). */
static _Noreturn void session_child(CgAttach *a, int ready_fd, unsigned grandchildren)
{
        char c = 1;

        if (cg_attach_self_v1(a) < 0)
                _exit(10);
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(30);
        signal(SIGTERM, SIG_IGN);
        for (unsigned i = 0; i < grandchildren; i++) {
                pid_t p = fork();

                if (p == 0) {
                        close(ready_fd);
                        alarm(30);
                        for (int k = 0; k < 60; k++)
                                sleep(1);
                        _exit(0);
                }
                if (i == 2 && write(ready_fd, &c, 1) != 1)
                        _exit(11);
                if (i >= 2)
                        usleep(2000);
        }
        for (int k = 0; k < 60; k++)
                sleep(1);
        _exit(0);
}

static void reap_all(void)
{
        /* We are a subreaper: orphaned grandchildren come back to us. */
        for (int k = 0; k < 200 && waitpid(-1, NULL, WNOHANG) >= 0; k++)
                usleep(1000);
}

/* The Cpus_allowed_list of pid ("0-1"), or NULL. */
static char *cpus_allowed(pid_t pid)
{
        char path[64];
        _cleanup_free_ char *st = NULL;
        const char *p;

        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        if (read_file_at(AT_FDCWD, path, 1 << 16, &st, NULL, NULL) < 0)
                return NULL;
        p = strstr(st, "\nCpus_allowed_list:");
        if (!p)
                return NULL;
        p += strlen("\nCpus_allowed_list:");
        p += strspn(p, " \t");
        return strndup(p, strcspn(p, "\n"));
}

/* A session's process (session_child with that many grandchildren),
 * attached as the helper's child attaches itself (clone3 with extra);
 * returns once it runs in the session's dirs. */
static pid_t spawn_in(const CgSet *s, uint64_t extra, unsigned grandchildren)
{
        CgAttach a;
        int p[2];
        char c;
        pid_t child;
        ssize_t n;

        assert_int_equal(cg_attach_open(s, &a), 0);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        child = clone3_into(a.v2_fd, extra);
        if (child == 0) {
                close(p[0]);
                session_child(&a, p[1], grandchildren);
        }
        assert_true(child > 0);
        close(p[1]);
        cg_attach_close(&a);
        assert_int_equal(a.v2_fd, -1);
        do
                n = read(p[0], &c, 1);
        while (n < 0 && errno == EINTR);
        close(p[0]);
        assert_int_equal(n, 1);
        return child;
}

/* Start a session child in s (clone3 flags extra) with limits lim, check
 * that it and its grandchildren are in every session dir and that it runs
 * on lim->cpus (or on the CPUs of this process), then kill it with cg_kill. */
static void attach_and_kill_lim(const CgSet *u, const CgSet *s, const CgLimits *lim, uint64_t extra,
                                const char *what)
{
        int status;
        pid_t child;
        int64_t t0, dt;

        assert_int_equal(cg_create(u, s, lim), 0);
        child = spawn_in(s, extra, 30);

        for (size_t i = 0; i < s->n; i++) {
                char line[PATH_MAX + 64], path[64];
                _cleanup_free_ char *pc = NULL;

                if (!pid_listed(s->dir[i].path, child))
                        fail_msg("%s: child %d not in %s", what, (int)child, s->dir[i].path);
                assert_true(count_listed(s->dir[i].path) >= 4);
                /* and /proc/PID/cgroup says so: the session path ends each line's path */
                snprintf(path, sizeof path, "/proc/%d/cgroup", (int)child);
                assert_int_equal(read_file_at(AT_FDCWD, path, 1 << 16, &pc, NULL, NULL), 0);
                snprintf(line, sizeof line, "%s\n", strstr(s->dir[i].path, spec + 2) - 1);
                if (!strstr(pc, line))
                        fail_msg("%s: /proc/%d/cgroup lacks %s", what, (int)child, line);
        }
        {
                _cleanup_free_ char *want = lim->cpus && *lim->cpus ? strdup(lim->cpus) : cpus_allowed(getpid());
                _cleanup_free_ char *got = cpus_allowed(child);

                assert_non_null(want);
                if (!got || strcmp(got, want) != 0)
                        fail_msg("%s: child's Cpus_allowed_list is \"%s\", want \"%s\"", what, got ? got : "?",
                                 want);
        }
        assert_int_equal(cg_populated(s), 1);
        assert_int_equal(kill(child, SIGTERM), 0);
        usleep(1000);
        assert_int_equal(cg_populated(s), 1);

        t0 = now_us();
        assert_int_equal(cg_kill(s, 3000, 3000), 0);
        dt = now_us() - t0;
        print_message("  cg_kill %-28s %lld us\n", what, (long long)dt);
        assert_true(dt < 3000000);
        assert_int_equal(cg_populated(s), 0);
        for (size_t i = 0; i < s->n; i++)
                assert_int_equal(count_listed(s->dir[i].path), 0);
        /* removable while the child is still an unreaped zombie */
        assert_int_equal(cg_remove(u, s), 0);
        assert_gone(s);
        assert_gone(u);
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        reap_all();
}

static void attach_and_kill(const CgSet *u, const CgSet *s, uint64_t extra, const char *what)
{
        attach_and_kill_lim(u, s, &limits_a, extra, what);
}

/* Sessions have no memory cgroup of their own (cgroup.h): each memory
 * cgroup taken offline walks every list_lru of the host under the cgroup
 * mutex, which made logins and logouts wait with thousands of sandboxes
 * held. In a v1 memory hierarchy a session's process joins the user dir;
 * one session's kill and removal leave the others' processes and the user
 * dir alone, and the user level's removal takes it last. On v2 the user
 * dir keeps its memory limit and gives its children no memory files. */
static void test_memory_at_user(void **state)
{
        CgSet u, s1, s2, back;
        char sid1[CUBBY_ID_LEN + 1], sid2[CUBBY_ID_LEN + 1];
        bool v1_memory = false;
        pid_t p1, p2;
        int status;

        two_sessions(&u, &s1, sid1, &s2, sid2);
        assert_int_equal(session_user_set(&s1, &back), 0);
        assert_int_equal(back.n, u.n);
        for (size_t i = 0; i < u.n; i++) {
                assert_int_equal(back.dir[i].v2, u.dir[i].v2);
                assert_int_equal(back.dir[i].ctrl, u.dir[i].ctrl);
                assert_string_equal(back.dir[i].path, u.dir[i].path);
        }
        for (size_t i = 0; i < u.n; i++) {
                const CgDir *d = &s1.dir[i];
                char rec[PATH_MAX + 32];
                CgDir e;

                if (!u.dir[i].v2 && u.dir[i].ctrl == CG_CTRL_MEMORY) {
                        v1_memory = true;
                        assert_true(cg_dir_at_user(d));
                        assert_string_equal(d->path, u.dir[i].path);
                        /* the record keeps the mark */
                        assert_int_equal(cg_dir_format(d, rec, sizeof rec), 0);
                        assert_int_equal(cg_dir_parse(rec, &e), 0);
                        assert_int_equal(e.ctrl, CG_CTRL_MEMORY | CG_DIR_USER);
                } else if (d->v2 && (d->ctrl & CG_CTRL_MEMORY)) {
                        _cleanup_free_ char *sub = knob_all(u.dir[i].path, "cgroup.subtree_control");

                        assert_true(exists(u.dir[i].path, "memory.max"));
                        assert_false(exists(d->path, "memory.current"));
                        assert_non_null(sub);
                        assert_null(strstr(sub, "memory"));
                }
        }
        if (!v1_memory)
                print_message("  no v1 memory hierarchy here: the v1 part skipped\n");

        p1 = spawn_in(&s1, 0, 3);
        p2 = spawn_in(&s2, 0, 3);
        for (size_t i = 0; i < u.n; i++)
                if (cg_dir_at_user(&s1.dir[i])) {
                        assert_true(pid_listed(u.dir[i].path, p1));
                        assert_true(pid_listed(u.dir[i].path, p2));
                }
        /* s1 ends: its process goes, s2's stays, the user dir stays */
        assert_int_equal(cg_kill(&s1, 3000, 3000), 0);
        assert_int_equal(cg_populated(&s1), 0);
        assert_int_equal(waitpid(p1, &status, 0), p1);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        assert_int_equal(kill(p2, 0), 0);
        assert_int_equal(cg_populated(&s2), 1);
        assert_int_equal(cg_remove(&u, &s1), 0);
        assert_gone(&s1);
        assert_there(&u);
        assert_there(&s2);
        /* with s2's dirs empty but still there, the memory user dir (no
         * child dir, no process) stays too: it goes after every other */
        assert_int_equal(cg_kill(&s2, 3000, 3000), 0);
        assert_int_equal(waitpid(p2, &status, 0), p2);
        reap_all();
        assert_int_equal(cg_remove(&u, NULL), 0);
        assert_there(&u);
        assert_int_equal(cg_remove_dirs(&u, true), 1);
        assert_there(&u);
        assert_int_equal(cg_remove(&u, &s2), 0);
        assert_gone(&s2);
        assert_gone(&u);
}

static void test_kill_default(void **state)
{
        CgSet u, s;
        char sid[CUBBY_ID_LEN + 1];

        new_session(&u, &s, sid);
        attach_and_kill(&u, &s, 0, "(all hierarchies)");
}

/* As the helper does it: the child is in a new user namespace (still kuid 0,
 * no mapping yet) when it writes "0" into the v1 tasks files. */
static void test_kill_userns_child(void **state)
{
        CgSet u, s;
        char sid[CUBBY_ID_LEN + 1];

        new_session(&u, &s, sid);
        attach_and_kill(&u, &s, CLONE_NEWUSER, "(child in new userns)");
}

static void test_kill_freezer(void **state)
{
        CgSet u, s;
        char sid[CUBBY_ID_LEN + 1];
        bool freezer = false;

        new_session(&u, &s, sid);
        subset(&u, &s, is_v1);
        for (size_t i = 0; i < u.n; i++)
                freezer |= (u.dir[i].ctrl & CG_CTRL_FREEZER) != 0;
        if (!freezer) {
                print_message("  no v1 freezer on this host: part skipped\n");
                return;
        }
        attach_and_kill(&u, &s, 0, "(v1 only: freezer)");
}

static void test_kill_loop(void **state)
{
        CgSet u, s;
        char sid[CUBBY_ID_LEN + 1];

        new_session(&u, &s, sid);
        subset(&u, &s, is_v1_no_freezer);
        if (u.n == 0) {
                print_message("  no v1 hierarchies on this host: part skipped\n");
                return;
        }
        attach_and_kill(&u, &s, 0, "(v1 without freezer: loop)");
}

/* ---- real: a teardown slower than its timeout --------------------------- */

/* A SIGKILLed process that cannot exit yet: the session's process is
 * moved into a frozen v1 freezer dir below the session's own (cg_kill
 * freezes and thaws the session dir, not that one), where the kill stays
 * pending until the dir is thawed. Only where a v1 freezer is: a v2
 * frozen task dies of SIGKILL at once. */
typedef struct Slow {
        CgSet u, s;
        char slow[PATH_MAX + 16];
        pid_t child;
} Slow;

/* The current one, for slow_teardown after a failed assert (which
 * leaves the test's stack frame): static, not on that stack. */
static Slow slow_w;
static Slow *slow_now;

static bool slow_start(Slow *w)
{
        char sid[CUBBY_ID_LEN + 1], pid[16];
        const CgDir *fr = NULL;
        CgAttach a;
        int p[2];
        char c;

        memset(w, 0, sizeof *w);
        slow_now = w;
        new_session(&w->u, &w->s, sid);
        for (size_t i = 0; i < w->s.n; i++)
                if (!w->s.dir[i].v2 && (w->s.dir[i].ctrl & CG_CTRL_FREEZER))
                        fr = &w->s.dir[i];
        if (!fr) {
                print_message("  no v1 freezer on this host: part skipped\n");
                return false;
        }
        assert_int_equal(cg_create(&w->u, &w->s, &limits_a), 0);
        snprintf(w->slow, sizeof w->slow, "%s/slow", fr->path);
        assert_int_equal(mkdir(w->slow, 0755), 0);
        assert_int_equal(cg_attach_open(&w->s, &a), 0);
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        w->child = clone3_into(a.v2_fd, 0);
        if (w->child == 0) {
                close(p[0]);
                if (cg_attach_self_v1(&a) < 0)
                        _exit(10);
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                alarm(30);
                if (write(p[1], &c, 1) != 1)
                        _exit(11);
                for (int k = 0; k < 60; k++)
                        sleep(1);
                _exit(0);
        }
        assert_true(w->child > 0);
        close(p[1]);
        cg_attach_close(&a);
        assert_int_equal(read(p[0], &c, 1), 1);
        close(p[0]);
        snprintf(pid, sizeof pid, "%d", (int)w->child);
        {
                _cleanup_close_ int fd = open(w->slow, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                assert_true(fd >= 0);
                assert_int_equal(write_string_at(fd, "cgroup.procs", pid), 0);
                assert_int_equal(write_string_at(fd, "freezer.state", "FROZEN"), 0);
                for (int k = 0; k < 2000; k++) {
                        _cleanup_free_ char *st = knob(w->slow, "freezer.state");

                        if (st && strcmp(st, "FROZEN") == 0)
                                break;
                        usleep(1000);
                }
                assert_knob(w->slow, "freezer.state", "FROZEN");
        }
        return true;
}

/* Thaw the slow dir after ms, from a child of ours (cg_kill blocks us). */
static pid_t slow_thaw_after(const Slow *w, unsigned ms)
{
        pid_t t = fork();

        if (t == 0) {
                char p[PATH_MAX + 64];

                usleep(ms * 1000);
                snprintf(p, sizeof p, "%s/freezer.state", w->slow);
                _exit(write_string_at(AT_FDCWD, p, "THAWED") < 0 ? 1 : 0);
        }
        assert_true(t > 0);
        return t;
}

static void slow_thawed(pid_t thaw)
{
        int status;

        assert_int_equal(waitpid(thaw, &status, 0), thaw);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void slow_finish(Slow *w)
{
        int status;

        assert_int_equal(cg_populated(&w->s), 0);
        assert_int_equal(rmdir(w->slow), 0);
        assert_int_equal(cg_remove(&w->u, &w->s), 0);
        assert_gone(&w->s);
        assert_int_equal(waitpid(w->child, &status, 0), w->child);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        reap_all();
        slow_now = NULL;
}

/* After a failed assert: thaw, kill and remove what slow_start made, so
 * that the next test finds no busy user dir. */
static int slow_teardown(void **state)
{
        Slow *w = slow_now;
        char p[PATH_MAX + 64];

        slow_now = NULL;
        if (!w || !w->slow[0])
                return 0;
        snprintf(p, sizeof p, "%s/freezer.state", w->slow);
        (void)write_string_at(AT_FDCWD, p, "THAWED");
        if (w->child > 0)
                (void)kill(w->child, SIGKILL);
        (void)cg_kill(&w->s, 3000, 3000);
        (void)rmdir(w->slow);
        (void)cg_remove(&w->u, &w->s);
        reap_all();
        return 0;
}

/* Killed, but its exit takes longer than the timeout: the wait goes on
 * (SIGKILL is pending) and ends when the process is gone, well before the
 * cap. */
static void test_kill_slow_exit(void **state)
{
        Slow *w = &slow_w;
        pid_t thaw;
        int64_t t0, dt;

        if (!slow_start(w))
                return;
        thaw = slow_thaw_after(w, 1000);
        t0 = now_us();
        assert_int_equal(cg_kill(&w->s, 200, 30000), 0);
        dt = now_us() - t0;
        print_message("  cg_kill of a process exiting after 1 s (timeout 200 ms): %lld us\n", (long long)dt);
        /* it did wait past its timeout for the thaw */
        assert_true(dt >= 900000);
        slow_thawed(thaw);
        slow_finish(w);
}

/* A process that does not go by the cap (here: still frozen, as a task
 * stuck in D state) is a real timeout: -ETIMEDOUT, the dirs stay. */
static void test_kill_slow_cap(void **state)
{
        Slow *w = &slow_w;
        int64_t t0, dt;

        if (!slow_start(w))
                return;
        t0 = now_us();
        assert_int_equal(cg_kill(&w->s, 100, 600), -ETIMEDOUT);
        dt = now_us() - t0;
        assert_true(dt >= 600000);
        assert_int_equal(cg_populated(&w->s), 1);
        assert_int_equal(cg_remove(NULL, &w->s), -EBUSY);
        slow_thawed(slow_thaw_after(w, 0));
        assert_int_equal(cg_kill(&w->s, 3000, 30000), 0);
        slow_finish(w);
}

/* ---- real: cpus (cpuset) ---------------------------------------------- */

static bool is_v1_cpuset(const CgDir *d) { return !d->v2 && (d->ctrl & CG_CTRL_CPUSET); }
static bool not_v1_cpuset(const CgDir *d) { return !is_v1_cpuset(d); }
static bool has_word(const char *list, const char *w);

/* Where cpus can go here: 1 a v1 cpuset hierarchy, 2 v2 with cpuset enabled
 * for the children of this process's cgroup, 0 nowhere. */
static int cpus_where(const CgSet *u)
{
        for (size_t i = 0; i < u->n; i++)
                if (is_v1_cpuset(&u->dir[i]))
                        return 1;
        for (size_t i = 0; i < u->n; i++) {
                char parent[PATH_MAX], own[PATH_MAX];
                _cleanup_free_ char *on = NULL;

                if (!u->dir[i].v2 || !dirname_of(u->dir[i].path, parent, sizeof parent) ||
                    !dirname_of(parent, own, sizeof own))
                        continue;
                on = knob(own, "cgroup.subtree_control");
                if (on && has_word(on, "cpuset"))
                        return 2;
        }
        return 0;
}

/* The CPUs every dir of set really gives (v1 and v2 name it differently). */
static void assert_effective_cpus(const CgSet *set, const char *want)
{
        for (size_t i = 0; i < set->n; i++) {
                const CgDir *d = &set->dir[i];

                if (is_v1_cpuset(d)) {
                        _cleanup_free_ char *mems = knob(d->path, "cpuset.mems");

                        assert_knob(d->path, "cpuset.effective_cpus", want);
                        if (!mems || !*mems)
                                fail_msg("%s/cpuset.mems is empty", d->path);
                } else if (d->v2 && exists(d->path, "cpuset.cpus.effective"))
                        assert_knob(d->path, "cpuset.cpus.effective", want);
        }
}

static void test_cpus(void **state)
{
        CgSet u, s1, s2, s3;
        char sid1[CUBBY_ID_LEN + 1], sid2[CUBBY_ID_LEN + 1], sid3[CUBBY_ID_LEN + 1];
        _cleanup_free_ char *all = cpus_allowed(getpid());
        CgLimits l = limits_a;
        cpu_set_t cs;
        int where;

        new_session(&u, &s1, sid1);
        /* a list that is not one never reaches the kernel */
        l.cpus = "1\n0";
        assert_int_equal(cg_create(&u, &s1, &l), -EINVAL);
        assert_gone(&u);
        where = cpus_where(&u);
        if (where == 0) {
                /* fail closed: no session without the CPUs it was promised */
                l.cpus = "0";
                assert_int_equal(cg_create(&u, &s1, &l), -EOPNOTSUPP);
                assert_gone(&u);
                print_message("  no cpuset for cubby here (v1 cpuset or v2 delegated): part skipped\n");
                return;
        }
        assert_int_equal(sched_getaffinity(0, sizeof cs, &cs), 0);
        if (!CPU_ISSET(0, &cs) || !CPU_ISSET(1, &cs) || !all) {
                print_message("  this process may not run on CPUs 0 and 1: part skipped\n");
                return;
        }

        /* a CPU the kernel does not have: refused, nothing left */
        l.cpus = "4095";
        assert_true(cg_create(&u, &s1, &l) < 0);
        assert_gone(&s1);
        assert_gone(&u);

        /* cpus = 1 on the user dir (and, on v1, copied to the session) */
        l.cpus = "1";
        assert_int_equal(cg_create(&u, &s1, &l), 0);
        for (size_t i = 0; i < u.n; i++)
                if (is_v1_cpuset(&u.dir[i]) || (where == 2 && u.dir[i].v2))
                        assert_knob(u.dir[i].path, "cpuset.cpus", "1");
        assert_effective_cpus(&u, "1");
        assert_effective_cpus(&s1, "1");

        /* a second login under another list moves the user's sessions
         * along, as they would on v2 (v1 first widens the user dir) */
        assert_int_equal(random_id(sid2), 0);
        assert_int_equal(cg_paths(spec, 0, TEST_UID, sid2, &u, &s2), 0);
        l.cpus = "0";
        assert_int_equal(cg_create(&u, &s2, &l), 0);
        assert_effective_cpus(&u, "0");
        assert_effective_cpus(&s1, "0");
        assert_effective_cpus(&s2, "0");

        /* and one without cpus gives them all the parent's CPUs back */
        assert_int_equal(random_id(sid3), 0);
        assert_int_equal(cg_paths(spec, 0, TEST_UID, sid3, &u, &s3), 0);
        l.cpus = NULL;
        assert_int_equal(cg_create(&u, &s3, &l), 0);
        assert_effective_cpus(&u, all);
        assert_effective_cpus(&s1, all);
        assert_effective_cpus(&s3, all);
        /* cg_set_limits does the same */
        l.cpus = "1";
        assert_int_equal(cg_set_limits(&u, &l), 0);
        assert_effective_cpus(&s2, "1");
        assert_effective_cpus(&s3, "1");
        assert_int_equal(cg_remove(&u, &s1), 0);
        assert_int_equal(cg_remove(&u, &s2), 0);
        assert_int_equal(cg_remove(&u, &s3), 0);
        assert_gone(&u);

        /* a process in the session runs on CPU 1 only */
        new_session(&u, &s1, sid1);
        attach_and_kill_lim(&u, &s1, &l, 0, "(cpus = 1)");
        new_session(&u, &s1, sid1);
        attach_and_kill_lim(&u, &s1, &l, CLONE_NEWUSER, "(cpus = 1, child in userns)");

        /* without the v1 cpuset hierarchy (and no v2 cpuset) cpus is refused */
        if (where == 1) {
                new_session(&u, &s1, sid1);
                subset(&u, &s1, not_v1_cpuset);
                for (size_t i = 0; i < u.n; i++)
                        if (u.dir[i].v2 && (u.dir[i].ctrl & (CG_CTRL_CPU | CG_CTRL_MEMORY | CG_CTRL_PIDS)))
                                return; /* v2 would carry it: not this host */
                assert_int_equal(cg_create(&u, &s1, &l), -EOPNOTSUPP);
                assert_gone(&u);
                assert_int_equal(cg_set_limits(&u, &l), -EOPNOTSUPP);
        }
}

/* v1 cpuset: the dirs cg_create makes do not balance load themselves
 * where an ancestor does (so setting their CPUs does not rebuild the
 * host's scheduler domains); their sessions still get the CPUs. */
static void test_cpuset_balance(void **state)
{
        CgSet u, s;
        char sid[CUBBY_ID_LEN + 1], parent[PATH_MAX];
        _cleanup_free_ char *all = cpus_allowed(getpid());
        size_t checked = 0;

        new_session(&u, &s, sid);
        assert_int_equal(cg_create(&u, &s, &limits_a), 0);
        for (size_t i = 0; i < u.n; i++) {
                _cleanup_free_ char *pb = NULL;

                if (!is_v1_cpuset(&u.dir[i]))
                        continue;
                assert_true(dirname_of(u.dir[i].path, parent, sizeof parent));
                pb = knob(parent, "cpuset.sched_load_balance");
                assert_non_null(pb);
                if (strcmp(pb, "1") != 0)
                        continue;
                assert_knob(u.dir[i].path, "cpuset.sched_load_balance", "0");
                assert_knob(s.dir[i].path, "cpuset.sched_load_balance", "0");
                checked++;
        }
        if (all)
                assert_effective_cpus(&s, all);
        assert_int_equal(cg_remove(&u, &s), 0);
        assert_gone(&u);
        if (!checked)
                print_message("  no v1 cpuset hierarchy with a balancing parent here: part skipped\n");
}

/* ---- timing ----------------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

        return (x > y) - (x < y);
}

static void test_timing(void **state)
{
        enum { N = 30 };
        int64_t tp[N], tc[N], tk[N], tr[N];

        for (int k = 0; k < N; k++) {
                CgSet u, s;
                char sid[CUBBY_ID_LEN + 1];
                int64_t t0;

                assert_int_equal(random_id(sid), 0);
                t0 = now_us();
                assert_int_equal(cg_paths(spec, 0, TEST_UID, sid, &u, &s), 0);
                tp[k] = now_us() - t0;
                t0 = now_us();
                assert_int_equal(cg_create(&u, &s, &limits_a), 0);
                tc[k] = now_us() - t0;
                t0 = now_us();
                assert_int_equal(cg_kill(&s, 1000, 1000), 0);
                tk[k] = now_us() - t0;
                t0 = now_us();
                assert_int_equal(cg_remove(&u, &s), 0);
                tr[k] = now_us() - t0;
        }
        qsort(tp, N, sizeof *tp, cmp_i64);
        qsort(tc, N, sizeof *tc, cmp_i64);
        qsort(tk, N, sizeof *tk, cmp_i64);
        qsort(tr, N, sizeof *tr, cmp_i64);
        print_message("  median/max over %d (us): cg_paths %lld/%lld, cg_create %lld/%lld, "
                      "cg_kill(empty) %lld/%lld, cg_remove %lld/%lld\n",
                      N, (long long)tp[N / 2], (long long)tp[N - 1], (long long)tc[N / 2], (long long)tc[N - 1],
                      (long long)tk[N / 2], (long long)tk[N - 1], (long long)tr[N / 2], (long long)tr[N - 1]);
}

/* ---- harness ---------------------------------------------------------- */

/* Kill whatever is in dir and below, thaw, and rmdir bottom-up. Only ever
 * called on ./cubby-test-cg-<pid> trees. Returns the number left behind. */
static int cleanup_tree(const char *dir, int depth)
{
        DIR *d;
        struct dirent *de;
        int left = 0;

        if (depth > 8 || !exists(dir, "cgroup.procs"))
                return 0;
        d = opendir(dir);
        if (d) {
                while ((de = readdir(d))) {
                        char sub[PATH_MAX];

                        if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;
                        if (snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name) >= (int)sizeof sub)
                                continue;
                        left += cleanup_tree(sub, depth + 1);
                }
                closedir(d);
        }
        if (exists(dir, "freezer.state")) {
                char p[PATH_MAX + 16];
                _cleanup_close_ int fd = -1;

                snprintf(p, sizeof p, "%s/freezer.state", dir);
                fd = open(p, O_WRONLY | O_CLOEXEC);
                if (fd >= 0)
                        (void)!write(fd, "THAWED", 6);
        }
        for (int k = 0; k < 300; k++) {
                _cleanup_free_ char *procs = knob_all(dir, "cgroup.procs");
                char *p, *save = NULL;

                if (!procs || !*procs)
                        break;
                for (p = strtok_r(procs, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
                        pid_t pid = atoi(p);

                        if (pid > 1 && pid != getpid())
                                kill(pid, SIGKILL);
                }
                usleep(10000);
        }
        if (rmdir(dir) < 0 && errno != ENOENT) {
                fprintf(stderr, "test_cgroup: could not remove %s: %m\n", dir);
                left++;
        }
        return left;
}

static bool has_word(const char *list, const char *w)
{
        size_t n = strlen(w);

        for (const char *p = list; (p = strstr(p, w)); p += n)
                if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
                        return true;
        return false;
}

/* On cgroup v2 the limits need cpu, memory and pids delegated to our own
 * cgroup: a non-root cgroup with processes cannot enable them for its
 * children, and the test never touches cgroups above its own. */
static const char *v2_not_delegated(const CgSet *u)
{
        static char why[PATH_MAX + 128];

        for (size_t i = 0; i < u->n; i++) {
                char parent[PATH_MAX], own[PATH_MAX];
                _cleanup_free_ char *on = NULL;

                if (!u->dir[i].v2 || !(u->dir[i].ctrl & (CG_CTRL_CPU | CG_CTRL_MEMORY | CG_CTRL_PIDS)))
                        continue;
                if (!dirname_of(u->dir[i].path, parent, sizeof parent) || !dirname_of(parent, own, sizeof own))
                        return "bad path";
                on = knob(own, "cgroup.subtree_control");
                if (!on || !has_word(on, "cpu") || !has_word(on, "memory") || !has_word(on, "pids")) {
                        snprintf(why, sizeof why,
                                 "cpu, memory and pids are not enabled in %s/cgroup.subtree_control "
                                 "(run the test in the root cgroup or a delegated one)",
                                 own);
                        return why;
                }
        }
        return NULL;
}

int main(void)
{
        const struct CMUnitTest pure[] = {
                cmocka_unit_test(test_paths_text_hybrid),
                cmocka_unit_test(test_paths_text_v2),
                cmocka_unit_test(test_paths_text_layouts),
                cmocka_unit_test(test_paths_text_refused),
                cmocka_unit_test(test_dir_record),
                cmocka_unit_test(test_task_dying_text),
        };
        const struct CMUnitTest real[] = {
                cmocka_unit_test(test_paths_real),
                cmocka_unit_test(test_create_limits),
                cmocka_unit_test(test_create_limits_first),
                cmocka_unit_test(test_create_unenforceable),
                cmocka_unit_test(test_create_order_inotify),
                cmocka_unit_test(test_two_sessions),
                cmocka_unit_test(test_limits_next_login),
                cmocka_unit_test(test_split_removal),
                cmocka_unit_test(test_memory_at_user),
                cmocka_unit_test(test_kill_default),
                cmocka_unit_test(test_kill_userns_child),
                cmocka_unit_test(test_kill_freezer),
                cmocka_unit_test(test_kill_loop),
                cmocka_unit_test_teardown(test_kill_slow_exit, slow_teardown),
                cmocka_unit_test_teardown(test_kill_slow_cap, slow_teardown),
                cmocka_unit_test(test_cpus),
                cmocka_unit_test(test_cpuset_balance),
                cmocka_unit_test(test_timing),
        };
        CgSet u, s;
        const char *why;
        int status, left = 0, r, stopped;
        pid_t pid;

        r = cmocka_run_group_tests_name("cgroup parsers", pure, NULL, NULL);
        if (r != 0)
                return 1;
        if (geteuid() != 0) {
                printf("SKIP: the cgroup tests on the real kernel need root (euid %u)\n", (unsigned)geteuid());
                return 77;
        }
        snprintf(spec, sizeof spec, "./cubby-test-cg-%d", (int)getpid());
        r = cg_paths(spec, 0, TEST_UID, "0", &u, &s);
        if (r < 0) {
                printf("SKIP: no usable cgroup hierarchy under /sys/fs/cgroup: %s\n", strerror(-r));
                return 77;
        }
        why = v2_not_delegated(&u);
        if (why) {
                printf("SKIP: %s\n", why);
                return 77;
        }

        /* Orphans of a test process that died come to us, to be reaped. */
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
        fflush(NULL);
        pid = fork();
        if (pid < 0)
                return 1;
        if (pid == 0) {
                (void)prctl(PR_SET_CHILD_SUBREAPER, 1);
                _exit(cmocka_run_group_tests_name("cgroup on this kernel", real, NULL, NULL) ? 1 : 0);
        }
        stopped = scratch_wait_test(pid, &status);

        /* Whatever happened (a stop signal included): remove ./cubby-test-cg-<pid> in every hierarchy,
         * the freezer's first (it thaws: a frozen process of a failed test
         * cannot die, and would keep the other hierarchies' dirs busy). */
        for (size_t j = 0; j < u.n; j++) {
                size_t i = j;
                char parent[PATH_MAX];

                for (size_t f = 0; f < u.n; f++)
                        if ((u.dir[f].ctrl & CG_CTRL_FREEZER) && !u.dir[f].v2)
                                i = j == 0 ? f : (j == f ? 0 : j);
                if (!dirname_of(u.dir[i].path, parent, sizeof parent))
                        continue;
                left += cleanup_tree(parent, 0);
                if (exists(parent, NULL)) {
                        fprintf(stderr, "test_cgroup: %s left behind\n", parent);
                        left++;
                }
        }
        for (int k = 0; k < 100 && waitpid(-1, NULL, WNOHANG) >= 0; k++)
                usleep(1000);
        if (left)
                return 1;
        if (stopped) {
                fprintf(stderr, "test_cgroup: stopped by signal %d, cleaned up\n", stopped);
                return 1;
        }
        if (!WIFEXITED(status)) {
                fprintf(stderr, "test_cgroup: test process died (status 0x%x)\n", status);
                return 1;
        }
        return WEXITSTATUS(status);
}
