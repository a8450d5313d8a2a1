/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* conf_load(): the policy file and its drop-ins, each opened once by fd
 * and checked on that fd (regular, owner, mode, size) before it is read. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf-internal.h"
#include "cubby/conf.h"
#include "cubby/util.h"

/* ---- files ---- */

static int check_owner_mode(const struct stat *st, uid_t owner_uid, const char *path,
                            ConfError *err)
{
        if (st->st_uid != owner_uid) {
                if (owner_uid == 0)
                        return conf_fail(err, path, 0, -EPERM, "not owned by root (owner uid %u)",
                                         (unsigned)st->st_uid);
                return conf_fail(err, path, 0, -EPERM, "not owned by uid %u (owner uid %u)",
                                 (unsigned)owner_uid, (unsigned)st->st_uid);
        }
        /* Whoever can write the policy decides who is sandboxed. */
        if (st->st_mode & 022)
                return conf_fail(err, path, 0, -EPERM,
                                 "writable by group or others (mode %04o), refused; "
                                 "run chmod go-w",
                                 (unsigned)(st->st_mode & 07777));
        return 0;
}

static int open_error(ConfError *err, const char *path, int r)
{
        if (r == -ELOOP)
                return conf_fail(err, path, 0, r, "is a symbolic link, refused");
        return conf_fail(err, path, 0, r, "cannot open: %s", strerror(-r));
}

static int conf_load_one(Conf *conf, int dirfd, const char *name, const char *path,
                         uid_t owner_uid, ConfError *err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct stat st;
        int r;

        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return open_error(err, path, -errno);
        if (fstat(fd, &st) < 0)
                return conf_fail(err, path, 0, -errno, "cannot stat: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return conf_fail(err, path, 0, -EBADFD, "not a regular file, refused");
        r = check_owner_mode(&st, owner_uid, path, err);
        if (r < 0)
                return r;
        if (st.st_size > CONF_MAX_FILE_SIZE)
                return conf_fail(err, path, 0, -EFBIG, "larger than %d bytes", CONF_MAX_FILE_SIZE);
        r = read_fd(fd, CONF_MAX_FILE_SIZE, &text, &len);
        if (r == -EFBIG)
                return conf_fail(err, path, 0, r, "larger than %d bytes", CONF_MAX_FILE_SIZE);
        if (r < 0)
                return conf_fail(err, path, 0, r, "cannot read: %s", strerror(-r));
        return conf_parse(conf, text, len, path, err);
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_dropin_name(const char *n)
{
        size_t l = strlen(n);

        return n[0] != '.' && l > 5 && streq(n + l - 5, ".conf");
}

typedef struct NameList {
        char **names;
        size_t n;
} NameList;

static void name_list_free(NameList *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->names[i]);
        free(l->names);
        l->names = NULL;
        l->n = 0;
}

static void closedirp(DIR **d)
{
        if (*d)
                (void)closedir(*d);
}

static int list_dropins(int dirfd, const char *dir, NameList *ret, ConfError *err)
{
        _cleanup_(closedirp) DIR *d = NULL;
        int fd;

        fd = dup(dirfd);
        if (fd < 0)
                return conf_fail(err, dir, 0, -errno, "cannot read: %s", strerror(errno));
        d = fdopendir(fd);
        if (!d) {
                int r = -errno;

                close(fd);
                return conf_fail(err, dir, 0, r, "cannot read: %s", strerror(-r));
        }
        for (;;) {
                struct dirent *de;
                char *copy;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return conf_fail(err, dir, 0, -errno, "cannot read: %s",
                                                 strerror(errno));
                        break;
                }
                if (!is_dropin_name(de->d_name))
                        continue;
                /* the main file counts as one */
                if (ret->n + 1 >= CONF_MAX_FILES)
                        return conf_fail(err, dir, 0, -E2BIG, "too many files (at most %d)",
                                         CONF_MAX_FILES - 1);
                if ((ret->n & 15) == 0) {
                        char **nn = realloc(ret->names, (ret->n + 16) * sizeof *nn);

                        if (!nn)
                                return conf_fail(err, dir, 0, -ENOMEM, "out of memory");
                        ret->names = nn;
                }
                copy = strdup(de->d_name);
                if (!copy)
                        return conf_fail(err, dir, 0, -ENOMEM, "out of memory");
                ret->names[ret->n++] = copy;
        }
        if (ret->n > 0)
                qsort(ret->names, ret->n, sizeof *ret->names, cmp_names);
        return 0;
}

int conf_load(Conf *conf, const char *path, uid_t owner_uid, ConfError *err)
{
        _cleanup_(name_list_free) NameList l = { 0 };
        _cleanup_close_ int dfd = -1;
        char dir[PATH_MAX], file[PATH_MAX];
        struct stat st;
        int r;

        if (!conf || !path)
                return -EINVAL;
        conf_init(conf);
        if (snprintf(dir, sizeof dir, "%s.d", path) >= (int)sizeof dir)
                return conf_fail(err, path, 0, -ENAMETOOLONG, "path too long");

        r = conf_load_one(conf, AT_FDCWD, path, path, owner_uid, err);
        if (r < 0)
                return r;

        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0) {
                if (errno == ENOENT)
                        return 0;
                if (errno == ENOTDIR)
                        /* O_DIRECTORY|O_NOFOLLOW on a symlink gives ENOTDIR or ELOOP */
                        return conf_fail(err, dir, 0, -ENOTDIR,
                                         "not a directory (or a symbolic link), refused");
                return open_error(err, dir, -errno);
        }
        if (fstat(dfd, &st) < 0)
                return conf_fail(err, dir, 0, -errno, "cannot stat: %s", strerror(errno));
        r = check_owner_mode(&st, owner_uid, dir, err);
        if (r < 0)
                return r;
        r = list_dropins(dfd, dir, &l, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l.n; i++) {
                if (snprintf(file, sizeof file, "%s/%s", dir, l.names[i]) >= (int)sizeof file)
                        return conf_fail(err, dir, 0, -ENAMETOOLONG, "path too long");
                r = conf_load_one(conf, dfd, l.names[i], file, owner_uid, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
