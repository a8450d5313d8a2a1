/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>

#include "cubby/user-policy.h"
#include "cubby/util.h"

#define MAX_GROUPS 1024

/* The largest group entry read: a "students" group of a big course lists
 * every member, tens of thousands of names. */
#define GROUP_BUF_MAX ((size_t)16 * 1024 * 1024)

/* The name of gid into *ret (malloc'd); 0 with *ret NULL when the gid has
 * no name. Any other failure is an error, never "no name": a group that
 * could not be read must not quietly leave its members unsandboxed (an
 * entry larger than the buffer gives ERANGE, so the buffer grows). */
int user_group_name(gid_t gid, char **ret)
{
        size_t size = 16384;

        *ret = NULL;
        for (;;) {
                struct group gr, *res = NULL;
                _cleanup_free_ char *buf = malloc(size);
                int r;

                if (!buf)
                        return -ENOMEM;
                r = getgrgid_r(gid, &gr, buf, size, &res);
                if (r == ERANGE && size < GROUP_BUF_MAX) {
                        size *= 4;
                        continue;
                }
                if (r != 0)
                        return -r;
                if (!res)
                        return 0;
                *ret = strdup(gr.gr_name);
                return *ret ? 0 : -ENOMEM;
        }
}

/* The user's groups by name (primary first). */
static int user_groups(const struct passwd *pw, char ***ret, size_t *ret_n)
{
        gid_t gids[MAX_GROUPS];
        int n = MAX_GROUPS;
        char **names;
        size_t k = 0;

        if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &n) < 0)
                return -E2BIG;
        names = calloc((size_t)n + 1, sizeof *names);
        if (!names)
                return -ENOMEM;
        *ret = names;
        for (int i = 0; i < n; i++) {
                int r = user_group_name(gids[i], &names[k]);

                if (r < 0) {
                        *ret_n = k;
                        return r;
                }
                if (names[k])
                        k++;
        }
        *ret_n = k;
        return 0;
}

static void free_groups(char **g)
{
        if (!g)
                return;
        for (char **p = g; *p; p++)
                free(*p);
        free(g);
}

static bool in_list(char *const *list, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(list[i], s) == 0)
                        return true;
        return false;
}

int user_policy(const Conf *conf, const char *admin_group, const struct passwd *pw, bool *ret_admin,
                ConfPolicy *ret_pol, const ConfSection **ret_sources)
{
        char **groups = NULL;
        size_t n_groups = 0;
        int r;

        r = user_groups(pw, &groups, &n_groups);
        if (r < 0) {
                free_groups(groups);
                return r;
        }
        *ret_admin = pw->pw_uid == 0 || in_list(groups, n_groups, admin_group);
        if (conf)
                conf_resolve(conf, pw->pw_name, (const char *const *)groups, n_groups, ret_pol,
                             ret_sources);
        else
                memset(ret_pol, 0, sizeof *ret_pol);
        free_groups(groups);
        return 0;
}
