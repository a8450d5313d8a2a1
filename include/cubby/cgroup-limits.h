/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The limits on a user's cgroup directories (lib/cgroup-limits.c). */
#pragma once

#include "cubby/cgroup.h"

typedef struct CgLimits {
        uint64_t cpu_milli;          /* UINT64_MAX: no limit */
        uint64_t memory;             /* bytes; UINT64_MAX: no limit */
        uint64_t swap;               /* bytes; UINT64_MAX: no limit */
        uint64_t pids;               /* UINT64_MAX: no limit */
        const char *cpus;            /* cpuset list ("0-3,6"); NULL or "": not set */
} CgLimits;

/* Write limits on an existing user dir (used by cg_create). */
int cg_set_limits(const CgSet *user, const CgLimits *limits);

/* For cg_create (cgroup-lifecycle.c). -EOPNOTSUPP if no hierarchy of set
 * can enforce a limit that l asks for. */
int cg_limits_enforceable(const CgSet *set, const CgLimits *l);
/* Write l on the open user dir dfd of hierarchy d (cpus_on_v2: the CPU list
 * goes to a v2 cpuset, as no v1 cpuset hierarchy is in use). */
int cg_limits_dir(int dfd, const CgDir *d, const CgLimits *l, bool cpus_on_v2);
bool cg_set_has_v1_cpuset(const CgSet *set);
/* v2: switch cubby's controllers in want on for dfd's children. */
int cg_enable_controllers(int dfd, unsigned want);
/* v1 cpuset: give the child dfd its parent pfd's mems and cpus (always,
 * or only when it has no CPUs yet and was not just created). */
int cg_cpuset_v1_inherit(int pfd, int dfd);
int cg_cpuset_v1_fill_if_empty(int pfd, int dfd, bool created);
/* v1 cpuset: load balancing off in the dir dfd that cubby just made (no
 * CPUs yet), where an ancestor from pfd up balances its CPUs; setting
 * them then does not rebuild the host's scheduler domains. */
int cg_cpuset_v1_balance_off(int pfd, int dfd);
