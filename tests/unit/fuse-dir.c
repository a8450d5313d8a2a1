/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fuse-dir MOUNTPOINT: mount a FUSE file system on MOUNTPOINT (in the
 * caller's mount namespace) that serves one empty, read-only directory,
 * root's, 0755, and serve it in the foreground until it is unmounted (or
 * the process is killed). For the tests of the overlay modes against a
 * lower on a network file system: FUSE is on the list of home-fs.h, and
 * the only one a test can serve without a server machine. Root only. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/fuse.h>

static void reply(int fd, uint64_t unique, int error, const void *body, size_t len)
{
        char buf[sizeof(struct fuse_out_header) + 256];
        struct fuse_out_header h = {
                .len = (uint32_t)(sizeof h + len), .error = error, .unique = unique,
        };

        memcpy(buf, &h, sizeof h);
        if (len)
                memcpy(buf + sizeof h, body, len);
        (void)!write(fd, buf, sizeof h + len);
}

/* One empty directory, root's, 0755: what a lookup, stat, statfs and
 * readdir need; everything else is ENOSYS. Ends when the mount goes. */
static _Noreturn void serve(int fd)
{
        static char buf[256 * 1024];

        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                const struct fuse_in_header *in = (const void *)buf;

                if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == ENOENT))
                        continue;
                if (n < (ssize_t)sizeof *in)
                        _exit(0); /* ENODEV: unmounted */
                switch (in->opcode) {
                case FUSE_INIT: {
                        const struct fuse_init_in *ii = (const void *)(in + 1);
                        struct fuse_init_out o = {
                                .major = FUSE_KERNEL_VERSION, .minor = FUSE_KERNEL_MINOR_VERSION,
                                .max_readahead = ii->max_readahead, .max_write = 65536,
                                .time_gran = 1,
                        };

                        reply(fd, in->unique, 0, &o, sizeof o);
                        break;
                }
                case FUSE_GETATTR: {
                        struct fuse_attr_out o = { .attr_valid = 1 };

                        o.attr.ino = FUSE_ROOT_ID;
                        o.attr.mode = S_IFDIR | 0755;
                        o.attr.nlink = 2;
                        o.attr.blksize = 4096;
                        reply(fd, in->unique, 0, &o, sizeof o);
                        break;
                }
                case FUSE_STATFS: {
                        struct fuse_statfs_out o = { .st = { .bsize = 4096, .frsize = 4096,
                                                             .namelen = 255 } };

                        reply(fd, in->unique, 0, &o, sizeof o);
                        break;
                }
                case FUSE_OPENDIR: {
                        struct fuse_open_out o = { .fh = 1 };

                        reply(fd, in->unique, 0, &o, sizeof o);
                        break;
                }
                case FUSE_READDIR:
                case FUSE_RELEASEDIR:
                        reply(fd, in->unique, 0, NULL, 0);
                        break;
                case FUSE_LOOKUP:
                        reply(fd, in->unique, -ENOENT, NULL, 0);
                        break;
                case FUSE_FORGET:
                case FUSE_BATCH_FORGET:
                case FUSE_INTERRUPT:
                        break;
                case FUSE_DESTROY:
                        reply(fd, in->unique, 0, NULL, 0);
                        _exit(0);
                default:
                        reply(fd, in->unique, -ENOSYS, NULL, 0);
                }
        }
}

int main(int argc, char **argv)
{
        char opts[128];
        int fd;

        if (argc != 2) {
                fprintf(stderr, "usage: fuse-dir MOUNTPOINT\n");
                return 2;
        }
        fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "fuse-dir: /dev/fuse: %s\n", strerror(errno));
                return 77;
        }
        snprintf(opts, sizeof opts,
                 "fd=%d,rootmode=40755,user_id=0,group_id=0,allow_other,default_permissions", fd);
        /* the kernel sends FUSE_INIT after mount() returns: served below */
        if (mount("cubby-test", argv[1], "fuse", MS_NOSUID | MS_NODEV | MS_RDONLY, opts) < 0) {
                fprintf(stderr, "fuse-dir: mount %s: %s\n", argv[1], strerror(errno));
                return 77;
        }
        serve(fd);
}
