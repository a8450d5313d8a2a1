/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-container veth over rtnetlink, built with libmnl. Runs in the helper's
 * parent with euid 0. Its inputs are the lease (an address the helper took
 * from ipam), the bridge name from the root-owned config (none in routed
 * mode), and the pid of the helper's own child: nothing here comes from the
 * user. libmnl rather than libnl: libnl's constructors read NLSYSCONFDIR,
 * NLDBG and NLCB before main() and open $NLSYSCONFDIR/classid as root in a
 * setuid process; libmnl has no constructor and reads no environment.
 * Errors are the kernel's own errnos (from NLMSG_ERROR) or the socket
 * call's errno, returned as -errno. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "veth.h"
#include "cubby/util.h"

/* A batch: up to four requests sent in one datagram. The kernel handles the
 * messages of one datagram in order and answers each; the answers are
 * collected after the send. Every request here is far below NL_MSG_MAX (the
 * largest, the veth, is under 200 bytes): a message is written first and
 * checked after, so the buffer keeps NL_MSG_MAX of room behind the limit. */
#define NL_MSG_MAX 1024
#define NL_BATCH_LIMIT 2048
#define NL_BATCH_MAX 4

typedef struct NlBatch {
        union {
                struct nlmsghdr align;
                char buf[NL_BATCH_LIMIT + NL_MSG_MAX];
        } u;
        size_t len, n;
        uint32_t seq0;
        bool overflow;
} NlBatch;

/* One socket and its sequence numbers. */
typedef struct Nl {
        struct mnl_socket *sk;
        uint32_t portid, seq;
} Nl;

/* Called for an answer that is not an NLMSG_ERROR (the reply to a GET). */
typedef int (*nl_reply_fn)(const struct nlmsghdr *nlh, void *data);

static void nl_close(Nl *nl)
{
        if (nl->sk)
                mnl_socket_close(nl->sk);
        nl->sk = NULL;
}

#define _cleanup_nl_ _cleanup_(nl_close)

/* A netlink socket stays bound to the netns it was made in. */
static int nl_open(Nl *ret)
{
        struct mnl_socket *sk = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);

        if (!sk)
                return -errno;
        if (mnl_socket_bind(sk, 0, MNL_SOCKET_AUTOPID) < 0) {
                int r = -errno;

                mnl_socket_close(sk);
                return r;
        }
        ret->sk = sk;
        ret->portid = mnl_socket_get_portid(sk);
        ret->seq = 1;
        return 0;
}

static void batch_init(NlBatch *b, Nl *nl)
{
        b->len = b->n = 0;
        b->overflow = false;
        b->seq0 = nl->seq;
}

/* A new request at the end of the batch; the caller appends the family
 * header (mnl_nlmsg_put_extra_header() zeroes it) and the attributes. */
static struct nlmsghdr *batch_add(NlBatch *b, uint16_t type, uint16_t flags)
{
        struct nlmsghdr *nlh;

        if (b->n >= NL_BATCH_MAX || b->len >= NL_BATCH_LIMIT) {
                b->overflow = true;
                /* Written into the slack and never sent. */
                b->len = NL_BATCH_LIMIT;
        }
        nlh = mnl_nlmsg_put_header(b->u.buf + b->len);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
        nlh->nlmsg_seq = b->seq0 + (uint32_t)b->n;
        return nlh;
}

/* Closes the request that batch_add() began. */
static void batch_end(NlBatch *b, const struct nlmsghdr *nlh)
{
        if (b->overflow || nlh->nlmsg_len > NL_MSG_MAX || b->len + nlh->nlmsg_len > NL_BATCH_LIMIT) {
                b->overflow = true;
                return;
        }
        b->len += nlh->nlmsg_len;
        b->n++;
}

/* Send the batch, then read one answer per request: the error code of an
 * NLMSG_ERROR (0 is an ack), or a reply handed to fn. Every answer is read
 * even after an error (a stale one left in the socket would answer the next
 * request); the first error is returned. */
static int nl_transact(Nl *nl, NlBatch *b, nl_reply_fn fn, void *data)
{
        union {
                struct nlmsghdr align;
                char buf[8192];
        } rx;
        size_t answered = 0;
        int first = 0;

        if (b->overflow)
                return -EMSGSIZE;
        nl->seq += (uint32_t)b->n;
        if (mnl_socket_sendto(nl->sk, b->u.buf, b->len) < 0)
                return -errno;
        while (answered < b->n) {
                ssize_t n = mnl_socket_recvfrom(nl->sk, rx.buf, sizeof rx.buf);
                int len;

                if (n < 0)
                        return first < 0 ? first : -errno;
                len = (int)n;
                for (const struct nlmsghdr *h = &rx.align; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
                        int r = 0;

                        /* Only answers to this batch count. */
                        if (h->nlmsg_pid != nl->portid || h->nlmsg_seq - b->seq0 >= b->n)
                                continue;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

                                if (h->nlmsg_len < mnl_nlmsg_size(sizeof *e))
                                        r = -EBADMSG;
                                else
                                        r = e->error <= 0 ? e->error : -EIO;
                        } else if (h->nlmsg_type >= NLMSG_MIN_TYPE && fn) {
                                r = fn(h, data);
                        } else {
                                continue;
                        }
                        answered++;
                        if (r < 0 && first == 0)
                                first = r;
                }
        }
        return first;
}

int net_host_ifname(uint32_t addr, char ret[NET_IFNAME_SIZE])
{
        snprintf(ret, NET_IFNAME_SIZE, "cb%08x", addr);
        return 0;
}

/* Our netns and the child's, opened once; refuses a child that shares ours
 * (we would be configuring the host's own namespace). */
static int open_netns(pid_t child, int *ret_self, int *ret_child)
{
        _cleanup_close_ int self = -1, other = -1;
        char path[64];
        struct stat a, b;

        if (child <= 0)
                return -EINVAL;
        self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return -errno;
        snprintf(path, sizeof path, "/proc/%d/ns/net", (int)child);
        other = open(path, O_RDONLY | O_CLOEXEC);
        if (other < 0)
                return -errno;
        if (fstat(self, &a) < 0 || fstat(other, &b) < 0)
                return -errno;
        if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
                return -EINVAL;
        *ret_self = TAKE_FD(self);
        *ret_child = TAKE_FD(other);
        return 0;
}

/* One hop into the child's netns, just long enough to open a netlink socket
 * there and look up eth0; then back. */
static int nl_open_in_netns(int self_ns, int child_ns, const char *ifname, Nl *ret, int *ret_ifindex)
{
        int r, back;

        /* setns() as euid 0: the child's netns belongs to its new user
         * namespace, which our user namespace owns. */
        if (setns(child_ns, CLONE_NEWNET) < 0)
                return -errno;
        r = nl_open(ret);
        if (r >= 0 && ifname) {
                *ret_ifindex = (int)if_nametoindex(ifname);
                if (*ret_ifindex == 0)
                        r = -errno;
        }
        back = setns(self_ns, CLONE_NEWNET) < 0 ? -errno : 0;
        if (r < 0)
                nl_close(ret);
        /* Failing to come back is worse than any other error: the caller
         * must not go on in the container's namespace. */
        return back < 0 ? back : r;
}

/* Set IFF_UP on an existing link. */
static void add_link_up(NlBatch *b, int ifindex)
{
        struct nlmsghdr *nlh = batch_add(b, RTM_NEWLINK, NLM_F_ACK);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);

        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
        batch_end(b, nlh);
}

/* Port isolation: the bridge forwards nothing between two isolated ports,
 * so one sandbox cannot reach another even at layer 2. */
static void add_isolate(NlBatch *b, const char *host)
{
        struct nlmsghdr *nlh = batch_add(b, RTM_NEWLINK, NLM_F_ACK);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
        struct nlattr *info, *data;

        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
        info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_SLAVE_KIND, "bridge");
        data = mnl_attr_nest_start(nlh, IFLA_INFO_SLAVE_DATA);
        mnl_attr_put_u8(nlh, IFLA_BRPORT_ISOLATED, 1);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
        batch_end(b, nlh);
}

/* bridge_idx 0: routed mode, no master. */
static void add_veth(NlBatch *b, const char *host, int bridge_idx, int child_ns)
{
        struct nlmsghdr *nlh = batch_add(b, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi), *peer_ifi;
        struct nlattr *info, *data, *peer;

        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_flags = IFF_UP;
        ifi->ifi_change = IFF_UP;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
        if (bridge_idx > 0)
                mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)bridge_idx);
        info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        /* The peer's attributes follow an ifinfomsg of its own. Not IFF_UP
         * here: the kernel refuses (ENOTCONN) to open a peer created in
         * another netns; it goes up in the batch inside. */
        peer_ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *peer_ifi);
        peer_ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
        /* The peer is born in the child's netns: it never exists on the
         * host under a name a user could race for. */
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)child_ns);
        mnl_attr_nest_end(nlh, peer);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
        batch_end(b, nlh);
}

/* An IPv4 address local/prefix on ifindex; peer 0: none (then the kernel
 * takes IFA_ADDRESS = local, as `ip addr add` does). */
static void add_addr(NlBatch *b, int ifindex, uint32_t local, unsigned prefix, uint32_t peer)
{
        struct nlmsghdr *nlh = batch_add(b, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);

        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = (uint8_t)prefix;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (uint32_t)ifindex;
        mnl_attr_put_u32(nlh, IFA_LOCAL, htonl(local));
        mnl_attr_put_u32(nlh, IFA_ADDRESS, htonl(peer ? peer : local));
        batch_end(b, nlh);
}

/* The default route via gateway on ifindex. */
static void add_default_route(NlBatch *b, int ifindex, uint32_t gateway)
{
        struct nlmsghdr *nlh = batch_add(b, RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
        struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);

        rtm->rtm_family = AF_INET;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_STATIC;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
        mnl_attr_put_u32(nlh, RTA_GATEWAY, htonl(gateway));
        batch_end(b, nlh);
}

/* lo up, eth0 up, the address on eth0, the default route: one batch.
 * Routed: the address is point-to-point (ADDR peer GATEWAY/32), so the
 * gateway is reachable on eth0 and nothing else is on-link: all traffic,
 * also to other sandboxes, goes through the host's forward chain. */
static int configure_inside(Nl *nl, int eth0, uint32_t addr, unsigned prefix, uint32_t gateway, bool routed)
{
        NlBatch b;

        batch_init(&b, nl);
        add_link_up(&b, 1); /* LOOPBACK_IFINDEX in every netns */
        add_link_up(&b, eth0);
        add_addr(&b, eth0, addr, routed ? 32 : prefix, routed ? gateway : 0);
        add_default_route(&b, eth0, gateway);
        return nl_transact(nl, &b, NULL, NULL);
}

/* Routed mode, on the host end: the gateway address with the container's
 * address as its point-to-point peer. The kernel then routes the
 * container's /32 through this host end (and removes the route with the
 * address, i.e. with the veth). Every host end has the same local address;
 * ARP for it is answered on each. */
static int configure_host_end(Nl *nl, int ifindex, uint32_t addr, uint32_t gateway)
{
        NlBatch b;

        batch_init(&b, nl);
        add_addr(&b, ifindex, gateway, 32, addr);
        return nl_transact(nl, &b, NULL, NULL);
}

/* What delete_stale() learns about a link from RTM_GETLINK. */
typedef struct LinkInfo {
        int ifindex;
        bool veth;
} LinkInfo;

static int on_link_reply(const struct nlmsghdr *nlh, void *data)
{
        LinkInfo *li = data;
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        const struct nlattr *a, *k;

        if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < mnl_nlmsg_size(sizeof *ifi))
                return -EBADMSG;
        li->ifindex = ifi->ifi_index;
        mnl_attr_for_each(a, nlh, sizeof *ifi) {
                if (mnl_attr_get_type(a) != IFLA_LINKINFO || mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
                        continue;
                mnl_attr_for_each_nested(k, a)
                        if (mnl_attr_get_type(k) == IFLA_INFO_KIND && mnl_attr_validate(k, MNL_TYPE_NUL_STRING) >= 0)
                                li->veth = strcmp(mnl_attr_get_str(k), "veth") == 0;
        }
        return 0;
}

static int delete_link(Nl *nl, const char *name, int ifindex)
{
        NlBatch b;
        struct ifinfomsg *ifi;
        struct nlmsghdr *nlh;

        batch_init(&b, nl);
        nlh = batch_add(&b, RTM_DELLINK, NLM_F_ACK);
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = ifindex;
        if (name)
                mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        batch_end(&b, nlh);
        return nl_transact(nl, &b, NULL, NULL);
}

/* A host end of ours whose container is gone but whose netns has not been
 * torn down yet (the kernel does that asynchronously). We hold the lease for
 * its address, so its owner is dead: remove it. Deleted by the index that
 * was checked to be a veth, not by name again. */
static int delete_stale(Nl *nl, const char *host)
{
        LinkInfo li = { 0 };
        NlBatch b;
        struct ifinfomsg *ifi;
        struct nlmsghdr *nlh;
        int r;

        batch_init(&b, nl);
        nlh = batch_add(&b, RTM_GETLINK, 0);
        ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
        ifi->ifi_family = AF_UNSPEC;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, host);
        batch_end(&b, nlh);
        r = nl_transact(nl, &b, on_link_reply, &li);
        if (r < 0)
                return r;
        if (!li.veth || li.ifindex <= 0)
                return -EEXIST;
        return delete_link(nl, NULL, li.ifindex);
}

static bool ifname_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n < IFNAMSIZ && !strchr(s, '/') && strcmp(s, ".") != 0 &&
               strcmp(s, "..") != 0;
}

/* No IPv6 on the host end: the sandboxes have no IPv6 address or route,
 * and the host's input chain drops what comes from them. Left on, every
 * host end would put its link-local address and its fe80::/64 and
 * ff00::/8 routes into the host's IPv6 table, which the kernel walks
 * whole each time an interface goes: with 2000 sandboxes held, for each
 * one that ends. Set before the peer comes up (no carrier, so no address
 * yet). Safe as root: the name is ours (net_host_ifname: "cb" and the
 * leased address in hex), the file is that interface's own sysctl in the
 * netns we run in (the host's), and only "1" is written. Best effort:
 * without IPv6 in the kernel there is nothing to turn off, and a failure
 * here costs only that walk. */
static void host_end_no_ipv6(const char *host)
{
        _cleanup_close_ int fd = -1;
        char path[80];

        snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", host);
        fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                (void)!write(fd, "1", 1);
}

int net_setup_veth(pid_t child, const char *bridge, uint32_t addr, unsigned prefix,
                   uint32_t gateway, char ret_host_ifname[NET_IFNAME_SIZE])
{
        _cleanup_close_ int self_ns = -1, child_ns = -1;
        _cleanup_nl_ Nl nl = { 0 }, nl_in = { 0 };
        char host[NET_IFNAME_SIZE];
        bool routed = !bridge;
        uint32_t mask;
        int r, bridge_idx = 0, eth0 = 0;

        if ((!routed && !ifname_valid(bridge)) || prefix < 8 || prefix > 30)
                return -EINVAL;
        mask = UINT32_MAX << (32 - prefix);
        if ((addr & mask) != (gateway & mask) || addr == gateway || (addr & ~mask) == 0 ||
            (addr & ~mask) == ~mask)
                return -EINVAL;
        net_host_ifname(addr, host);
        r = open_netns(child, &self_ns, &child_ns);
        if (r < 0)
                return r;
        if (!routed) {
                bridge_idx = (int)if_nametoindex(bridge);
                if (bridge_idx == 0)
                        return -errno;
        }
        r = nl_open(&nl);
        if (r < 0)
                return r;

        /* Create the pair (bridge: on the bridge, and isolate the port, in
         * the same datagram). */
        for (int attempt = 0; attempt < 2; attempt++) {
                NlBatch b;

                batch_init(&b, &nl);
                add_veth(&b, host, bridge_idx, child_ns);
                if (!routed)
                        add_isolate(&b, host);
                r = nl_transact(&nl, &b, NULL, NULL);
                if (r != -EEXIST || attempt > 0)
                        break;
                r = delete_stale(&nl, host);
                if (r < 0 && r != -ENODEV && r != -ENOENT)
                        return r;
        }
        if (r < 0)
                goto undo;
        host_end_no_ipv6(host);
        if (routed) {
                int idx = (int)if_nametoindex(host);

                r = idx > 0 ? configure_host_end(&nl, idx, addr, gateway) : -errno;
                if (r < 0)
                        goto undo;
        }

        r = nl_open_in_netns(self_ns, child_ns, "eth0", &nl_in, &eth0);
        if (r < 0)
                goto undo;
        r = configure_inside(&nl_in, eth0, addr, prefix, gateway, routed);
        if (r < 0)
                goto undo;
        if (ret_host_ifname)
                memcpy(ret_host_ifname, host, NET_IFNAME_SIZE);
        return 0;

undo:
        /* nl is bound to the host's netns, wherever this thread is now. */
        (void)delete_link(&nl, host, 0);
        return r;
}

int net_setup_loopback(pid_t child)
{
        _cleanup_close_ int self_ns = -1, child_ns = -1;
        _cleanup_nl_ Nl nl = { 0 };
        NlBatch b;
        int r;

        r = open_netns(child, &self_ns, &child_ns);
        if (r < 0)
                return r;
        r = nl_open_in_netns(self_ns, child_ns, NULL, &nl, NULL);
        if (r < 0)
                return r;
        batch_init(&b, &nl);
        add_link_up(&b, 1);
        return nl_transact(&nl, &b, NULL, NULL);
}

int net_remove_veth(const char *host_ifname)
{
        _cleanup_nl_ Nl nl = { 0 };
        int r;

        if (!ifname_valid(host_ifname) || strncmp(host_ifname, "cb", 2) != 0)
                return -EINVAL;
        r = nl_open(&nl);
        if (r < 0)
                return r;
        r = delete_stale(&nl, host_ifname);
        return r == -ENOENT ? -ENODEV : r;
}
