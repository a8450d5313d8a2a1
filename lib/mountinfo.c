/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "cubby/mountinfo.h"
#include "cubby/util.h"

/* The kernel writes space, tab, newline and backslash as \ooo. */
static int unescape(char *s)
{
        char *o = s;

        for (char *i = s; *i; i++, o++) {
                *o = *i;
                if (*i != '\\')
                        continue;
                if (i[1] < '0' || i[1] > '3' || i[2] < '0' || i[2] > '7' || i[3] < '0' || i[3] > '7')
                        return -EINVAL;
                *o = (char)((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
                i += 3;
        }
        *o = 0;
        return 0;
}

int mountinfo_parse_line(char *line, MountInfo *ret)
{
        char *f[64];
        size_t n = 0, sep = 0;

        /* strsep, not strtok: an empty source stays a field of its own */
        while (line && n < ELEMENTSOF(f)) {
                f[n] = strsep(&line, " ");
                if (n >= 6 && !sep && strcmp(f[n], "-") == 0)
                        sep = n;
                n++;
        }
        if (!sep || sep + 3 >= n || parse_u64(f[0], &ret->id) < 0 || parse_u64(f[1], &ret->parent_id) < 0 ||
            unescape(f[3]) < 0 || unescape(f[4]) < 0)
                return -EINVAL;
        ret->root = f[3];
        ret->mnt = f[4];
        ret->fstype = f[sep + 1];
        ret->super_opts = f[sep + 3];
        return 0;
}
