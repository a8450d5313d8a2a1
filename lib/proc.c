/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cubby/proc.h"
#include "cubby/util.h"

int proc_stat_parse(const char *text, pid_t *ret_ppid, uint64_t *ret_starttime)
{
        /* comm (field 2) is in parentheses and may itself contain ") ", so
         * fields are counted from the last ')'. */
        const char *p = strrchr(text, ')');
        char buf[32];
        unsigned field = 2;
        pid_t ppid = 0;
        uint64_t start = 0;
        bool have_ppid = false, have_start = false;

        if (!p)
                return -EINVAL;
        p++;
        while (*p && !have_start) {
                size_t n;

                if (*p != ' ')
                        return -EINVAL;
                p++;
                field++;
                n = strcspn(p, " \n");
                if (n == 0 || n >= sizeof buf) {
                        if (field == 4 || field == 22)
                                return -EINVAL;
                } else if (field == 4 || field == 22) {
                        memcpy(buf, p, n);
                        buf[n] = 0;
                        if (field == 4) {
                                uint64_t v;
                                if (parse_u64(buf, &v) < 0 || v > INT32_MAX)
                                        return -EINVAL;
                                ppid = (pid_t)v;
                                have_ppid = true;
                        } else {
                                if (parse_u64(buf, &start) < 0)
                                        return -EINVAL;
                                have_start = true;
                        }
                }
                p += n;
        }
        if (!have_ppid || !have_start)
                return -EINVAL;
        if (ret_ppid)
                *ret_ppid = ppid;
        if (ret_starttime)
                *ret_starttime = start;
        return 0;
}

char proc_stat_state(const char *text)
{
        const char *p = strrchr(text, ')');

        if (!p || p[1] != ' ' || !p[2] || p[3] != ' ')
                return 0;
        return p[2];
}

static int read_stat(const char *proc_root, pid_t pid, char **ret_text)
{
        char path[PATH_MAX];
        int r;

        if (pid <= 0)
                return -EINVAL;
        if (snprintf(path, sizeof path, "%s/%d/stat", proc_root, (int)pid) >= (int)sizeof path)
                return -ENAMETOOLONG;
        r = read_file_at(AT_FDCWD, path, 4096, ret_text, NULL, NULL);
        if (r == -EBADFD) /* procfs files are not S_ISREG-checked the usual way */
                r = -EINVAL;
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        return 0;
}

int proc_stat(const char *proc_root, pid_t pid, pid_t *ret_ppid, uint64_t *ret_starttime)
{
        _cleanup_free_ char *text = NULL;
        int r = read_stat(proc_root, pid, &text);

        if (r < 0)
                return r;
        return proc_stat_parse(text, ret_ppid, ret_starttime);
}

int proc_alive(const char *proc_root, pid_t pid, uint64_t starttime)
{
        _cleanup_free_ char *text = NULL;
        uint64_t start;
        int r = read_stat(proc_root, pid, &text);

        if (r == -ESRCH)
                return 0;
        if (r >= 0)
                r = proc_stat_parse(text, NULL, &start);
        if (r < 0)
                return r;
        return start == starttime && proc_stat_state(text) != 'Z';
}
