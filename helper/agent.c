/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Agent forwarding into a container = user container (ssh -A).
 *
 * sshd makes the socket of a connection's forwarded agent on the host, as
 * the user: /tmp/ssh-XXXXXXXXXX/agent.PID (a directory of the user's,
 * 0700), and names it in SSH_AUTH_SOCK. The container has a /tmp of its
 * own, so the login would not find it. The helper makes it reachable
 * inside at the same path:
 *   1. agent_pick: SSH_AUTH_SOCK of exactly that shape, nothing else;
 *   2. agent_open (root, on the host, before the join): the directory
 *      opened without following links, the user's and 0700, the socket in
 *      it a socket of the user's; a detached bind mount of that very inode
 *      (open_tree), checked to be the inode checked;
 *   3. agent_place (the joined child, before it becomes the user): in the
 *      container's /tmp, as the user (fsuid), the directory (made, or one
 *      of the user's, 0700) and an empty file to mount on (made, or the
 *      same socket already there: another channel of the connection); the
 *      socket's bind mount moved onto that file by fd.
 * The shell gets SSH_AUTH_SOCK only when all of it worked; otherwise it is
 * told once on stderr and logs in without the agent. Only the user's own
 * socket ever gets in, and only into the user's own container. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cubby/shellargs.h"
#include "cubby/util.h"
#include "helper.h"

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif
#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif

#define AGENT_VAR "SSH_AUTH_SOCK="
#define AGENT_PREFIX "/tmp/ssh-"

static bool all_of(const char *s, size_t n, const char *set)
{
        return n > 0 && strspn(s, set) >= n;
}

/* /tmp/ssh-<alnum>/agent.<digits>: the dir and socket names, or -EINVAL */
static int agent_split(const char *path, char *dir, size_t dsize, char *sock, size_t ssize)
{
        const char *d = path + strlen(AGENT_PREFIX) - strlen("ssh-"), *slash;
        size_t dl;

        if (strncmp(path, AGENT_PREFIX, strlen(AGENT_PREFIX)) != 0)
                return -EINVAL;
        slash = strchr(d, '/');
        if (!slash)
                return -EINVAL;
        dl = (size_t)(slash - d);
        if (dl <= 4 || dl >= dsize ||
            !all_of(d + 4, dl - 4, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
                return -EINVAL;
        if (strncmp(slash + 1, "agent.", 6) != 0 || strlen(slash + 1) >= ssize ||
            !all_of(slash + 7, strlen(slash + 7), "0123456789") || strlen(slash + 7) > 10)
                return -EINVAL;
        memcpy(dir, d, dl);
        dir[dl] = 0;
        return strscpy(sock, ssize, slash + 1) < 0 ? -EINVAL : 0;
}

void agent_pick(Helper *h, char *const env[])
{
        char dir[64], sock[64];

        h->agent_path[0] = 0;
        for (size_t i = 0; env && env[i]; i++) {
                const char *v;

                if (strncmp(env[i], AGENT_VAR, strlen(AGENT_VAR)) != 0)
                        continue;
                v = env[i] + strlen(AGENT_VAR);
                if (strlen(v) < sizeof h->agent_path &&
                    agent_split(v, dir, sizeof dir, sock, sizeof sock) >= 0)
                        (void)strscpy(h->agent_path, sizeof h->agent_path, v);
        }
}

int agent_open(Helper *h)
{
        _cleanup_close_ int tmp = -1, dfd = -1, tree = -1;
        char dir[64], sock[64];
        struct stat st, ts;

        if (!h->agent_path[0])
                return 0;
        if (agent_split(h->agent_path, dir, sizeof dir, sock, sizeof sock) < 0)
                return -EINVAL;
        tmp = open("/tmp", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tmp < 0)
                return -errno;
        dfd = openat(tmp, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fstat(dfd, &st) < 0)
                return -errno;
        if (st.st_uid != h->rec.uid || (st.st_mode & 0077))
                return -EPERM;
        if (fstatat(dfd, sock, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISSOCK(st.st_mode) || st.st_uid != h->rec.uid)
                return -EPERM;
        tree = (int)syscall(SYS_open_tree, dfd, sock,
                            OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
        if (tree < 0)
                return -errno;
        if (fstat(tree, &ts) < 0)
                return -errno;
        if (ts.st_dev != st.st_dev || ts.st_ino != st.st_ino || !S_ISSOCK(ts.st_mode))
                return -ESTALE;
        h->agent_dev = (uint64_t)ts.st_dev;
        h->agent_ino = (uint64_t)ts.st_ino;
        h->agent_tree = TAKE_FD(tree);
        return 0;
}

/* As the user (fsuid/fsgid): the dir and the mount point in the
 * container's /tmp. 1: the socket is there already. */
static int agent_target(const Helper *h, const char *dir, const char *sock, int *ret_fd)
{
        _cleanup_close_ int tmp = -1, dfd = -1, fd = -1;
        struct stat st;

        tmp = open("/tmp", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tmp < 0)
                return -errno;
        if (mkdirat(tmp, dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        dfd = openat(tmp, dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fstat(dfd, &st) < 0)
                return -errno;
        if (st.st_uid != h->rec.uid || (st.st_mode & 0077))
                return -EPERM;
        fd = openat(dfd, sock, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST) {
                if (fstatat(dfd, sock, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (S_ISSOCK(st.st_mode) && (uint64_t)st.st_dev == h->agent_dev &&
                    (uint64_t)st.st_ino == h->agent_ino)
                        return 1;
                return -EEXIST;
        }
        if (fd < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int agent_place(Helper *h)
{
        _cleanup_close_ int fd = -1;
        char dir[64], sock[64], *var;
        size_t n = 0;
        int r;

        if (h->agent_tree < 0)
                return 0;
        if (agent_split(h->agent_path, dir, sizeof dir, sock, sizeof sock) < 0)
                return -EINVAL;
        /* the user's ids for what is made (root is unmapped in here) */
        (void)setfsgid(h->rec.gid);
        (void)setfsuid(h->rec.uid);
        if ((uid_t)setfsuid((uid_t)-1) != h->rec.uid)
                return -EPERM;
        r = agent_target(h, dir, sock, &fd);
        if (r == 0 && syscall(SYS_move_mount, h->agent_tree, "", fd, "",
                              MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                r = -errno;
        closep(&h->agent_tree);
        if (r < 0)
                return r;
        if (asprintf(&var, AGENT_VAR "%s", h->agent_path) < 0)
                return -ENOMEM;
        while (h->envp[n])
                n++;
        if (n + 1 >= SHELL_ENV_MAX) {
                free(var);
                return -E2BIG;
        }
        h->envp[n] = var;
        h->envp[n + 1] = NULL;
        return 0;
}
