/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "cubby/home-direct.h"
#include "cubby/util.h"

/* Both fs ids to (uid, gid), read back: setfsuid() reports no error. */
static int fs_ids_set(uid_t uid, gid_t gid)
{
        (void)setfsgid(gid);
        (void)setfsuid(uid);
        if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid)
                return -EIO;
        return 0;
}

int home_direct_open(const char *path, uid_t uid, gid_t gid, int *ret_fd)
{
        /* setfsuid(-1) changes nothing and returns the current one */
        uid_t old_uid = (uid_t)setfsuid((uid_t)-1);
        gid_t old_gid = (gid_t)setfsgid((gid_t)-1);
        struct open_how how = {
                /* no O_NOFOLLOW: RESOLVE_NO_SYMLINKS refuses a final
                 * symlink too, with ELOOP rather than ENOTDIR */
                .flags = (uint64_t)(O_PATH | O_DIRECTORY | O_CLOEXEC),
                /* no symlink at any component (the last one too), no
                 * /proc magic link; ".." cannot occur (normalised path) */
                .resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        _cleanup_close_ int fd = -1;
        const char *slash;
        struct stat st = {};
        int r = 0;

        if (!path_is_normalized_absolute(path))
                return -EINVAL;
        /* a home directly under / cannot be isolated (its parent would be
         * the container's root) */
        slash = strrchr(path, '/');
        if (!slash || slash == path)
                return -EINVAL;
        /* root's fs ids are never used on the user's path: the file server
         * sees the user (root_squash), and the kernel checks the user's
         * rights at each component. Only the fs ids change: the process
         * stays root otherwise, and nothing else runs in between. */
        if (fs_ids_set(uid, gid) < 0) {
                r = -EIO;
                goto restore;
        }
        fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
        /* stat as the user too: a root-squashed server answers the user */
        if (fd < 0 || fstat(fd, &st) < 0)
                r = -errno;
restore:
        if (fs_ids_set(old_uid, old_gid) < 0)
                return -EIO;
        if (r < 0)
                return r;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        /* the user's own home, never another user's or root's directory */
        if (st.st_uid != uid)
                return -EPERM;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

const char *home_direct_strerror(int err)
{
        switch (err) {
        case -ENOENT: return "the home directory does not exist";
        case -ELOOP: return "the home path has a symlink in it (refused: no symlink is followed)";
        case -EACCES: return "the user cannot reach the home directory";
        case -ENOTDIR: return "the home path is not a directory";
        case -EPERM: return "the home directory is not owned by the user";
        case -EINVAL: return "the home path is not usable (not absolute, or directly under /)";
        case -EIO: return "the file system ids could not be set to the user and back";
        default: return "the home directory cannot be opened";
        }
}
