/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include "cubby/host-nftcheck.h"
#include "cubby/util.h"

#define NAME_MAX_LEN 64 /* NFT_TABLE_MAXNAMELEN - 1 */

_Static_assert((int)NFT_FAMILY_INET == (int)NFPROTO_INET && (int)NFT_FAMILY_BRIDGE == (int)NFPROTO_BRIDGE &&
                       (int)NFT_FAMILY_IPV4 == (int)NFPROTO_IPV4,
               "NFT_FAMILY_* are the NFPROTO_* values");

int nft_table_present(int family, const char *name)
{
        struct {
                struct nlmsghdr nh;
                struct nfgenmsg nf;
                struct nlattr attr;
                char name[NAME_MAX_LEN + 8];
        } req;
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        struct timeval tv = { .tv_sec = 2 };
        _cleanup_close_ int fd = -1;
        union {
                char buf[8192];
                struct nlmsghdr align;
        } rsp;
        size_t nlen;
        int present = -EPROTO;

        nlen = name ? strlen(name) : 0;
        if (nlen == 0 || nlen > NAME_MAX_LEN)
                return -EINVAL;
        memset(&req, 0, sizeof req);
        req.attr.nla_type = NFTA_TABLE_NAME;
        req.attr.nla_len = (unsigned short)(NLA_HDRLEN + nlen + 1);
        memcpy(req.name, name, nlen + 1);
        req.nh.nlmsg_len = (unsigned)(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof req.nf) + NLA_ALIGN(req.attr.nla_len));
        req.nh.nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
        req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        req.nh.nlmsg_seq = 1;
        req.nf.nfgen_family = (unsigned char)family;
        req.nf.version = NFNETLINK_V0;

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
        if (fd < 0)
                return -errno;
        /* never hang a login on it */
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
                return -errno;
        if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
                return -errno;

        /* The table (NFT_MSG_NEWTABLE) then the ack, or one error. */
        for (;;) {
                ssize_t n = recv(fd, rsp.buf, sizeof rsp.buf, 0);
                size_t len;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                len = (size_t)n;
                for (struct nlmsghdr *h = &rsp.align; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
                        if (h->nlmsg_seq != 1)
                                continue;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = NLMSG_DATA(h);

                                if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
                                        return -EPROTO;
                                if (e->error == 0)
                                        return present == 1 ? 1 : -EPROTO; /* the ack */
                                return e->error == -ENOENT ? 0 : e->error;
                        }
                        if (h->nlmsg_type == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE))
                                present = 1;
                }
        }
}
