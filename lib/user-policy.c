/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>

#include "cubby/user-policy.h"

#define MAX_GROUPS 1024

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
        for (int i = 0; i < n; i++) {
                struct group gr, *res = NULL;
                char buf[16384];

                if (getgrgid_r(gids[i], &gr, buf, sizeof buf, &res) != 0 || !res)
                        continue;
                names[k] = strdup(gr.gr_name);
                if (!names[k])
                        break;
                k++;
        }
        *ret = names;
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
