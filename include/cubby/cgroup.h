/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubby's cgroup directories (lib/cgroup.c): the types every cgroup file
 * shares, the path checks, the walk by fd, the record form.
 *
 * cubby's cgroup subtree: <parent>/u<uid>/s<session> in every hierarchy
 * cubby uses. Limits live on the user level (all of one user's sessions
 * together); the session level is for kill and accounting, except for
 * memory: a session has no memory cgroup of its own (a v1 memory
 * hierarchy: its entry is the user dir, marked CG_DIR_USER; v2: the user
 * dir does not enable memory for its children). Each memory cgroup that
 * goes offline walks every list_lru of the host (one per super block, and
 * every sandbox mounts several) holding the cgroup mutex, and with
 * thousands of sandboxes held that made every login and logout wait.
 *
 * Layouts handled (detected from /proc/self/mountinfo):
 *  - pure v2: one hierarchy, controllers cpu memory pids;
 *  - v1: one hierarchy per controller (cpu, memory, pids, cpuset; freezer for
 *    freeze-and-kill);
 *  - hybrid: the v1 controllers plus the controller-less v2 "unified"
 *    hierarchy, which then carries membership and cgroup.kill.
 * Nothing here logs; every function returns 0 or -errno. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cubby/util.h"

#define CG_MAX_DIRS 8
#define CG_ROOT "/sys/fs/cgroup"

enum {
        CG_CTRL_CPU = 1u << 0,
        CG_CTRL_MEMORY = 1u << 1,
        CG_CTRL_PIDS = 1u << 2,
        CG_CTRL_FREEZER = 1u << 3,   /* v1 only */
        CG_CTRL_NONE_V2 = 1u << 4,   /* the controller-less v2 hierarchy of a hybrid host */
        CG_CTRL_CPUSET = 1u << 5,    /* v1 only (on v2, cpuset is enabled when cpus is set) */
};
#define CG_CTRL_LIMITS (CG_CTRL_CPU | CG_CTRL_MEMORY | CG_CTRL_PIDS)
#define CG_CTRL_ALL (CG_CTRL_LIMITS | CG_CTRL_FREEZER | CG_CTRL_NONE_V2 | CG_CTRL_CPUSET)
/* Not a controller: in a session's (or a container's) set, this entry is
 * the user dir itself, which the session joins and never makes, kills,
 * waits for or removes (a v1 hierarchy of memory alone). */
#define CG_DIR_USER (1u << 6)

typedef struct CgDir {
        bool v2;
        unsigned ctrl;               /* CG_CTRL_* this hierarchy carries for cubby */
        char path[PATH_MAX];         /* absolute directory, e.g. /sys/fs/cgroup/memory/cubby/u1001/s0123... */
} CgDir;

static inline bool cg_dir_at_user(const CgDir *d)
{
        return d->ctrl & CG_DIR_USER;
}

/* Whether a session's entry in a hierarchy of this kind is its user dir:
 * a v1 hierarchy that carries memory and nothing else cubby uses (and
 * only where cg_set_joins_user says the set has other hierarchies). */
static inline bool cg_hier_at_user(bool v2, unsigned ctrl)
{
        return !v2 && (ctrl & CG_CTRL_ALL) == CG_CTRL_MEMORY;
}

/* One directory per hierarchy used. */
typedef struct CgSet {
        size_t n;
        CgDir dir[CG_MAX_DIRS];
} CgSet;

/* Record form: "v2:ctrlbits:/path" or "v1:ctrlbits:/path" (one per dir);
 * parse checks that the path is absolute, normalised and under
 * /sys/fs/cgroup/. */
int cg_dir_format(const CgDir *d, char *buf, size_t size);
int cg_dir_parse(const char *s, CgDir *ret);

/* An absolute, normalised path below /sys/fs/cgroup/ without control
 * characters. */
bool cg_path_ok(const char *p);
/* -EINVAL unless every path of the set passes cg_path_ok. */
int cg_set_check(const CgSet *set);
/* Whether a session of a host with these hierarchies joins its user dir in
 * those of cg_hier_at_user's kind: only where another hierarchy gives it
 * dirs of its own, which its kill and teardown work through. */
bool cg_set_joins_user(const CgSet *set);
/* set with "/suffix" appended to each dir, but for the entries that are
 * their user's dir: marked ones, and user dirs (u<uid>) of a hierarchy
 * where a session's entry is the user dir; those are marked in ret and
 * keep their path. */
int cg_set_append(const CgSet *set, const char *suffix, CgSet *ret);

/* 0 if fd is on a cgroup file system of that version, -ENOMEDIUM if not. */
int cg_fd_is_cgroupfs(int fd, bool v2);

/* Open a checked directory from "/" refusing symlinks (dir_walk), creating
 * nothing; it must be on a cgroup file system. */
int cg_dir_open(const CgDir *d, int *ret_fd);
