/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The overlay modes against a lower on a network file system, on the real
 * kernel (lib/home.c through home_mount): FUSE is one of the file systems
 * home-fs.h lists (from its type, a FUSE file system cannot be told local
 * or remote), and the only one of them a test can serve without a server
 * machine. fuse-dir (its path in CUBBY_FUSE_DIR) serves one empty,
 * read-only directory; home_mount must refuse it as a lower (-EREMOTE),
 * mount an overlay on it when the policy says the lower is static, and
 * mount one on a local directory as before.
 *
 * Root only (mounts), in a private mount namespace of its own: the FUSE
 * mount, the overlays and the anchor namespace (this one) go with the
 * process. Skips (77) without root or /dev/fuse. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/magic.h>

#include "cubby/home.h"
#include "scratch.h"

#define TEST_UID 4242

static char base[64], fusedir[128], localdir[128], state[128];
static pid_t server = -1;

static int setup(void **state_)
{
        const char *prog = getenv("CUBBY_FUSE_DIR");

        (void)state_;
        scratch_private_mounts(access("/dev/fuse", R_OK | W_OK) == 0 && prog,
                               "root, /dev/fuse and CUBBY_FUSE_DIR");
        snprintf(base, sizeof base, "/tmp/cubby-lower-XXXXXX");
        assert_non_null(mkdtemp(base));
        snprintf(fusedir, sizeof fusedir, "%s/fuse", base);
        snprintf(localdir, sizeof localdir, "%s/local", base);
        snprintf(state, sizeof state, "%s/state", base);
        assert_int_equal(mkdir(fusedir, 0755), 0);
        assert_int_equal(mkdir(localdir, 0755), 0);
        server = fork();
        assert_true(server >= 0);
        if (server == 0) {
                /* never outlives the test (nor, with it, this namespace) */
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() == 1)
                        _exit(0);
                execl(prog, "fuse-dir", fusedir, (char *)NULL);
                _exit(127);
        }
        /* mounted when the directory is FUSE's (at most 5 s) */
        for (int i = 0; i < 500; i++) {
                struct statfs sf;
                int st;

                if (statfs(fusedir, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC)
                        return 0;
                if (waitpid(server, &st, WNOHANG) == server) {
                        server = -1;
                        print_message("SKIP: fuse-dir could not mount (status %d)\n", st);
                        (void)rmdir(fusedir);
                        (void)rmdir(localdir);
                        (void)rmdir(base);
                        exit(77);
                }
                usleep(10000);
        }
        fail_msg("the FUSE directory did not appear in 5 s");
        return -1;
}

static int teardown(void **state_)
{
        char cmd[128];

        (void)state_;
        (void)umount2(fusedir, MNT_DETACH);
        /* an overlay a failed check left on it keeps the FUSE mount, and
         * the server, alive: stop it rather than wait */
        if (server > 0) {
                (void)kill(server, SIGKILL);
                (void)waitpid(server, NULL, 0);
        }
        /* whatever a failed check left mounted (this namespace only) */
        for (size_t i = 0; i < 4; i++) {
                static const char *const users[] = { "cubbylocal", "cubbyremote", "cubbystatic",
                                                     "cubbyeph" };
                char p[256];

                snprintf(p, sizeof p, "%s/users/%s/merged", state, users[i]);
                (void)umount2(p, MNT_DETACH);
                snprintf(p, sizeof p, "%s/users/%s/eph", state, users[i]);
                (void)umount2(p, MNT_DETACH);
        }
        snprintf(cmd, sizeof cmd, "rm -rf %s", base);
        return system(cmd) == 0 ? 0 : -1;
}

static HomeSpec spec(const char *user, const char *lower, bool lower_static)
{
        return (HomeSpec){ .state_dir = state, .run_dir = "/nonexistent", .user = user,
                           .uid = TEST_UID, .gid = TEST_UID, .lower = lower,
                           .lower_static = lower_static, .may_mount = true };
}

static void test_network_lower(void **state_)
{
        HomeSpec local = spec("cubbylocal", localdir, false);
        HomeSpec remote = spec("cubbyremote", fusedir, false);
        HomeSpec declared = spec("cubbystatic", fusedir, true);
        HomeSpec eph = spec("cubbyeph", fusedir, false);
        int ns, r;

        (void)state_;
        eph.ephemeral = true;
        ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        assert_true(ns >= 0);

        /* the control: a local lower mounts */
        r = home_mount(&local, ns);
        assert_int_equal(r, 1);
        assert_int_equal(home_is_mounted(&local, ns), 1);
        assert_int_equal(home_umount(&local, ns), 0);

        /* a FUSE lower: refused, nothing mounted, for both overlay modes */
        assert_int_equal(home_mount(&remote, ns), -EREMOTE);
        assert_int_equal(home_is_mounted(&remote, ns), 0);
        assert_int_equal(home_mount(&eph, ns), -EREMOTE);
        assert_int_equal(home_is_mounted(&eph, ns), 0);

        /* declared static: the overlay is mounted on it */
        r = home_mount(&declared, ns);
        assert_int_equal(r, 1);
        assert_int_equal(home_is_mounted(&declared, ns), 1);
        assert_int_equal(home_umount(&declared, ns), 0);
        close(ns);
}

int main(void)
{
        /* memcheck runs a CLONE_VM child as a fork of its own (it cannot
         * share a guest's memory between two tasks that are no threads):
         * lib/home.c's anchor child, which this test goes through, reports nothing there */
        if (getenv("CUBBY_UNDER_VALGRIND"))
                return 77;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_network_lower),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
