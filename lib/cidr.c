/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPv4 and IPv6 CIDRs: strict parsing, text, containment. Pure. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cubby/cidr.h"
#include "cubby/util.h"

static void cidr_mask(NetCidr *c)
{
        unsigned bits = c->family == AF_INET ? 32 : 128;

        for (unsigned i = 0; i < bits / 8; i++) {
                unsigned first = i * 8;

                if (first >= c->prefix)
                        c->addr[i] = 0;
                else if (first + 8 > c->prefix)
                        c->addr[i] &= (uint8_t)(0xff << (8 - (c->prefix - first)));
        }
}

int netcfg_parse_cidr(const char *s, NetCidr *ret)
{
        char buf[INET6_ADDRSTRLEN];
        const char *slash;
        uint64_t prefix;
        NetCidr c = { 0 }, masked;
        size_t n;

        if (!s)
                return -EINVAL;
        slash = strchr(s, '/');
        if (!slash)
                return -EINVAL;
        n = (size_t)(slash - s);
        if (n == 0 || n >= sizeof buf)
                return -EINVAL;
        memcpy(buf, s, n);
        buf[n] = 0;
        if (inet_pton(AF_INET, buf, c.addr) == 1)
                c.family = AF_INET;
        else if (inet_pton(AF_INET6, buf, c.addr) == 1)
                c.family = AF_INET6;
        else
                return -EINVAL;
        /* parse_u64 refuses signs, spaces and empty strings; bound the
         * length so "/0000000000024" cannot sneak through either. */
        if (strlen(slash + 1) > 3 || parse_u64(slash + 1, &prefix) < 0)
                return -EINVAL;
        if (prefix > (c.family == AF_INET ? 32u : 128u))
                return -EINVAL;
        c.prefix = (unsigned)prefix;
        masked = c;
        cidr_mask(&masked);
        if (memcmp(masked.addr, c.addr, sizeof c.addr) != 0)
                return -EINVAL; /* host bits set: almost always a typo */
        *ret = c;
        return 0;
}

int netcfg_format_cidr(const NetCidr *c, char *buf, size_t size)
{
        char a[INET6_ADDRSTRLEN];

        if (!inet_ntop(c->family, c->addr, a, sizeof a))
                return -errno;
        if (snprintf(buf, size, "%s/%u", a, c->prefix) >= (int)size)
                return -ENOBUFS;
        return 0;
}

bool netcfg_cidr_contains(const NetCidr *outer, const NetCidr *inner)
{
        NetCidr t;

        if (outer->family != inner->family || outer->prefix > inner->prefix)
                return false;
        t = *inner;
        t.prefix = outer->prefix;
        cidr_mask(&t);
        return memcmp(t.addr, outer->addr, sizeof t.addr) == 0;
}

NetCidr netcfg_cidr_from_ipv4(uint32_t addr, unsigned prefix)
{
        NetCidr c = { .family = AF_INET, .prefix = prefix };
        uint32_t be = htonl(addr);

        memcpy(c.addr, &be, 4);
        return c;
}
