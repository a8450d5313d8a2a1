/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Is an nftables table there? One netlink request (NFT_MSG_GETTABLE), no
 * libnftables: the PAM module asks this at every login that uses the
 * network, so that a ruleset flushed behind cubby's back (Debian's
 * /etc/nftables.conf starts with `flush ruleset`) is put back by the next
 * login instead of leaving sandboxes unisolated. */
#pragma once

/* The NFPROTO_* values of <linux/netfilter.h>, which cannot be included
 * next to <netinet/in.h>. */
enum {
        NFT_FAMILY_IPV4 = 2,
        NFT_FAMILY_INET = 1,
        NFT_FAMILY_BRIDGE = 7,
};

/* 1: the table exists in the caller's network namespace; 0: it does not;
 * < 0: -errno (the question could not be asked). */
int nft_table_present(int family, const char *name);
