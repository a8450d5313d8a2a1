/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>

#include "cubby/user-policy.h"
#include "cubby/util.h"

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

int user_groups_get(const struct passwd *pw, UserGroups *ret)
{
        int n = USER_GROUPS_MAX;

        ret->n = 0;
        if (getgrouplist(pw->pw_name, pw->pw_gid, ret->gids, &n) < 0)
                return -E2BIG;
        for (int i = 0; i < n; i++) {
                int r = user_group_name(ret->gids[i], &ret->names[i]);

                if (r < 0) {
                        user_groups_done(ret);
                        return r;
                }
                ret->n++;
        }
        return 0;
}

void user_groups_done(UserGroups *g)
{
        for (size_t i = 0; i < g->n; i++) {
                free(g->names[i]);
                g->names[i] = NULL;
        }
        g->n = 0;
}

static bool in_list(const char *const *list, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(list[i], s) == 0)
                        return true;
        return false;
}

int user_policy_of(const Conf *conf, const char *admin_group, const struct passwd *pw,
                   const UserGroups *g, bool *ret_admin, ConfPolicy *ret_pol,
                   const ConfSection **ret_sources)
{
        const char *names[USER_GROUPS_MAX];
        size_t n = 0;

        /* matched by name: a gid without one matches no section */
        for (size_t i = 0; i < g->n; i++)
                if (g->names[i])
                        names[n++] = g->names[i];
        *ret_admin = pw->pw_uid == 0 || in_list(names, n, admin_group);
        if (conf)
                conf_resolve(conf, pw->pw_name, names, n, ret_pol, ret_sources);
        else
                memset(ret_pol, 0, sizeof *ret_pol);
        return 0;
}

int user_policy(const Conf *conf, const char *admin_group, const struct passwd *pw, bool *ret_admin,
                ConfPolicy *ret_pol, const ConfSection **ret_sources)
{
        UserGroups *g = calloc(1, sizeof *g);
        int r;

        if (!g)
                return -ENOMEM;
        r = user_groups_get(pw, g);
        if (r >= 0)
                r = user_policy_of(conf, admin_group, pw, g, ret_admin, ret_pol, ret_sources);
        user_groups_done(g);
        free(g);
        return r;
}
