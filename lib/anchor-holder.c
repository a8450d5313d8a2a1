/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The anchor holder: a tiny process, started once by the first opener that
 * needs it, whose mount namespace holds every user's overlay home. It is
 * recorded in <run_dir>/anchor (anchor.c reads that) and stopped by gc when
 * no session and no per-user container is left. Every ANCHOR_TICK_S it runs
 * a tick in a child (cubbyctl's: the containers' sweep). Nothing here logs; every function returns 0 or
 * -errno (anchor_hold never returns). */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cubby/anchor-holder.h"
#include "cubby/anchor.h"
#include "cubby/fault.h"
#include "cubby/proc.h"
#include "cubby/util.h"

/* Run one tick in a child, so that whatever it does (policy, NSS, the
 * containers' stops) never lives in the holder itself: signals back to
 * their defaults, killed if the holder dies, bounded in time. */
static int anchor_tick_child(AnchorTick tick, void *userdata)
{
        int status = 0;
        pid_t pid = fork();

        if (pid < 0)
                return 0;
        if (pid == 0) {
                sigset_t none;

                sigemptyset(&none);
                (void)prctl(PR_SET_NAME, "cubby-sweep");
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                sigprocmask(SIG_SETMASK, &none, NULL);
                alarm(ANCHOR_TICK_MAX_S);
                _exit(tick(userdata) == ANCHOR_TICK_ORPHANED ? 3 : 0);
        }
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) && WEXITSTATUS(status) == 3 ? ANCHOR_TICK_ORPHANED : 0;
}

/* The holder: a process of its own session, nothing inherited, all
 * catchable signals blocked, in the anchor namespace forever; every
 * ANCHOR_TICK_S it runs tick (if any) in a child. */
_Noreturn void anchor_hold(int report_fd, AnchorTick tick, void *userdata)
{
        sigset_t all;
        pid_t me = getpid();
        int null;

        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, NULL);
        (void)prctl(PR_SET_NAME, "cubby-anchor");
        (void)prctl(PR_SET_PDEATHSIG, 0);
        /* A copy of the host's own mount namespace (PID 1's), not of the
         * opener that happened to come first; slave: mounts the host makes
         * later (a new NFS home) still arrive, nothing made here goes back. */
        {
                int init_ns = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);

                if (init_ns >= 0) {
                        (void)setns(init_ns, CLONE_NEWNS);
                        close(init_ns);
                }
        }
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
                me = -errno;
                (void)!write(report_fd, &me, sizeof me);
                _exit(1);
        }
        if (chdir("/") < 0)
                _exit(1);
        null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
        }
        (void)!write(report_fd, &me, sizeof me);
        /* Live on only once the opener has recorded us in <run_dir>/anchor:
         * an opener that dies before (a crash, a kill) would leave a holder
         * that nothing names, so nothing would ever stop. EOF: it died. */
        {
                char ok = 0;
                ssize_t n;

                do
                        n = read(report_fd, &ok, 1);
                while (n < 0 && errno == EINTR);
                if (n != 1 || ok != 'k')
                        _exit(0);
        }
        /* stdio is /dev/null; nothing else stays open, the report socket
         * included */
        if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
                for (int fd = 3; fd < 1024; fd++)
                        close(fd);
        for (;;) {
                struct timespec ts = { ANCHOR_TICK_S, 0 };

                if (!tick) {
                        pause();
                        continue;
                }
                /* every signal is blocked: nothing cuts the sleep short */
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                /* no longer the recorded holder (the run dir was wiped, or
                 * another holder replaced us): nothing could ever stop us,
                 * and nothing can find our namespace */
                if (anchor_tick_child(tick, userdata) == ANCHOR_TICK_ORPHANED)
                        _exit(0);
        }
}

static void anchor_join_cgroups(pid_t pid, const CgSet *parents)
{
        char buf[32];

        if (!parents)
                return;
        snprintf(buf, sizeof buf, "%d", (int)pid);
        for (size_t i = 0; i < parents->n; i++) {
                _cleanup_close_ int pfd = -1, afd = -1;

                pfd = open(parents->dir[i].path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (pfd < 0)
                        continue;
                if (mkdirat(pfd, "anchor", 0755) < 0 && errno != EEXIST)
                        continue;
                afd = openat(pfd, "anchor", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (afd >= 0)
                        (void)write_string_at(afd, "cgroup.procs", buf);
        }
}

int anchor_ensure(const char *run_dir, const CgSet *cg_parent_dirs, const char *holder_exe,
                  const char *config, int *ret_nsfd)
{
        _cleanup_close_ int rfd = -1, lock = -1, nsfd = -1, report = -1;
        char text[96];
        AnchorId id;
        int p[2], r;
        pid_t child, holder = 0;
        ssize_t n;
        struct stat st;

        r = session_dir_open(run_dir, true, &rfd);
        if (r < 0)
                return r;
        lock = openat(rfd, ANCHOR_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (lock < 0)
                return -errno;
        for (int tries = 0; flock(lock, LOCK_EX | LOCK_NB) < 0; tries++) {
                struct timespec ts = { 0, 5L * 1000 * 1000 };

                if (errno != EWOULDBLOCK)
                        return -errno;
                if (tries >= 2000) /* 10 s */
                        return -ETIMEDOUT;
                nanosleep(&ts, NULL);
        }
        r = anchor_read(rfd, &id);
        if (r == 0) {
                r = anchor_open_id(&id, ret_nsfd);
                if (r != -ESRCH)
                        return r; /* 0, or an error that must not replace it */
        } else if (r != -ENOENT) {
                return r;
        }

        /* a socket, not a pipe: the holder reports its pid on it, then
         * waits on it for the word that it was recorded */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
                return -errno;
        child = fork();
        if (child < 0) {
                r = -errno;
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (child == 0) {
                /* double fork: the holder must not be a child of sshd or su */
                close(p[0]);
                if (setsid() < 0)
                        _exit(1);
                if (fork() == 0) {
                        /* a program of its own rather than a copy of the
                         * opener: fixed path, empty environment, only the
                         * report pipe (as fd 3) */
                        if (holder_exe && dup2(p[1], 3) == 3) {
                                char *const plain[] = { (char *)"cubbyctl", (char *)"__anchor", NULL };
                                char *const with_config[] = { (char *)"cubbyctl", (char *)"--config",
                                                              (char *)config, (char *)"__anchor", NULL };
                                char *const envp[] = { NULL };

                                if (syscall(SYS_close_range, 4U, ~0U, 0U) == 0)
                                        execve(holder_exe, config ? with_config : plain, envp);
                                anchor_hold(3, NULL, NULL);
                        }
                        anchor_hold(p[1], NULL, NULL);
                }
                _exit(0);
        }
        close(p[1]);
        report = p[0];
        (void)waitpid(child, NULL, 0);
        do
                n = read(report, &holder, sizeof holder);
        while (n < 0 && errno == EINTR);
        if (n != (ssize_t)sizeof holder)
                return -ECHILD;
        if (holder < 0)
                return holder;
        CUBBY_FAULT("lib.anchor.holder");

        anchor_join_cgroups(holder, cg_parent_dirs);
        CUBBY_FAULT("lib.anchor.cgroup");
        snprintf(text, sizeof text, "/proc/%d/ns/mnt", (int)holder);
        nsfd = open(text, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0 || fstat(nsfd, &st) < 0) {
                r = -errno;
                kill(holder, SIGKILL);
                return r;
        }
        id.pid = holder;
        r = proc_stat("/proc", holder, NULL, &id.start);
        if (r < 0) {
                kill(holder, SIGKILL);
                return r;
        }
        id.ino = (uint64_t)st.st_ino;
        snprintf(text, sizeof text, "%d %llu %llu\n", (int)id.pid, (unsigned long long)id.start,
                 (unsigned long long)id.ino);
        r = write_file_atomic_at(rfd, ANCHOR_FILE, text, strlen(text), 0600);
        if (r < 0) {
                kill(holder, SIGKILL);
                return r;
        }
        CUBBY_FAULT("lib.anchor.recorded");
        /* recorded: the holder may live on (it exits on EOF instead) */
        if (write(report, "k", 1) != 1) {
                r = -errno;
                kill(holder, SIGKILL);
                (void)unlinkat(rfd, ANCHOR_FILE, 0);
                return r;
        }
        *ret_nsfd = TAKE_FD(nsfd);
        return 0;
}

int anchor_stop(const char *run_dir, const CgSet *cg_parent_dirs)
{
        _cleanup_close_ int rfd = -1, lock = -1, pidfd = -1;
        bool recorded;
        uint64_t start;
        AnchorId id;
        int r;

        r = session_dir_open(run_dir, false, &rfd);
        if (r < 0)
                return r == -ENOENT ? 0 : r;
        lock = openat(rfd, ANCHOR_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (lock < 0 || flock(lock, LOCK_EX) < 0)
                return -errno;
        r = anchor_read(rfd, &id);
        if (r < 0 && r != -ENOENT)
                return r;
        recorded = r == 0;
        if (recorded) {
                pidfd = (int)syscall(SYS_pidfd_open, id.pid, 0);
                if (pidfd >= 0 && proc_stat("/proc", id.pid, NULL, &start) == 0 && start == id.start) {
                        struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

                        (void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                        /* gone from its cgroup only once it has exited */
                        (void)poll(&pfd, 1, 2000);
                }
                if (unlinkat(rfd, ANCHOR_FILE, 0) < 0 && errno != ENOENT)
                        return -errno;
        }
        /* Also without a record: a holder whose opener died before
         * recording it exits by itself (anchor_hold), and leaves its empty
         * cgroup behind. None can be starting: we hold the anchor lock. */
        for (size_t i = 0; cg_parent_dirs && i < cg_parent_dirs->n; i++) {
                _cleanup_close_ int pfd = open(cg_parent_dirs->dir[i].path,
                                               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                /* the holder may still be a zombie in v1 for a moment */
                for (int tries = 0; pfd >= 0 && tries < 100; tries++) {
                        struct timespec ts = { 0, 10L * 1000 * 1000 };

                        if (unlinkat(pfd, "anchor", AT_REMOVEDIR) == 0 || errno == ENOENT)
                                break;
                        if (errno != EBUSY)
                                break;
                        nanosleep(&ts, NULL);
                }
        }
        return recorded ? 1 : 0;
}
