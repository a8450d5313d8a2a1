/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "cubby/fault.h"
#include "cubby/util.h"

int parse_u64(const char *s, uint64_t *ret)
{
        uint64_t v = 0;

        if (!s || !*s)
                return -EINVAL;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        *ret = v;
        return 0;
}

int parse_uid(const char *s, uid_t *ret)
{
        uint64_t v;
        int r = parse_u64(s, &v);

        if (r < 0)
                return r;
        /* (uid_t)-1 is "no change" to the set*id() calls: never a real id. */
        if (v >= UINT32_MAX)
                return -ERANGE;
        *ret = (uid_t)v;
        return 0;
}

int parse_pid(const char *s, pid_t *ret)
{
        uint64_t v;
        int r = parse_u64(s, &v);

        if (r < 0)
                return r;
        if (v == 0 || v > INT32_MAX)
                return -ERANGE;
        *ret = (pid_t)v;
        return 0;
}

int strscpy(char *dst, size_t size, const char *src)
{
        size_t n = strlen(src);

        if (size == 0 || n >= size)
                return -ENAMETOOLONG;
        memcpy(dst, src, n + 1);
        return 0;
}

int read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
        size_t cap = 4096, len = 0;
        _cleanup_free_ char *buf = NULL;

        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;

                if (len + 1 >= cap) {
                        char *nb;

                        if (cap > max + 1)
                                return -EFBIG;
                        cap *= 2;
                        nb = realloc(buf, cap);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                n = read(fd, buf + len, cap - 1 - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
                if (len > max)
                        return -EFBIG;
        }
        buf[len] = 0;
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len,
                 struct stat *ret_st)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        /* O_NONBLOCK: a FIFO planted where a file should be must not hang us. */
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (ret_st)
                *ret_st = st;
        return read_fd(fd, max, ret, ret_len);
}

static int write_all(int fd, const void *data, size_t len)
{
        const char *p = data;

        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

static int write_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                        bool sync);

int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
        return write_atomic(dirfd, name, data, len, mode, true);
}

int write_file_atomic_at_nosync(int dirfd, const char *name, const void *data, size_t len,
                                mode_t mode)
{
        return write_atomic(dirfd, name, data, len, mode, false);
}

static int write_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                        bool sync)
{
        char tmp[NAME_MAX + 1], id[CUBBY_ID_LEN + 1];
        _cleanup_close_ int fd = -1;
        int r;

        r = random_id(id);
        if (r < 0)
                return r;
        /* the writer's pid in the name: gc removes the temp file of a
         * writer that died between here and the rename */
        if (snprintf(tmp, sizeof tmp, ".%.200s.%s.%d.tmp", name, id, (int)getpid()) >= (int)sizeof tmp)
                return -ENAMETOOLONG;
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, len);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && sync && fsync(fd) < 0)
                r = -errno;
        if (r >= 0)
                CUBBY_FAULT("lib.write.before_rename");
        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0)
                (void)unlinkat(dirfd, tmp, 0);
        return r;
}

int write_string_at(int dirfd, const char *name, const char *s)
{
        _cleanup_close_ int fd = -1;
        ssize_t n;
        size_t len = strlen(s);

        fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        do
                n = write(fd, s, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if ((size_t)n != len)
                return -EIO;
        return 0;
}

int random_id(char ret[CUBBY_ID_LEN + 1])
{
        static const char hex[] = "0123456789abcdef";
        unsigned char b[CUBBY_ID_LEN / 2];
        size_t got = 0;

        while (got < sizeof b) {
                ssize_t n = getrandom(b + got, sizeof b - got, 0);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t)n;
        }
        for (size_t i = 0; i < sizeof b; i++) {
                ret[2 * i] = hex[b[i] >> 4];
                ret[2 * i + 1] = hex[b[i] & 15];
        }
        ret[CUBBY_ID_LEN] = 0;
        return 0;
}

bool name_is_safe(const char *s, size_t max)
{
        size_t n;

        if (!s || !*s || *s == '-' || *s == '.' || *s == '@')
                return false;
        n = strlen(s);
        if (n > max)
                return false;
        /* '@': SSSD's fully qualified names (alice@example.org) */
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-' ||
                      *p == '@'))
                        return false;
        return true;
}

bool path_is_normalized_absolute(const char *p)
{
        size_t n;

        if (!p || p[0] != '/')
                return false;
        n = strlen(p);
        if (n >= PATH_MAX)
                return false;
        if (n == 1)
                return true;
        if (p[n - 1] == '/')
                return false;
        for (const char *c = p; *c; c++) {
                if (*c != '/')
                        continue;
                /* c points at a separator: look at the component after it */
                if (c[1] == '/')
                        return false;
                if (c[1] == '.' && (c[2] == '/' || c[2] == 0))
                        return false;
                if (c[1] == '.' && c[2] == '.' && (c[3] == '/' || c[3] == 0))
                        return false;
        }
        return true;
}

/* Without create nothing is made: the kernel resolves the whole path in one
 * openat2() and refuses a symlink anywhere in it (RESOLVE_NO_SYMLINKS; and
 * nothing above dirfd, RESOLVE_BENEATH, for a relative path). With create,
 * component by component, as each mkdir needs its parent's fd; also the
 * fallback where openat2 is missing (ENOSYS). */
int dir_walk(int dirfd, const char *path, mode_t create_mode, DirWalkStep step, void *arg, int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        int r;

        if (create_mode == 0) {
                struct open_how how = {
                        .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                        .resolve = RESOLVE_NO_SYMLINKS | (path[0] == '/' ? 0 : RESOLVE_BENEATH),
                };

                fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
                if (fd < 0 && errno != ENOSYS)
                        return -errno;
                if (fd >= 0) {
                        *ret_fd = TAKE_FD(fd);
                        return 0;
                }
                step = NULL; /* no openat2 (valgrind, an older seccomp profile): by hand */
        }
        fd = openat(dirfd, path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        for (const char *p = path + strspn(path, "/"); *p; p += strspn(p, "/")) {
                _cleanup_close_ int nfd = -1;
                char comp[NAME_MAX + 1];
                size_t n = strcspn(p, "/");
                bool created = false;

                if (n > NAME_MAX)
                        return -ENAMETOOLONG;
                memcpy(comp, p, n);
                comp[n] = 0;
                p += n;
                if (strcmp(comp, "..") == 0)
                        return -EXDEV; /* RESOLVE_BENEATH's rule */
                nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0 && errno == ENOENT && create_mode != 0) {
                        r = step ? step(fd, -1, false, false, arg) : 0;
                        if (r < 0 || (mkdirat(fd, comp, create_mode) < 0 && errno != EEXIST))
                                return r < 0 ? r : -errno;
                        created = true;
                        nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                }
                if (nfd < 0)
                        return -errno;
                r = step ? step(fd, nfd, created, !*p, arg) : 0;
                if (r < 0)
                        return r;
                closep(&fd);
                fd = TAKE_FD(nfd);
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int session_dir_open(const char *path, bool create, int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        if (!path_is_normalized_absolute(path))
                return -EINVAL;
        r = dir_walk(AT_FDCWD, path, create ? 0700 : 0, NULL, NULL, &fd);
        if (r < 0)
                return r == -ELOOP ? -EPERM : r;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* Root state only where nobody else can write or even look. */
        if (st.st_uid != 0 || (st.st_mode & 077))
                return -EPERM;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

void steps_begin(StepTimes *s, const struct timespec *t0)
{
        s->last = *t0;
        s->text[0] = 0;
        s->len = 0;
}

void steps_mark(StepTimes *s, const char *name)
{
        struct timespec now;
        long long us;
        int n;

        clock_gettime(CLOCK_MONOTONIC, &now);
        us = (long long)(now.tv_sec - s->last.tv_sec) * 1000000 + (now.tv_nsec - s->last.tv_nsec) / 1000;
        s->last = now;
        if (s->len >= sizeof s->text)
                return;
        n = snprintf(s->text + s->len, sizeof s->text - s->len, "%s%s:%lld", s->len ? "," : "",
                     name, us);
        if (n < 0 || (size_t)n >= sizeof s->text - s->len) {
                s->text[s->len] = 0;
                s->len = sizeof s->text;
                return;
        }
        s->len += (size_t)n;
}
