/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/magic.h>

#include "cubby/fault.h"
#include "cubby/home.h"
#include "cubby/home-fs.h"
#include "cubby/home-quota.h"
#include "cubby/log.h"
#include "cubby/proc.h"
#include "cubby/util.h"

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

int home_spec_of(const char *state_dir, const char *run_dir, const char *user, HomeSpec *hs)
{
        char path[PATH_MAX], buf[16384];
        struct passwd pwd, *pw = NULL;
        struct stat st;

        if (!name_is_safe(user, 63))
                return -EINVAL;
        *hs = (HomeSpec){ .state_dir = state_dir, .run_dir = run_dir, .user = user };
        /* reentrant: the library also runs inside sshd */
        if (getpwnam_r(user, &pwd, buf, sizeof buf, &pw) == 0 && pw) {
                hs->uid = pw->pw_uid;
                hs->gid = pw->pw_gid;
                return 0;
        }
        if (snprintf(path, sizeof path, "%s/users/%s/upper", hs->state_dir, user) >= (int)sizeof path ||
            lstat(path, &st) < 0)
                return -ENOENT;
        hs->uid = st.st_uid;
        hs->gid = st.st_gid;
        return 0;
}

/* ---- the state tree ---------------------------------------------------- */

typedef struct TreeOwner {
        uid_t uid;
        gid_t gid;
        mode_t mode;
} TreeOwner;

/* dir_walk's step: a dir it made gets its owner and mode through the fd we
 * will keep using */
static int tree_dir_made(int pfd, int fd, bool created, bool last, void *arg)
{
        const TreeOwner *o = arg;

        if (fd < 0 || !created)
                return 0;
        return fchown(fd, o->uid, o->gid) < 0 || fchmod(fd, o->mode) < 0 ? -errno : 0;
}

/* Open (or create) dir name below dirfd and insist on its type, owner and
 * mode; anything else (a symlink, a FIFO, a file, a wrong owner) is refused
 * rather than followed or repaired. */
static int open_tree_dir(int dirfd, const char *name, bool create, uid_t uid, gid_t gid,
                         mode_t mode, mode_t forbidden, int *ret)
{
        _cleanup_close_ int fd = -1;
        TreeOwner o = { .uid = uid, .gid = gid, .mode = mode };
        struct stat st;
        int r;

        r = dir_walk(dirfd, name, create ? 0700 : 0, tree_dir_made, &o, &fd);
        if (r < 0)
                return r == -ELOOP ? -ENOTDIR : r;
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

/* Runs fn in a child that joined the anchor namespace (setns needs a task
 * of its own: the opener must stay in its namespace, and mount_creds
 * changes the task's credentials).
 *
 * The child shares the opener's memory and the opener waits until it has
 * exited (CLONE_VM | CLONE_VFORK, as posix_spawn does): copying the page
 * tables of sshd's monitor or su for a fork was most of a login's home
 * step. What keeps that as safe as a fork:
 * - a task of its own: its own credentials (mount_creds), fs_struct and
 *   mount namespace; no CLONE_FS, CLONE_FILES or CLONE_THREAD, so nothing
 *   it changes there reaches the opener;
 * - every signal blocked around it (inherited by the child): no handler of
 *   the opener runs on the child's stack against the opener's state;
 * - no glibc set*id broadcast: mount_creds calls setgroups as a raw
 *   syscall, which changes this task only (glibc's wrapper, in an opener
 *   with threads, signals what it takes for the other threads of this
 *   process; the kernel refuses that, they are not the child's, but
 *   nothing here should rest on it);
 * - the opener is stopped meanwhile, so no lock of its own can be held
 *   while the child takes it; the result comes back in memory, set last;
 *   -ECHILD if the child died first (the caller may ignore SIGCHLD, as su
 *   does: the wait is only to reap it);
 * - nothing in the child opens an fd that the shared memory would keep the
 *   number of: its log lines come back in memory too (HomeLog) and the
 *   opener logs them, and the fault spec is read before the clone. */
/* What the child has to say, logged by the opener once the child is gone:
 * syslog keeps its socket's fd number in the memory both share, and a
 * socket the child opened would exist only in the child's fd table (the
 * opener would later send to, or close, whatever fd it has by that
 * number). */
#define HOME_LOG_MAX 4
typedef struct HomeLog {
        int n;
        int prio[HOME_LOG_MAX];
        char line[HOME_LOG_MAX][1024];
} HomeLog;

static void home_log(HomeLog *log, int prio, const char *event, ...) __attribute__((sentinel));
static void home_log(HomeLog *log, int prio, const char *event, ...)
{
        va_list ap;

        if (log->n >= HOME_LOG_MAX)
                return;
        va_start(ap, event);
        (void)log_format(log->line[log->n], sizeof log->line[0], event, ap);
        va_end(ap);
        log->prio[log->n++] = prio;
}

typedef int (*anchor_fn)(const HomeSpec *spec, HomeLog *log);

typedef struct AnchorCall {
        int nsfd;
        anchor_fn fn;
        const HomeSpec *spec;
        HomeLog log;
        int r;
} AnchorCall;

/* 8 MiB, as a main thread's; only the pages the child touches are made */
#define ANCHOR_STACK (8u << 20)

static int anchor_child(void *p)
{
        AnchorCall *c = p;

        c->r = setns(c->nsfd, CLONE_NEWNS) < 0 ? -errno : c->fn(c->spec, &c->log);
        return 0;
}

static int run_in_anchor(int nsfd, anchor_fn fn, const HomeSpec *spec)
{
        AnchorCall c = { .nsfd = nsfd, .fn = fn, .spec = spec, .r = -ECHILD };
        sigset_t all, old;
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        char *stack;
        pid_t pid;
        int r;

        /* MAP_ANONYMOUS takes fd -1 (cppcheck models mmap as a file's) */
        /* cppcheck-suppress invalidFunctionArg */
        stack = mmap(NULL, ANCHOR_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
                return -errno;
        /* a guard page below: an overflow faults instead of writing into
         * whatever the opener has mapped there */
        if (mprotect(stack, page, PROT_NONE) < 0) {
                r = -errno;
                (void)munmap(stack, ANCHOR_STACK);
                return r;
        }
        CUBBY_FAULT_PREPARE();
        sigfillset(&all);
        (void)pthread_sigmask(SIG_SETMASK, &all, &old);
        pid = clone(anchor_child, stack + ANCHOR_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &c);
        r = pid < 0 ? -errno : 0;
        (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (pid > 0)
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        (void)munmap(stack, ANCHOR_STACK);
        for (int i = 0; i < c.log.n && i < HOME_LOG_MAX; i++)
                log_line(c.log.prio[i], c.log.line[i]);
        return r < 0 ? r : c.r;
}

static int mounted_fn(const HomeSpec *spec, HomeLog *log)
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
        return run_in_anchor(anchor_nsfd, mounted_fn, spec);
}

/* The lower layer: the configured dir if it exists, else /etc/skel. Read
 * only, through the overlay; must be a directory (no final symlink), and
 * not on a network file system unless the policy says it is static: the
 * kernel leaves an overlay whose lower changes undefined (home-fs.h). */
static int open_lower(const HomeSpec *spec, char *ret_path, size_t size, HomeLog *log)
{
        const char *cands[2] = { spec->lower, "/etc/skel" };

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
                if (!spec->lower_static) {
                        const char *fs = home_fs_network_name_fd(fd);

                        if (fs) {
                                home_log(log, LOG_ERR, "home_lower_network", "user", spec->user,
                                          "lower", cands[i], "fs", fs, NULL);
                                return -EREMOTE;
                        }
                }
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
 * anchor's child (run_in_anchor), and undone right after. */
static int mount_creds(uid_t uid, gid_t gid, bool to_user)
{
        struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2];

        /* raw: this task only (run_in_anchor) */
        if (to_user && syscall(SYS_setgroups, 0, NULL) < 0)
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

/* The persistent home's project quota (home-quota.h): upper and work in
 * the user's project, the policy's limits set; with slack, raised above
 * what is in use for the moment of a mount. Without limits in the policy,
 * a project left from earlier loses its limits. */
static int quota_apply(const HomeSpec *spec, int upper, int work, bool slack, HomeLog *log)
{
        uint32_t proj = quota_project_of(spec->uid), have;
        uint64_t b = spec->size_limit, i = spec->inode_limit;
        unsigned skipped = 0;
        bool inherit;
        QuotaUsage u;
        int r;

        if (b == QUOTA_NONE && i == QUOTA_NONE) {
                if (quota_dir_project(upper, &have, &inherit) < 0 || have != proj || !inherit)
                        return 0;
                r = quota_set_limits(upper, proj, QUOTA_NONE, QUOTA_NONE);
                return r == -ESRCH || r == -ENOSYS ? 0 : r;
        }
        /* here, in the anchor's view of state_dir (a copy of PID 1's
         * mount namespace), which is what the overlay will use */
        {
                char why[512];

                r = quota_fs_check(upper, why, sizeof why);
                if (r < 0) {
                        home_log(log, LOG_ERR, "home_quota_unsupported", "state_dir", spec->state_dir,
                                  "why", why, NULL);
                        return -EMEDIUMTYPE;
                }
        }
        r = quota_tag_tree(upper, proj, &skipped);
        if (r > 0 && skipped) {
                char n[16];

                snprintf(n, sizeof n, "%u", skipped);
                /* symlinks, device nodes, FIFOs that were there before:
                 * not counted; everything made from now on is */
                home_log(log, LOG_NOTICE, "home_quota_untagged", "user", spec->user, "entries", n, NULL);
        }
        if (r >= 0)
                r = quota_tag_tree(work, proj, NULL);
        if (r < 0)
                return r;
        if (slack && quota_get(upper, proj, &u) >= 0) {
                if (b != QUOTA_NONE)
                        b = (b > u.bytes ? b : u.bytes) + HOME_QUOTA_SLACK_BYTES;
                if (i != QUOTA_NONE)
                        i = (i > u.inodes ? i : u.inodes) + HOME_QUOTA_SLACK_INODES;
        }
        return quota_set_limits(upper, proj, b, i);
}

/* A mounted home: its limits follow the policy of this login. */
static int quota_apply_mounted(const HomeSpec *spec, int user, HomeLog *log)
{
        _cleanup_close_ int upper = -1, work = -1;
        int r;

        if (spec->ephemeral)
                return 0;
        r = open_tree_dir(user, "upper", false, spec->uid, spec->gid, 0755, 022, &upper);
        if (r >= 0)
                r = open_tree_dir(user, "work", false, 0, 0, 0700, 077, &work);
        return r < 0 ? r : quota_apply(spec, upper, work, false, log);
}

static int mount_once(const HomeSpec *spec, bool allow_ro, HomeLog *log)
{
        _cleanup_close_ int upper = -1, work = -1, merged = -1, eph = -1;
        char lower[PATH_MAX], opts[3 * PATH_MAX + 64], base[PATH_MAX], target[64];
        bool quota = false;
        Tree t;
        int r, n;

        r = tree_open(spec, true, &t);
        if (r < 0)
                return r;
        if (is_overlay_at(t.user, "merged")) {
                r = quota_apply_mounted(spec, t.user, log);
                close(t.user);
                return r < 0 ? r : 0;
        }
        if (!spec->may_mount) {
                close(t.user);
                return -ENOTCONN;
        }
        CUBBY_FAULT("lib.home.tree");
        r = open_tree_dir(t.user, "merged", true, 0, 0, 0755, 022, &merged);
        if (r < 0)
                goto out;
        /* as the user, as the mount below: on a root-squashed server
         * root could not reach a 0700 home, the user can */
        r = mount_creds(spec->uid, spec->gid, true);
        if (r >= 0) {
                r = open_lower(spec, lower, sizeof lower, log);
                if (mount_creds(0, 0, false) < 0 && r >= 0)
                        r = -EPERM;
        }
        if (r < 0)
                goto out;

        if (spec->ephemeral) {
                /* exam mode: upper and work on a tmpfs of their own, which
                 * goes away with the overlay at the last logout */
                r = open_tree_dir(t.user, "eph", true, 0, 0, 0700, 077, &eph);
                if (r < 0)
                        goto out;
                snprintf(target, sizeof target, "/proc/self/fd/%d", eph);
                /* home_size and home_inodes: the tmpfs' own limits, for
                 * every writer (root's dirs below take a few inodes) */
                n = snprintf(opts, sizeof opts, "mode=0700");
                if (spec->size_limit)
                        n += snprintf(opts + n, sizeof opts - n, ",size=%llu",
                                      (unsigned long long)spec->size_limit);
                if (spec->inode_limit)
                        (void)snprintf(opts + n, sizeof opts - n, ",nr_inodes=%llu",
                                      (unsigned long long)spec->inode_limit + HOME_TMPFS_EXTRA_INODES);
                if (mount("cubby-home", target, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) {
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
                /* before work/work is made, so that it is in the project */
                if (r >= 0)
                        r = quota_apply(spec, upper, work, true, log);
                quota = r >= 0 && (spec->size_limit || spec->inode_limit);
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
        /* the policy's limits again, mounted or not */
        if (quota && quota_apply(spec, upper, work, false, log) < 0 && r > 0) {
                snprintf(opts, sizeof opts, "%s/merged", t.user_path);
                (void)umount2(opts, MNT_DETACH | UMOUNT_NOFOLLOW);
                r = -EIO;
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

static int mount_fn(const HomeSpec *spec, HomeLog *log)
{
        _cleanup_close_ int state = -1, reserve = -1;
        int r;

        if (session_dir_open(spec->state_dir, true, &state) >= 0)
                (void)open_tree_dir(state, "reserve", true, 0, 0, 0700, 077, &reserve);
        r = mount_once(spec, reserve < 0, log);
        if ((r == -ENOSPC || r == -EDQUOT || r == -EROFS) && reserve >= 0) {
                reserve_release(reserve);
                r = mount_once(spec, true, log);
        }
        if (reserve >= 0 && setfsuid((uid_t)-1) == 0)
                reserve_refill(reserve);
        return r;
}

int home_mount(const HomeSpec *spec, int anchor_nsfd)
{
        return run_in_anchor(anchor_nsfd, mount_fn, spec);
}

static int umount_fn(const HomeSpec *spec, HomeLog *log)
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
        return run_in_anchor(anchor_nsfd, umount_fn, spec);
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
                uint32_t proj;

                if (renameat(t.user, "upper", t.user, moved) < 0)
                        r = -errno;
                else if (ret_moved)
                        r = strscpy(ret_moved, size, moved);
                /* the old files leave the user's project: they are the
                 * admin's now, not part of the home's quota */
                if (r >= 0 && quota_dir_project(upper, &proj, NULL) == 0 &&
                    proj == quota_project_of(spec->uid))
                        (void)quota_tag_tree(upper, 0, NULL);
        }
        close(t.user);
        return r;
}
