/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubby's cgroup subtree: <parent>/u<uid>/s<session> in every hierarchy
 * cubby uses. Limits live on the user level (all of one user's sessions
 * together); the session level is for kill and accounting.
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

#define CG_MAX_DIRS 8

enum {
        CG_CTRL_CPU = 1u << 0,
        CG_CTRL_MEMORY = 1u << 1,
        CG_CTRL_PIDS = 1u << 2,
        CG_CTRL_FREEZER = 1u << 3,   /* v1 only */
        CG_CTRL_NONE_V2 = 1u << 4,   /* the controller-less v2 hierarchy of a hybrid host */
        CG_CTRL_CPUSET = 1u << 5,    /* v1 only (on v2, cpuset is enabled when cpus is set) */
};

typedef struct CgDir {
        bool v2;
        unsigned ctrl;               /* CG_CTRL_* this hierarchy carries for cubby */
        char path[PATH_MAX];         /* absolute directory, e.g. /sys/fs/cgroup/memory/cubby/u1001/s0123... */
} CgDir;

/* One directory per hierarchy used. */
typedef struct CgSet {
        size_t n;
        CgDir dir[CG_MAX_DIRS];
} CgSet;

typedef struct CgLimits {
        uint64_t cpu_milli;          /* UINT64_MAX: no limit */
        uint64_t memory;             /* bytes; UINT64_MAX: no limit */
        uint64_t swap;               /* bytes; UINT64_MAX: no limit */
        uint64_t pids;               /* UINT64_MAX: no limit */
        const char *cpus;            /* cpuset list ("0-3,6"); NULL or "": not set */
} CgLimits;

/* The user and session directories for (parent_spec, uid, session id) in
 * every hierarchy of this host. parent_spec is an absolute cgroup path
 * ("/cubby") or one starting with "./", relative to the cgroup that pid is
 * in, in each hierarchy (read from /proc/PID/cgroup). sid is the session id
 * (hex). Pure lookup: creates nothing. */
int cg_paths(const char *parent_spec, pid_t pid, uid_t uid, const char *sid, CgSet *ret_user,
             CgSet *ret_session);
/* The pure part of cg_paths, exposed for unit tests: the text of
 * /proc/self/mountinfo, of /proc/PID/cgroup (only needed for "./" specs)
 * and of the v2 mount's root cgroup.controllers (NULL: none). pid 0 in
 * cg_paths means the caller. */
int cg_paths_from_text(const char *mountinfo, const char *proc_cgroup, const char *v2_controllers,
                       const char *parent_spec, uid_t uid, const char *sid, CgSet *ret_user,
                       CgSet *ret_session);

/* mkdir -p the parent, mkdir the user dir (existing is fine), write limits
 * on the user dir (v2: enable the controllers in the parents'
 * cgroup.subtree_control first), then mkdir the session dir (existing is an
 * error: -EEXIST). Limits are written before any process can enter.
 * v1 cpuset dirs start empty (no task may enter): each one made here gets
 * its parent's cpuset.mems and cpuset.cpus (limits->cpus from the user dir
 * down), and every session dir of the user follows the user dir's cpus. */
int cg_create(const CgSet *user, const CgSet *session, const CgLimits *limits);

/* Write limits on an existing user dir (used by cg_create). */
int cg_set_limits(const CgSet *user, const CgLimits *limits);

/* Kill every process in the session dirs (cgroup.kill where a v2 dir has
 * it, else freeze-and-kill with the v1 freezer, else a bounded kill loop)
 * and wait, at most timeout_ms, until they are all empty. -ETIMEDOUT if
 * not. Missing dirs count as empty. */
int cg_kill(const CgSet *session, unsigned timeout_ms);

/* rmdir the session dirs (missing is fine), then the user dirs if empty
 * (-EBUSY from a user dir that still has sessions is not an error). */
int cg_remove(const CgSet *user, const CgSet *session);

/* 1 if any process is in any of the dirs, 0 if none, -errno. */
int cg_populated(const CgSet *set);

/* For the helper. Before clone3: opens the v2 dir (O_DIRECTORY, for
 * CLONE_INTO_CGROUP; -1 when there is none) and the "tasks" file of each
 * v1 dir for writing. */
typedef struct CgAttach {
        int v2_fd;
        int v1_fds[CG_MAX_DIRS];
        size_t n_v1;
} CgAttach;
int cg_attach_open(const CgSet *session, CgAttach *ret);
/* In the still single-threaded child, while it is still kuid 0: write "0"
 * into each v1 tasks fd (moves the caller), then close them. */
int cg_attach_self_v1(CgAttach *a);
void cg_attach_close(CgAttach *a);

/* Move the calling (single-threaded) process into the session dirs that
 * carry controllers: each v1 "tasks" (a self-move, microseconds) and, on
 * a v2 hierarchy with controllers, cgroup.procs (waits out an RCU grace
 * period). The controller-less v2 hierarchy of a hybrid host is left out:
 * it only carries membership for cgroup.kill. For the helper, so that the
 * supervisor's memory and pid are charged to the user. */
int cg_join(const CgSet *session);

/* Record form: "v2:ctrlbits:/path" or "v1:ctrlbits:/path" (one per dir);
 * parse checks that the path is absolute, normalised and under
 * /sys/fs/cgroup/. */
int cg_dir_format(const CgDir *d, char *buf, size_t size);
int cg_dir_parse(const char *s, CgDir *ret);
