/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cubby/log.h"
#include "cubby/mountinfo.h"
#include "cubby/session.h"
#include "cubby/util.h"

static void test_parse_u64(void **state)
{
        uint64_t v;
        uid_t u;
        pid_t p;

        assert_int_equal(parse_u64("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(parse_u64("18446744073709551615", &v), 0);
        assert_int_equal(v, UINT64_MAX);
        assert_int_equal(parse_u64("18446744073709551616", &v), -ERANGE);
        assert_int_equal(parse_u64("", &v), -EINVAL);
        assert_int_equal(parse_u64("-1", &v), -EINVAL);
        assert_int_equal(parse_u64(" 1", &v), -EINVAL);
        assert_int_equal(parse_u64("1x", &v), -EINVAL);
        assert_int_equal(parse_uid("4294967295", &u), -ERANGE);
        assert_int_equal(parse_uid("1000", &u), 0);
        assert_int_equal(u, 1000);
        assert_int_equal(parse_pid("0", &p), -ERANGE);
        assert_int_equal(parse_pid("2147483648", &p), -ERANGE);
}

static void test_names_and_paths(void **state)
{
        assert_true(name_is_safe("alice", 64));
        assert_true(name_is_safe("a.b-c_d1", 64));
        assert_false(name_is_safe("", 64));
        assert_false(name_is_safe("-rf", 64));
        assert_false(name_is_safe("..", 64));
        assert_false(name_is_safe("a/b", 64));
        assert_false(name_is_safe("a\nb", 64));
        assert_false(name_is_safe("abcdef", 5));
        /* names LDAP and SSSD give: fully qualified, digits first,
         * capitals, dots */
        assert_true(name_is_safe("alice@example.org", 64));
        assert_true(name_is_safe("Alice.Smith@EXAMPLE.ORG", 64));
        assert_true(name_is_safe("1st-year", 64));
        assert_true(name_is_safe("a@b@c", 64));
        assert_false(name_is_safe("@admins", 64));
        assert_false(name_is_safe("domain users", 64));
        assert_false(name_is_safe("DOMAIN\\alice", 64));
        assert_false(name_is_safe("a:b", 64));
        assert_false(name_is_safe("a,b", 64));
        assert_false(name_is_safe("a%b", 64));
        assert_true(path_is_normalized_absolute("/"));
        assert_true(path_is_normalized_absolute("/home/alice"));
        assert_true(path_is_normalized_absolute("/a/.hidden/..x"));
        assert_false(path_is_normalized_absolute("home"));
        assert_false(path_is_normalized_absolute("/home/"));
        assert_false(path_is_normalized_absolute("/home//a"));
        assert_false(path_is_normalized_absolute("/home/./a"));
        assert_false(path_is_normalized_absolute("/home/.."));
        assert_false(path_is_normalized_absolute("/../etc"));
}

static void test_log_escape(void **state)
{
        char buf[64];

        assert_string_equal(log_escape(buf, sizeof buf, "alice"), "alice");
        assert_string_equal(log_escape(buf, sizeof buf, ""), "\"\"");
        assert_string_equal(log_escape(buf, sizeof buf, "a b"), "\"a b\"");
        assert_string_equal(log_escape(buf, sizeof buf, "x\nevent=fake"), "x\\x0aevent\\x3dfake");
        assert_string_equal(log_escape(buf, sizeof buf, "q\"\\"), "q\\x22\\x5c");
        memset(buf, 0, sizeof buf);
        log_escape(buf, 16, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert_true(strlen(buf) < 16);
        assert_non_null(strstr(buf, "..."));
}

static void test_random_id(void **state)
{
        char a[CUBBY_ID_LEN + 1], b[CUBBY_ID_LEN + 1];

        assert_int_equal(random_id(a), 0);
        assert_int_equal(random_id(b), 0);
        assert_int_equal(strlen(a), CUBBY_ID_LEN);
        assert_string_not_equal(a, b);
        assert_int_equal(strspn(a, "0123456789abcdef"), CUBBY_ID_LEN);
}

static int touch(int dfd, const char *name, time_t age)
{
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        struct timespec ts[2];

        if (fd < 0)
                return -errno;
        close(fd);
        if (age) {
                clock_gettime(CLOCK_REALTIME, &ts[0]);
                ts[0].tv_sec -= age;
                ts[1] = ts[0];
                if (utimensat(dfd, name, ts, 0) < 0)
                        return -errno;
        }
        return 0;
}

static bool exists(int dfd, const char *name)
{
        struct stat st;

        return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Atomic writes leave nothing; temp files of dead writers (or a minute
 * old) are removed, nothing else is. */
static void test_stale_temp_files(void **state)
{
        char dir[] = "/tmp/cubby-test-util-XXXXXX", name[128];
        _cleanup_close_ int dfd = -1;
        pid_t dead, self = getpid();
        int status;

        assert_non_null(mkdtemp(dir));
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);

        assert_int_equal(write_file_atomic_at_nosync(dfd, "leases", "x\n", 2, 0600), 0);
        assert_int_equal(remove_stale_temp_files(dfd), 0);
        assert_true(exists(dfd, "leases"));

        dead = fork();
        assert_true(dead >= 0);
        if (dead == 0)
                _exit(0);
        assert_int_equal(waitpid(dead, &status, 0), dead);

        snprintf(name, sizeof name, ".leases.0123456789abcdef.%d.tmp", (int)dead);
        assert_int_equal(touch(dfd, name, 0), 0);                   /* writer gone */
        snprintf(name, sizeof name, ".leases.0123456789abcdef.%d.tmp", (int)self);
        assert_int_equal(touch(dfd, name, 0), 0);                   /* writer alive, fresh */
        snprintf(name, sizeof name, ".anchor.0123456789abcdef.%d.tmp", (int)self);
        assert_int_equal(touch(dfd, name, 120), 0);                 /* alive but 2 min old */
        assert_int_equal(touch(dfd, ".old-style.0123456789abcdef.tmp", 0), 0); /* no pid, fresh */
        assert_int_equal(touch(dfd, ".old-style2.0123456789abcdef.tmp", 120), 0);
        assert_int_equal(touch(dfd, "visible.1.tmp", 120), 0);      /* not a temp name */
        assert_int_equal(mkdirat(dfd, ".dir.1.2.tmp", 0700), 0);    /* not a file */
        assert_int_equal(symlinkat("/etc/passwd", dfd, ".link.1.2.tmp"), 0);

        assert_int_equal(remove_stale_temp_files(dfd), 3);
        snprintf(name, sizeof name, ".leases.0123456789abcdef.%d.tmp", (int)dead);
        assert_false(exists(dfd, name));
        snprintf(name, sizeof name, ".leases.0123456789abcdef.%d.tmp", (int)self);
        assert_true(exists(dfd, name));
        snprintf(name, sizeof name, ".anchor.0123456789abcdef.%d.tmp", (int)self);
        assert_false(exists(dfd, name));
        assert_true(exists(dfd, ".old-style.0123456789abcdef.tmp"));
        assert_false(exists(dfd, ".old-style2.0123456789abcdef.tmp"));
        assert_true(exists(dfd, "visible.1.tmp"));
        assert_true(exists(dfd, ".dir.1.2.tmp"));
        assert_true(exists(dfd, ".link.1.2.tmp"));
        assert_true(exists(dfd, "leases"));

        /* clean up */
        snprintf(name, sizeof name, ".leases.0123456789abcdef.%d.tmp", (int)self);
        assert_int_equal(unlinkat(dfd, name, 0), 0);
        assert_int_equal(unlinkat(dfd, ".old-style.0123456789abcdef.tmp", 0), 0);
        assert_int_equal(unlinkat(dfd, "visible.1.tmp", 0), 0);
        assert_int_equal(unlinkat(dfd, ".dir.1.2.tmp", AT_REMOVEDIR), 0);
        assert_int_equal(unlinkat(dfd, ".link.1.2.tmp", 0), 0);
        assert_int_equal(unlinkat(dfd, "leases", 0), 0);
        assert_int_equal(rmdir(dir), 0);
}

static int walk_step(int pfd, int fd, bool created, bool last, void *arg)
{
        int *n = arg; /* [0] asked before a mkdir, [1] made, [2] the answer to [0] */

        if (fd < 0) {
                n[0]++;
                return n[2];
        }
        n[1] += created;
        return 0;
}

/* dir_walk refuses a symlink at any component, creating or not; a relative
 * path stays below its dirfd; the step can refuse each mkdir and sees each
 * component made. */
static void test_dir_walk(void **state)
{
        char dir[] = "/tmp/cubby-test-walk-XXXXXX", path[PATH_MAX];
        _cleanup_close_ int dfd = -1;
        int fd = -1, n[3] = { 0, 0, -EPERM }, r;
        struct stat st;

        assert_non_null(mkdtemp(dir));
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        assert_int_equal(mkdirat(dfd, "real", 0700), 0);
        assert_int_equal(mkdirat(dfd, "real/sub", 0700), 0);
        assert_int_equal(symlinkat("real", dfd, "link"), 0);

        assert_int_equal(dir_walk(dfd, "real/sub", 0, NULL, NULL, &fd), 0);
        assert_int_equal(close(fd), 0);
        /* ELOOP from openat2; ENOTDIR from the walk by hand where openat2 is
         * missing (valgrind) */
        r = dir_walk(dfd, "link/sub", 0, NULL, NULL, &fd);
        assert_true(r == -ELOOP || r == -ENOTDIR);
        r = dir_walk(dfd, "link", 0, NULL, NULL, &fd);
        assert_true(r == -ELOOP || r == -ENOTDIR);
        snprintf(path, sizeof path, "%s/link/sub", dir);
        r = dir_walk(AT_FDCWD, path, 0, NULL, NULL, &fd);
        assert_true(r == -ELOOP || r == -ENOTDIR);
        assert_int_equal(dir_walk(dfd, "../", 0, NULL, NULL, &fd), -EXDEV);
        assert_int_equal(dir_walk(dfd, "missing", 0, NULL, NULL, &fd), -ENOENT);

        r = dir_walk(dfd, "link/new", 0700, NULL, NULL, &fd);
        assert_true(r == -ENOTDIR || r == -ELOOP);
        assert_int_equal(fstatat(dfd, "real/new", &st, 0), -1);

        assert_int_equal(dir_walk(dfd, "real/a/b", 0700, walk_step, n, &fd), -EPERM);
        assert_int_equal(n[0], 1);
        assert_int_equal(fstatat(dfd, "real/a", &st, 0), -1);
        n[0] = n[1] = n[2] = 0;
        assert_int_equal(dir_walk(dfd, "real/a/b", 0700, walk_step, n, &fd), 0);
        assert_int_equal(n[0], 2);
        assert_int_equal(n[1], 2);
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(close(fd), 0);

        assert_int_equal(unlinkat(dfd, "real/a/b", AT_REMOVEDIR), 0);
        assert_int_equal(unlinkat(dfd, "real/a", AT_REMOVEDIR), 0);
        assert_int_equal(unlinkat(dfd, "real/sub", AT_REMOVEDIR), 0);
        assert_int_equal(unlinkat(dfd, "real", AT_REMOVEDIR), 0);
        assert_int_equal(unlinkat(dfd, "link", 0), 0);
        assert_int_equal(rmdir(dir), 0);
}

/* The mountinfo line parser: escapes, optional fields, an empty source;
 * anything else is -EINVAL. */
static void test_mountinfo_line(void **state)
{
        char ok[] = "36 35 98:0 /mnt\\0401 /mnt/with\\040space\\134 rw,noatime master:1 - ext3 /dev/root rw,errors=continue";
        char empty_src[] = "40 1 0:30 / /sys/fs/cgroup/pids rw shared:9 - cgroup  rw,pids";
        char bad_escape[] = "36 35 98:0 / /a\\09 rw - ext3 /dev/root rw";
        char short_escape[] = "36 35 98:0 / /a\\04 rw - ext3 /dev/root rw";
        char no_sep[] = "36 35 98:0 / /a rw ext3 /dev/root rw";
        char bad_id[] = "x 35 98:0 / /a rw - ext3 /dev/root rw";
        char short_tail[] = "36 35 98:0 / /a rw - ext3 /dev/root";
        MountInfo mi;

        assert_int_equal(mountinfo_parse_line(ok, &mi), 0);
        assert_int_equal(mi.id, 36);
        assert_int_equal(mi.parent_id, 35);
        assert_string_equal(mi.root, "/mnt 1");
        assert_string_equal(mi.mnt, "/mnt/with space\\");
        assert_string_equal(mi.fstype, "ext3");
        assert_string_equal(mi.super_opts, "rw,errors=continue");
        assert_int_equal(mountinfo_parse_line(empty_src, &mi), 0);
        assert_string_equal(mi.fstype, "cgroup");
        assert_string_equal(mi.super_opts, "rw,pids");
        assert_int_equal(mountinfo_parse_line(bad_escape, &mi), -EINVAL);
        assert_int_equal(mountinfo_parse_line(short_escape, &mi), -EINVAL);
        assert_int_equal(mountinfo_parse_line(no_sep, &mi), -EINVAL);
        assert_int_equal(mountinfo_parse_line(bad_id, &mi), -EINVAL);
        assert_int_equal(mountinfo_parse_line(short_tail, &mi), -EINVAL);
}

/* steps_us: each mark's time since the one before, whole entries only */
static void test_step_times(void **state)
{
        struct timespec t0;
        StepTimes st;
        const char *want = "a_rather_long_step_name:";

        (void)state;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        steps_begin(&st, &t0);
        assert_int_equal(st.len, 0);
        assert_string_equal(st.text, "");
        steps_mark(&st, "first");
        assert_non_null(strstr(st.text, "first:"));
        assert_null(strchr(st.text, ','));
        steps_mark(&st, "second");
        assert_non_null(strstr(st.text, ",second:"));
        /* far more marks than fit: the text stays a list of whole entries */
        for (int i = 0; i < 100; i++)
                steps_mark(&st, "a_rather_long_step_name");
        assert_true(strlen(st.text) < sizeof st.text);
        for (char *p = st.text, *e; *p; p = e + (*e == ',')) {
                long v;

                e = strchrnul(p, ',');
                assert_non_null(memchr(p, ':', (size_t)(e - p)));
                v = strtol(memchr(p, ':', (size_t)(e - p)) + 1, NULL, 10);
                assert_true(v >= 0 && v < 10000000);
                assert_true(strncmp(p, "first:", 6) == 0 || strncmp(p, "second:", 7) == 0 ||
                            strncmp(p, want, strlen(want)) == 0);
        }
        assert_true(st.text[strlen(st.text) - 1] != ',');
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_u64),
                cmocka_unit_test(test_names_and_paths),
                cmocka_unit_test(test_log_escape),
                cmocka_unit_test(test_random_id),
                cmocka_unit_test(test_stale_temp_files),
                cmocka_unit_test(test_dir_walk),
                cmocka_unit_test(test_mountinfo_line),
                cmocka_unit_test(test_step_times),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
