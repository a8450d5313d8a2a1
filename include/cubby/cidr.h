/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPv4 and IPv6 CIDRs (lib/cidr.c). No privileges, no logging. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct NetCidr {
        int family;                           /* AF_INET or AF_INET6 */
        uint8_t addr[16];                     /* network byte order; IPv4 uses addr[0..3] */
        unsigned prefix;
} NetCidr;

#define NETCFG_CIDR_STRLEN (INET6_ADDRSTRLEN + 4)

/* "10.0.0.0/8", "fc00::/7": strict, prefix required, host bits must be 0. */
int netcfg_parse_cidr(const char *s, NetCidr *ret);
int netcfg_format_cidr(const NetCidr *c, char *buf, size_t size);
/* true when every address of inner is in outer (same family). */
bool netcfg_cidr_contains(const NetCidr *outer, const NetCidr *inner);
NetCidr netcfg_cidr_from_ipv4(uint32_t addr, unsigned prefix);
