/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl/output.c: out_str() turns bytes into the valid UTF-8 that JSON
 * requires (RFC 8259, RFC 3629): valid sequences kept, each byte that is
 * not part of one replaced by U+FFFD; jansson escapes control characters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl.h"

#define FFFD "\xef\xbf\xbd"

static void expect_str(const char *in, const char *want)
{
        json_t *v = out_str(in);

        assert_non_null(v);
        assert_string_equal(json_string_value(v), want);
        json_decref(v);
}

static void test_valid_kept(void **state)
{
        expect_str("", "");
        expect_str(NULL, "");
        expect_str("127.0.0.1", "127.0.0.1");
        expect_str("caf\xc3\xa9", "caf\xc3\xa9");                  /* U+00E9 */
        expect_str("\xe2\x82\xac", "\xe2\x82\xac");                /* U+20AC */
        expect_str("\xef\xbf\xbf", "\xef\xbf\xbf");                /* U+FFFF */
        expect_str("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");        /* U+1F600 */
        expect_str("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");        /* U+10FFFF */
        expect_str("\x01\x1b\x7f", "\x01\x1b\x7f");                /* controls: jansson escapes */
}

static void test_invalid_replaced(void **state)
{
        expect_str("\x80", FFFD);                                  /* lone continuation */
        expect_str("a\xff" "b", "a" FFFD "b");
        expect_str("\xc3(", FFFD "(");                             /* lead without continuation */
        expect_str("\xc0\xaf", FFFD FFFD);                         /* overlong '/' */
        expect_str("\xc1\xbf", FFFD FFFD);
        expect_str("\xe0\x80\xaf", FFFD FFFD FFFD);                /* overlong, 3 bytes */
        expect_str("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD);       /* overlong, 4 bytes */
        expect_str("\xed\xa0\x80", FFFD FFFD FFFD);                /* surrogate U+D800 */
        expect_str("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);       /* above U+10FFFF */
        expect_str("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD);
        expect_str("x\xe2\x82", "x" FFFD FFFD);                    /* cut off at the end */
}

/* What --json prints: compact, the control bytes as \u escapes, and it
 * decodes as strict UTF-8 (each byte checked again here). */
static void test_dump(void **state)
{
        json_t *o = json_object();
        char *s;

        out_set(o, "rhost", out_str("h\x80\x01\"\\"));
        s = json_dumps(o, JSON_COMPACT);
        assert_non_null(s);
        assert_string_equal(s, "{\"rhost\":\"h" FFFD "\\u0001\\\"\\\\\"}");
        free(s);
        json_decref(o);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_kept),
                cmocka_unit_test(test_invalid_replaced),
                cmocka_unit_test(test_dump),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
