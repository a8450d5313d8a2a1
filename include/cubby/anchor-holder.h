/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting, holding and stopping the anchor holder (lib/anchor-holder.c). */
#pragma once

#include "cubby/cgroup.h"

/* anchor_open, creating the holder first if there is none. cg_parent_dirs:
 * cgroup directories (one per hierarchy) below which the holder is moved
 * into an "anchor" cgroup, so that no session scope kill takes it along;
 * may be NULL. holder_exe: a program to exec as the holder (cubbyctl,
 * which runs anchor_hold() for "__anchor"), so that it is not a copy of
 * sshd or su; NULL or a failed exec: the forked process holds it. */
int anchor_ensure(const char *run_dir, const CgSet *cg_parent_dirs, const char *holder_exe,
                  int *ret_nsfd);

/* The holder's life, in the process that is to hold the anchor: reports
 * its pid (or -errno) on report_fd (a socket), waits there for the byte 'k'
 * that anchor_ensure sends once the holder is recorded (EOF first: it
 * exits), then sleeps forever. */
_Noreturn void anchor_hold(int report_fd);

/* Stop the holder (the overlays go with its namespace), remove its record
 * and its "anchor" cgroups below cg_parent_dirs (may be NULL; removed also
 * when there is no record, if empty). For gc, when no session is left. 1 if
 * a holder was recorded (and is stopped now), 0 if there was none. */
int anchor_stop(const char *run_dir, const CgSet *cg_parent_dirs);
