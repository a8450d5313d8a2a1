/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's root. Built by the parent as real root in a private
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
#include "cubby/home.h"
#include "cubby/util.h"
#include "helper.h"

static int open_in_root(int rootfd, const char *path, int flags)
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

static int mount_on_fd(const char *src, int fd, const char *type, unsigned long flags,
                       const char *data)
{
        char target[64];

        snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
        if (mount(src, target, type, flags, data) < 0)
                return -errno;
        return 0;
}

/* Detach every mount at or below STAGE_ROOT + path in the staging
 * namespace. What a fresh tmpfs covers would otherwise still be listed in
 * the container's mountinfo (other users' overlays, /run/user/N, netns
 * pins) and pinned by it. Deepest first. */
static int unescape_mountinfo(char *s)
{
        char *o = s;

        for (char *i = s; *i; i++) {
                if (i[0] == '\\' && i[1] >= '0' && i[1] <= '3' && i[2] >= '0' && i[2] <= '7' &&
                    i[3] >= '0' && i[3] <= '7') {
                        *o++ = (char)((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
                        i += 3;
                } else {
                        *o++ = *i;
                }
        }
        *o = 0;
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
                char *f = line, *mp;

                for (int i = 0; i < 4 && f; i++) {
                        f = strchr(f, ' ');
                        if (f)
                                f++;
                }
                if (!f)
                        continue;
                mp = f;
                f = strchr(mp, ' ');
                if (f)
                        *f = 0;
                unescape_mountinfo(mp);
                if (strncmp(mp, STAGE_ROOT, strlen(STAGE_ROOT)) != 0)
                        continue;
                if (mounts.n == cap) {
                        char **nl = realloc(mounts.mp, (cap = cap ? cap * 2 : 64) * sizeof *nl);

                        if (!nl)
                                return -ENOMEM;
                        mounts.mp = nl;
                }
                mounts.mp[mounts.n++] = mp;
        }
        qsort(mounts.mp, mounts.n, sizeof *mounts.mp, path_cmp);
        return 0;
}

static int detach_below(const char *path)
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

static int tmpfs_at(int rootfd, const char *path, unsigned long flags, const char *data,
                    bool optional)
{
        _cleanup_close_ int fd = -1;
        int r;

        r = detach_below(path);
        if (r < 0)
                return r;
        fd = open_in_root(rootfd, path, O_DIRECTORY);
        if (fd == -ENOENT && optional)
                return 0;
        if (fd < 0)
                return fd;
        return mount_on_fd("tmpfs", fd, "tmpfs", flags, data);
}

/* Bind src (a path in the staging namespace, or /proc/self/fd/N) over the
 * object at path inside the root, then set the flags on the new mount. */
static int bind_at(int rootfd, const char *src, const char *path, unsigned long flags)
{
        _cleanup_close_ int fd = open_in_root(rootfd, path, O_NOFOLLOW);
        int r;

        if (fd < 0)
                return fd;
        r = mount_on_fd(src, fd, NULL, MS_BIND, NULL);
        if (r < 0)
                return r;
        close(fd);
        fd = open_in_root(rootfd, path, O_NOFOLLOW);
        if (fd < 0)
                return fd;
        return mount_on_fd(NULL, fd, NULL, MS_REMOUNT | MS_BIND | flags, NULL);
}

static int create_file_at(int dirfd, const char *name, mode_t mode)
{
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

/* /dev: a tmpfs with the few device nodes a shell needs, bound from the
 * host's /dev (a tmpfs made here cannot hold device nodes usable from the
 * user namespace), a devpts instance of the container's own (mounted by
 * the child) and a fresh /dev/shm. */
static int build_dev(int rootfd)
{
        static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
        static const char *const links[][2] = {
                { "ptmx", "pts/ptmx" },     { "fd", "/proc/self/fd" },
                { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
                { "stderr", "/proc/self/fd/2" },
        };
        _cleanup_close_ int dev = -1;
        char src[32], path[32];
        int r;

        /* nodev on the tmpfs itself: the device nodes are bind mounts
         * with flags of their own, devpts a mount of its own */
        r = tmpfs_at(rootfd, "/dev", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k", false);
        if (r < 0)
                return r;
        dev = open_in_root(rootfd, "/dev", O_DIRECTORY);
        if (dev < 0)
                return dev;
        close(dev);
        /* a real directory fd (not O_PATH) to create entries in */
        {
                char p[64];
                _cleanup_close_ int pfd = open_in_root(rootfd, "/dev", O_DIRECTORY);

                if (pfd < 0)
                        return pfd;
                snprintf(p, sizeof p, "/proc/self/fd/%d", pfd);
                dev = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dev < 0)
                        return -errno;
        }
        if (mkdirat(dev, "pts", 0755) < 0 || mkdirat(dev, "shm", 01777) < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i][1], dev, links[i][0]) < 0)
                        return -errno;
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                r = create_file_at(dev, nodes[i], 0666);
                if (r < 0)
                        return r;
                snprintf(src, sizeof src, "/dev/%s", nodes[i]);
                snprintf(path, sizeof path, "/dev/%s", nodes[i]);
                /* device nodes need dev; nosuid and noexec still apply */
                r = bind_at(rootfd, src, path, MS_NOSUID | MS_NOEXEC);
                if (r < 0)
                        return r;
        }
        r = create_file_at(dev, "console", 0600);
        if (r < 0)
                return r;
        if (fchmodat(dev, "shm", 01777, 0) < 0)
                return -errno;
        return tmpfs_at(rootfd, "/dev/shm", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777", false);
}

/* The user's home, at its pw_dir, with the rest of its parent empty: the
 * user's overlay from the anchor namespace (or, in records without one,
 * the host home). Opened without following a final symlink, and it must
 * belong to the user: a user must never point root at another path. */
static int build_home(int rootfd, const Record *rec)
{
        _cleanup_close_ int home = -1, parent = -1, pdir = -1;
        char parent_path[PATH_MAX], src[64], p[64];
        const char *name;
        struct stat st;
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

        home = open(rec->home_mount[0] ? rec->home_mount : rec->home,
                    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (home < 0)
                return -errno;
        if (fstat(home, &st) < 0)
                return -errno;
        if (st.st_uid != rec->uid)
                return -EPERM;
        if (rec->home_mount[0]) {
                struct statfs sf;

                /* the overlay must really be there, not the bare mount point */
                if (fstatfs(home, &sf) < 0)
                        return -errno;
                if (sf.f_type != OVERLAYFS_SUPER_MAGIC)
                        return -ENOENT;
        }

        r = tmpfs_at(rootfd, parent_path, MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k", false);
        if (r < 0)
                return r;
        parent = open_in_root(rootfd, parent_path, O_DIRECTORY);
        if (parent < 0)
                return parent;
        snprintf(p, sizeof p, "/proc/self/fd/%d", parent);
        pdir = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pdir < 0)
                return -errno;
        if (mkdirat(pdir, name, 0755) < 0)
                return -errno;
        snprintf(src, sizeof src, "/proc/self/fd/%d", home);
        return bind_at(rootfd, src, rec->home, MS_NOSUID | MS_NODEV);
}

/* Paths the policy hides (and cubby's own state): an empty read-only
 * tmpfs over a directory, /dev/null over a file. Missing paths are fine. */
static int hide_path(int rootfd, const char *path)
{
        _cleanup_close_ int fd = open_in_root(rootfd, path, O_NOFOLLOW);
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
                r = detach_below(path);
                if (r < 0)
                        return r;
                fd = open_in_root(rootfd, path, O_NOFOLLOW | O_DIRECTORY);
                if (fd < 0)
                        return fd;
                return mount_on_fd("tmpfs", fd, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                                   "mode=0755,size=4k");
        }
        if (S_ISLNK(st.st_mode))
                return 0; /* what it points to is hidden or not on its own */
        close(fd);
        return bind_at(rootfd, "/dev/null", path, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

/* /etc/passwd and /etc/group of the container: the system accounts of the
 * host (uid/gid below 1000, and nobody) with group member lists emptied,
 * plus the user with the real shell. Nothing of the host's other users. */
static bool system_id(const char *field)
{
        uint64_t v;

        return parse_u64(field, &v) == 0 && (v < 1000 || v == 65534);
}

static int gen_passwd(const Record *rec, int stagefd)
{
        _cleanup_free_ char *in = NULL, *out = NULL;
        size_t o = 0, cap;
        char *save = NULL;
        int r;

        r = read_file_at(AT_FDCWD, "/etc/passwd", (size_t)4 * 1024 * 1024, &in, NULL, NULL);
        if (r < 0)
                return r;
        cap = strlen(in) + PATH_MAX * 3;
        out = malloc(cap);
        if (!out)
                return -ENOMEM;
        for (char *line = strtok_r(in, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char copy[1024], *f[7] = {}, *s2 = NULL, *tok;
                int n = 0;

                if (strscpy(copy, sizeof copy, line) < 0)
                        continue;
                for (tok = copy; n < 7; n++) {
                        f[n] = tok;
                        tok = strchr(tok, ':');
                        if (!tok)
                                break;
                        *tok++ = 0;
                }
                (void)s2;
                if (n < 6 || !system_id(f[2]) || strcmp(f[0], rec->user) == 0)
                        continue;
                o += (size_t)snprintf(out + o, cap - o, "%s\n", line);
        }
        o += (size_t)snprintf(out + o, cap - o, "%s:x:%u:%u:%s:%s:%s\n", rec->user,
                              (unsigned)rec->uid, (unsigned)rec->gid, rec->gecos, rec->home,
                              rec->shell);
        if (o >= cap)
                return -E2BIG;
        return write_file_atomic_at_nosync(stagefd, "passwd", out, o, 0644);
}

static int gen_group(const Record *rec, int stagefd)
{
        _cleanup_free_ char *in = NULL, *out = NULL;
        size_t o = 0, cap;
        char *save = NULL, own[128] = "";
        int r;

        r = read_file_at(AT_FDCWD, "/etc/group", (size_t)4 * 1024 * 1024, &in, NULL, NULL);
        if (r < 0)
                return r;
        cap = strlen(in) + 256;
        out = malloc(cap);
        if (!out)
                return -ENOMEM;
        for (char *line = strtok_r(in, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *name = line, *c1, *c2, *c3;
                uint64_t gid;

                c1 = strchr(name, ':');
                c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                c3 = c2 ? strchr(c2 + 1, ':') : NULL;
                if (!c3)
                        continue;
                *c1 = *c2 = *c3 = 0;
                if (parse_u64(c2 + 1, &gid) < 0)
                        continue;
                if (gid == rec->gid && !own[0] && strlen(name) < 64)
                        snprintf(own, sizeof own, "%s:x:%u:\n", name, (unsigned)gid);
                else if ((gid < 1000 || gid == 65534) && gid != rec->gid)
                        o += (size_t)snprintf(out + o, cap - o, "%s:x:%u:\n", name, (unsigned)gid);
        }
        if (!own[0])
                snprintf(own, sizeof own, "%s:x:%u:\n", rec->user, (unsigned)rec->gid);
        o += (size_t)snprintf(out + o, cap - o, "%s", own);
        if (o >= cap)
                return -E2BIG;
        return write_file_atomic_at_nosync(stagefd, "group", out, o, 0644);
}

/* Create the file at path (under the container's fresh /run), with its
 * missing parents, for a symlinked /etc/resolv.conf to point at. */
static int create_in_run(int rootfd, const char *path)
{
        _cleanup_close_ int dir = -1;
        char buf[PATH_MAX], *save = NULL, *comp, *next;
        int r;

        if (strncmp(path, "/run/", 5) != 0 || !path_is_normalized_absolute(path))
                return -EINVAL;
        r = strscpy(buf, sizeof buf, path + 5);
        if (r < 0)
                return r;
        {
                _cleanup_close_ int p = open_in_root(rootfd, "/run", O_DIRECTORY);
                char pp[64];

                if (p < 0)
                        return p;
                snprintf(pp, sizeof pp, "/proc/self/fd/%d", p);
                dir = open(pp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dir < 0)
                        return -errno;
        }
        comp = strtok_r(buf, "/", &save);
        while (comp) {
                next = strtok_r(NULL, "/", &save);
                if (!next)
                        return create_file_at(dir, comp, 0644);
                if (mkdirat(dir, comp, 0755) < 0 && errno != EEXIST)
                        return -errno;
                {
                        int nd = openat(dir, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        if (nd < 0)
                                return -errno;
                        close(dir);
                        dir = nd;
                }
                comp = next;
        }
        return -EINVAL;
}

/* A resolv.conf that works inside (the PAM module chose the servers). On
 * hosts where /etc/resolv.conf links into /run (systemd-resolved), the
 * link's target is made in the container's fresh /run instead. */
static int build_resolv(int rootfd, int stage, const Record *rec)
{
        _cleanup_close_ int fd = -1;
        char target[PATH_MAX], path[PATH_MAX];
        struct stat st;
        ssize_t n;
        int r;

        r = write_file_atomic_at_nosync(stage, "resolv.conf", rec->resolv, strlen(rec->resolv), 0644);
        if (r < 0)
                return r;
        fd = open_in_root(rootfd, "/etc/resolv.conf", O_NOFOLLOW);
        if (fd == -ENOENT)
                return 0; /* nothing to mount on: the host has no resolver config either */
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISLNK(st.st_mode))
                return bind_at(rootfd, STAGE_DIR "/resolv.conf", "/etc/resolv.conf",
                               MS_RDONLY | MS_NOSUID | MS_NODEV);
        n = readlinkat(fd, "", target, sizeof target - 1);
        if (n < 0)
                return -errno;
        target[n] = 0;
        if (strncmp(target, "../run/", 7) == 0)
                snprintf(path, sizeof path, "/%s", target + 3);
        else
                snprintf(path, sizeof path, "%s", target);
        r = create_in_run(rootfd, path);
        if (r < 0)
                return r;
        return bind_at(rootfd, STAGE_DIR "/resolv.conf", path, MS_RDONLY | MS_NOSUID | MS_NODEV);
}

static int build_etc(int rootfd, const Record *rec)
{
        _cleanup_close_ int stage = -1;
        char line[80];
        int r;

        stage = open(STAGE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (stage < 0)
                return -errno;
        r = gen_passwd(rec, stage);
        if (r >= 0)
                r = gen_group(rec, stage);
        if (r < 0)
                return r;
        snprintf(line, sizeof line, "%s\n", rec->hostname[0] ? rec->hostname : "cubby");
        r = write_file_atomic_at_nosync(stage, "hostname", line, strlen(line), 0644);
        if (r < 0)
                return r;
        r = bind_at(rootfd, STAGE_DIR "/passwd", "/etc/passwd", MS_RDONLY | MS_NOSUID | MS_NODEV);
        if (r >= 0)
                r = bind_at(rootfd, STAGE_DIR "/group", "/etc/group", MS_RDONLY | MS_NOSUID | MS_NODEV);
        if (r >= 0)
                r = bind_at(rootfd, STAGE_DIR "/hostname", "/etc/hostname",
                            MS_RDONLY | MS_NOSUID | MS_NODEV);
        if (r >= 0 && rec->network && rec->resolv[0])
                r = build_resolv(rootfd, stage, rec);
        return r;
}

/* In redirect mode the opener's namespace has cubby-shell bound over the
 * real shell; this namespace is a copy of it. Remove the bind, and make
 * sure what is left at that path is not the helper. */
static int drop_redirect(const Record *rec)
{
        struct stat self, now;

        if (rec->mode != RECORD_MODE_REDIRECT || !rec->redirect[0])
                return 0;
        if (stat("/proc/self/exe", &self) < 0)
                return -errno;
        for (int i = 0; i < 8; i++) {
                if (stat(rec->redirect, &now) < 0)
                        return -errno;
                if (now.st_dev != self.st_dev || now.st_ino != self.st_ino)
                        return 0;
                if (umount2(rec->redirect, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
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
        r = detach_below("/proc");
        if (r >= 0)
                r = detach_below("/sys");
        if (r >= 0)
                r = tmpfs_at(root, "/tmp", MS_NOSUID | MS_NODEV, "mode=1777", false);
        if (r >= 0)
                r = tmpfs_at(root, "/var/tmp", MS_NOSUID | MS_NODEV, "mode=1777", true);
        if (r >= 0)
                r = tmpfs_at(root, "/run", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755", false);
        CUBBY_FAULT("helper.mount.scratch");
        if (r >= 0)
                r = build_dev(root);
        CUBBY_FAULT("helper.mount.dev");
        if (r >= 0)
                r = build_home(root, &h->rec);
        CUBBY_FAULT("helper.mount.home");
        if (r < 0)
                return r;
        /* cubby's own state, and host agents reachable through sockets or
         * spools outside /run, /tmp and /var/tmp (S5: no path to host
         * agents): the sssd responder pipes (user enumeration), cron's
         * spool, other users' mail */
        {
                static const char *const builtin[] = { "/var/lib/sss/pipes", "/var/spool/cron",
                                                       "/var/mail", "/var/spool/mail" };

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
        return build_etc(root, &h->rec);
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

/* The session's terminal on /dev/console, for tools that look for it.
 * fd 0 was opened in the opener's mount namespace, where a bind cannot
 * take it from: open the same device by name in ours, and only if it is
 * the same device. Best effort: a shell works without it. */
static void bind_console(void)
{
        _cleanup_close_ int fd = -1;
        char name[64], src[64];
        struct stat a, b;

        if (!isatty(0) || ttyname_r(0, name, sizeof name) != 0 || fstat(0, &a) < 0)
                return;
        fd = open(name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &b) < 0 || !S_ISCHR(b.st_mode) || b.st_rdev != a.st_rdev)
                return;
        snprintf(src, sizeof src, "/proc/self/fd/%d", fd);
        (void)mount(src, "dev/console", NULL, MS_BIND, NULL);
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
                bind_console();
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
