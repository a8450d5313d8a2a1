/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who a user is to cubby: an admin or not, and the policy that applies.
 * The PAM module enforces it and `cubbyctl explain` shows it, through this
 * one function, so that the two cannot disagree. */
#pragma once

#include <pwd.h>
#include <stdbool.h>

#include "cubby/conf.h"

/* *ret_admin: pw is root or a member of admin_group (never sandboxed, so an
 * admin gets in even with a broken policy). *ret_pol (and ret_sources, if
 * given): what conf resolves for pw's name and groups; all zero when conf
 * is NULL (the policy could not be read). Groups are matched by name: a
 * gid without a name matches no section and is left out; a group entry
 * that cannot be read (larger than 16 MiB, or an NSS error) is an error,
 * so that the caller refuses rather than leaving the group's members
 * unsandboxed. Returns 0, or -E2BIG (more groups than cubby reads),
 * -ENOMEM, -errno of the group lookup. */
/* The name of gid from NSS into *ret (malloc'd); 0 with *ret NULL when the
 * gid has no name; -errno when the entry cannot be read (ERANGE grows the
 * buffer up to 16 MiB: a course group lists every member). */
int user_group_name(gid_t gid, char **ret);

/* The groups the user gets at login (getgrouplist, primary first), each
 * with its NSS name (NULL: the gid has none). Looked up once per login:
 * the policy matches the names, the record carries gids and names. */
#define USER_GROUPS_MAX 1024
typedef struct UserGroups {
        size_t n;
        gid_t gids[USER_GROUPS_MAX];
        char *names[USER_GROUPS_MAX];
} UserGroups;

/* -E2BIG (more than USER_GROUPS_MAX), or user_group_name's error (then
 * nothing is kept). Free the names with user_groups_done. */
int user_groups_get(const struct passwd *pw, UserGroups *ret);
void user_groups_done(UserGroups *g);

/* user_policy with groups already looked up by user_groups_get. */
int user_policy_of(const Conf *conf, const char *admin_group, const struct passwd *pw,
                   const UserGroups *g, bool *ret_admin, ConfPolicy *ret_pol,
                   const ConfSection **ret_sources);

int user_policy(const Conf *conf, const char *admin_group, const struct passwd *pw, bool *ret_admin,
                ConfPolicy *ret_pol, const ConfSection **ret_sources);
