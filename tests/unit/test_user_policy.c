/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/user-policy.c against this machine's NSS: the groups looked up once
 * (user_groups_get) are the ones getgrouplist gives, primary first, each
 * with its getgrgid name; the policy matched from them (user_policy_of) is
 * what user_policy, which looks them up itself, gives. Unprivileged. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cubby/conf.h"
#include "cubby/user-policy.h"

static UserGroups groups;

static const struct passwd *me(void)
{
        const struct passwd *pw = getpwuid(getuid());

        if (!pw) {
                print_message("SKIP: this uid has no passwd entry\n");
                exit(77);
        }
        return pw;
}

static void test_groups_as_getgrouplist(void **state)
{
        const struct passwd *pw = me();
        gid_t want[USER_GROUPS_MAX];
        int n = USER_GROUPS_MAX;

        (void)state;
        assert_int_equal(user_groups_get(pw, &groups), 0);
        assert_true(getgrouplist(pw->pw_name, pw->pw_gid, want, &n) >= 0);
        assert_int_equal(groups.n, (size_t)n);
        assert_int_equal(groups.gids[0], pw->pw_gid);
        for (size_t i = 0; i < groups.n; i++) {
                const struct group *gr = getgrgid(groups.gids[i]);

                assert_int_equal(groups.gids[i], want[i]);
                if (gr)
                        assert_string_equal(groups.names[i], gr->gr_name);
                else
                        assert_null(groups.names[i]);
        }
        user_groups_done(&groups);
        assert_int_equal(groups.n, 0);
}

/* The primary group's name as admin_group makes the user an admin; a name
 * no group has does not (unless the user is root). */
static void test_admin_from_groups(void **state)
{
        const struct passwd *pw = me();
        ConfPolicy pol;
        bool admin = false, admin2 = false;

        (void)state;
        assert_int_equal(user_groups_get(pw, &groups), 0);
        if (!groups.names[0]) {
                user_groups_done(&groups);
                skip();
        }
        assert_int_equal(user_policy_of(NULL, groups.names[0], pw, &groups, &admin, &pol, NULL), 0);
        assert_true(admin);
        assert_int_equal(user_policy_of(NULL, "cubby-no-such-group", pw, &groups, &admin, &pol, NULL),
                         0);
        assert_int_equal(admin, pw->pw_uid == 0);
        assert_int_equal(user_policy(NULL, "cubby-no-such-group", pw, &admin2, &pol, NULL), 0);
        assert_int_equal(admin, admin2);
        user_groups_done(&groups);
}

/* A [group NAME] section for the user's primary group applies through the
 * shared lookup exactly as through user_policy; without a policy
 * (conf NULL) the result is all zero. */
static void test_policy_from_groups(void **state)
{
        const struct passwd *pw = me();
        char text[256];
        ConfPolicy a, b, zero;
        ConfError e;
        Conf c;
        bool admin;

        (void)state;
        assert_int_equal(user_groups_get(pw, &groups), 0);
        if (!groups.names[0]) {
                user_groups_done(&groups);
                skip();
        }
        snprintf(text, sizeof text, "[default]\nsandbox = no\n[group %s]\nsandbox = yes\n",
                 groups.names[0]);
        conf_init(&c);
        memset(&e, 0, sizeof e);
        assert_int_equal(conf_parse(&c, text, strlen(text), "t.conf", &e), 0);
        assert_int_equal(user_policy_of(&c, "cubby-no-such-group", pw, &groups, &admin, &a, NULL), 0);
        assert_true(a.sandbox);
        assert_int_equal(user_policy(&c, "cubby-no-such-group", pw, &admin, &b, NULL), 0);
        assert_memory_equal(&a, &b, sizeof a);
        memset(&zero, 0, sizeof zero);
        assert_int_equal(user_policy_of(NULL, "cubby-no-such-group", pw, &groups, &admin, &a, NULL), 0);
        assert_memory_equal(&a, &zero, sizeof a);
        conf_free(&c);
        user_groups_done(&groups);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_groups_as_getgrouplist),
                cmocka_unit_test(test_admin_from_groups),
                cmocka_unit_test(test_policy_from_groups),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
