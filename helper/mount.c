/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's root file system (step 4, and child steps 1, 3 and 4),
 * and the mount primitives that mount-dev.c (/dev) and mount-etc.c (the
 * generated /etc files) use. Built by the parent as real root in a private
 * staging mount namespace (mnt_build_root), then entered by the child
 * (mnt_child_*), whose new mount namespace copies it with every mount
 * locked. Targets inside the root are opened with RESOLVE_IN_ROOT and
 * mounted through /proc/self/fd, so no symlink in the tree can send a
 * mount outside it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/openat2.h>

#include "cubby-build.h"
#include "cubby/fault.h"
#include "cubby/anchor.h"
#include "cubby/conf.h"
#include "cubby/home-direct.h"
#include "cubby/mountinfo.h"
#include "cubby/util.h"
#include "helper.h"

/* the size of a container's XDG_RUNTIME_DIR (a tmpfs; its pages are
 * charged to the user's memory limit) */
#define RUNTIME_DIR_SIZE "64m"

static int build_runtime_dir(int root, const Record *rec);

int mnt_open_in_root(int rootfd, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t)(O_PATH | O_CLOEXEC | flags),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        const char *rel = path;
        int fd;

        while (*rel == '/')
                rel++;
        if (!*rel)
                rel = ".";
        fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
        return fd < 0 ? -errno : fd;
}

int mnt_on_fd(const char *src, int fd, const char *type, unsigned long flags,
                       const char *data)
{
        char target[64];

        snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
        if (mount(src, target, type, flags, data) < 0)
                return -errno;
        return 0;
}

/* Path order with '/' lowest: a mount point is followed at once by
 * everything below it ("/run", "/run/netns", "/run/user/1", "/run-x"). */
static int path_cmp(const void *a, const void *b)
{
        const unsigned char *x = *(const unsigned char *const *)a, *y = *(const unsigned char *const *)b;

        for (; *x && *x == *y; x++, y++)
                ;
        return (*x == '/' ? 1 : *x) - (*y == '/' ? 1 : *y);
}

/* The staging namespace's mount points, read once (the first time a path
 * is covered, after the tree is in place), in path order. Mounts made
 * later are ours and never listed. */
static struct {
        char *text;
        char **mp;
        size_t n;
} mounts;

static int mounts_load(void)
{
        char *save = NULL;
        size_t cap = 0;
        int r;

        if (mounts.text)
                return 0;
        r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", (size_t)16 * 1024 * 1024, &mounts.text,
                         NULL, NULL);
        if (r < 0)
                return r;
        for (char *line = strtok_r(mounts.text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                MountInfo mi;

                if (mountinfo_parse_line(line, &mi) < 0 || strncmp(mi.mnt, STAGE_ROOT, strlen(STAGE_ROOT)) != 0)
                        continue;
                if (mounts.n == cap) {
                        char **nl = realloc(mounts.mp, (cap = cap ? cap * 2 : 64) * sizeof *nl);

                        if (!nl)
                                return -ENOMEM;
                        mounts.mp = nl;
                }
                mounts.mp[mounts.n++] = mi.mnt;
        }
        qsort(mounts.mp, mounts.n, sizeof *mounts.mp, path_cmp);
        return 0;
}

/* Detach every mount at or below STAGE_ROOT + path in the staging
 * namespace. What a fresh tmpfs covers would otherwise still be listed in
 * the container's mountinfo (other users' overlays, /run/user/N, netns
 * pins) and pinned by it. Deepest first. */
int mnt_detach_below(const char *path)
{
        char prefix[PATH_MAX];
        const char *top = NULL;
        size_t plen;
        int r;

        if (snprintf(prefix, sizeof prefix, "%s%s", STAGE_ROOT, strcmp(path, "/") ? path : "") >=
            (int)sizeof prefix)
                return -ENAMETOOLONG;
        plen = strlen(prefix);
        r = mounts_load();
        if (r < 0)
                return r;
        /* Only the topmost mounts: a lazy unmount takes everything below
         * its mount with it, and each umount2() waits for an RCU grace
         * period (~70 us here), so detaching ~30 mounts one by one cost
         * 2 ms of every login. A path listed twice (stacked mounts) is
         * detached twice: each call takes the top one. */
        for (size_t i = 0; i < mounts.n; i++) {
                const char *mp = mounts.mp[i];
                size_t tlen;

                if (strncmp(mp, prefix, plen) != 0 || (mp[plen] != 0 && mp[plen] != '/'))
                        continue;
                if (top && strcmp(mp, top) != 0) {
                        tlen = strlen(top);
                        if (strncmp(mp, top, tlen) == 0 && mp[tlen] == '/')
                                continue; /* below a mount detached already */
                }
                top = mp;
                /* EINVAL: gone already (a parent detached by an earlier
                 * call, or nothing stacked here any more) */
                if (umount2(mp, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
                        return -errno;
        }
        return 0;
}

int mnt_tmpfs_at(int rootfd, const char *path, unsigned long flags, const char *data,
                    bool optional)
{
        _cleanup_close_ int fd = -1;
        int r;

        r = mnt_detach_below(path);
        if (r < 0)
                return r;
        fd = mnt_open_in_root(rootfd, path, O_DIRECTORY);
        if (fd == -ENOENT && optional)
                return 0;
        if (fd < 0)
                return fd;
        return mnt_on_fd("tmpfs", fd, "tmpfs", flags, data);
}

/* Bind src (a path in the staging namespace, or /proc/self/fd/N) over the
 * object at path inside the root, then set the flags on the new mount. */
int mnt_bind_at(int rootfd, const char *src, const char *path, unsigned long flags)
{
        _cleanup_close_ int fd = mnt_open_in_root(rootfd, path, O_NOFOLLOW);
        int r;

        if (fd < 0)
                return fd;
        r = mnt_on_fd(src, fd, NULL, MS_BIND, NULL);
        if (r < 0)
                return r;
        close(fd);
        fd = mnt_open_in_root(rootfd, path, O_NOFOLLOW);
        if (fd < 0)
                return fd;
        return mnt_on_fd(NULL, fd, NULL, MS_REMOUNT | MS_BIND | flags, NULL);
}

/* A real directory fd (not O_PATH) of path inside the root, to create
 * entries in; resolved as mnt_open_in_root does. */
int mnt_open_dir_in_root(int rootfd, const char *path)
{
        _cleanup_close_ int pfd = mnt_open_in_root(rootfd, path, O_DIRECTORY);
        char p[64];
        int fd;

        if (pfd < 0)
                return pfd;
        snprintf(p, sizeof p, "/proc/self/fd/%d", pfd);
        fd = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int mnt_create_file_at(int dirfd, const char *name, mode_t mode)
{
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

/* home = direct: the real home, opened as the user without following any
 * symlink (home-direct.h), in the opener's mount namespace (before the
 * staging one is made: an automounted home the opener's chdir brought in
 * is there, and one that the open triggers arrives where the automounter
 * mounts it), and cloned there as a detached mount (nosuid, nodev) that
 * build_home moves into the container's tree. */
static int open_direct_home(Helper *h)
{
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
        _cleanup_close_ int fd = -1;
        int r;

        r = home_direct_open(h->rec.home, h->rec.uid, h->rec.gid, &fd);
        if (r < 0)
                return h->home_err = r;
        h->home_tree = (int)syscall(SYS_open_tree, fd, "",
                                    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (h->home_tree < 0)
                return -errno;
        if (syscall(SYS_mount_setattr, h->home_tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
                return -errno;
        return 0;
}

/* path inside the root as a directory, without following any symlink: the
 * home's parent may be below a directory of the user's, who can swap a
 * component for a symlink between our steps (the tree is the host's) */
static int open_in_root_nofollow(int rootfd, const char *path)
{
        struct open_how how = { .flags = (uint64_t)(O_RDONLY | O_DIRECTORY | O_CLOEXEC),
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS };
        int fd = (int)syscall(SYS_openat2, rootfd, path + strspn(path, "/"), &how, sizeof how);

        return fd < 0 ? -errno : fd;
}

/* The user's home, at its pw_dir, with the rest of its parent empty: the
 * user's overlay from the anchor namespace; with home = direct the tree
 * open_direct_home cloned; in records with neither, the host home. The
 * directory must belong to the user (a user must never point root at
 * another path) and is bound by its fd, nosuid and nodev. */
static int build_home(int rootfd, Helper *h)
{
        const Record *rec = &h->rec;
        _cleanup_close_ int home = -1, pdir = -1, under = -1, target = -1;
        _cleanup_close_ int tree = TAKE_FD(h->home_tree);
        char parent_path[PATH_MAX], src[64];
        const char *name;
        struct stat st, pst;
        struct statfs psf;
        char *slash;
        int r;

        r = strscpy(parent_path, sizeof parent_path, rec->home);
        if (r < 0)
                return r;
        slash = strrchr(parent_path, '/');
        if (!slash || slash == parent_path)
                return -EINVAL; /* a home directly under / cannot be isolated */
        *slash = 0;
        name = slash + 1;

        if (!rec->home_direct) {
                home = open(rec->home_mount[0] ? rec->home_mount : rec->home,
                            O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (home < 0)
                        return -errno;
                if (fstat(home, &st) < 0)
                        return -errno;
                if (st.st_uid != rec->uid)
                        return -EPERM;
        } else if (tree < 0) {
                return -EBADF;
        }
        if (rec->home_mount[0]) {
                struct statfs sf;

                /* the overlay must really be there, not the bare mount point */
                if (fstatfs(home, &sf) < 0)
                        return -errno;
                if (sf.f_type != OVERLAYFS_SUPER_MAGIC)
                        return -ENOENT;
        }

        /* The parent is resolved once, with no symlink, and everything
         * after goes by fd: the tmpfs on that directory, the home's mount
         * point made in that tmpfs (checked to be it: a swap of a real
         * directory in between is refused), the home on that mount point.
         * A path resolved anew at each step let a student who owns a
         * component above the parent point it elsewhere in between, and
         * root made the mount point in the host's directory it named. */
        r = mnt_detach_below(parent_path);
        if (r < 0)
                return r;
        under = open_in_root_nofollow(rootfd, parent_path);
        r = under < 0 ? under
                      : mnt_on_fd("tmpfs", under, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k");
        /* the fd names the directory below the new mount: the path,
         * without symlinks, must now reach that tmpfs */
        if (r < 0 || (pdir = open_in_root_nofollow(rootfd, parent_path)) < 0)
                return r < 0 ? r : pdir;
        if (fstat(under, &st) < 0 || fstat(pdir, &pst) < 0 || fstatfs(pdir, &psf) < 0)
                return -errno;
        if (psf.f_type != TMPFS_MAGIC || pst.st_dev == st.st_dev)
                return -ESTALE;
        if (mkdirat(pdir, name, 0755) < 0 ||
            (target = openat(pdir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                return -errno;
        if (rec->home_direct)
                return syscall(SYS_move_mount, tree, "", target, "",
                               MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0 ? -errno : 0;
        snprintf(src, sizeof src, "/proc/self/fd/%d", home);
        r = mnt_on_fd(src, target, NULL, MS_BIND, NULL);
        close(target);
        /* the bind now on top of the mount point */
        if (r < 0 || (target = openat(pdir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                return r < 0 ? r : -errno;
        return mnt_on_fd(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, NULL);
}

/* Paths the policy hides (and cubby's own state): an empty read-only
 * tmpfs over a directory, /dev/null over a file. Missing paths are fine. */
static int hide_path(int rootfd, const char *path)
{
        _cleanup_close_ int fd = mnt_open_in_root(rootfd, path, O_NOFOLLOW);
        struct stat st;
        int r;

        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode)) {
                close(TAKE_FD(fd));
                r = mnt_detach_below(path);
                if (r < 0)
                        return r;
                fd = mnt_open_in_root(rootfd, path, O_NOFOLLOW | O_DIRECTORY);
                if (fd < 0)
                        return fd;
                return mnt_on_fd("tmpfs", fd, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                   "mode=0755,size=4k");
        }
        if (S_ISLNK(st.st_mode))
                return 0; /* what it points to is hidden or not on its own */
        close(fd);
        return mnt_bind_at(rootfd, "/dev/null", path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

/* In redirect mode the opener's namespace has a read-only overlay on the
 * real shell's directory whose top layer holds the shell's name as a
 * symlink to cubby-shell (pam_cubby's redirect_shell()); this namespace is
 * a copy of it. An opener redirected by an older module has cubby-shell
 * bound over the shell file itself. Remove whichever it is, and make sure
 * what is left at that path is not the helper: the container's tree is
 * cloned from this namespace, and its shell must be the real one. */
static int drop_redirect_dir(const char *shell)
{
        _cleanup_close_ int fd = -1;
        const char *slash = strrchr(shell, '/');
        char dir[PATH_MAX], target[64];
        struct statfs sf;

        if (!slash || slash == shell)
                return -EINVAL;
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - shell), shell);
        fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* only our overlay: a symlink to the helper anywhere else is not a
         * redirect this helper knows how to undo */
        if (fstatfs(fd, &sf) < 0)
                return -errno;
        if (sf.f_type != OVERLAYFS_SUPER_MAGIC)
                return -ELOOP;
        snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
        if (umount2(target, MNT_DETACH) < 0)
                return -errno;
        return 0;
}

static int drop_redirect(const Record *rec)
{
        struct stat self, now;
        int r;

        if (rec->mode != RECORD_MODE_REDIRECT || !rec->redirect[0])
                return 0;
        if (stat("/proc/self/exe", &self) < 0)
                return -errno;
        for (int i = 0; i < 8; i++) {
                if (stat(rec->redirect, &now) < 0)
                        return -errno;
                if (now.st_dev != self.st_dev || now.st_ino != self.st_ino)
                        return 0;
                if (lstat(rec->redirect, &now) < 0)
                        return -errno;
                if (S_ISLNK(now.st_mode)) {
                        r = drop_redirect_dir(rec->redirect);
                        if (r < 0)
                                return r;
                } else if (umount2(rec->redirect, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                        return -errno;
        }
        return -ELOOP;
}

int mnt_build_root(Helper *h)
{
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                .propagation = MS_PRIVATE,
        };
        _cleanup_close_ int tree = -1, root = -1;
        int r;

        h->orig_mnt_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (h->orig_mnt_fd < 0)
                return -errno;
        /* The overlay homes live in the anchor namespace: stage from a copy
         * of it (which has no redirect in it either). */
        if (h->rec.home_mount[0]) {
                _cleanup_close_ int anchor = -1;

                r = anchor_open(h->rec.run_dir, &anchor);
                if (r < 0)
                        return r;
                if (setns(anchor, CLONE_NEWNS) < 0)
                        return -errno;
                CUBBY_FAULT("helper.mount.anchor");
        }
        if (h->rec.home_direct) {
                r = open_direct_home(h);
                if (r < 0)
                        return r;
        }
        /* Staging happens in a namespace of our own: nothing we mount here
         * is seen by the opener or propagates to the host. */
        if (unshare(CLONE_NEWNS) < 0)
                return -errno;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        r = drop_redirect(&h->rec);
        if (r < 0)
                return r;
        CUBBY_FAULT("helper.mount.private");

        /* The host's tree, detached, read-only, nosuid, nodev throughout. */
        tree = (int)syscall(SYS_open_tree, AT_FDCWD, "/",
                            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (tree < 0)
                return -errno;
        if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0)
                return -errno;

        /* The staging tmpfs covers the root-only run dir: only root can
         * reach anything below it. */
        if (mount("cubby-stage", STAGE_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=0700,size=4m") < 0)
                return -errno;
        if (mkdir(STAGE_ROOT, 0755) < 0)
                return -errno;
        if (syscall(SYS_move_mount, tree, "", AT_FDCWD, STAGE_ROOT, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        CUBBY_FAULT("helper.mount.staged");
        root = open(STAGE_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return -errno;

        /* Fresh, private scratch space: host unix sockets live in /run,
         * /tmp and /var/tmp and would stay connectable through a read-only
         * bind. */
        /* the host's proc and sys (and what is mounted below them) go;
         * the child mounts those of its own namespaces there */
        r = mnt_detach_below("/proc");
        if (r >= 0)
                r = mnt_detach_below("/sys");
        if (r >= 0)
                r = mnt_tmpfs_at(root, "/tmp", MS_NOSUID | MS_NODEV, "mode=1777", false);
        if (r >= 0)
                r = mnt_tmpfs_at(root, "/var/tmp", MS_NOSUID | MS_NODEV, "mode=1777", true);
        if (r >= 0)
                r = mnt_tmpfs_at(root, "/run", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755", false);
        if (r >= 0 && h->rec.container == CONF_CONTAINER_USER)
                r = build_runtime_dir(root, &h->rec);
        CUBBY_FAULT("helper.mount.scratch");
        if (r >= 0)
                r = mnt_build_dev(root);
        CUBBY_FAULT("helper.mount.dev");
        if (r >= 0)
                r = build_home(root, h);
        CUBBY_FAULT("helper.mount.home");
        /* /etc before the hidden paths: the overlay would cover a path
         * hidden below it */
        if (r >= 0)
                r = mnt_build_etc(root, &h->rec);
        if (r < 0)
                return r;
        /* cubby's own state, and host agents reachable through sockets or
         * spools outside /run, /tmp and /var/tmp (S5: no path to host
         * agents; the list is in conf.h) */
        {
                static const char *const builtin[] = CONF_BUILTIN_HIDE;

                if (h->rec.state_dir[0]) {
                        r = hide_path(root, h->rec.state_dir);
                        if (r < 0)
                                return r;
                }
                for (size_t i = 0; i < ELEMENTSOF(builtin); i++) {
                        r = hide_path(root, builtin[i]);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; i < h->rec.n_hide; i++) {
                r = hide_path(root, h->rec.hide[i]);
                if (r < 0)
                        return r;
        }
        CUBBY_FAULT("helper.mount.hidden");
        return 0;
}

/* container = user: XDG_RUNTIME_DIR, /run/user/UID on the fresh /run, a
 * tmpfs of the user's, 0700 (IDE servers and session tools put their
 * sockets there). The shell gets the variable (join.c). */
static int build_runtime_dir(int root, const Record *rec)
{
        _cleanup_close_ int run = -1, user = -1, dir = -1;
        char name[16], data[96];
        int r;

        run = mnt_open_dir_in_root(root, "/run");
        if (run < 0)
                return run;
        if (mkdirat(run, "user", 0755) < 0 && errno != EEXIST)
                return -errno;
        user = openat(run, "user", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (user < 0)
                return -errno;
        snprintf(name, sizeof name, "%u", (unsigned)rec->uid);
        if (mkdirat(user, name, 0700) < 0)
                return -errno;
        dir = openat(user, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0)
                return -errno;
        snprintf(data, sizeof data, "mode=0700,uid=%u,gid=%u,size=" RUNTIME_DIR_SIZE,
                 (unsigned)rec->uid, (unsigned)rec->gid);
        r = mnt_on_fd("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, data);
        return r;
}

/* After the clone: leave the staging namespace, so its mounts die with the
 * child's copy and nothing here pins them. */
int mnt_leave_staging(const Helper *h)
{
        if (setns(h->orig_mnt_fd, CLONE_NEWNS) < 0)
                return -errno;
        CUBBY_FAULT("helper.setns");
        return 0;
}

/* Child, still kuid 0: pivot_root refuses the inherited, locked root until
 * it is bound onto itself; and below the root-only staging dir only kuid
 * 0 can walk, so go there now. */
int mnt_child_enter_root(void)
{
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        if (mount(STAGE_ROOT, STAGE_ROOT, NULL, MS_BIND | MS_REC, NULL) < 0)
                return -errno;
        if (chdir(STAGE_ROOT) < 0)
                return -errno;
        CUBBY_FAULT("child.mount.root");
        return 0;
}

/* Child, in its user namespace, cwd at the new root: the kernel file
 * systems of the container's own namespaces. */
int mnt_child_mount_kernel_fs(const Helper *h)
{
        int r;

        if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return -errno;
        if (mount("sysfs", "sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return -errno;
        if (mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                  "newinstance,ptmxmode=0666,mode=0620") < 0)
                return -errno;
        CUBBY_FAULT("child.mount.kernel_fs");
        /* with a pty of its own, that is its console (pty.c) */
        r = pty_child_open(&h->pty);
        if (r < 0)
                return r;
        if (!h->pty.relay)
                mnt_bind_console();
        return 0;
}

int mnt_child_pivot(const Helper *h)
{
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return -errno;
        /* the old root is stacked under the new one: detach it */
        if (umount2(".", MNT_DETACH) < 0)
                return -errno;
        CUBBY_FAULT("child.mount.pivot");
        if (chdir("/") < 0)
                return -errno;
        if (chdir(h->rec.home) < 0)
                return -errno;
        return 0;
}
