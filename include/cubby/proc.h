/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading /proc/PID/stat safely: comm may contain spaces and ')'. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* ppid (field 4) and starttime (field 22) of pid under proc_root ("/proc"). */
int proc_stat(const char *proc_root, pid_t pid, pid_t *ret_ppid, uint64_t *ret_starttime);

/* Parse the text of a stat file (exposed for unit tests). */
int proc_stat_parse(const char *text, pid_t *ret_ppid, uint64_t *ret_starttime);
