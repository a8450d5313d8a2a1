/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test tool (root): a container record for a stand-in container, through
 * the project's own code, so that cubbyctl can be tested against a real
 * process in its own namespaces before a login makes one.
 *
 *   ct-record paths CGROUP_PARENT UID
 *       prints the container's cgroup dirs (<parent>/u<uid>/ct, or the
 *       user dir where the container is charged to it: a v1 memory
 *       hierarchy), one a line, in every hierarchy of this host (cg_paths,
 *       as pam_cubby);
 *   ct-record write RUN_DIR CGROUP_PARENT UID GID USER PID ADDR|- HOME SHELL
 *       writes <RUN_DIR>/containers/u<UID> with ct_write (root's, 0600,
 *       atomic): PID is the stand-in's init, its start time and namespaces
 *       read from /proc as the helper does.
 * Exit status 0, or 1 with the reason on stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cubby/cgroup-layout.h"
#include "cubby/conf.h"
#include "cubby/container.h"
#include "cubby/proc.h"
#include "cubby/util.h"

static int ct_set(const char *parent, uid_t uid, CgSet *ret)
{
        static CgSet user, session;
        int r = cg_paths(parent, 0, uid, "0", &user, &session);

        return r < 0 ? r : ct_cgroup_set(&user, ret);
}

static int fail(const char *what, int r)
{
        fprintf(stderr, "ct-record: %s: %s\n", what, strerror(-r));
        return 1;
}

int main(int argc, char **argv)
{
        static CtRecord rec;
        _cleanup_close_ int dfd = -1;
        struct in_addr a;
        uid_t uid;
        int r;

        if (argc == 4 && strcmp(argv[1], "paths") == 0) {
                if (parse_uid(argv[3], &uid) < 0)
                        return fail("uid", -EINVAL);
                r = ct_set(argv[2], uid, &rec.cgroup);
                if (r < 0)
                        return fail("cgroup paths", r);
                for (size_t i = 0; i < rec.cgroup.n; i++)
                        printf("%s\n", rec.cgroup.dir[i].path);
                return 0;
        }
        if (argc != 11 || strcmp(argv[1], "write") != 0) {
                fprintf(stderr, "usage: ct-record paths CGROUP_PARENT UID\n"
                                "       ct-record write RUN_DIR CGROUP_PARENT UID GID USER PID "
                                "ADDR|- HOME SHELL\n");
                return 2;
        }
        rec.version = 1;
        if (parse_uid(argv[4], &rec.uid) < 0 || parse_uid(argv[5], &rec.gid) < 0 ||
            parse_pid(argv[7], &rec.init_pid) < 0)
                return fail("uid, gid or pid", -EINVAL);
        if (strscpy(rec.user, sizeof rec.user, argv[6]) < 0 ||
            strscpy(rec.home, sizeof rec.home, argv[9]) < 0 ||
            strscpy(rec.shell, sizeof rec.shell, argv[10]) < 0)
                return fail("user, home or shell", -ENAMETOOLONG);
        if (strcmp(argv[8], "-") != 0) {
                if (inet_pton(AF_INET, argv[8], &a) != 1)
                        return fail("address", -EINVAL);
                rec.addr = ntohl(a.s_addr);
        }
        memset(rec.session, 'a', CUBBY_ID_LEN);
        rec.created = (uint64_t)time(NULL);
        rec.seccomp = CONF_SECCOMP_YES;
        rec.groups[0] = rec.gid;
        rec.n_groups = 1;
        r = proc_stat("/proc", rec.init_pid, NULL, &rec.init_start);
        if (r < 0)
                return fail("stat of the init", r);
        r = ct_ns_read("/proc", rec.init_pid, &rec.ns_dev, rec.ns_ino);
        if (r < 0)
                return fail("namespaces of the init", r);
        r = ct_set(argv[3], rec.uid, &rec.cgroup);
        if (r < 0)
                return fail("cgroup paths", r);
        r = ct_dir_open(argv[2], true, &dfd);
        if (r < 0)
                return fail("containers dir", r);
        r = ct_write(dfd, &rec);
        if (r < 0)
                return fail("write", r);
        return 0;
}
