/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPv4 addresses and subnets (lib/netaddr.c). No privileges, no netlink,
 * no logging. IPv4 addresses are uint32_t in host byte order; CIDRs of
 * either family are in cidr.h. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* "a.b.c.d" for a host-order address; buf at least INET_ADDRSTRLEN. */
const char *netcfg_ipv4_str(uint32_t addr, char *buf, size_t size);

/* The subnet is usable: prefix 8..30, no host bits set. */
int netcfg_check_subnet(uint32_t subnet, unsigned prefix);
/* The gateway (the bridge's address, or in routed mode the local address of
 * every host end) is the first host of the subnet. */
static inline uint32_t netcfg_gateway(uint32_t subnet) { return subnet + 1; }
