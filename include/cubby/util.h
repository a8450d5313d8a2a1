/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers shared by every part of cubby: cleanup attributes, checked
 * number parsing, whole-file I/O by fd, random ids. Nothing here logs or
 * exits; every function returns 0 (or a value) or -errno. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define CUBBY_ID_LEN 16 /* hex characters of a session or incident id */

static inline void freep(void *p) { free(*(void **)p); }
/* Resets the variable: closed early by hand, a cleanup variable must not
 * close the number again when it goes out of scope (by then another open
 * may have it: ns.c closed the syslog socket that way, and glibc's syslog
 * then closed the pty master that had reused the number). */
static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
                *fd = -1;
        }
}
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand an fd on to a new owner; the cleanup of the old variable then does
 * nothing. */
#define TAKE_FD(fd)                      \
        ({                               \
                int _fd_ = (fd);         \
                (fd) = -1;               \
                _fd_;                    \
        })
#define TAKE_PTR(p)                      \
        ({                               \
                __typeof__(p) _p_ = (p); \
                (p) = NULL;              \
                _p_;                     \
        })

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* Strict unsigned decimal: digits only, no sign, no spaces, no overflow. */
int parse_u64(const char *s, uint64_t *ret);
/* Same, then checks that the value fits in an id_t / pid_t. */
int parse_uid(const char *s, uid_t *ret);
int parse_pid(const char *s, pid_t *ret);

/* Copy with truncation refused: -ENAMETOOLONG if src does not fit. */
int strscpy(char *dst, size_t size, const char *src);

/* Read at most max bytes of a regular file opened relative to dirfd
 * (O_NOFOLLOW). NUL-terminated; -EFBIG if larger than max. With
 * ret_st, the file's stat from the same fd is returned too. */
struct stat;
int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len,
                 struct stat *ret_st);
/* Read all of an open fd (at most max). */
int read_fd(int fd, size_t max, char **ret, size_t *ret_len);

/* Write len bytes to a new file NAME in dirfd through a temp file + fsync +
 * rename, mode given, owned by the caller. */
int write_file_atomic_at(int dirfd, const char *name, const void *data, size_t len,
                         mode_t mode);
/* The same without the fsync: for runtime state (records, counts) that
 * must be all-or-nothing but need not survive a crash of the machine. */
int write_file_atomic_at_nosync(int dirfd, const char *name, const void *data, size_t len,
                                mode_t mode);

/* Write a short string to an existing file (cgroup and proc knobs). */
int write_string_at(int dirfd, const char *name, const char *s);


/* CUBBY_ID_LEN lowercase hex characters plus NUL from getrandom(). */
int random_id(char ret[CUBBY_ID_LEN + 1]);

/* true when s is 1..max characters of [A-Za-z0-9._@-] and does not start
 * with '-', '.' or '@' (user, group and service names we accept; '@' for
 * SSSD's fully qualified names, user@domain). */
bool name_is_safe(const char *s, size_t max);

/* Absolute, normalised path: starts with '/', no "//", no "." or ".."
 * component, no trailing '/', at most PATH_MAX. */
bool path_is_normalized_absolute(const char *p);

/* The one walk to a directory that refuses symlinks: path is absolute
 * (from "/") or relative to dirfd and below it. With create_mode 0 nothing
 * is made. Else missing components are made with that mode; step, if
 * given, runs before each is made (fd -1: a refusal stops the walk) and
 * for each component reached (its parent, it, whether the walk made it,
 * whether it is the last). A symlink gives -ELOOP (or -ENOTDIR when
 * creating). The caller checks owner, mode and file system. */
typedef int (*DirWalkStep)(int pfd, int fd, bool created, bool last, void *arg);
int dir_walk(int dirfd, const char *path, mode_t create_mode, DirWalkStep step, void *arg, int *ret_fd);

/* Root-only state directories (sessions, locks, run_dir): mkdir -p path
 * (each created component 0700 root) and open it; the final directory must
 * be owned by root and not accessible by group or others (mode & 077 ==
 * 0), else -EPERM. With create == false a missing dir is
 * -ENOENT. */
int session_dir_open(const char *path, bool create, int *ret_fd);

/* Each step's time since the one before, as "name:us,name:us,...": the
 * profile that session_start (the module) and container_start (the
 * helper) carry in every login's log line. A step that no longer fits is
 * left out whole, never cut. */
typedef struct {
        struct timespec last;
        char text[320];
        size_t len;
} StepTimes;
void steps_begin(StepTimes *s, const struct timespec *t0);
void steps_mark(StepTimes *s, const char *name);
