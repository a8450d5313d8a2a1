/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one parser of /proc/PID/mountinfo lines, for the cgroup layout and
 * the helper's staging namespace. */
#pragma once

#include <stdint.h>

typedef struct MountInfo {
        uint64_t id, parent_id;
        char *root, *mnt;        /* unescaped */
        char *fstype, *super_opts;
} MountInfo;

/* Split one line ("id parent maj:min root mountpoint opts [optional...] -
 * fstype source superopts") in place; its strings point into line.
 * -EINVAL for a line that is not of that form or has a bad \ooo escape. */
int mountinfo_parse_line(char *line, MountInfo *ret);
