/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Moving the helper's child into the session cgroups (lib/cgroup-attach.c). */
#pragma once

#include "cubby/cgroup.h"

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
/* Whether set's v2 dir carries limits (a v2 hierarchy with controllers,
 * not the controller-less v2 hierarchy of a hybrid host, which only
 * carries membership). */
bool cg_attach_v2_limited(const CgSet *set);
/* Move the calling process into the v2 dir a holds (cgroup.procs). This
 * moves a whole thread group, so the kernel waits out an RCU grace period
 * first: milliseconds, tens of them on a busy machine. A child cloned
 * with CLONE_INTO_CGROUP does not pay it. */
int cg_attach_self_v2(const CgAttach *a);

/* Move the calling (single-threaded) process into the session dirs that
 * carry controllers: each v1 "tasks" (a self-move, microseconds) and, on
 * a v2 hierarchy with controllers, cgroup.procs (waits out an RCU grace
 * period). The controller-less v2 hierarchy of a hybrid host is left out:
 * it only carries membership for cgroup.kill. For the helper, so that the
 * supervisor's memory and pid are charged to the user. */
int cg_join(const CgSet *session);
