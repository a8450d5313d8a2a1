/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting, holding and stopping the anchor holder (lib/anchor-holder.c). */
#pragma once

#include "cubby/cgroup.h"

/* anchor_open, creating the holder first if there is none. cg_parent_dirs:
 * cgroup directories (one per hierarchy) below which the holder is moved
 * into an "anchor" cgroup, so that no session scope kill takes it along;
 * may be NULL. holder_exe: a program to exec as the holder (cubbyctl,
 * which runs anchor_hold() for "__anchor"), so that it is not a copy of
 * sshd or su; NULL or a failed exec: the forked process holds it (and runs
 * no tick). config: the policy path the holder's tick reads ("--config
 * PATH"), or NULL for cubbyctl's default. */
int anchor_ensure(const char *run_dir, const CgSet *cg_parent_dirs, const char *holder_exe,
                  const char *config, int *ret_nsfd);

/* What a tick returns: 0, or ANCHOR_TICK_ORPHANED when <run_dir>/anchor no
 * longer names the holder (the run dir was wiped): the holder exits then,
 * since nothing could find or stop it any more. */
#define ANCHOR_TICK_ORPHANED 1
#define ANCHOR_TICK_S 5
/* a tick running longer is killed (SIGALRM) */
#define ANCHOR_TICK_MAX_S 300
typedef int (*AnchorTick)(void *userdata);

/* The holder's life, in the process that is to hold the anchor: reports
 * its pid (or -errno) on report_fd (a socket), waits there for the byte 'k'
 * that anchor_ensure sends once the holder is recorded (EOF first: it
 * exits), then sleeps forever; with tick, it wakes every ANCHOR_TICK_S to
 * run tick(userdata) in a child of its own (signals at their defaults,
 * SIGKILLed if the holder dies, at most ANCHOR_TICK_MAX_S). */
_Noreturn void anchor_hold(int report_fd, AnchorTick tick, void *userdata);

/* Stop the holder (the overlays go with its namespace), remove its record
 * and its "anchor" cgroups below cg_parent_dirs (may be NULL; removed also
 * when there is no record, if empty). For gc, when no session is left. 1 if
 * a holder was recorded (and is stopped now), 0 if there was none. */
int anchor_stop(const char *run_dir, const CgSet *cg_parent_dirs);
