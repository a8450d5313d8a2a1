/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/magic.h>

#include "cubby/fault.h"
#include "cubby/home.h"
#include "cubby/proc.h"
#include "cubby/session.h"
#include "cubby/util.h"

#define ANCHOR_FILE "anchor"
#define ANCHOR_LOCK "anchor.lock"
/* Spare inodes (empty root dirs) under <state_dir>/reserve: enough for a
 * new user's tree (users/<user>, upper, work, merged, work/work) plus the
 * two scratch files overlayfs makes and removes while it mounts. */
#define RESERVE_N 8

int home_merged_path(const char *state_dir, const char *user, char *buf, size_t size)
{
        int n;

        if (!name_is_safe(user, 63))
                return -EINVAL;
        n = snprintf(buf, size, "%s/users/%s/merged", state_dir, user);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ---- the anchor -------------------------------------------------------- */

typedef struct AnchorId {
        pid_t pid;
        uint64_t start;
        uint64_t ino;
} AnchorId;

static int anchor_read(int rundir_fd, AnchorId *ret)
{
        _cleanup_free_ char *text = NULL;
        char *f[3], *p;
        uint64_t start, ino;
        struct stat st;
        size_t n;
        pid_t pid;
        int r;

        r = read_file_at(rundir_fd, ANCHOR_FILE, 128, &text, NULL, &st);
        if (r < 0)
                return r;
        if (st.st_uid != 0 || (st.st_mode & 022))
                return -EPERM;
        /* "PID START INO\n" as anchor_ensure writes it: three strict decimal
         * numbers, range checked (sscanf would wrap or truncate them) */
        n = strlen(text);
        if (n > 0 && text[n - 1] == '\n')
                text[n - 1] = 0;
        p = text;
        for (int i = 0; i < 3; i++) {
                char *sp = strchr(p, ' ');

                if ((i < 2) != (sp != NULL))
                        return -EBADMSG;
                if (sp)
                        *sp = 0;
                f[i] = p;
                if (sp)
                        p = sp + 1;
        }
        if (parse_pid(f[0], &pid) < 0 || pid <= 1 || parse_u64(f[1], &start) < 0 ||
            parse_u64(f[2], &ino) < 0)
                return -EBADMSG;
        ret->pid = pid;
        ret->start = start;
        ret->ino = ino;
        return 0;
}

static int anchor_open_id(const AnchorId *id, int *ret_nsfd)
{
        _cleanup_close_ int pidfd = -1, nsfd = -1;
        char path[64];
        uint64_t start;
        struct stat st;

        int r;

        /* Pin the process first, then check it is the one recorded.
         * -ESRCH only when the holder is provably gone: anything else must
         * not make a caller start a second anchor (and a second overlay on
         * some user's upper dir). */
        pidfd = (int)syscall(SYS_pidfd_open, id->pid, 0);
        if (pidfd < 0)
                return errno == ESRCH ? -ESRCH : -errno;
        r = proc_stat("/proc", id->pid, NULL, &start);
        if (r == -ESRCH || (r >= 0 && start != id->start))
                return -ESRCH;
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "/proc/%d/ns/mnt", (int)id->pid);
        nsfd = open(path, O_RDONLY | O_CLOEXEC);
        if (nsfd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        if (fstat(nsfd, &st) < 0)
                return -errno;
        if ((uint64_t)st.st_ino != id->ino)
                return -ESRCH; /* a reused pid */
        *ret_nsfd = TAKE_FD(nsfd);
        return 0;
}

int anchor_open(const char *run_dir, int *ret_nsfd)
{
        _cleanup_close_ int rfd = -1;
        AnchorId id;
        int r;

        r = session_dir_open(run_dir, false, &rfd);
        if (r < 0)
                return r;
        r = anchor_read(rfd, &id);
        if (r < 0)
                return r;
        r = anchor_open_id(&id, ret_nsfd);
        return r == -ESRCH ? -ENOENT : r;
}

/* The holder: a process of its own session, nothing inherited, all
 * catchable signals blocked, sleeping in the anchor namespace forever. */
_Noreturn void anchor_hold(int report_fd)
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
        for (;;)
                pause();
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
                  int *ret_nsfd)
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
                                char *const argv[] = { (char *)"cubbyctl", (char *)"__anchor", NULL };
                                char *const envp[] = { NULL };

                                if (syscall(SYS_close_range, 4U, ~0U, 0U) == 0)
                                        execve(holder_exe, argv, envp);
                                anchor_hold(3);
                        }
                        anchor_hold(p[1]);
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

/* ---- the state tree ---------------------------------------------------- */

/* Open (or create) dir name below dirfd and insist on its type, owner and
 * mode; anything else (a symlink, a FIFO, a file, a wrong owner) is refused
 * rather than followed or repaired. */
static int open_tree_dir(int dirfd, const char *name, bool create, uid_t uid, gid_t gid,
                         mode_t mode, mode_t forbidden, int *ret)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0 && errno == ENOENT && create) {
                if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
                        return -errno;
                fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return -errno;
                /* set owner and mode through the fd we will keep using */
                if (fchown(fd, uid, gid) < 0 || fchmod(fd, mode) < 0)
                        return -errno;
        }
        if (fd < 0)
                return errno == ELOOP || errno == ENOTDIR ? -ENOTDIR : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & forbidden))
                return -EPERM;
        *ret = TAKE_FD(fd);
        return 0;
}

typedef struct Tree {
        int user;        /* <state_dir>/users/<user> */
        char user_path[PATH_MAX];
} Tree;

static int tree_open(const HomeSpec *spec, bool create, Tree *t)
{
        _cleanup_close_ int state = -1, users = -1, user = -1;
        int r, n;

        r = session_dir_open(spec->state_dir, create, &state);
        if (r < 0)
                return r;
        r = open_tree_dir(state, "users", create, 0, 0, 0700, 077, &users);
        if (r < 0)
                return r;
        if (!name_is_safe(spec->user, 63))
                return -EINVAL;
        r = open_tree_dir(users, spec->user, create, 0, 0, 0700, 077, &user);
        if (r < 0)
                return r;
        n = snprintf(t->user_path, sizeof t->user_path, "%s/users/%s", spec->state_dir, spec->user);
        if (n < 0 || (size_t)n >= sizeof t->user_path)
                return -ENAMETOOLONG;
        t->user = TAKE_FD(user);
        return 0;
}

static bool is_overlay_at(int dirfd, const char *name)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct statfs sf;

        return fd >= 0 && fstatfs(fd, &sf) == 0 && sf.f_type == OVERLAYFS_SUPER_MAGIC;
}

/* Runs fn in a child that joined the anchor namespace; the result comes
 * back through a pipe (the caller may ignore SIGCHLD, as su does). */
typedef int (*anchor_fn)(const HomeSpec *spec, void *arg);

static int run_in_anchor(int nsfd, anchor_fn fn, const HomeSpec *spec, void *arg)
{
        int p[2], r = -EIO;
        pid_t pid;
        ssize_t n;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid == 0) {
                close(p[0]);
                r = setns(nsfd, CLONE_NEWNS) < 0 ? -errno : fn(spec, arg);
                (void)!write(p[1], &r, sizeof r);
                _exit(0);
        }
        close(p[1]);
        do
                n = read(p[0], &r, sizeof r);
        while (n < 0 && errno == EINTR);
        close(p[0]);
        (void)waitpid(pid, NULL, 0);
        return n == (ssize_t)sizeof r ? r : -ECHILD;
}

static int mounted_fn(const HomeSpec *spec, void *arg)
{
        Tree t;
        int r = tree_open(spec, false, &t);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = is_overlay_at(t.user, "merged");
        close(t.user);
        return r;
}

int home_is_mounted(const HomeSpec *spec, int anchor_nsfd)
{
        return run_in_anchor(anchor_nsfd, mounted_fn, spec, NULL);
}

/* The lower layer: the configured dir if it exists, else /etc/skel. Read
 * only, through the overlay; must be a directory (no final symlink). */
static int open_lower(const char *lower, char *ret_path, size_t size)
{
        const char *cands[2] = { lower, "/etc/skel" };

        for (size_t i = 0; i < 2; i++) {
                _cleanup_close_ int fd = -1;
                struct stat st;

                if (!cands[i] || !path_is_normalized_absolute(cands[i]))
                        continue;
                fd = open(cands[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                /* overlay options are separated by ',' and ':' */
                if (strpbrk(cands[i], ",:\\"))
                        return -EINVAL;
                return strscpy(ret_path, size, cands[i]);
        }
        return -ENOENT;
}

/* overlayfs keeps the credentials of whoever mounts it and makes every
 * change in upper with them: copy-up and the blocks of the files a student
 * writes. ext4 lets fsuid == resuid (0), a member of resgid, or
 * CAP_SYS_RESOURCE use the blocks reserved for root (overlayfs drops only
 * the last), so an overlay mounted by plain root let a student fill the
 * state file system to its last block, and root's own writes there failed.
 * Mounted as fsuid/fsgid = the user, with no supplementary groups and
 * without CAP_SYS_RESOURCE, the student's writes stop where any user's
 * stop; the other capabilities stay (the overlay still works on files of
 * any owner; new files still get the creating user as owner). Only in the
 * anchor's forked child (run_in_anchor), and undone right after. */
static int mount_creds(uid_t uid, gid_t gid, bool to_user)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2];

        if (to_user && setgroups(0, NULL) < 0)
                return -errno;
        (void)setfsgid(gid);
        (void)setfsuid(uid);
        if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid)
                return -EPERM;
        /* leaving fsuid 0 cleared the file capabilities from the effective
         * set: raise what we hold again, all but CAP_SYS_RESOURCE */
        if (syscall(SYS_capget, &hdr, d) < 0)
                return -errno;
        d[0].effective = d[0].permitted;
        d[1].effective = d[1].permitted;
        if (to_user)
                d[CAP_TO_INDEX(CAP_SYS_RESOURCE)].effective &= ~CAP_TO_MASK(CAP_SYS_RESOURCE);
        if (syscall(SYS_capset, &hdr, d) < 0)
                return -errno;
        return 0;
}

/* ext4 keeps no inodes for root: a student can use up the last one, and
 * every mount of an overlay needs a few (its work dir, two scratch files),
 * a new user's tree a few more. So cubby keeps RESERVE_N empty dirs of its
 * own and gives them back to the file system when a mount fails for want
 * of space; they are made again once there is room. */
static void reserve_release(int reserve)
{
        char name[8];

        for (int i = 0; i < RESERVE_N; i++) {
                snprintf(name, sizeof name, "%d", i);
                (void)unlinkat(reserve, name, AT_REMOVEDIR);
        }
}

static void reserve_refill(int reserve)
{
        char name[8];

        for (int i = 0; i < RESERVE_N; i++) {
                snprintf(name, sizeof name, "%d", i);
                /* root's, so it may take the blocks reserved for root */
                if (mkdirat(reserve, name, 0700) < 0 && errno != EEXIST)
                        return;
        }
}

static int mount_once(const HomeSpec *spec, bool allow_ro)
{
        _cleanup_close_ int upper = -1, work = -1, merged = -1, eph = -1;
        char lower[PATH_MAX], opts[3 * PATH_MAX + 64], base[PATH_MAX], target[64];
        Tree t;
        int r, n;

        r = tree_open(spec, true, &t);
        if (r < 0)
                return r;
        if (is_overlay_at(t.user, "merged")) {
                close(t.user);
                return 0;
        }
        if (!spec->may_mount) {
                close(t.user);
                return -ENOTCONN;
        }
        CUBBY_FAULT("lib.home.tree");
        r = open_tree_dir(t.user, "merged", true, 0, 0, 0755, 022, &merged);
        if (r < 0)
                goto out;
        r = open_lower(spec->lower, lower, sizeof lower);
        if (r < 0)
                goto out;

        if (spec->ephemeral) {
                /* exam mode: upper and work on a tmpfs of their own, which
                 * goes away with the overlay at the last logout */
                r = open_tree_dir(t.user, "eph", true, 0, 0, 0700, 077, &eph);
                if (r < 0)
                        goto out;
                snprintf(target, sizeof target, "/proc/self/fd/%d", eph);
                if (mount("cubby-home", target, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0) {
                        r = -errno;
                        goto out;
                }
                close(eph);
                eph = openat(t.user, "eph", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (eph < 0) {
                        r = -errno;
                        goto out;
                }
                n = snprintf(base, sizeof base, "%s/eph", t.user_path);
                r = open_tree_dir(eph, "upper", true, spec->uid, spec->gid, 0755, 022, &upper);
                if (r >= 0)
                        r = open_tree_dir(eph, "work", true, 0, 0, 0700, 077, &work);
        } else {
                n = snprintf(base, sizeof base, "%s", t.user_path);
                r = open_tree_dir(t.user, "upper", true, spec->uid, spec->gid, 0755, 022, &upper);
                if (r >= 0)
                        r = open_tree_dir(t.user, "work", true, 0, 0, 0700, 077, &work);
        }
        if (r < 0)
                goto out;
        if (n < 0 || (size_t)n >= sizeof base) {
                r = -ENAMETOOLONG;
                goto out;
        }
        /* overlayfs replaces work/work at every mount: when it is there,
         * that takes no new inode or block (made here by root, which may
         * use root's reserved blocks) */
        if (mkdirat(work, "work", 0700) < 0 && errno != EEXIST) {
                r = -errno;
                goto out;
        }
        /* Paths, not /proc/self/fd: mountinfo must name the real upper dir
         * (to find every overlay on it). Every component was just checked
         * to be root's and not writable by others, except upper itself,
         * which the user owns but cannot rename (its parent is root 0700). */
        n = snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", lower,
                     base, base);
        if (n < 0 || (size_t)n >= sizeof opts) {
                r = -ENAMETOOLONG;
                goto out;
        }
        snprintf(target, sizeof target, "/proc/self/fd/%d", merged);
        r = mount_creds(spec->uid, spec->gid, true);
        if (r >= 0) {
                r = mount("cubby-home", target, "overlay", MS_NOSUID | MS_NODEV, opts) < 0 ? -errno : 1;
                /* back to root for what follows (the reserve is root's;
                 * mount_fn checks that this worked) */
                (void)mount_creds(0, 0, false);
        }
        CUBBY_FAULT("lib.home.mounted");
        if (r > 0 && !allow_ro) {
                /* overlayfs mounts read-only when it cannot make its work
                 * dir (ENOSPC): not a home to log in to while a retry with
                 * the reserve can do better */
                _cleanup_close_ int m = openat(t.user, "merged", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                struct statvfs sv;

                if (m >= 0 && fstatvfs(m, &sv) == 0 && (sv.f_flag & ST_RDONLY)) {
                        snprintf(opts, sizeof opts, "%s/merged", t.user_path);
                        (void)umount2(opts, MNT_DETACH | UMOUNT_NOFOLLOW);
                        r = -EROFS;
                }
        }
out:
        close(t.user);
        return r;
}

static int mount_fn(const HomeSpec *spec, void *arg)
{
        _cleanup_close_ int state = -1, reserve = -1;
        int r;

        if (session_dir_open(spec->state_dir, true, &state) >= 0)
                (void)open_tree_dir(state, "reserve", true, 0, 0, 0700, 077, &reserve);
        r = mount_once(spec, reserve < 0);
        if ((r == -ENOSPC || r == -EDQUOT || r == -EROFS) && reserve >= 0) {
                reserve_release(reserve);
                r = mount_once(spec, true);
        }
        if (reserve >= 0 && setfsuid((uid_t)-1) == 0)
                reserve_refill(reserve);
        return r;
}

int home_mount(const HomeSpec *spec, int anchor_nsfd)
{
        return run_in_anchor(anchor_nsfd, mount_fn, spec, NULL);
}

static int umount_fn(const HomeSpec *spec, void *arg)
{
        char path[PATH_MAX + 16];
        Tree t;
        int r = tree_open(spec, false, &t);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (is_overlay_at(t.user, "merged")) {
                snprintf(path, sizeof path, "%s/merged", t.user_path);
                if (umount2(path, UMOUNT_NOFOLLOW) < 0 && umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                        r = -errno;
        }
        CUBBY_FAULT("lib.home.unmounted");
        if (r >= 0) {
                struct stat st;

                snprintf(path, sizeof path, "%s/eph", t.user_path);
                if (fstatat(t.user, "eph", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
                        (void)umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
        }
        close(t.user);
        return r;
}

int home_umount(const HomeSpec *spec, int anchor_nsfd)
{
        return run_in_anchor(anchor_nsfd, umount_fn, spec, NULL);
}

int home_reset(const HomeSpec *spec, char *ret_moved, size_t size)
{
        _cleanup_close_ int upper = -1;
        char moved[64];
        Tree t;
        int r;

        r = tree_open(spec, false, &t);
        if (r < 0)
                return r;
        r = open_tree_dir(t.user, "upper", false, spec->uid, spec->gid, 0755, 022, &upper);
        if (r >= 0) {
                snprintf(moved, sizeof moved, "upper.reset-%lld", (long long)time(NULL));
                if (renameat(t.user, "upper", t.user, moved) < 0)
                        r = -errno;
                else if (ret_moved)
                        r = strscpy(ret_moved, size, moved);
        }
        close(t.user);
        return r;
}
