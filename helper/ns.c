/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container process: clone3 into fresh namespaces (step 5), the id
 * maps written by the parent (step 6), the child's release and the wait for
 * its exec (step 8), and the child's own steps up to the exec of the real
 * shell (child steps 1 to 7). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/sched.h>

#include "cubby/fault.h"
#include "cubby/util.h"
#include "helper.h"

/* What the child sends back when a step fails: the step and -errno. The
 * pipe is close-on-exec, so EOF without a message means the exec worked. */
typedef struct ChildError {
        int step;
        int err;
} ChildError;

enum {
        STEP_SYNC = 1,
        STEP_CGROUP,
        STEP_ENTER_ROOT,
        STEP_IDS,
        STEP_HOSTNAME,
        STEP_LOOPBACK,
        STEP_KERNEL_FS,
        STEP_PIVOT,
        STEP_TTY,
        STEP_CAPS,
        STEP_SECCOMP,
        STEP_PDEATHSIG,
        STEP_EXEC,
        STEP_INIT_CGROUP,
        STEP_STDIO,
        STEP_EXEC_INIT,
};

static const char *step_name(int step)
{
        static const char *const names[] = {
                [STEP_SYNC] = "waiting for the parent", [STEP_CGROUP] = "joining the session cgroup",
                [STEP_ENTER_ROOT] = "entering the new root", [STEP_IDS] = "switching to the user",
                [STEP_HOSTNAME] = "setting the hostname", [STEP_LOOPBACK] = "bringing up loopback",
                [STEP_KERNEL_FS] = "mounting proc, sys and devpts", [STEP_PIVOT] = "pivot_root",
                [STEP_TTY] = "taking the terminal", [STEP_CAPS] = "dropping capabilities",
                [STEP_SECCOMP] = "installing the seccomp filter", [STEP_PDEATHSIG] = "parent death signal",
                [STEP_EXEC] = "executing the shell",
                [STEP_INIT_CGROUP] = "joining the init cgroup", [STEP_STDIO] = "opening /dev/null",
                [STEP_EXEC_INIT] = "executing cubby-init",
        };

        return step > 0 && step < (int)ELEMENTSOF(names) && names[step] ? names[step] : "setup";
}

static _Noreturn void child_fail(int fd, int step, int err)
{
        ChildError e = { step, err };

        (void)!write(fd, &e, sizeof e);
        _exit(127);
}

/* The init of a user's container: no terminal (stdio on the container's
 * /dev/null), its cwd the root, an empty environment, and no parent death
 * signal: the helper exits once it is started. cubby-init was opened
 * before the clone; inside, its host path may not exist. */
static _Noreturn void child_exec_init(Helper *h, int err_fd)
{
        char *const argv[] = { (char *)"cubby-init", NULL };
        char *const envp[] = { NULL };
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (null < 0)
                child_fail(err_fd, STEP_STDIO, -errno);
        for (int fd = 0; fd < 3; fd++)
                if (dup2(null, fd) < 0)
                        child_fail(err_fd, STEP_STDIO, -errno);
        close(null);
        if (chdir("/") < 0)
                child_fail(err_fd, STEP_STDIO, -errno);
        CUBBY_FAULT("child.exec_init");
        syscall(SYS_execveat, h->init_exe_fd, "", argv, envp, AT_EMPTY_PATH);
        child_fail(err_fd, STEP_EXEC_INIT, -errno);
}

static _Noreturn void child_main(Helper *h, int sync_fd, int err_fd)
{
        char go;
        int r;

        /* Child step 1: wait until the parent has written the id maps */
        if (read(sync_fd, &go, 1) != 1)
                _exit(127); /* the parent is gone: nothing to report to */
        close(sync_fd);
        CUBBY_FAULT("child.start");

        /* cgroup v1: move ourselves (cheap, unlike the parent writing our
         * pid), then root a cgroup namespace at the session cgroups (a
         * user's container: at its ct/ dir, so the sessions that join it
         * see theirs below the root). */
        if (h->att.n_v1 > 0 || h->start_container) {
                r = cg_attach_self_v1(&h->att);
                if (r < 0)
                        child_fail(err_fd, STEP_CGROUP, r);
                if (unshare(CLONE_NEWCGROUP) < 0)
                        child_fail(err_fd, STEP_CGROUP, -errno);
        }
        CUBBY_FAULT("child.cgroup");
        cg_attach_close(&h->att);
        /* the init alone in ct/init: through fds root opened before the
         * clone (the kernel checks the opener's credentials) */
        if (h->start_container) {
                r = cg_attach_self_v1(&h->att_init);
                if (r >= 0 && h->init_procs_fd >= 0 && write(h->init_procs_fd, "0", 1) != 1)
                        r = -errno;
                if (r < 0)
                        child_fail(err_fd, STEP_INIT_CGROUP, r);
                closep(&h->init_procs_fd);
                cg_attach_close(&h->att_init);
                CUBBY_FAULT("child.init_cgroup");
        }

        r = mnt_child_enter_root();
        if (r < 0)
                child_fail(err_fd, STEP_ENTER_ROOT, r);

        /* Child step 2: become the user; the namespace's capabilities stay until
         * sbx_drop_all_caps() (the old ids were not root in it). */
        if (setresgid(h->rec.gid, h->rec.gid, h->rec.gid) < 0 ||
            setresuid(h->rec.uid, h->rec.uid, h->rec.uid) < 0)
                child_fail(err_fd, STEP_IDS, -errno);
        CUBBY_FAULT("child.ids");
        if (h->rec.hostname[0] && sethostname(h->rec.hostname, strlen(h->rec.hostname)) < 0)
                child_fail(err_fd, STEP_HOSTNAME, -errno);
        r = sbx_loopback_up();
        if (r < 0)
                child_fail(err_fd, STEP_LOOPBACK, r);
        CUBBY_FAULT("child.hostname_lo");

        /* Child steps 3 and 4 */
        r = mnt_child_mount_kernel_fs(h);
        if (r < 0)
                child_fail(err_fd, STEP_KERNEL_FS, r);
        r = mnt_child_pivot(h);
        if (r < 0)
                child_fail(err_fd, STEP_PIVOT, r);

        /* Child step 5: the terminal the parent let go of becomes ours; or
         * the pty of our own, in a session of our own (pty.c) */
        if (h->gave_up_tty) {
                if (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0)
                        child_fail(err_fd, STEP_TTY, -errno);
        } else {
                r = pty_child_session(&h->pty);
                if (r < 0)
                        child_fail(err_fd, STEP_TTY, r);
        }
        CUBBY_FAULT("child.tty");

        /* Child step 6 */
        sbx_restore_process_state(h);
        r = sbx_drop_all_caps();
        if (r < 0)
                child_fail(err_fd, STEP_CAPS, r);
        CUBBY_FAULT("child.caps");
        r = sbx_seccomp(h->rec.seccomp);
        if (r < 0)
                child_fail(err_fd, STEP_SECCOMP, r);
        CUBBY_FAULT("child.seccomp");

        if (h->start_container)
                child_exec_init(h, err_fd);

        /* Child step 7: after the last credential change, which resets it */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                child_fail(err_fd, STEP_PDEATHSIG, -errno);
        CUBBY_FAULT("child.exec");
        execve(h->rec.shell, h->argv, h->envp);
        child_fail(err_fd, STEP_EXEC, -errno);
}

static int write_map(pid_t pid, const char *file, const char *text)
{
        _cleanup_close_ int dfd = -1;
        char path[64];

        snprintf(path, sizeof path, "/proc/%d", (int)pid);
        dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        return write_string_at(dfd, file, text);
}

/* The primary group and the record's groups (the ones setgroups() gave
 * us), each mapped to itself: ids and file groups read as on the host
 * instead of as the overflow gid. Only root may write more than one line;
 * the groups are exactly those the process already holds, so nothing is
 * gained, and "deny" above keeps them from being dropped. */
static int write_gid_map(pid_t pid, const Record *rec)
{
        char map[(RECORD_MAX_GROUPS + 1) * 24];
        size_t o = 0;

        o += (size_t)snprintf(map + o, sizeof map - o, "%u %u 1\n", (unsigned)rec->gid,
                              (unsigned)rec->gid);
        for (size_t i = 0; i < rec->n_groups && i < RECORD_MAX_GROUPS; i++) {
                bool seen = rec->groups[i] == rec->gid;

                /* ranges must not overlap: each gid once */
                for (size_t j = 0; j < i && !seen; j++)
                        seen = rec->groups[j] == rec->groups[i];
                if (!seen)
                        o += (size_t)snprintf(map + o, sizeof map - o, "%u %u 1\n",
                                              (unsigned)rec->groups[i], (unsigned)rec->groups[i]);
        }
        return write_map(pid, "gid_map", map);
}

int ns_clone_container(Helper *h)
{
        _cleanup_close_ int sync_r = -1, sync_w = -1, err_r = -1, err_w = -1;
        int p[2], pidfd = -1, r;
        struct clone_args args = {};
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        sync_r = p[0];
        sync_w = p[1];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        err_r = p[0];
        err_w = p[1];

        args.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWNET |
                     CLONE_NEWIPC | CLONE_PIDFD;
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        args.exit_signal = SIGCHLD;
        if (h->att.v2_fd >= 0) {
                /* in the session cgroup before it runs a single instruction */
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t)h->att.v2_fd;
                /* with v1 hierarchies the child moves itself first, then
                 * makes its cgroup namespace (rooted at the session); the
                 * init of a user's container makes it before it moves on
                 * to ct/init */
                if (h->att.n_v1 == 0 && !h->start_container)
                        args.flags |= CLONE_NEWCGROUP;
        }
        pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
        if (pid < 0) {
                r = -errno;
                cg_attach_close(&h->att);
                return r;
        }
        if (pid == 0) {
                close(sync_w);
                close(err_r);
                child_main(h, sync_r, err_w);
        }
        CUBBY_FAULT("helper.clone3");
        cg_attach_close(&h->att);
        h->child = pid;
        h->child_pidfd = pidfd;
        h->sync_w = TAKE_FD(sync_w);
        h->err_r = TAKE_FD(err_r);
        return 0;
}

int ns_write_id_maps(const Helper *h)
{
        char map[64];
        int r;

        /* The user is themself inside, and nobody else; no root inside.
         * setgroups stays denied so groups cannot be dropped to get past
         * negative group permissions (CVE-2014-8989). The pid is our
         * unreaped child: it cannot be reused meanwhile. */
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)h->rec.uid, (unsigned)h->rec.uid);
        r = write_map(h->child, "uid_map", map);
        if (r >= 0)
                r = write_map(h->child, "setgroups", "deny");
        if (r >= 0)
                r = write_gid_map(h->child, &h->rec);
        CUBBY_FAULT("helper.maps");
        return r;
}

int ns_release_child(Helper *h, const char **ret_child_step)
{
        ChildError ce;
        ssize_t n;

        *ret_child_step = NULL;
        if (write(h->sync_w, "g", 1) != 1)
                return -errno;
        closep(&h->sync_w);
        CUBBY_FAULT("helper.go");

        do
                n = read(h->err_r, &ce, sizeof ce);
        while (n < 0 && errno == EINTR);
        closep(&h->err_r);
        if (n == (ssize_t)sizeof ce) {
                *ret_child_step = step_name(ce.step);
                return ce.err < 0 ? ce.err : -EIO;
        }
        CUBBY_FAULT("helper.exec_seen");
        return 0;
}

void ns_kill_child(Helper *h)
{
        if (h->child <= 0)
                return;
        kill(h->child, SIGKILL);
        waitpid(h->child, NULL, 0);
        closep(&h->child_pidfd);
        closep(&h->sync_w);
        closep(&h->err_r);
        h->child = 0;
}
