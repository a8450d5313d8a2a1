/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl/output.c: out_str() turns bytes into the valid UTF-8 that JSON
 * requires (RFC 8259, RFC 3629): valid sequences kept, each byte that is
 * not part of one replaced by U+FFFD; jansson escapes control characters.
 * cubbyctl/ct-output.c: a per-user container as JSON, as a row of list's
 * containers table and as show's key=value lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <stdio.h>
#include <time.h>

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

static void test_age(void **state)
{
        char b[32];

        assert_string_equal(ctl_age(b, sizeof b, -5), "0s");
        assert_string_equal(ctl_age(b, sizeof b, 0), "0s");
        assert_string_equal(ctl_age(b, sizeof b, 59), "59s");
        assert_string_equal(ctl_age(b, sizeof b, 60), "1m00s");
        assert_string_equal(ctl_age(b, sizeof b, 3599), "59m59s");
        assert_string_equal(ctl_age(b, sizeof b, 3600 + 4 * 60 + 59), "1h04m");
        assert_string_equal(ctl_age(b, sizeof b, 86399), "23h59m");
        assert_string_equal(ctl_age(b, sizeof b, 2 * 86400 + 5 * 3600 + 7), "2d05h");
}

/* A container of uid 1001 created at 2026-01-02 03:04:05 UTC. */
static void ct_example(CtlContainer *ct)
{
        memset(ct, 0, sizeof *ct);
        ct->rec.version = 1;
        ct->rec.uid = 1001;
        ct->rec.gid = 1001;
        strcpy(ct->rec.user, "alice");
        ct->rec.init_pid = 4242;
        ct->rec.created = 1767323045;
        ct->rec.addr = 0x0ad50005; /* 10.213.0.5 */
        ct->rec.cgroup.n = 2;
        strcpy(ct->rec.cgroup.dir[0].path, "/sys/fs/cgroup/memory/cubby/u1001/ct");
        strcpy(ct->rec.cgroup.dir[1].path, "/sys/fs/cgroup/pids/cubby/u1001/ct");
        strcpy(ct->rec.home, "/home/alice");
        strcpy(ct->rec.shell, "/bin/bash");
        ct->procs = 3;
        ct->cpu_ms = -1;
        ct->memory_bytes = 1048576;
}

static json_t *ids(const char *a, const char *b)
{
        json_t *v = json_array();

        if (a)
                out_append(v, out_str(a));
        if (b)
                out_append(v, out_str(b));
        return v;
}

static void test_ct_json(void **state)
{
        CtlContainer ct;
        json_t *row;
        char *s;

        ct_example(&ct);
        row = ctl_ct_row(&ct, ids("00112233445566ff", "8899aabbccddeeff"), 1767323045 + 3725);
        s = json_dumps(row, JSON_COMPACT);
        assert_non_null(s);
        assert_string_equal(s,
                "{\"kind\":\"container\",\"container\":\"u1001\",\"user\":\"alice\","
                "\"uid\":1001,\"state\":\"running\",\"alive\":true,\"reason\":\"\","
                "\"init_pid\":4242,\"started\":\"2026-01-02T03:04:05\",\"age_s\":3725,"
                "\"address\":\"10.213.0.5\","
                "\"sessions\":[\"00112233445566ff\",\"8899aabbccddeeff\"],"
                "\"processes\":3,\"cpu_ms\":null,\"memory_bytes\":1048576,"
                "\"home\":\"/home/alice\",\"shell\":\"/bin/bash\","
                "\"cgroup\":[\"/sys/fs/cgroup/memory/cubby/u1001/ct\","
                "\"/sys/fs/cgroup/pids/cubby/u1001/ct\"]}");
        free(s);
        json_decref(row);

        /* stale: the init gone; no lease; unknown counters; a created time
         * ahead of the clock is age 0, not negative */
        ct.alive = -ESRCH;
        ct.rec.addr = 0;
        ct.procs = ct.memory_bytes = -1;
        row = ctl_ct_row(&ct, NULL, 1767323045 - 10);
        assert_string_equal(out_get_str(row, "state"), "stale");
        assert_false(out_get_bool(row, "alive"));
        assert_string_equal(out_get_str(row, "reason"), "init gone");
        assert_string_equal(out_get_str(row, "address"), "-");
        assert_int_equal(out_get_int(row, "age_s"), 0);
        assert_true(json_is_null(json_object_get(row, "processes")));
        assert_true(json_is_null(json_object_get(row, "memory_bytes")));
        assert_int_equal(json_array_size(json_object_get(row, "sessions")), 0);
        json_decref(row);

        ct.alive = -ESTALE;
        row = ctl_ct_row(&ct, NULL, 0);
        assert_string_equal(out_get_str(row, "reason"), "namespaces differ");
        json_decref(row);
}

/* What f printed, as a string (the caller frees). */
static char *printed(void (*fn)(FILE *, const json_t *), const json_t *v)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        assert_non_null(f);
        fn(f, v);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void test_ct_text(void **state)
{
        CtlContainer ct;
        json_t *rows = json_array(), *row;
        char *s;

        /* no container: no table at all (list as for login containers) */
        s = printed(ctl_ct_table, rows);
        assert_string_equal(s, "");
        free(s);

        ct_example(&ct);
        out_append(rows, ctl_ct_row(&ct, ids("00112233445566ff", NULL), 1767323045 + 125));
        ct.rec.uid = 1002;
        strcpy(ct.rec.user, "b\x01" "b");
        ct.alive = -ESRCH;
        ct.rec.addr = 0;
        ct.procs = -1;
        ct.memory_bytes = -1;
        out_append(rows, ctl_ct_row(&ct, NULL, 1767323045 + 2 * 86400));
        s = printed(ctl_ct_table, rows);
        assert_string_equal(s,
                "CONTAINER  USER            UID    INIT STARTED             AGE    STATE   "
                "ADDRESS         SESSIONS PROCS   CPU_MS MEMORY\n"
                "u1001      alice          1001    4242 2026-01-02T03:04:05 2m05s  running "
                "10.213.0.5             1     3        - 1048576\n"
                "u1002      b\\x01b         1002    4242 2026-01-02T03:04:05 2d00h  stale   "
                "-                      0     -        - -\n");
        free(s);

        row = json_array_get(rows, 0);
        s = printed(ctl_ct_fields, row);
        assert_string_equal(s,
                "container=u1001\nuser=alice\nuid=1001\nstate=running\ninit_pid=4242\n"
                "started=2026-01-02T03:04:05\nage_s=125\naddress=10.213.0.5\nprocesses=3\n"
                "cpu_ms=-\nmemory_bytes=1048576\nhome=/home/alice\nshell=/bin/bash\n"
                "sessions=00112233445566ff\n"
                "cgroup=/sys/fs/cgroup/memory/cubby/u1001/ct\n"
                "cgroup=/sys/fs/cgroup/pids/cubby/u1001/ct\n");
        free(s);
        s = printed(ctl_ct_fields, json_array_get(rows, 1));
        assert_non_null(strstr(s, "user=b\\x01b\nuid=1002\nstate=stale\nreason=\"init gone\"\n"));
        assert_non_null(strstr(s, "\nprocesses=-\n"));
        assert_non_null(strstr(s, "\nsessions=-\n"));
        free(s);
        json_decref(rows);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_valid_kept),
                cmocka_unit_test(test_invalid_replaced),
                cmocka_unit_test(test_dump),
                cmocka_unit_test(test_age),
                cmocka_unit_test(test_ct_json),
                cmocka_unit_test(test_ct_text),
        };

        /* the started column in local time: UTC here */
        setenv("TZ", "UTC", 1);
        tzset();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
