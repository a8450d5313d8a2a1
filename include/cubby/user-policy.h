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

int user_policy(const Conf *conf, const char *admin_group, const struct passwd *pw, bool *ret_admin,
                ConfPolicy *ret_pol, const ConfSection **ret_sources);
