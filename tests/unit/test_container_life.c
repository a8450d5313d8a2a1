/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The linger decision of a per-user container (ct_idle_decide, pure) and
 * its state file's text. The stop itself runs against real processes and
 * cgroups in test_container_stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cubby/container-life.h"

#define S 1000000000ULL

static CtIdleInput input(uint64_t now_s, int live, uint64_t usage_ns, uint64_t linger_s)
{
        return (CtIdleInput){ .now_ns = now_s * S, .init_start = 77, .live = live,
                              .have_usage = true, .usage_ns = usage_ns, .linger_s = linger_s,
                              .idle_cpu = 5 };
}

static void test_linger_zero(void **state)
{
        CtIdleState st = { 0 };
        CtIdleInput in = input(100, 1, 0, 0);
        (void)state;

        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_KEEP);
        in = input(105, 0, 0, 0);
        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_STOP_NOW_LINGER);
}

static void test_linger_always(void **state)
{
        CtIdleState st = { 0 };
        CtIdleInput in = input(100, 0, 0, CONF_LINGER_ALWAYS);
        (void)state;

        for (int i = 0; i < 10; i++) {
                in.now_ns = (100 + (uint64_t)i * 86400) * S;
                assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_KEEP);
        }
}

/* linger = 30s: no session and no busy sample for 30 s stops it, from
 * the last moment it was in use. */
static void test_linger_idle(void **state)
{
        CtIdleState st = { 0 };
        CtIdleInput in;
        bool busy = true;
        (void)state;

        in = input(100, 1, 0, 30);
        assert_int_equal(ct_idle_decide(&in, &st, &busy), CT_KEEP);
        assert_false(busy);
        assert_int_equal(st.active_ns, 100 * S);
        assert_int_equal(st.init_start, 77);
        /* the session ended; idle CPU (1 % of one CPU) */
        in = input(105, 0, S / 20, 30);
        assert_int_equal(ct_idle_decide(&in, &st, &busy), CT_KEEP);
        assert_false(busy);
        assert_int_equal(st.active_ns, 100 * S);
        in = input(129, 0, S / 20 + S / 10, 30);
        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_KEEP);
        in = input(130, 0, S / 20 + S / 10, 30);
        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_STOP_NOW_IDLE);
}

/* A busy sample (at or above idle_cpu) restarts the linger. */
static void test_busy_keeps(void **state)
{
        CtIdleState st = { 0 };
        CtIdleInput in;
        bool busy = false;
        (void)state;

        in = input(100, 0, 0, 10);
        assert_int_equal(ct_idle_decide(&in, &st, &busy), CT_KEEP);
        assert_false(busy); /* the first sample: no average yet */
        /* 5 s at exactly 5 % of one CPU: busy (at or above) */
        in = input(105, 0, S / 4, 10);
        assert_int_equal(ct_idle_decide(&in, &st, &busy), CT_KEEP);
        assert_true(busy);
        assert_int_equal(st.active_ns, 105 * S);
        /* 5 s at 200 % (two CPUs): busy */
        in = input(110, 0, S / 4 + 10 * S, 10);
        assert_int_equal(ct_idle_decide(&in, &st, &busy), CT_KEEP);
        assert_true(busy);
        /* just below 5 %: idle; 10 s after the last busy sample it stops */
        in = input(115, 0, S / 4 + 10 * S + S / 4 - 1, 10);
        assert_int_equal(ct_idle_decide(&in, &st, &busy), CT_KEEP);
        assert_false(busy);
        in = input(120, 0, S / 4 + 10 * S + S / 4, 10);
        assert_int_equal(ct_idle_decide(&in, &st, &busy), CT_STOP_NOW_IDLE);
        assert_false(busy);
}

/* Samples closer than CT_SAMPLE_MIN_NS make no average: the older one is
 * kept, so a burst right after a sweep is not lost. */
static void test_close_samples(void **state)
{
        CtIdleState st = { 0 };
        CtIdleInput in;
        bool busy = true;
        (void)state;

        in = input(100, 0, 0, 60);
        (void)ct_idle_decide(&in, &st, &busy);
        in = input(100, 0, S / 2, 60);
        in.now_ns += S / 2;
        (void)ct_idle_decide(&in, &st, &busy);
        assert_false(busy);
        assert_int_equal(st.sample_ns, 100 * S);
        in = input(102, 0, S / 2, 60);
        (void)ct_idle_decide(&in, &st, &busy);
        assert_true(busy); /* 0.5 s of CPU in 2 s: 25 % */
        assert_int_equal(st.sample_ns, 102 * S);
}

/* A container made and left between two sweeps, first seen after its
 * linger ran out: kept until a second sample tells whether it is busy. */
static void test_first_sample_waits(void **state)
{
        CtIdleState st = { .init_start = 77, .active_ns = 100 * S };
        CtIdleInput in = input(110, 0, 3 * S, 3);
        bool busy = true;
        (void)state;

        assert_int_equal(ct_idle_decide(&in, &st, &busy), CT_KEEP);
        assert_false(busy);
        in = input(115, 0, 5 * S, 3);
        assert_int_equal(ct_idle_decide(&in, &st, &busy), CT_KEEP);
        assert_true(busy);
        in = input(117, 0, 5 * S, 3);
        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_KEEP);
        in = input(118, 0, 5 * S, 3);
        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_STOP_NOW_IDLE);
        /* the same, idle at the second sample: stopped then */
        st = (CtIdleState){ .init_start = 77, .active_ns = 100 * S };
        in = input(110, 0, 3 * S, 3);
        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_KEEP);
        in = input(115, 0, 3 * S, 3);
        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_STOP_NOW_IDLE);
}

/* Without a CPU counter every sample is idle: linger is a plain timer. */
static void test_no_usage(void **state)
{
        CtIdleState st = { 0 };
        CtIdleInput in = input(100, 0, 0, 5);
        (void)state;

        in.have_usage = false;
        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_KEEP);
        assert_int_equal(st.sample_ns, 0);
        in.now_ns = 105 * S;
        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_STOP_NOW_IDLE);
}

/* A state of another container (a new init) or from the future (another
 * boot) starts afresh: the linger counts from now. */
static void test_state_reset(void **state)
{
        CtIdleState st = { .init_start = 5, .sample_ns = 1, .usage_ns = 1, .active_ns = 1 };
        CtIdleInput in = input(100, 0, 0, 10);
        (void)state;

        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_KEEP);
        assert_int_equal(st.init_start, 77);
        assert_int_equal(st.active_ns, 100 * S);
        st.active_ns = 500 * S;
        in.now_ns = 105 * S;
        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_KEEP);
        assert_int_equal(st.active_ns, 105 * S);
        /* a counter that went back (a new cgroup) is a first sample */
        in.now_ns = 110 * S;
        in.usage_ns = 0;
        st.usage_ns = 9 * S;
        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_KEEP);
        assert_int_equal(st.usage_ns, 0);
}

/* A live session keeps it whatever the linger, and marks it in use. */
static void test_live_keeps(void **state)
{
        CtIdleState st = { 0 };
        CtIdleInput in = input(100, 2, 0, 1);
        (void)state;

        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_KEEP);
        in.now_ns = 1000 * S;
        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_KEEP);
        assert_int_equal(st.active_ns, 1000 * S);
        in.live = 0;
        in.now_ns = 1001 * S;
        assert_int_equal(ct_idle_decide(&in, &st, NULL), CT_STOP_NOW_IDLE);
}

static void test_state_text(void **state)
{
        CtIdleState a = { .init_start = 1, .sample_ns = 2, .usage_ns = UINT64_MAX, .active_ns = 4 }, b;
        char buf[128];
        int n;
        (void)state;

        n = ct_idle_format(&a, buf, sizeof buf);
        assert_true(n > 0);
        assert_int_equal(ct_idle_parse(buf, (size_t)n, &b), 0);
        assert_memory_equal(&a, &b, sizeof a);
        assert_int_equal(ct_idle_parse("1 2 3\n", 6, &b), -EINVAL);
        assert_int_equal(ct_idle_parse("1 2 3 4 5\n", 10, &b), -EINVAL);
        assert_int_equal(ct_idle_parse("1 2 3 4", 7, &b), -EINVAL);
        assert_int_equal(ct_idle_parse("1 2 -3 4\n", 9, &b), -EINVAL);
        assert_int_equal(ct_idle_parse("1 2 x 4\n", 8, &b), -EINVAL);
        assert_int_equal(ct_idle_parse("1 2 3 99999999999999999999\n", 27, &b), -EINVAL);
        assert_int_equal(ct_idle_parse("1 2\0 3 4\n", 9, &b), -EINVAL);
        assert_int_equal(ct_idle_parse("", 0, &b), -EINVAL);
}

static void test_reason_names(void **state)
{
        (void)state;
        assert_string_equal(ct_stop_reason_name(CT_STOP_LINGER), "linger");
        assert_string_equal(ct_stop_reason_name(CT_STOP_IDLE), "idle");
        assert_string_equal(ct_stop_reason_name(CT_STOP_ADMIN), "admin");
        assert_string_equal(ct_stop_reason_name(CT_STOP_GC), "gc");
        assert_string_equal(ct_stop_reason_name(_CT_STOP_MAX), "unknown");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_linger_zero),   cmocka_unit_test(test_linger_always),
                cmocka_unit_test(test_linger_idle),   cmocka_unit_test(test_busy_keeps),
                cmocka_unit_test(test_close_samples), cmocka_unit_test(test_no_usage),
                cmocka_unit_test(test_first_sample_waits),
                cmocka_unit_test(test_state_reset),   cmocka_unit_test(test_live_keeps),
                cmocka_unit_test(test_state_text),    cmocka_unit_test(test_reason_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
