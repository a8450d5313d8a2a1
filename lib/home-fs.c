/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/vfs.h>

#include <linux/magic.h>

#include "cubby/home-fs.h"
#include "cubby/util.h"

/* Those not in every <linux/magic.h>: from each file system's own source */
#define LUSTRE_SUPER_MAGIC_ 0x0BD00BD0LL
#define GPFS_SUPER_MAGIC_ 0x47504653LL
#define BEEGFS_SUPER_MAGIC_ 0x19830326LL
#define ORANGEFS_SUPER_MAGIC_ 0x20030528LL
#define GFS2_SUPER_MAGIC_ 0x01161970LL
#define SMB3_SUPER_MAGIC_ 0xFE534D42LL

static const struct {
        long long magic;
        const char *name;
} network_fs[] = {
        { NFS_SUPER_MAGIC, "nfs" },
        { SMB_SUPER_MAGIC, "smb" },
        { CIFS_SUPER_MAGIC, "cifs" },
        { SMB3_SUPER_MAGIC_, "smb3" },
        { AFS_SUPER_MAGIC, "afs" },
        { AFS_FS_MAGIC, "afs" },
        { CODA_SUPER_MAGIC, "coda" },
        { CEPH_SUPER_MAGIC, "ceph" },
        { LUSTRE_SUPER_MAGIC_, "lustre" },
        { GPFS_SUPER_MAGIC_, "gpfs" },
        { BEEGFS_SUPER_MAGIC_, "beegfs" },
        { ORANGEFS_SUPER_MAGIC_, "orangefs" },
        { FUSE_SUPER_MAGIC, "fuse" },
        { V9FS_MAGIC, "9p" },
        { OCFS2_SUPER_MAGIC, "ocfs2" },
        { GFS2_SUPER_MAGIC_, "gfs2" },
};

const char *home_fs_network_name(long long f_type)
{
        /* f_type is a signed long: CIFS' 0xFF534D42 may arrive sign-extended */
        long long t = f_type & 0xffffffffLL;

        for (size_t i = 0; i < ELEMENTSOF(network_fs); i++)
                if (network_fs[i].magic == t)
                        return network_fs[i].name;
        return NULL;
}

const char *home_fs_network_name_fd(int fd)
{
        struct statfs sf;

        if (fstatfs(fd, &sf) < 0)
                return NULL;
        return home_fs_network_name((long long)sf.f_type);
}

int home_fs_pattern_prefix(const char *pattern, char *buf, size_t size)
{
        const char *pct = strstr(pattern, "%u"), *end;
        size_t n;

        if (pattern[0] != '/')
                return -EINVAL;
        if (!pct)
                return strscpy(buf, size, pattern);
        /* back to the '/' that starts the component holding %u */
        for (end = pct; end > pattern && end[-1] != '/'; end--)
                ;
        n = (size_t)(end - pattern);
        if (n > 1)
                n--; /* no trailing '/', but "/" stays */
        if (n + 1 > size)
                return -ENAMETOOLONG;
        memcpy(buf, pattern, n);
        buf[n] = 0;
        return 0;
}
