/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Where cubby's cgroups are (lib/cgroup-layout.c). */
#pragma once

#include "cubby/cgroup.h"

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

/* A session id: lowercase hex, at most 64 characters. */
bool cg_sid_ok(const char *sid);
/* The CG_CTRL_* bits of the controller names in a list separated by sep
 * ("rw,cpu,cpuacct" or "cpu io memory pids"), and the name of one bit. */
unsigned cg_ctrl_bits_of_list(const char *s, size_t len, char sep);
const char *cg_ctrl_name(unsigned bit);
