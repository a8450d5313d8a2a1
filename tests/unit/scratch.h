/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A scratch directory for the unit tests that work on real files: made
 * with mkdtemp (0700, the caller's), removed with everything in it without
 * following a symlink. */
#pragma once

#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* tmpl: "/tmp/NAME-XXXXXX", filled in. Returns an O_DIRECTORY fd, or -1. */
static inline int scratch_make(char *tmpl)
{
        if (!mkdtemp(tmpl))
                return -1;
        return open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static inline int scratch_rm_entry(const char *path, const struct stat *st, int type,
                                   struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* 0, or -1 with errno set. */
static inline int scratch_remove(const char *dir)
{
        return nftw(dir, scratch_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
