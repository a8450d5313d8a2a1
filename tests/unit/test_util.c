/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cubby/log.h"
#include "cubby/util.h"

static void test_parse_u64(void **state)
{
        uint64_t v;
        uid_t u;
        pid_t p;

        assert_int_equal(parse_u64("0", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(parse_u64("18446744073709551615", &v), 0);
        assert_int_equal(v, UINT64_MAX);
        assert_int_equal(parse_u64("18446744073709551616", &v), -ERANGE);
        assert_int_equal(parse_u64("", &v), -EINVAL);
        assert_int_equal(parse_u64("-1", &v), -EINVAL);
        assert_int_equal(parse_u64(" 1", &v), -EINVAL);
        assert_int_equal(parse_u64("1x", &v), -EINVAL);
        assert_int_equal(parse_uid("4294967295", &u), -ERANGE);
        assert_int_equal(parse_uid("1000", &u), 0);
        assert_int_equal(u, 1000);
        assert_int_equal(parse_pid("0", &p), -ERANGE);
        assert_int_equal(parse_pid("2147483648", &p), -ERANGE);
}

static void test_names_and_paths(void **state)
{
        assert_true(name_is_safe("alice", 64));
        assert_true(name_is_safe("a.b-c_d1", 64));
        assert_false(name_is_safe("", 64));
        assert_false(name_is_safe("-rf", 64));
        assert_false(name_is_safe("..", 64));
        assert_false(name_is_safe("a/b", 64));
        assert_false(name_is_safe("a\nb", 64));
        assert_false(name_is_safe("abcdef", 5));
        assert_true(path_is_normalized_absolute("/"));
        assert_true(path_is_normalized_absolute("/home/alice"));
        assert_true(path_is_normalized_absolute("/a/.hidden/..x"));
        assert_false(path_is_normalized_absolute("home"));
        assert_false(path_is_normalized_absolute("/home/"));
        assert_false(path_is_normalized_absolute("/home//a"));
        assert_false(path_is_normalized_absolute("/home/./a"));
        assert_false(path_is_normalized_absolute("/home/.."));
        assert_false(path_is_normalized_absolute("/../etc"));
}

static void test_log_escape(void **state)
{
        char buf[64];

        assert_string_equal(log_escape(buf, sizeof buf, "alice"), "alice");
        assert_string_equal(log_escape(buf, sizeof buf, ""), "\"\"");
        assert_string_equal(log_escape(buf, sizeof buf, "a b"), "\"a b\"");
        assert_string_equal(log_escape(buf, sizeof buf, "x\nevent=fake"), "x\\x0aevent\\x3dfake");
        assert_string_equal(log_escape(buf, sizeof buf, "q\"\\"), "q\\x22\\x5c");
        memset(buf, 0, sizeof buf);
        log_escape(buf, 16, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        assert_true(strlen(buf) < 16);
        assert_non_null(strstr(buf, "..."));
}

static void test_random_id(void **state)
{
        char a[CUBBY_ID_LEN + 1], b[CUBBY_ID_LEN + 1];

        assert_int_equal(random_id(a), 0);
        assert_int_equal(random_id(b), 0);
        assert_int_equal(strlen(a), CUBBY_ID_LEN);
        assert_string_not_equal(a, b);
        assert_int_equal(strspn(a, "0123456789abcdef"), CUBBY_ID_LEN);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_u64),
                cmocka_unit_test(test_names_and_paths),
                cmocka_unit_test(test_log_escape),
                cmocka_unit_test(test_random_id),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
