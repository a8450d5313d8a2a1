/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/host-nftcheck.c against the real kernel: root, in a network namespace of
 * this test's own (unshare(CLONE_NEWNET): docs/TESTING.md, rule 1, never the
 * machine's), with tables made and removed by nft(8). Exits 77 when not
 * root or nft is missing. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cubby/host-nftcheck.h"

static void nft(const char *cmd)
{
        char line[256];

        snprintf(line, sizeof line, "nft '%s'", cmd);
        assert_int_equal(system(line), 0);
}

static void test_absent_then_present(void **state)
{
        /* a fresh namespace has no table at all */
        assert_int_equal(nft_table_present(NFT_FAMILY_INET, "cubby"), 0);
        assert_int_equal(nft_table_present(NFT_FAMILY_BRIDGE, "cubby"), 0);

        nft("add table inet cubby");
        assert_int_equal(nft_table_present(NFT_FAMILY_INET, "cubby"), 1);
        /* the family is part of the name */
        assert_int_equal(nft_table_present(NFT_FAMILY_BRIDGE, "cubby"), 0);
        assert_int_equal(nft_table_present(NFT_FAMILY_IPV4, "cubby"), 0);
        /* and the name is matched whole */
        assert_int_equal(nft_table_present(NFT_FAMILY_INET, "cubb"), 0);
        assert_int_equal(nft_table_present(NFT_FAMILY_INET, "cubby2"), 0);

        nft("add table bridge cubby");
        assert_int_equal(nft_table_present(NFT_FAMILY_BRIDGE, "cubby"), 1);

        /* what Debian's nftables.conf does first */
        nft("flush ruleset");
        assert_int_equal(nft_table_present(NFT_FAMILY_INET, "cubby"), 0);
        assert_int_equal(nft_table_present(NFT_FAMILY_BRIDGE, "cubby"), 0);
}

static void test_bad_names(void **state)
{
        char longname[80];

        memset(longname, 'a', sizeof longname - 1);
        longname[sizeof longname - 1] = 0;
        assert_int_equal(nft_table_present(NFT_FAMILY_INET, ""), -EINVAL);
        assert_int_equal(nft_table_present(NFT_FAMILY_INET, NULL), -EINVAL);
        assert_int_equal(nft_table_present(NFT_FAMILY_INET, longname), -EINVAL);
}

static void test_many_tables(void **state)
{
        /* the answer is found among other tables, repeatedly */
        for (int i = 0; i < 20; i++) {
                char cmd[64];

                snprintf(cmd, sizeof cmd, "add table inet other%d", i);
                nft(cmd);
        }
        nft("add table inet cubby");
        for (int i = 0; i < 200; i++)
                assert_int_equal(nft_table_present(NFT_FAMILY_INET, "cubby"), 1);
        nft("delete table inet cubby");
        assert_int_equal(nft_table_present(NFT_FAMILY_INET, "cubby"), 0);
        nft("flush ruleset");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_absent_then_present),
                cmocka_unit_test(test_bad_names),
                cmocka_unit_test(test_many_tables),
        };

        if (geteuid() != 0) {
                fprintf(stderr, "SKIP: needs root (a network namespace of its own)\n");
                return 77;
        }
        if (system("command -v nft >/dev/null 2>&1") != 0) {
                fprintf(stderr, "SKIP: nft is not installed\n");
                return 77;
        }
        if (unshare(CLONE_NEWNET) < 0) {
                fprintf(stderr, "cannot make a network namespace: %s\n", strerror(errno));
                return 1;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
