/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "cubby/host-netcfg.h"
#include "cubby/util.h"

static void test_parse_cidr(void **state)
{
        NetCidr c, d;
        char buf[NETCFG_CIDR_STRLEN];

        assert_int_equal(netcfg_parse_cidr("10.0.0.0/8", &c), 0);
        assert_int_equal(c.family, AF_INET);
        assert_int_equal(c.prefix, 8);
        assert_int_equal(netcfg_format_cidr(&c, buf, sizeof buf), 0);
        assert_string_equal(buf, "10.0.0.0/8");
        assert_int_equal(netcfg_parse_cidr("fc00::/7", &c), 0);
        assert_int_equal(c.family, AF_INET6);
        assert_int_equal(netcfg_format_cidr(&c, buf, sizeof buf), 0);
        assert_string_equal(buf, "fc00::/7");
        assert_int_equal(netcfg_parse_cidr("0.0.0.0/0", &c), 0);
        assert_int_equal(netcfg_parse_cidr("1.2.3.4/32", &c), 0);

        assert_int_equal(netcfg_parse_cidr("10.0.0.1/8", &c), -EINVAL); /* host bits */
        assert_int_equal(netcfg_parse_cidr("10.0.0.0", &c), -EINVAL);
        assert_int_equal(netcfg_parse_cidr("10.0.0.0/33", &c), -EINVAL);
        assert_int_equal(netcfg_parse_cidr("10.0.0.0/-1", &c), -EINVAL);
        assert_int_equal(netcfg_parse_cidr("10.0.0.0/ 8", &c), -EINVAL);
        assert_int_equal(netcfg_parse_cidr("10.0.0.0/0008", &c), -EINVAL);
        assert_int_equal(netcfg_parse_cidr("10.0.0/8", &c), -EINVAL);
        assert_int_equal(netcfg_parse_cidr("/8", &c), -EINVAL);
        assert_int_equal(netcfg_parse_cidr("fe80::1/10", &c), -EINVAL);
        assert_int_equal(netcfg_parse_cidr("fe80::/129", &c), -EINVAL);
        assert_int_equal(netcfg_parse_cidr("", &c), -EINVAL);
        assert_int_equal(netcfg_parse_cidr(NULL, &c), -EINVAL);

        assert_int_equal(netcfg_parse_cidr("10.0.0.0/8", &c), 0);
        assert_int_equal(netcfg_parse_cidr("10.213.0.0/16", &d), 0);
        assert_true(netcfg_cidr_contains(&c, &d));
        assert_false(netcfg_cidr_contains(&d, &c));
        assert_true(netcfg_cidr_contains(&c, &c));
        assert_int_equal(netcfg_parse_cidr("fc00::/7", &d), 0);
        assert_false(netcfg_cidr_contains(&c, &d));
}

static void test_subnet(void **state)
{
        char a[16];

        assert_int_equal(netcfg_check_subnet(0x0ad50000, 16), 0);
        assert_int_equal(netcfg_check_subnet(0x0ad50001, 16), -EINVAL);
        assert_int_equal(netcfg_check_subnet(0x0ad50000, 31), -EINVAL);
        assert_int_equal(netcfg_check_subnet(0x0a000000, 7), -EINVAL);
        assert_int_equal(netcfg_gateway(0x0ad50000), 0x0ad50001);
        assert_string_equal(netcfg_ipv4_str(0x0ad50001, a, sizeof a), "10.213.0.1");
}

static ConfGlobal global_with(const char *const *deny, size_t n)
{
        ConfGlobal g = { .subnet_addr = 0x0ad50000, .subnet_prefix = 16 };

        for (size_t i = 0; i < n; i++)
                snprintf(g.deny[i], sizeof g.deny[i], "%s", deny[i]);
        g.n_deny = n;
        return g;
}

static void test_deny_list(void **state)
{
        static const char *const deny[] = {
                "169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                "100.64.0.0/10", "fc00::/7", "fe80::/10", "10.213.0.0/16",
        };
        static const char *const expect[] = {
                "169.254.0.0/16",
                /* 10/8 less 10.213/16 */
                "10.0.0.0/9", "10.128.0.0/10", "10.224.0.0/11", "10.192.0.0/12",
                "10.216.0.0/13", "10.208.0.0/14", "10.214.0.0/15", "10.212.0.0/16",
                "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7", "fe80::/10",
                /* 10.213/16 itself: nothing */
        };
        ConfGlobal g = global_with(deny, ELEMENTSOF(deny));
        NetCidr *list = NULL, sub = netcfg_cidr_from_ipv4(0x0ad50000, 16);
        size_t n = 0;

        assert_int_equal(netcfg_deny_list(&g, &list, &n), 0);
        assert_int_equal(n, ELEMENTSOF(expect));
        for (size_t i = 0; i < n; i++) {
                char buf[NETCFG_CIDR_STRLEN];

                assert_int_equal(netcfg_format_cidr(&list[i], buf, sizeof buf), 0);
                assert_string_equal(buf, expect[i]);
                /* nothing denied overlaps the subnet */
                assert_false(netcfg_cidr_contains(&list[i], &sub));
                assert_false(netcfg_cidr_contains(&sub, &list[i]));
        }
        free(list);

        static const char *const bad[] = { "10.0.0.1/8" };
        g = global_with(bad, 1);
        assert_int_equal(netcfg_deny_list(&g, &list, &n), -EINVAL);

        g = global_with(NULL, 0);
        assert_int_equal(netcfg_deny_list(&g, &list, &n), 0);
        assert_int_equal(n, 0);
        free(list);
}

static void test_dns(void **state)
{
        const uint32_t gw = 0x0ad50001;
        NetDns d;
        char buf[512];

        /* explicit */
        assert_int_equal(netcfg_dns_resolve("1.1.1.1, 9.9.9.9", NULL, NULL, gw, &d), 0);
        assert_int_equal(d.source, NETCFG_DNS_EXPLICIT);
        assert_int_equal(d.n_servers, 2);
        assert_int_equal(d.servers[1], 0x09090909);
        assert_int_equal(netcfg_dns_resolve("1.1.1.1,", NULL, NULL, gw, &d), -EINVAL);
        assert_int_equal(netcfg_dns_resolve("", NULL, NULL, gw, &d), -EINVAL);
        assert_int_equal(netcfg_dns_resolve("2001:db8::53", NULL, NULL, gw, &d), -EINVAL);
        assert_int_equal(netcfg_dns_resolve("2001:db8::53, 198.51.100.53", NULL, NULL, gw, &d), 0);
        assert_int_equal(d.n_servers, 1);
        assert_int_equal(d.servers[0], 0xc6336435);
        assert_int_equal(netcfg_dns_resolve("127.0.0.1", NULL, NULL, gw, &d), -EINVAL);
        assert_int_equal(netcfg_dns_resolve("1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4", NULL, NULL, gw, &d),
                         -EINVAL);
        assert_int_equal(netcfg_dns_resolve("1.1.1.1\nnameserver 2.2.2.2", NULL, NULL, gw, &d),
                         -EINVAL);

        /* auto, plain host resolv.conf */
        assert_int_equal(netcfg_dns_resolve("auto",
                                            "# x\nsearch lab.example\nnameserver 203.0.113.53\n"
                                            "nameserver fe80::1%eth0\nnameserver 203.0.113.54\n",
                                            NULL, gw, &d),
                         0);
        assert_int_equal(d.source, NETCFG_DNS_HOST);
        assert_int_equal(d.n_servers, 2);
        assert_int_equal(d.servers[0], 0xcb007135);
        assert_string_equal(d.search, "lab.example");
        assert_int_equal(netcfg_resolv_conf_format(&d, buf, sizeof buf), 0);
        assert_non_null(strstr(buf, "nameserver 203.0.113.53\nnameserver 203.0.113.54\nsearch lab.example\n"));

        /* systemd-resolved stub: the upstream servers */
        assert_int_equal(netcfg_dns_resolve("auto", "nameserver 127.0.0.53\noptions edns0\nsearch a.example\n",
                                            "nameserver 198.51.100.53\nsearch b.example\n", gw, &d),
                         0);
        assert_int_equal(d.source, NETCFG_DNS_UPSTREAM);
        assert_int_equal(d.n_servers, 1);
        assert_int_equal(d.servers[0], 0xc6336435);
        assert_string_equal(d.search, "a.example");

        /* loopback only and no upstream file: the gateway */
        assert_int_equal(netcfg_dns_resolve("auto", "nameserver 127.0.0.1\n", NULL, gw, &d), 0);
        assert_int_equal(d.source, NETCFG_DNS_GATEWAY);
        assert_int_equal(d.servers[0], gw);
        assert_int_equal(netcfg_dns_resolve("auto", NULL, NULL, gw, &d), 0);
        assert_int_equal(d.source, NETCFG_DNS_GATEWAY);

        /* a hostile search line is dropped, not copied */
        assert_int_equal(netcfg_dns_resolve("auto", "nameserver 203.0.113.53\nsearch a;b\n", NULL, gw, &d),
                         0);
        assert_string_equal(d.search, "");
        assert_int_equal(netcfg_resolv_conf_format(&d, buf, 10), -ENOBUFS);

        /* only three servers are kept */
        assert_int_equal(netcfg_dns_resolve("auto",
                                            "nameserver 1.1.1.1\nnameserver 1.1.1.2\n"
                                            "nameserver 1.1.1.3\nnameserver 1.1.1.4\n",
                                            NULL, gw, &d),
                         0);
        assert_int_equal(d.n_servers, 3);
}

static void test_state(void **state)
{
        NetState st;
        char buf[NETCFG_STATE_MAX];

        /* what cubbyctl wrote before network_mode existed: bridge */
        assert_int_equal(netcfg_state_parse("cubby-net 1\nbridge_created 1\nip_forward 0\n", &st), 0);
        assert_true(st.bridge_created);
        assert_int_equal(st.ip_forward, 0);
        assert_int_equal(st.mode, CONF_NET_MODE_BRIDGE);
        st = (NetState){ .bridge_created = false, .ip_forward = -1, .mode = CONF_NET_MODE_ROUTED };
        assert_int_equal(netcfg_state_format(&st, buf, sizeof buf), 0);
        assert_string_equal(buf, "cubby-net 1\nbridge_created 0\nip_forward -1\nmode routed\n");
        st = (NetState){ 0 };
        assert_int_equal(netcfg_state_parse(buf, &st), 0);
        assert_int_equal(st.mode, CONF_NET_MODE_ROUTED);
        assert_int_equal(st.ip_forward, -1);
        assert_int_equal(netcfg_state_parse("cubby-net 1\nbridge_created 0\nip_forward 1\nmode bridge\n", &st), 0);
        assert_int_equal(st.mode, CONF_NET_MODE_BRIDGE);
        assert_int_equal(netcfg_state_format(&st, buf, 20), -ENOBUFS);
        assert_int_equal(netcfg_state_parse("cubby-net 1\nbridge_created 0\nip_forward 1\nmode nat\n", &st), -EBADMSG);
        assert_int_equal(netcfg_state_parse("cubby-net 1\nbridge_created 0\nip_forward 1\nmode routed", &st), -EBADMSG);
        assert_int_equal(netcfg_state_parse("cubby-net 1\nbridge_created 2\nip_forward 1\n", &st), -EBADMSG);
        assert_int_equal(netcfg_state_parse("cubby-net 1\nbridge_created 0\nip_forward 1", &st), -EBADMSG);
        assert_int_equal(netcfg_state_parse("cubby-net 2\nbridge_created 0\nip_forward 1\n", &st), -EBADMSG);
        assert_int_equal(netcfg_state_parse("", &st), -EBADMSG);
        assert_int_equal(netcfg_state_parse(NULL, &st), -EBADMSG);
        /* what sscanf took: signs, spaces, wrap-around */
        assert_int_equal(netcfg_state_parse("cubby-net 1\nbridge_created +1\nip_forward 1\n", &st), -EBADMSG);
        assert_int_equal(netcfg_state_parse("cubby-net 1\nbridge_created  1\nip_forward 1\n", &st), -EBADMSG);
        assert_int_equal(netcfg_state_parse("cubby-net 1\nbridge_created 4294967297\nip_forward 1\n", &st),
                         -EBADMSG);
        assert_int_equal(netcfg_state_parse("cubby-net 1\nbridge_created 0\nip_forward 01\n", &st), -EBADMSG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_cidr),
                cmocka_unit_test(test_subnet),
                cmocka_unit_test(test_deny_list),
                cmocka_unit_test(test_dns),
                cmocka_unit_test(test_state),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
