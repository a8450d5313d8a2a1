/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* home = direct's open (lib/home-direct.c) on a real tree with symlinks,
 * a file, a missing path and, as root, another owner and a parent only
 * root may pass; and the overlay modes' file system decision
 * (lib/home-fs.c). Unprivileged parts run as anyone; the root parts are
 * skipped otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/magic.h>

#include "cubby/home-direct.h"
#include "cubby/home-fs.h"

static char base[64];

static void pathf(char *buf, const char *rel)
{
        assert_true(snprintf(buf, PATH_MAX, "%s/%s", base, rel) < PATH_MAX);
}

static int open_as(const char *rel, uid_t uid, gid_t gid, int *fd)
{
        char p[PATH_MAX];
        int r;

        pathf(p, rel);
        *fd = -1;
        r = home_direct_open(p, uid, gid, fd);
        /* the fs ids are the caller's again, on every path */
        assert_int_equal(setfsuid((uid_t)-1), (int)geteuid());
        assert_int_equal(setfsgid((gid_t)-1), (int)getegid());
        return r;
}

static void mk(const char *rel, mode_t mode)
{
        char p[PATH_MAX];

        pathf(p, rel);
        assert_int_equal(mkdir(p, mode), 0);
        assert_int_equal(chmod(p, mode), 0);
}

static void ln(const char *target, const char *rel)
{
        char p[PATH_MAX], t[PATH_MAX + 1];

        pathf(p, rel);
        if (target[0] == '/')
                snprintf(t, sizeof t, "%s", target);
        else
                pathf(t, target);
        assert_int_equal(symlink(t, p), 0);
}

static void test_open(void **state)
{
        uid_t me = geteuid();
        gid_t gme = getegid();
        char p[PATH_MAX];
        struct stat st, st2;
        int fd, r;

        (void)state;
        /* valgrind 3.19 has no openat2: nothing to check there */
        if (syscall(SYS_openat2, AT_FDCWD, "/", NULL, 0) < 0 && errno == ENOSYS)
                skip();
        snprintf(base, sizeof base, "/tmp/cubby-hd-XXXXXX");
        assert_non_null(mkdtemp(base));
        assert_int_equal(chmod(base, 0755), 0);
        mk("homes", 0755);
        mk("homes/alice", 0700);
        mk("real", 0755);
        mk("real/bob", 0700);
        ln("real/bob", "homes/bob");          /* the home itself a symlink */
        ln("real", "homes/link");             /* a middle component a symlink */
        pathf(p, "homes/file");
        fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        close(fd);

        /* the real thing: an O_PATH fd of the very directory */
        assert_int_equal(open_as("homes/alice", me, gme, &fd), 0);
        assert_true(fd >= 0);
        pathf(p, "homes/alice");
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(stat(p, &st2), 0);
        assert_true(st.st_ino == st2.st_ino && st.st_dev == st2.st_dev);
        assert_true(fcntl(fd, F_GETFL) & O_PATH);
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);

        /* no symlink, wherever it is, even to a directory of the user's */
        assert_int_equal(open_as("homes/bob", me, gme, &fd), -ELOOP);
        assert_int_equal(fd, -1);
        assert_int_equal(open_as("homes/link/bob", me, gme, &fd), -ELOOP);
        assert_int_equal(open_as("homes/missing", me, gme, &fd), -ENOENT);
        assert_int_equal(open_as("homes/file", me, gme, &fd), -ENOTDIR);
        assert_int_equal(home_direct_open("relative/home", me, gme, &fd), -EINVAL);
        assert_int_equal(home_direct_open("/home/../etc", me, gme, &fd), -EINVAL);
        assert_int_equal(home_direct_open("/home//alice", me, gme, &fd), -EINVAL);
        /* directly under "/": nothing to isolate it in */
        assert_int_equal(home_direct_open("/tmp", me, gme, &fd), -EINVAL);

        if (me == 0) {
                /* another user's directory (here root's) is refused */
                assert_int_equal(open_as("homes/alice", 4242, 4242, &fd), -EPERM);
                /* resolved as the user: root passes a 0700 dir of root's,
                 * the user does not (as on a root-squashed server, the
                 * other way round) */
                mk("closed", 0700);
                mk("closed/carol", 0700);
                pathf(p, "closed/carol");
                assert_int_equal(chown(p, 4242, 4242), 0);
                r = open_as("closed/carol", 4242, 4242, &fd);
                assert_int_equal(r, -EACCES);
                pathf(p, "closed");
                assert_int_equal(chmod(p, 0711), 0);
                r = open_as("closed/carol", 4242, 4242, &fd);
                assert_int_equal(r, 0);
                close(fd);
                /* reachable through a group only: the caller's groups
                 * count (the helper holds the user's) */
                assert_int_equal(chown(p, 0, 4343), 0);
                assert_int_equal(chmod(p, 0710), 0);
                r = open_as("closed/carol", 4242, 4242, &fd);
                assert_int_equal(r, -EACCES);
                {
                        gid_t g = 4343, saved[64];
                        int n = getgroups(64, saved);

                        assert_true(n >= 0);
                        assert_int_equal(setgroups(1, &g), 0);
                        r = open_as("closed/carol", 4242, 4242, &fd);
                        assert_int_equal(setgroups((size_t)n, saved), 0);
                        assert_int_equal(r, 0);
                        close(fd);
                }
        } else {
                print_message("not root: another owner and the user's rights not tested\n");
        }
        {
                char cmd[128];

                snprintf(cmd, sizeof cmd, "rm -rf %s", base);
                assert_int_equal(system(cmd), 0);
        }
}

static void test_network_fs(void **state)
{
        (void)state;
        assert_string_equal(home_fs_network_name(NFS_SUPER_MAGIC), "nfs");
        assert_string_equal(home_fs_network_name(CIFS_SUPER_MAGIC), "cifs");
        /* statfs' f_type is a signed long: sign-extended magics match */
        assert_string_equal(home_fs_network_name((long long)(int32_t)0xFF534D42), "cifs");
        assert_string_equal(home_fs_network_name(0xFE534D42LL), "smb3");
        assert_string_equal(home_fs_network_name(SMB_SUPER_MAGIC), "smb");
        assert_string_equal(home_fs_network_name(AFS_SUPER_MAGIC), "afs");
        assert_string_equal(home_fs_network_name(AFS_FS_MAGIC), "afs");
        assert_string_equal(home_fs_network_name(CEPH_SUPER_MAGIC), "ceph");
        assert_string_equal(home_fs_network_name(CODA_SUPER_MAGIC), "coda");
        assert_string_equal(home_fs_network_name(0x0BD00BD0), "lustre");
        assert_string_equal(home_fs_network_name(0x47504653), "gpfs");
        assert_string_equal(home_fs_network_name(0x19830326), "beegfs");
        assert_string_equal(home_fs_network_name(0x20030528), "orangefs");
        assert_string_equal(home_fs_network_name(FUSE_SUPER_MAGIC), "fuse");
        assert_string_equal(home_fs_network_name(V9FS_MAGIC), "9p");
        assert_string_equal(home_fs_network_name(OCFS2_SUPER_MAGIC), "ocfs2");
        assert_string_equal(home_fs_network_name(0x01161970), "gfs2");
        /* local ones */
        assert_null(home_fs_network_name(EXT4_SUPER_MAGIC));
        assert_null(home_fs_network_name(XFS_SUPER_MAGIC));
        assert_null(home_fs_network_name(BTRFS_SUPER_MAGIC));
        assert_null(home_fs_network_name(TMPFS_MAGIC));
        assert_null(home_fs_network_name(OVERLAYFS_SUPER_MAGIC));
        assert_null(home_fs_network_name(0));
        /* on a real fd: this machine's /proc and / are not network ones
         * (unless the tests run on a network root: then / says so) */
        {
                int fd = open("/proc", O_PATH | O_CLOEXEC);

                assert_true(fd >= 0);
                assert_null(home_fs_network_name_fd(fd));
                close(fd);
                assert_null(home_fs_network_name_fd(-1));
        }
}

static void test_pattern_prefix(void **state)
{
        char b[PATH_MAX];

        (void)state;
        assert_int_equal(home_fs_pattern_prefix("/home/%u", b, sizeof b), 0);
        assert_string_equal(b, "/home");
        assert_int_equal(home_fs_pattern_prefix("/srv/%u/home", b, sizeof b), 0);
        assert_string_equal(b, "/srv");
        assert_int_equal(home_fs_pattern_prefix("/srv/homes/u-%u", b, sizeof b), 0);
        assert_string_equal(b, "/srv/homes");
        assert_int_equal(home_fs_pattern_prefix("/%u", b, sizeof b), 0);
        assert_string_equal(b, "/");
        assert_int_equal(home_fs_pattern_prefix("/course/template", b, sizeof b), 0);
        assert_string_equal(b, "/course/template");
        assert_int_equal(home_fs_pattern_prefix("home/%u", b, sizeof b), -EINVAL);
        assert_int_equal(home_fs_pattern_prefix("/home/%u", b, 5), -ENAMETOOLONG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_open),
                cmocka_unit_test(test_network_fs),
                cmocka_unit_test(test_pattern_prefix),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
