/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Addresses and CIDRs (lib/netaddr.c). No privileges, no netlink, no
 * logging. IPv4 addresses are uint32_t in host byte order. */
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

/* "a.b.c.d" for a host-order address; buf at least INET_ADDRSTRLEN. */
const char *netcfg_ipv4_str(uint32_t addr, char *buf, size_t size);

/* The subnet is usable: prefix 8..30, no host bits set. */
int netcfg_check_subnet(uint32_t subnet, unsigned prefix);
/* The gateway (the bridge's address, or in routed mode the local address of
 * every host end) is the first host of the subnet. */
static inline uint32_t netcfg_gateway(uint32_t subnet) { return subnet + 1; }
