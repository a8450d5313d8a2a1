/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Joining the container of a container = user user (the session record
 * says container=user), and --enter UID for `cubbyctl shell`.
 *
 * A login never creates the container (pam_cubby's open_session made sure
 * it runs before the shell was exec'd); with no valid one the login is
 * refused and nothing runs on the host. The steps, as root:
 *   1. into the session's cgroup dirs (<user>/ct/s<sid>; --enter:
 *      <user>/ct/init) in every v1 hierarchy, so the fork lands there too
 *      (a thread's own move there is cheap); the v2 dir is only opened;
 *   2. the user's groups from the record, BEFORE any setns (setgroups is
 *      denied inside);
 *   3. the container lock; the container record, read and checked; a
 *      pidfd of its init, verified (start time, every namespace inode,
 *      still alive: ct_open_init);
 *   4. one setns(pidfd) into six namespaces of the init: all but the
 *      cgroup namespace;
 *   5. fork: clone3 with a pidfd, into the v2 dir (CLONE_INTO_CGROUP);
 *      the child enters the init's cgroup namespace through the same
 *      pidfd as its first step; the lock is let go. A stop that comes
 *      between the two kills the init: the child's setns through the
 *      pidfd of a dead process then fails (the login is refused), and the
 *      stop kills the child in ct/ anyway; the pidfd never names another
 *      process, so no other namespace can be entered.
 * Why the v2 dir is entered by the fork and not by a move of the helper
 * itself: a write to cgroup.procs moves a thread group, for which the
 * kernel waits out an RCU grace period (10-35 ms on a busy 2-CPU machine,
 * most of a join's time when it was done that way); a clone into a cgroup
 * does not wait. And the cgroup namespace waits for the child because,
 * once in it, a process outside its root (the helper) may not be cloned
 * into a cgroup below it (the kernel's cgroup-namespace check gives
 * ENOENT). The supervisor moves itself into the v2 dir after the fork,
 * and only where v2 carries the limits (a cgroup v2 host): on a hybrid
 * host the controller-less v2 tree only tracks membership, and a stop
 * finds the supervisor through the v1 dirs.
 * The child becomes the user, clears every capability set (setns into a
 * user namespace gave it all of them there, and setresuid keeps them,
 * root of that namespace being unmapped), sets NO_NEW_PRIVS, the caller's
 * rlimits, umask and signals, takes the terminal (or a pty of the
 * container's devpts, pty.c), goes home, installs the seccomp filter,
 * closes every fd but 0-2 and execs the real shell. Its parent ends in
 * the container's namespaces too: it becomes the user for good, clears
 * its capabilities the same way, and supervises the shell (main.c). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <linux/sched.h>

#include <cap-ng.h>

#include "cubby-build.h"
#include "cubby/cgroup-attach.h"
#include "cubby/conf.h"
#include "cubby/container.h"
#include "cubby/fault.h"
#include "cubby/log.h"
#include "cubby/shellargs.h"
#include "helper.h"

/* the helper's setns: all the init's namespaces but the cgroup one, which
 * the child enters (see the top) */
#define NS_HELPER                                                                              \
        (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWUTS |            \
         CLONE_NEWIPC)
#define NOT_RUNNING "your container is not running; log in again"
/* conf.c's default run_dir, for --enter without --run-dir */
#define DEFAULT_RUN_DIR "/run/cubby"

/* What the child sends back when a step fails. */
typedef struct JoinError {
        int step;
        int err;
} JoinError;

enum {
        JSTEP_CGROUPNS = 1,
        JSTEP_IDS,
        JSTEP_CAPS,
        JSTEP_TTY,
        JSTEP_HOME,
        JSTEP_SECCOMP,
        JSTEP_EXEC,
};

static const char *jstep_name(int step)
{
        static const char *const names[] = {
                [JSTEP_CGROUPNS] = "entering the cgroup namespace",
                [JSTEP_IDS] = "switching to the user", [JSTEP_CAPS] = "dropping capabilities",
                [JSTEP_TTY] = "taking the terminal", [JSTEP_HOME] = "changing to the home directory",
                [JSTEP_SECCOMP] = "installing the seccomp filter", [JSTEP_EXEC] = "executing the shell",
        };

        return step > 0 && step < (int)ELEMENTSOF(names) && names[step] ? names[step] : "setup";
}

static _Noreturn void jchild_fail(int fd, int step, int err)
{
        JoinError e = { step, err };

        (void)!write(fd, &e, sizeof e);
        _exit(127);
}

/* The user's ids for good and no capability in any set, bounding and
 * ambient included, then NO_NEW_PRIVS. */
static int become_user(const Record *rec)
{
        if (setresgid(rec->gid, rec->gid, rec->gid) < 0 ||
            setresuid(rec->uid, rec->uid, rec->uid) < 0)
                return -errno;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return -errno;
        return sbx_drop_all_caps();
}

/* Step 1: into every v1 dir of set now; the v2 dir stays open in h->att
 * for the fork (CLONE_INTO_CGROUP), and h->att_v2_self says whether the
 * supervisor moves itself there afterwards (see the top). */
static int join_cgroup(Helper *h, const CgSet *set)
{
        int r;

        r = cg_attach_open(set, &h->att);
        if (r < 0)
                return r;
        r = cg_attach_self_v1(&h->att);
        if (r < 0) {
                cg_attach_close(&h->att);
                return r;
        }
        h->att_v2_self = h->att.v2_fd >= 0 && cg_attach_v2_limited(set);
        return 0;
}

static _Noreturn void child_join(Helper *h, int init_fd, int err_fd)
{
        int r;

        CUBBY_FAULT("child.join.start");
        /* the init's cgroup namespace, rooted at ct/, which this process
         * is below since its clone */
        if (setns(init_fd, CLONE_NEWCGROUP) < 0)
                jchild_fail(err_fd, JSTEP_CGROUPNS, -errno);
        close(init_fd);
        /* ssh -A: the agent's socket at its path in here (still with the
         * capabilities the join gave in the container's namespaces) */
        r = agent_place(h);
        if (r < 0)
                fprintf(stderr, "cubby: agent forwarding is not available in your container (%s)\n",
                        strerror(-r));
        r = become_user(&h->rec);
        if (r < 0)
                jchild_fail(err_fd, r == -EPERM ? JSTEP_CAPS : JSTEP_IDS, r);
        CUBBY_FAULT("child.join.user");
        sbx_restore_process_state(h);

        /* the terminal: the one we let go of, or a pty of the container's
         * devpts (opened relative to its root, our cwd after setns) */
        if (h->gave_up_tty) {
                if (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0)
                        jchild_fail(err_fd, JSTEP_TTY, -errno);
        } else {
                if (chdir("/") < 0)
                        jchild_fail(err_fd, JSTEP_TTY, -errno);
                r = pty_child_open(&h->pty);
                if (r >= 0)
                        r = pty_child_session(&h->pty);
                if (r < 0)
                        jchild_fail(err_fd, JSTEP_TTY, r);
        }
        closep(&h->pty.sock[1]);
        CUBBY_FAULT("child.join.tty");
        if (chdir(h->rec.home) < 0)
                jchild_fail(err_fd, JSTEP_HOME, -errno);
        r = sbx_seccomp(h->rec.seccomp);
        if (r < 0)
                jchild_fail(err_fd, JSTEP_SECCOMP, r);
        CUBBY_FAULT("child.join.exec");
        /* nothing but 0-2 reaches the shell (err_fd is close-on-exec and
         * stays open until the exec, to report its failure) */
        if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                jchild_fail(err_fd, JSTEP_EXEC, -errno);
        execve(h->rec.shell, h->argv, h->envp);
        jchild_fail(err_fd, JSTEP_EXEC, -errno);
}

/* Steps 3 to 5 (see the top), then the supervisor. */
static _Noreturn void join_container(Helper *h, int opener_fd, const char *event,
                                     const struct timespec *t0)
{
        _cleanup_close_ int lock = -1, dfd = -1, init_fd = -1, err_r = -1, err_w = -1;
        struct clone_args args = {};
        CtRecord *ct;
        JoinError je;
        int p[2], pidfd = -1, master = -1, r;
        ssize_t n;
        pid_t pid;

        r = ct_lock(h->rec.run_dir, h->rec.uid, CT_LOCK_TIMEOUT_MS, &lock);
        if (r < 0)
                helper_fail("your container is busy (its lock cannot be taken)", r);
        CUBBY_FAULT("helper.join.locked");
        ct = calloc(1, sizeof *ct);
        if (!ct)
                helper_fail("out of memory", ENOMEM);
        r = ct_dir_open(h->rec.run_dir, false, &dfd);
        if (r >= 0)
                r = ct_read(dfd, h->rec.uid, ct);
        if (r >= 0 && (ct->uid != h->rec.uid || ct->gid != h->rec.gid))
                r = -EINVAL;
        if (r >= 0)
                r = ct_open_init("/proc", ct, &init_fd);
        free(ct);
        closep(&dfd);
        if (r < 0)
                helper_fail(NOT_RUNNING, r == -ENOENT ? 0 : r);
        CUBBY_FAULT("helper.join.verified");

        /* ssh -A: the socket sshd made, taken on this side */
        r = agent_open(h);
        if (r < 0) {
                fprintf(stderr, "cubby: agent forwarding is not available in your container (%s)\n",
                        strerror(-r));
                h->agent_path[0] = 0;
        }
        if (pipe2(p, O_CLOEXEC) < 0)
                helper_fail("cannot enter your container", errno);
        err_r = p[0];
        err_w = p[1];
        if (setns(init_fd, NS_HELPER) < 0)
                helper_fail("cannot enter your container", errno);
        CUBBY_FAULT("helper.join.setns");

        args.flags = CLONE_PIDFD;
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        args.exit_signal = SIGCHLD;
        if (h->att.v2_fd >= 0) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t)h->att.v2_fd;
        }
        pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
        if (pid < 0)
                helper_fail("cannot start the shell in your container", errno);
        if (pid == 0) {
                int fd = TAKE_FD(init_fd);

                closep(&lock);
                closep(&err_r);
                closep(&h->pty.sock[0]);
                if (opener_fd >= 0)
                        close(opener_fd);
                cg_attach_close(&h->att);
                child_join(h, fd, err_w);
        }
        /* the child holds the container: the next join or a stop may go */
        closep(&lock);
        closep(&init_fd);
        closep(&err_w);
        closep(&h->pty.sock[1]);
        h->child = pid;
        h->child_pidfd = pidfd;
        CUBBY_FAULT("helper.join.forked");
        do
                n = read(err_r, &je, sizeof je);
        while (n < 0 && errno == EINTR);
        if (n == (ssize_t)sizeof je) {
                char what[96];

                ns_kill_child(h);
                snprintf(what, sizeof what, "cannot start the shell in your container (%s)",
                         jstep_name(je.step));
                helper_fail(what, je.err < 0 ? je.err : EIO);
        }
        r = pty_take_master(&h->pty, &master);
        if (r < 0) {
                ns_kill_child(h);
                helper_fail("cannot take the container's terminal", r);
        }
        helper_log_start(h, event, t0);
        /* a cgroup v2 host: the supervisor is charged to the session too
         * (after the shell's start: this move waits out a grace period) */
        if (h->att_v2_self) {
                r = cg_attach_self_v2(&h->att);
                if (r < 0) {
                        ns_kill_child(h);
                        helper_fail("cannot join the session cgroup", r);
                }
        }
        cg_attach_close(&h->att);

        /* privileges down for good, in here too */
        r = become_user(&h->rec);
        if (r < 0) {
                syscall(SYS_pidfd_send_signal, h->child_pidfd, SIGKILL, NULL, 0);
                helper_fail("cannot drop privileges", r);
        }
        closep(&err_r);
        CUBBY_FAULT("helper.join.dropped");
        helper_supervise(h, h->child_pidfd, opener_fd, master, true);
}

_Noreturn void join_main(Helper *h, const struct timespec *t0)
{
        int r, opener_fd;

        helper_take_privileges();
        r = join_cgroup(h, &h->rec.cgroup);
        if (r < 0)
                helper_fail("cannot join the session cgroup", r);
        helper_set_user_groups(h);
        helper_release_tty(h);
        r = pty_plan(&h->pty, h->gave_up_tty);
        if (r < 0)
                helper_fail("cannot set up the terminal", r);
        h->pty.joined = true;
        CUBBY_FAULT("helper.join.groups_tty");
        opener_fd = helper_open_opener(&h->rec);
        if (opener_fd < 0)
                helper_fail("the session's opener is gone; refusing", opener_fd);
        join_container(h, opener_fd, "container_join", t0);
}

/* --enter UID [--run-dir DIR] [-- CMD...]: root asks for a shell (or
 * SHELL -c "CMD...") of UID in UID's container. Everything about the user
 * comes from the container record. */
_Noreturn void enter_main(Helper *h, int argc, char *argv[], char **caller_env)
{
        const char *run_dir = DEFAULT_RUN_DIR;
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *cmd = NULL;
        struct timespec t0;
        CgSet init_set;
        CtRecord *ct;
        uid_t uid;
        int i = 3, r;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (argc < 3 || parse_uid(argv[2], &uid) < 0 || uid == 0)
                helper_fail("usage: cubby-shell --enter UID [--run-dir DIR] [-- CMD...]", 0);
        if (i + 1 < argc && strcmp(argv[i], "--run-dir") == 0) {
                run_dir = argv[i + 1];
                i += 2;
        }
        if (!path_is_normalized_absolute(run_dir))
                helper_fail("--run-dir must be an absolute, normalised path", 0);
        if (i < argc) {
                size_t len = 0;

                if (strcmp(argv[i], "--") != 0 || i + 1 >= argc)
                        helper_fail("usage: cubby-shell --enter UID [--run-dir DIR] [-- CMD...]",
                                    0);
                for (int k = i + 1; k < argc; k++)
                        len += strlen(argv[k]) + 1;
                cmd = calloc(1, len + 1);
                if (!cmd)
                        helper_fail("out of memory", ENOMEM);
                len = 0;
                for (int k = i + 1; k < argc; k++) {
                        size_t l = strlen(argv[k]);

                        if (k > i + 1)
                                cmd[len++] = ' ';
                        memcpy(cmd + len, argv[k], l);
                        len += l;
                }
                cmd[len] = 0;
        }

        ct = calloc(1, sizeof *ct);
        if (!ct)
                helper_fail("out of memory", ENOMEM);
        r = ct_dir_open(run_dir, false, &dfd);
        if (r >= 0)
                r = ct_read(dfd, uid, ct);
        if (r < 0)
                helper_fail("that user's container is not running", r == -ENOENT ? 0 : r);
        closep(&dfd);

        /* the record the join works from, made of the container's. No
         * memset: h is main.c's static Helper, all zero, and nothing wrote
         * h->rec before this mode was chosen; a memset of the 442 KiB
         * Record (its env and hide arrays) cost about 110 page faults. */
        h->rec.version = 1;
        memcpy(h->rec.id, ct->session, sizeof h->rec.id);
        h->rec.ready = h->rec.sandbox = true;
        h->rec.container = CONF_CONTAINER_USER;
        h->rec.uid = ct->uid;
        h->rec.gid = ct->gid;
        memcpy(h->rec.user, ct->user, sizeof h->rec.user);
        memcpy(h->rec.home, ct->home, sizeof h->rec.home);
        memcpy(h->rec.shell, ct->shell, sizeof h->rec.shell);
        h->rec.seccomp = ct->seccomp;
        h->rec.n_groups = ct->n_groups;
        memcpy(h->rec.groups, ct->groups, sizeof h->rec.groups);
        snprintf(h->rec.run_dir, sizeof h->rec.run_dir, "%s", run_dir);
        r = cg_set_append(&ct->cgroup, "init", &init_set);
        free(ct);
        if (r < 0)
                helper_fail("the container record's cgroup is unusable", r);
        {
                char *login_argv[] = { (char *)"-", NULL };
                char *cmd_argv[] = { (char *)"sh", (char *)"-c", cmd, NULL };

                r = cmd ? shell_argv(h->rec.shell, 3, cmd_argv, &h->argv)
                        : shell_argv(h->rec.shell, 1, login_argv, &h->argv);
                if (r < 0)
                        helper_fail("cannot build the shell's arguments", r);
        }
        r = shell_env(&h->rec, caller_env, &h->envp);
        if (r < 0)
                helper_fail("cannot build the environment", r);
        shell_env_free(caller_env);

        helper_take_privileges();
        /* no session of its own: beside the init */
        r = join_cgroup(h, &init_set);
        if (r < 0)
                helper_fail("cannot join the container's init cgroup", r);
        helper_set_user_groups(h);
        helper_release_tty(h);
        r = pty_plan(&h->pty, h->gave_up_tty);
        if (r < 0)
                helper_fail("cannot set up the terminal", r);
        h->pty.joined = true;
        CUBBY_FAULT("helper.enter.ready");
        join_container(h, -1, "container_enter", &t0);
}
