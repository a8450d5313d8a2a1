/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-container network, set up by the helper's parent (euid 0) after
 * clone3 of the container child, which is in a fresh network namespace:
 * a veth pair, the host end "cb<addr in hex>" on the bridge (port isolated,
 * up), the peer created directly in the child's namespace as eth0 (up);
 * then lo up, the leased address on eth0 and the default route via the
 * gateway, sent as one batch on one netlink socket opened inside the child's
 * namespace. Routed mode (network_mode = routed) has no bridge: the host end
 * gets the gateway address with the container's address as point-to-point
 * peer (so the kernel routes that /32 through it), and eth0 the container's
 * address with the gateway as peer; no bridge port, so no port limit. When the container ends, the kernel deletes the pair with the
 * namespace. Addresses are IPv4, host byte order. Nothing here logs; every
 * function returns 0 or -errno. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#define NET_IFNAME_SIZE 16 /* IFNAMSIZ */

/* The host end's name for a leased address: "cb" + 8 hex digits. Unique as
 * long as the lease is. */
int net_host_ifname(uint32_t addr, char ret[NET_IFNAME_SIZE]);

/* child: a child of the caller (not yet reaped, so its pid is stable) whose
 * net namespace differs from the caller's. bridge: the bridge's name, or
 * NULL for routed mode. addr/prefix: the leased address; gateway: the
 * bridge's address (routed: the host ends' address). On failure nothing is left behind on the
 * host. ret_host_ifname may be NULL. */
int net_setup_veth(pid_t child, const char *bridge, uint32_t addr, unsigned prefix,
                   uint32_t gateway, char ret_host_ifname[NET_IFNAME_SIZE]);

/* Bring lo up in the child's namespace, from the caller (one setns hop
 * there and back), and nothing else. The helper does not use it: with
 * network = none the container's child brings up its own loopback
 * (sbx_loopback_up); tests/net/netprobe does. */
int net_setup_loopback(pid_t child);

/* Delete the host end named host_ifname: -EINVAL unless the name is "cb"
 * and a valid interface name, -ENODEV if there is no such link, -EEXIST if
 * the link is not a veth (it is left alone). Nothing in the tree calls it:
 * cubbyctl gc does not remove veths, the kernel deletes each pair with its
 * container's namespace, and net_setup_veth removes a stale host end of
 * its own address itself. */
int net_remove_veth(const char *host_ifname);
