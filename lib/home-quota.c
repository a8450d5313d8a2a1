/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Project quotas of the persistent home: see cubby/home-quota.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <linux/quota.h>

#include "cubby/home-quota.h"
#include "cubby/util.h"

#ifndef __NR_quotactl_fd
#define __NR_quotactl_fd 443
#endif
#ifndef XFS_SUPER_MAGIC
#define XFS_SUPER_MAGIC 0x58465342
#endif

/* dirs deeper than this are left out of the first walk (counted) */
#define TAG_DEPTH_MAX 256

static int qctl(int fd, unsigned cmd, uint32_t id, void *addr)
{
        return syscall(__NR_quotactl_fd, fd, QCMD(cmd, PRJQUOTA), id, addr) < 0 ? -errno : 0;
}

static const char *fs_name(unsigned long type)
{
        switch (type) {
        case EXT4_SUPER_MAGIC: return "ext4"; /* also ext2/ext3: one magic */
        case XFS_SUPER_MAGIC: return "XFS";
        case TMPFS_MAGIC: return "tmpfs";
        case BTRFS_SUPER_MAGIC: return "btrfs";
        case OVERLAYFS_SUPER_MAGIC: return "overlayfs";
        case V9FS_MAGIC: return "9p";
        case NFS_SUPER_MAGIC: return "NFS";
        default: return NULL;
        }
}

int quota_fs_check(int fd, char *why, size_t size)
{
        struct fs_quota_statv sv = { .qs_version = FS_QSTATV_VERSION1 };
        struct statfs sf;
        const char *fs;
        char other[32];
        int r;

        if (fstatfs(fd, &sf) < 0)
                return -errno;
        fs = fs_name((unsigned long)sf.f_type);
        if (!fs) {
                snprintf(other, sizeof other, "file system 0x%lx", (unsigned long)sf.f_type);
                fs = other;
        }
        r = qctl(fd, Q_XGETQSTATV, 0, &sv);
        if (r == 0 && (sv.qs_flags & FS_QUOTA_PDQ_ACCT) && (sv.qs_flags & FS_QUOTA_PDQ_ENFD))
                return 0;
        if (r == 0 && (sv.qs_flags & FS_QUOTA_PDQ_ACCT))
                r = -ENOLINK;
        else if (r == 0 || r == -ESRCH)
                r = -ESRCH;
        else if (r == -ENOSYS || r == -EOPNOTSUPP || r == -ENOTTY || r == -EINVAL)
                r = -EOPNOTSUPP;
        else
                return r;
        if (!why)
                return r;
        if (sf.f_type == EXT4_SUPER_MAGIC && r == -ENOLINK)
                snprintf(why, size,
                         "ext4 counts project quotas there but does not enforce them: mount it "
                         "with the option prjquota (in /etc/fstab)");
        else if (sf.f_type == EXT4_SUPER_MAGIC)
                snprintf(why, size,
                         "the ext4 file system has no project quotas on: it needs the features "
                         "project and quota (unmounted: tune2fs -O project,quota DEVICE, which "
                         "needs 256-byte inodes; a new one: mkfs.ext4 -O project,quota) and the "
                         "mount option prjquota (in /etc/fstab)");
        else if (sf.f_type == XFS_SUPER_MAGIC && r == -ENOLINK)
                snprintf(why, size,
                         "XFS counts project quotas there but does not enforce them (pqnoenforce): "
                         "mount it with the option prjquota");
        else if (sf.f_type == XFS_SUPER_MAGIC)
                snprintf(why, size,
                         "the XFS file system was mounted without project quotas: mount it with "
                         "the option prjquota (in /etc/fstab; XFS takes it only at mount, not at "
                         "remount; for the root file system, rootflags=prjquota on the kernel "
                         "command line)");
        else
                snprintf(why, size,
                         "%s has no project quotas: give state_dir a file system of its own, "
                         "ext4 (mkfs.ext4 -O project,quota, mounted with prjquota) or XFS "
                         "(mounted with prjquota)",
                         fs);
        return r;
}

int quota_dir_project(int dirfd, uint32_t *ret_projid, bool *ret_inherit)
{
        struct fsxattr fa;

        if (ioctl(dirfd, FS_IOC_FSGETXATTR, &fa) < 0)
                return -errno;
        if (ret_projid)
                *ret_projid = fa.fsx_projid;
        if (ret_inherit)
                *ret_inherit = fa.fsx_xflags & FS_XFLAG_PROJINHERIT;
        return 0;
}

static int tag_one(int fd, uint32_t projid, bool inherit)
{
        struct fsxattr fa;

        if (ioctl(fd, FS_IOC_FSGETXATTR, &fa) < 0)
                return -errno;
        if (fa.fsx_projid == projid && (!inherit || (fa.fsx_xflags & FS_XFLAG_PROJINHERIT)))
                return 0;
        fa.fsx_projid = projid;
        if (inherit)
                fa.fsx_xflags |= FS_XFLAG_PROJINHERIT;
        /* as root (CAP_SYS_RESOURCE, CAP_FOWNER): the transfer to the
         * project is never refused for its limit */
        return ioctl(fd, FS_IOC_FSSETXATTR, &fa) < 0 ? -errno : 0;
}

/* Every dir and regular file below dfd; no symlink followed (O_NOFOLLOW on
 * every open), no other file system entered. Failures are counted, not
 * fatal: the home is still counted from here on. */
static void tag_walk(int dfd, dev_t dev, uint32_t projid, unsigned depth, unsigned *skipped)
{
        struct dirent *de;
        DIR *d;
        int fd;

        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || !(d = fdopendir(fd))) {
                if (fd >= 0)
                        close(fd);
                (*skipped)++;
                return;
        }
        while ((de = readdir(d))) {
                struct stat st, st2;
                int cfd;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev ||
                    !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) ||
                    (S_ISDIR(st.st_mode) && depth >= TAG_DEPTH_MAX)) {
                        (*skipped)++;
                        continue;
                }
                cfd = openat(dfd, de->d_name,
                             O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_NOATIME | O_CLOEXEC |
                                     (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
                /* the same kind of file as the one looked at (a live home
                 * may change under the walk) */
                if (cfd >= 0 && (fstat(cfd, &st2) < 0 || (st2.st_mode & S_IFMT) != (st.st_mode & S_IFMT))) {
                        close(cfd);
                        cfd = -1;
                }
                if (cfd < 0) {
                        (*skipped)++;
                        continue;
                }
                if (S_ISDIR(st.st_mode))
                        tag_walk(cfd, dev, projid, depth + 1, skipped);
                if (tag_one(cfd, projid, S_ISDIR(st.st_mode)) < 0)
                        (*skipped)++;
                close(cfd);
        }
        closedir(d);
}

int quota_tag_tree(int dirfd, uint32_t projid, unsigned *ret_skipped)
{
        unsigned skipped = 0;
        struct fsxattr fa;
        struct stat st;
        int r;

        if (ret_skipped)
                *ret_skipped = 0;
        if (ioctl(dirfd, FS_IOC_FSGETXATTR, &fa) < 0)
                return -errno;
        if (fa.fsx_projid == projid && (fa.fsx_xflags & FS_XFLAG_PROJINHERIT))
                return 0;
        if (fstat(dirfd, &st) < 0)
                return -errno;
        /* the project first (the file system may refuse it: then nothing
         * was walked), the inherit flag last: a walk cut short is done
         * again at the next mount */
        r = tag_one(dirfd, projid, false);
        if (r < 0)
                return r;
        tag_walk(dirfd, st.st_dev, projid, 0, &skipped);
        r = tag_one(dirfd, projid, true);
        if (r < 0)
                return r;
        if (ret_skipped)
                *ret_skipped = skipped;
        return 1;
}

int quota_set_limits(int fd, uint32_t projid, uint64_t bytes, uint64_t inodes)
{
        struct if_dqblk d = { .dqb_valid = QIF_LIMITS };

        d.dqb_bhardlimit = bytes == QUOTA_NONE ? 0 : (bytes + QIF_DQBLKSIZE - 1) / QIF_DQBLKSIZE;
        d.dqb_ihardlimit = inodes;
        return qctl(fd, Q_SETQUOTA, projid, &d);
}

int quota_get(int fd, uint32_t projid, QuotaUsage *ret)
{
        struct if_dqblk d = { 0 };
        int r;

        r = qctl(fd, Q_GETQUOTA, projid, &d);
        if (r < 0)
                return r;
        *ret = (QuotaUsage){
                .projid = projid,
                .bytes = d.dqb_curspace,
                .inodes = d.dqb_curinodes,
                .bytes_limit = d.dqb_bhardlimit * QIF_DQBLKSIZE,
                .inodes_limit = d.dqb_ihardlimit,
        };
        return 0;
}

void quota_format_size(uint64_t bytes, char *buf, size_t size)
{
        static const char units[] = "KMGTPE";
        uint64_t div = 1;
        int u = -1;

        while (u < 5 && bytes / div >= 1024) {
                div *= 1024;
                u++;
        }
        if (u < 0)
                snprintf(buf, size, "%lluB", (unsigned long long)bytes);
        else
                snprintf(buf, size, "%llu.%llu%c", (unsigned long long)(bytes / div),
                         (unsigned long long)(bytes % div * 10 / div), units[u]);
}
