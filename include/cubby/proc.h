/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading /proc/PID/stat safely: comm may contain spaces and ')'. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* ppid (field 4) and starttime (field 22) of pid under proc_root ("/proc"). */
int proc_stat(const char *proc_root, pid_t pid, pid_t *ret_ppid, uint64_t *ret_starttime);

/* Whether pid (under proc_root) is still the process that started at
 * starttime and has not exited: 1 yes; 0 when it is gone, is a later
 * process, or is a zombie (it runs no code and holds nothing any more; its
 * parent, or init when the parent died, may take a while to reap it);
 * -errno when /proc cannot say. */
int proc_alive(const char *proc_root, pid_t pid, uint64_t starttime);

/* The state (field 3: 'R', 'S', 'Z', ...) of a stat file's text, or 0. */
char proc_stat_state(const char *text);

/* Parse the text of a stat file (exposed for unit tests). */
int proc_stat_parse(const char *text, pid_t *ret_ppid, uint64_t *ret_starttime);
