/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPv4 addresses and subnets as numbers and text. Pure. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cubby/netaddr.h"

const char *netcfg_ipv4_str(uint32_t addr, char *buf, size_t size)
{
        if (snprintf(buf, size, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255,
                     (addr >> 8) & 255, addr & 255) >= (int)size && size)
                buf[0] = 0;
        return buf;
}

int netcfg_check_subnet(uint32_t subnet, unsigned prefix)
{
        if (prefix < 8 || prefix > 30)
                return -EINVAL;
        if (subnet & ~(UINT32_MAX << (32 - prefix)))
                return -EINVAL;
        return 0;
}
