/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test-only fault injection (meson -Dfault_injection=true).
 *
 * CUBBY_FAULT("helper.clone3") names a step of the helper, the PAM module
 * or the library code they call. In a normal build it compiles to nothing.
 * In a fault build, a point fires when the root-owned spec file
 * <rundir>/fault (regular, owner 0, not group/other-writable, opened
 * O_NOFOLLOW below a root-owned run dir) names it:
 *
 *     <point> abort|exit|kill
 *
 * A firing point first appends its name to <rundir>/fault.hit (root-only),
 * then abort()s, _exit(1)s, or dies of SIGKILL (a pid namespace's PID 1,
 * which the kernel shields from its own signals, dies of a forced trap
 * instead: no handler and no cleanup either way). The spec is read once
 * per process, at its first point (or CUBBY_FAULT_PREPARE), so that the
 * container's child, which can no longer see the run dir, still fires.
 * Never from the environment: the helper is setuid and the user owns its
 * environment.
 *
 * A fault build must never run where it matters: the helper refuses to run
 * setuid and pam_cubby refuses every session unless the kernel command
 * line holds cubby.fault_injection=1 (only the test VM's runner passes it).
 */
#pragma once

#include "cubby-build.h"

#if CUBBY_FAULT_INJECTION

void fault_point(const char *name);
/* Read the spec now, if this process has not yet: before a CLONE_VM child
 * whose points would otherwise read it first and leave the number of an
 * fd that only the child has in the memory both share. */
void fault_prepare(void);
/* 0 when the kernel command line holds cubby.fault_injection=1, else -EPERM. */
int fault_guard(void);
/* fault_guard() for a process that runs setuid (AT_SECURE or euid != ruid);
 * 0 for one that does not. */
int fault_guard_setuid(void);

#define CUBBY_FAULT(name) fault_point(name)
#define CUBBY_FAULT_PREPARE() fault_prepare()

#else

#define CUBBY_FAULT(name) \
        do {              \
        } while (0)
#define CUBBY_FAULT_PREPARE() \
        do {                  \
        } while (0)
static inline int fault_guard(void)
{
        return 0;
}
static inline int fault_guard_setuid(void)
{
        return 0;
}

#endif
