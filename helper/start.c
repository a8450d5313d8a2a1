/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* --start-container UID KEY: the container of a container = user user, made
 * for pam_cubby's open_session (root, holding the container lock) when
 * the user has none running. KEY names the session record of the login
 * that asked; its settings (root, network, seccomp, groups) become the
 * container's. The steps are those of a login container (main.c, steps 2
 * to 8), except that the child is cloned into the container's cgroup
 * (<user>/ct, where its cgroup namespace is rooted) and moves on to
 * <user>/ct/init, that it execs cubby-init instead of a shell (no tty,
 * stdio on /dev/null, an empty environment), that the init owns the
 * lease, and that nobody supervises it: the helper writes the container
 * record (<run_dir>/containers/u<uid>) and exits 0, and the init is
 * reparented to the host's reaper. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cubby-build.h"
#include "cubby/conf.h"
#include "cubby/container.h"
#include "cubby/fault.h"
#include "cubby/home-direct.h"
#include "cubby/ipam.h"
#include "cubby/log.h"
#include "cubby/proc.h"
#include "cubby/record.h"
#include "helper.h"

/* <user>/ct/s<sid> (the session record's) -> <user>/ct, and its init's. */
int helper_ct_sets(const CgSet *session, CgSet *ret_ct, CgSet *ret_init)
{
        *ret_ct = *session;
        for (size_t i = 0; i < ret_ct->n; i++) {
                char *p = ret_ct->dir[i].path, *slash = strrchr(p, '/');

                if (cg_dir_at_user(&ret_ct->dir[i]))
                        continue; /* the user dir, for ct/ too */
                if (!slash || strncmp(slash, "/s", 2) != 0 || slash - p < 3 ||
                    strncmp(slash - 3, "/ct", 3) != 0)
                        return -EINVAL;
                *slash = 0;
        }
        if (cg_set_check(ret_ct) < 0)
                return -EINVAL;
        return cg_set_append(ret_ct, "init", ret_init);
}

/* cubby-init, installed next to us: root's, not writable by others. */
static int open_init_exe(void)
{
        struct stat st;
        int fd = open(CUBBY_INIT_PATH, O_PATH | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
            (st.st_mode & 022) || (st.st_mode & (S_ISUID | S_ISGID))) {
                close(fd);
                return -EPERM;
        }
        return fd;
}

static void read_record(Helper *h, uid_t uid, const char *key)
{
        _cleanup_close_ int dfd = -1;
        struct stat st;
        int r;

        dfd = open(CUBBY_SESSIONS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                helper_fail("the sessions directory cannot be opened", errno);
        else if (fstat(dfd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 022))
                helper_fail("the sessions directory is unsafe", EPERM);
        r = record_read_user(dfd, uid, key, &h->rec);
        if (r < 0)
                helper_fail("the session record cannot be read", r);
        if (!h->rec.sandbox || !h->rec.ready || h->rec.container != CONF_CONTAINER_USER)
                helper_fail("the session is not a ready container = user session", 0);
        CUBBY_FAULT("helper.start.record");
}

static int write_ct_record(const Helper *h, const CgSet *ct_set)
{
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ CtRecord *ct = calloc(1, sizeof *ct);
        int r;

        if (!ct)
                return -ENOMEM;
        ct->version = 1;
        ct->uid = h->rec.uid;
        ct->gid = h->rec.gid;
        memcpy(ct->user, h->rec.user, sizeof ct->user);
        memcpy(ct->session, h->rec.id, sizeof ct->session);
        ct->init_pid = h->child;
        r = proc_stat("/proc", h->child, NULL, &ct->init_start);
        if (r >= 0)
                r = ct_ns_read("/proc", h->child, &ct->ns_dev, ct->ns_ino);
        if (r < 0)
                return r;
        ct->addr = h->lease_addr;
        ct->created = (uint64_t)time(NULL);
        ct->cgroup = *ct_set;
        memcpy(ct->home, h->rec.home, sizeof ct->home);
        memcpy(ct->shell, h->rec.shell, sizeof ct->shell);
        ct->seccomp = h->rec.seccomp;
        ct->n_groups = h->rec.n_groups;
        memcpy(ct->groups, h->rec.groups, sizeof ct->groups);
        r = ct_dir_open(h->rec.run_dir, true, &dfd);
        if (r < 0)
                return r;
        CUBBY_FAULT("helper.start.ct_dir");
        r = ct_write(dfd, ct);
        if (r < 0)
                return r;
        CUBBY_FAULT("helper.start.recorded");
        return 0;
}

/* Steps 5 to 8, or the record, failed: the lease (the child's) goes while
 * the child's start time can still be read, then the child. */
static _Noreturn void fail_started(Helper *h, const char *what, int err)
{
        uint64_t start;

        if (h->lease_addr && proc_stat("/proc", h->child, NULL, &start) >= 0)
                (void)ipam_release(h->rec.run_dir, h->rec.uid, h->child, start);
        ns_kill_child(h);
        helper_fail(what, err);
}

_Noreturn void start_container_main(Helper *h, uid_t uid, const char *key)
{
        const char *child_step = NULL;
        CgSet ct_set, init_set;
        struct timespec t0;
        int r;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        h->start_container = true;
        read_record(h, uid, key);

        /* Steps 2 and 3: root already (checked by the caller); the user's
         * groups; no terminal: the init gets a session of its own */
        helper_take_privileges();
        helper_set_user_groups(h);
        r = pty_plan(&h->pty, false);
        if (r < 0 || h->pty.relay)
                helper_fail("the container's init must not have a terminal", r < 0 ? r : 0);
        h->pty.own_session = true;

        r = helper_ct_sets(&h->rec.cgroup, &ct_set, &init_set);
        if (r < 0)
                helper_fail("the session record's cgroup is not a container = user one", r);
        h->init_exe_fd = open_init_exe();
        if (h->init_exe_fd < 0)
                helper_fail("cubby-init is not installed (root's, not writable by others)",
                            h->init_exe_fd);
        CUBBY_FAULT("helper.start.init_exe");

        /* Step 4 */
        r = mnt_build_root(h);
        if (r < 0)
                helper_fail(h->home_err ? home_direct_strerror(h->home_err)
                                  : "cannot build the container's file system", r);

        /* Step 5: cloned into ct/ (its cgroup namespace is rooted there),
         * then it moves itself into ct/init */
        r = cg_attach_open(&ct_set, &h->att);
        if (r >= 0)
                r = cg_attach_open(&init_set, &h->att_init);
        if (r >= 0 && h->att_init.v2_fd >= 0) {
                h->init_procs_fd = openat(h->att_init.v2_fd, "cgroup.procs",
                                          O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
                if (h->init_procs_fd < 0)
                        r = -errno;
                closep(&h->att_init.v2_fd);
        }
        if (r < 0)
                helper_fail("cannot open the container's cgroup", r);
        CUBBY_FAULT("helper.start.cgroup_open");
        r = ns_clone_container(h);
        if (r < 0)
                helper_fail("cannot create the container", r);
        /* the child's now */
        cg_attach_close(&h->att_init);
        closep(&h->init_procs_fd);
        r = mnt_leave_staging(h);
        if (r < 0)
                fail_started(h, "cannot set up the sandbox", r);

        /* Step 6 */
        r = ns_write_id_maps(h);
        if (r < 0)
                fail_started(h, "cannot set up the sandbox", r);

        /* Step 7: the lease is the init's */
        r = netup_container(h, h->child);
        if (r < 0)
                fail_started(h, "cannot set up the sandbox network", r);
        CUBBY_FAULT("helper.start.network");

        /* Step 8 */
        r = ns_release_child(h, &child_step);
        if (r < 0 && child_step) {
                char what[96];

                snprintf(what, sizeof what, "cannot start the container (%s)", child_step);
                fail_started(h, what, r);
        }
        if (r < 0)
                fail_started(h, "cannot start the container", r);
        CUBBY_FAULT("helper.start.exec_seen");

        /* The record last: it names a running init, or nothing */
        r = write_ct_record(h, &ct_set);
        if (r < 0)
                fail_started(h, "cannot write the container record", r);
        helper_log_start(h, "user_container_start", &t0);
        _exit(0);
}
