/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Making, emptying and removing cubby's cgroups (lib/cgroup-lifecycle.c). */
#pragma once

#include "cubby/cgroup-limits.h"
#include "cubby/cgroup.h"

/* Called as dir_walk's step when the walk creates: with dfd -1 before a
 * component is made in pfd (it must refuse, -ENOMEDIUM, where pfd is not
 * a cgroup file system of the walk's version), then for each component:
 * the parent, the component, whether the walk made it, whether it is the
 * last one. */
typedef DirWalkStep CgWalkStep;
/* Open path from "/" refusing symlinks (dir_walk); with create (step
 * required), make missing components and run step on each. The result is
 * on a cgroup file system. */
int cg_walk_dir(const char *path, bool v2, bool create, CgWalkStep step, void *arg, int *ret_fd);

/* mkdir -p the parent, mkdir the user dir (existing is fine), write limits
 * on the user dir (v2: enable the controllers in the parents'
 * cgroup.subtree_control first), then mkdir the session dir (existing is an
 * error: -EEXIST). Limits are written before any process can enter.
 * v1 cpuset dirs start empty (no task may enter): each one made here gets
 * its parent's cpuset.mems and cpuset.cpus (limits->cpus from the user dir
 * down), and every session dir of the user follows the user dir's cpus. */
int cg_create(const CgSet *user, const CgSet *session, const CgLimits *limits);

/* mkdir each dir of the set one level below its (existing) parent, with
 * no limits of its own: v1 cpuset dirs get their parent's CPUs and memory
 * nodes, v2 dirs no controllers (so a parent with processes of its own is
 * never needed). exclusive: an existing dir is an error (-EEXIST);
 * otherwise it is used as it is. What was made is removed on failure. For
 * the container's dirs below the user dir (ct, ct/init, ct/s<sid>). */
int cg_create_below(const CgSet *dirs, bool exclusive);

/* How long a teardown waits for its processes: timeout_ms by the clock,
 * then as long as every process left is certain to go, up to the cap. */
#define CG_KILL_TIMEOUT_MS 5000
#define CG_KILL_CAP_MS 60000
/* PF_EXITING of /proc/PID/stat's flags (include/linux/sched.h) */
#define CG_PF_EXITING 0x4u

/* Kill every process in the session dirs (cgroup.kill where a v2 dir has
 * it, else freeze-and-kill with the v1 freezer, else a bounded kill loop)
 * and wait until they are all empty: timeout_ms, and past it for as long
 * as every process left is exiting, a zombie or has SIGKILL pending (a
 * process that is not is killed again; one that stays so ends the wait),
 * at most cap_ms in all. -ETIMEDOUT if they do not empty. Missing dirs
 * count as empty. */
int cg_kill(const CgSet *session, unsigned timeout_ms, unsigned cap_ms);

/* From the text of /proc/PID/stat and /proc/PID/status: 1 if the process
 * is certain to go (state Z or X, PF_EXITING, SIGKILL pending for it or
 * its thread group), 0 if not, -EBADMSG. */
int cg_task_dying_text(const char *stat, const char *status);

/* For what may be older than the rule that sessions join their user dir
 * (gc's orphans): each marked entry gets the dir it had then, <user>/name
 * (nothing there is fine), never the user dir itself. Here, not in
 * lib/cgroup.c: the setuid helper has no use for it. */
int cg_set_unjoin(CgSet *set, const char *name);

/* rmdir the session dirs (missing is fine), then the user dirs if empty
 * (-EBUSY from a user dir that still has sessions is not an error).
 * Either may be NULL: session_teardown removes the session's dirs first,
 * then the user's under the user lock. */
int cg_remove(const CgSet *user, const CgSet *session);

/* 1 if any of dirs (missing ones count as empty) has a child dir, 0 if
 * none, -errno. */
int cg_has_children(const CgSet *dirs);

/* rmdir each dir of the set (missing is fine); with busy_ok a dir that
 * still has processes or children stays, and 1 is returned if one did. */
int cg_remove_dirs(const CgSet *dirs, bool busy_ok);

/* 1 if any process is in any of the dirs, 0 if none, -errno. */
int cg_populated(const CgSet *set);
