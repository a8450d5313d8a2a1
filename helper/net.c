/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-container veth over rtnetlink (libnl-route-3). Runs in the helper's
 * parent with euid 0. Its inputs are the lease (an address the helper took
 * from ipam), the bridge name from the root-owned config (none in routed
 * mode), and the pid of the helper's own child: nothing here comes from the
 * user. libnl's NLE_* codes are turned into -errno in this file and never
 * leave it. */
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cubby/net.h"
#include "cubby/util.h"

/* Kernel errnos arrive in netlink error messages; keep them exact instead
 * of libnl's lossy NLE_* translation. */
typedef struct NlErr {
        int err;
} NlErr;

static int nle_to_errno(int nle)
{
        static const int map[][2] = {
                { NLE_NOMEM, ENOMEM },         { NLE_EXIST, EEXIST },     { NLE_INVAL, EINVAL },
                { NLE_RANGE, ERANGE },         { NLE_PERM, EPERM },       { NLE_NOACCESS, EACCES },
                { NLE_OBJ_NOTFOUND, ENOENT },  { NLE_NODEV, ENODEV },     { NLE_BUSY, EBUSY },
                { NLE_AGAIN, EAGAIN },         { NLE_INTR, EINTR },       { NLE_OPNOTSUPP, EOPNOTSUPP },
                { NLE_AF_NOSUPPORT, EAFNOSUPPORT }, { NLE_NOADDR, EADDRNOTAVAIL },
                { NLE_MSGSIZE, EMSGSIZE },     { NLE_BAD_SOCK, EBADF },
        };

        nle = nle < 0 ? -nle : nle;
        if (nle == 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (map[i][0] == nle)
                        return -map[i][1];
        return -EIO;
}

static int on_nl_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
        NlErr *s = arg;

        s->err = e->error < 0 ? e->error : -EIO;
        return NL_STOP;
}

static void sock_freep(struct nl_sock **sk)
{
        if (*sk)
                nl_socket_free(*sk);
}

static void msg_freep(struct nl_msg **m)
{
        if (*m)
                nlmsg_free(*m);
}

static void link_putp(struct rtnl_link **l)
{
        if (*l)
                rtnl_link_put(*l);
}

#define _cleanup_sock_ _cleanup_(sock_freep)
#define _cleanup_msg_ _cleanup_(msg_freep)
#define _cleanup_link_ _cleanup_(link_putp)

static int sock_open(struct nl_sock **ret, NlErr *e)
{
        _cleanup_sock_ struct nl_sock *sk = nl_socket_alloc();
        int r;

        if (!sk)
                return -ENOMEM;
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r < 0)
                return nle_to_errno(r);
        r = nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_nl_error, e);
        if (r < 0)
                return nle_to_errno(r);
        *ret = TAKE_PTR(sk);
        return 0;
}

/* Send every message, then collect one ack each: the kernel handles them in
 * order; the first error is returned (the caller then undoes everything). */
static int send_batch(struct nl_sock *sk, NlErr *e, struct nl_msg **msgs, size_t n)
{
        int r, first = 0;

        for (size_t i = 0; i < n; i++) {
                r = nl_send_auto(sk, msgs[i]);
                if (r < 0)
                        return nle_to_errno(r);
        }
        for (size_t i = 0; i < n; i++) {
                e->err = 0;
                r = nl_wait_for_ack(sk);
                if (r < 0 && first == 0)
                        first = e->err ? e->err : nle_to_errno(r);
                /* Read every ack even after an error: a stale one left in
                 * the socket would answer the next request. */
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
 * there (a netlink socket stays bound to the netns it was made in) and look
 * up eth0; then back. */
static int sock_in_netns(int self_ns, int child_ns, const char *ifname, struct nl_sock **ret,
                         int *ret_ifindex, NlErr *e)
{
        int r, back;

        /* setns() as euid 0: the child's netns belongs to its new user
         * namespace, which our user namespace owns. */
        if (setns(child_ns, CLONE_NEWNET) < 0)
                return -errno;
        r = sock_open(ret, e);
        if (r >= 0 && ifname) {
                *ret_ifindex = (int)if_nametoindex(ifname);
                if (*ret_ifindex == 0)
                        r = -errno;
        }
        back = setns(self_ns, CLONE_NEWNET) < 0 ? -errno : 0;
        if (r < 0 && *ret) {
                nl_socket_free(*ret);
                *ret = NULL;
        }
        /* Failing to come back is worse than any other error: the caller
         * must not go on in the container's namespace. */
        return back < 0 ? back : r;
}

static struct nl_addr *ipv4_addr(uint32_t a, unsigned prefix)
{
        uint32_t be = htonl(a);
        struct nl_addr *n = nl_addr_build(AF_INET, &be, 4);

        if (n)
                nl_addr_set_prefixlen(n, (int)prefix);
        return n;
}

/* Port isolation: the bridge forwards nothing between two isolated ports,
 * so one sandbox cannot reach another even at layer 2. */
static int build_isolate(const char *host, struct nl_msg **ret)
{
        _cleanup_msg_ struct nl_msg *m = nlmsg_alloc_simple(RTM_NEWLINK, 0);
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        struct nlattr *info, *data;

        if (!m || nlmsg_append(m, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 ||
            nla_put_string(m, IFLA_IFNAME, host) < 0 || !(info = nla_nest_start(m, IFLA_LINKINFO)) ||
            nla_put_string(m, IFLA_INFO_SLAVE_KIND, "bridge") < 0 ||
            !(data = nla_nest_start(m, IFLA_INFO_SLAVE_DATA)) ||
            nla_put_u8(m, IFLA_BRPORT_ISOLATED, 1) < 0)
                return -ENOMEM;
        nla_nest_end(m, data);
        nla_nest_end(m, info);
        *ret = TAKE_PTR(m);
        return 0;
}

/* bridge_idx 0: routed mode, no master. */
static int build_veth(const char *host, int bridge_idx, int child_ns, struct nl_msg **ret)
{
        _cleanup_link_ struct rtnl_link *veth = rtnl_link_veth_alloc();
        struct rtnl_link *peer;
        int r;

        if (!veth)
                return -ENOMEM;
        peer = rtnl_link_veth_get_peer(veth);
        rtnl_link_set_name(veth, host);
        if (bridge_idx > 0)
                rtnl_link_set_master(veth, bridge_idx);
        rtnl_link_set_flags(veth, IFF_UP);
        rtnl_link_set_name(peer, "eth0");
        /* The peer is born in the child's netns: it never exists on the
         * host under a name a user could race for. */
        rtnl_link_set_ns_fd(peer, child_ns);
        /* Not IFF_UP here: the kernel refuses (ENOTCONN) to open a peer
         * created in another netns; it goes up in the batch inside. */
        r = rtnl_link_build_add_request(veth, NLM_F_CREATE | NLM_F_EXCL, ret);
        rtnl_link_put(peer);
        return nle_to_errno(r);
}

/* lo up, eth0 up, the address on eth0, the default route: one batch.
 * Routed: the address is point-to-point (ADDR peer GATEWAY/32), so the
 * gateway is reachable on eth0 and nothing else is on-link: all traffic,
 * also to other sandboxes, goes through the host's forward chain. */
static int configure_inside(struct nl_sock *sk, NlErr *e, int eth0, uint32_t addr, unsigned prefix,
                            uint32_t gateway, bool routed)
{
        _cleanup_link_ struct rtnl_link *lo = rtnl_link_alloc(), *up = rtnl_link_alloc();
        _cleanup_link_ struct rtnl_link *eth = rtnl_link_alloc();
        struct rtnl_addr *a = rtnl_addr_alloc();
        struct rtnl_route *rt = rtnl_route_alloc();
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        struct nl_addr *local = ipv4_addr(addr, routed ? 32 : prefix), *gw = ipv4_addr(gateway, 32);
        struct nl_addr *dst = ipv4_addr(0, 0);
        struct nl_msg *msgs[4] = { NULL, NULL, NULL, NULL };
        int r = -ENOMEM;

        if (!lo || !up || !eth || !a || !rt || !nh || !local || !gw || !dst)
                goto out;
        rtnl_link_set_ifindex(lo, 1); /* LOOPBACK_IFINDEX in every netns */
        rtnl_link_set_ifindex(eth, eth0);
        rtnl_link_set_flags(up, IFF_UP);
        rtnl_addr_set_ifindex(a, eth0);
        rtnl_addr_set_local(a, local);
        /* After the local address: libnl refuses a local address with a
         * prefix length once a peer is set. */
        if (routed) {
                r = nle_to_errno(rtnl_addr_set_peer(a, gw));
                if (r < 0)
                        goto out;
        }
        rtnl_route_set_family(rt, AF_INET);
        rtnl_route_set_dst(rt, dst);
        rtnl_route_nh_set_ifindex(nh, eth0);
        rtnl_route_nh_set_gateway(nh, gw);
        rtnl_route_add_nexthop(rt, nh);
        nh = NULL; /* owned by rt now */
        r = nle_to_errno(rtnl_link_build_change_request(lo, up, 0, &msgs[0]));
        if (r >= 0)
                r = nle_to_errno(rtnl_link_build_change_request(eth, up, 0, &msgs[1]));
        if (r >= 0)
                r = nle_to_errno(rtnl_addr_build_add_request(a, NLM_F_CREATE | NLM_F_EXCL, &msgs[2]));
        if (r >= 0)
                r = nle_to_errno(rtnl_route_build_add_request(rt, NLM_F_CREATE | NLM_F_EXCL, &msgs[3]));
        if (r >= 0)
                r = send_batch(sk, e, msgs, 4);
out:
        for (size_t i = 0; i < 4; i++)
                if (msgs[i])
                        nlmsg_free(msgs[i]);
        if (nh)
                rtnl_route_nh_free(nh);
        if (rt)
                rtnl_route_put(rt);
        if (a)
                rtnl_addr_put(a);
        nl_addr_put(local);
        nl_addr_put(gw);
        nl_addr_put(dst);
        return r;
}

/* Routed mode, on the host end: the gateway address with the container's
 * address as its point-to-point peer. The kernel then routes the
 * container's /32 through this host end (and removes the route with the
 * address, i.e. with the veth). Every host end has the same local address;
 * ARP for it is answered on each. */
static int configure_host_end(struct nl_sock *sk, NlErr *e, int ifindex, uint32_t addr, uint32_t gateway)
{
        struct rtnl_addr *a = rtnl_addr_alloc();
        struct nl_addr *local = ipv4_addr(gateway, 32), *peer = ipv4_addr(addr, 32);
        struct nl_msg *m = NULL;
        int r = -ENOMEM;

        if (!a || !local || !peer)
                goto out;
        rtnl_addr_set_ifindex(a, ifindex);
        r = nle_to_errno(rtnl_addr_set_local(a, local));
        if (r >= 0)
                r = nle_to_errno(rtnl_addr_set_peer(a, peer));
        if (r >= 0)
                r = nle_to_errno(rtnl_addr_build_add_request(a, NLM_F_CREATE | NLM_F_EXCL, &m));
        if (r >= 0)
                r = send_batch(sk, e, &m, 1);
out:
        if (m)
                nlmsg_free(m);
        if (a)
                rtnl_addr_put(a);
        nl_addr_put(local);
        nl_addr_put(peer);
        return r;
}

static int delete_link(struct nl_sock *sk, const char *name)
{
        _cleanup_link_ struct rtnl_link *l = rtnl_link_alloc();

        if (!l)
                return -ENOMEM;
        rtnl_link_set_name(l, name);
        return nle_to_errno(rtnl_link_delete(sk, l));
}

/* A host end of ours whose container is gone but whose netns has not been
 * torn down yet (the kernel does that asynchronously). We hold the lease for
 * its address, so its owner is dead: remove it. */
static int delete_stale(struct nl_sock *sk, const char *host)
{
        _cleanup_link_ struct rtnl_link *l = NULL;
        const char *type;
        int r;

        r = rtnl_link_get_kernel(sk, 0, host, &l);
        if (r < 0)
                return nle_to_errno(r);
        type = rtnl_link_get_type(l);
        if (!type || strcmp(type, "veth") != 0)
                return -EEXIST;
        return delete_link(sk, host);
}

static bool ifname_valid(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n < IFNAMSIZ && !strchr(s, '/') && strcmp(s, ".") != 0 &&
               strcmp(s, "..") != 0;
}

int net_setup_veth(pid_t child, const char *bridge, uint32_t addr, unsigned prefix,
                   uint32_t gateway, char ret_host_ifname[NET_IFNAME_SIZE])
{
        _cleanup_close_ int self_ns = -1, child_ns = -1;
        _cleanup_sock_ struct nl_sock *sk = NULL, *sk_in = NULL;
        NlErr e = { 0 }, e_in = { 0 };
        struct nl_msg *msgs[2] = { NULL, NULL };
        char host[NET_IFNAME_SIZE];
        bool routed = !bridge;
        uint32_t mask;
        int r, bridge_idx = 0, eth0 = 0;
        size_t n_msgs = routed ? 1 : 2;

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
        r = sock_open(&sk, &e);
        if (r < 0)
                return r;

        /* Create the pair (bridge: on the bridge, and isolate the port,
         * pipelined). */
        for (int attempt = 0; attempt < 2; attempt++) {
                r = build_veth(host, bridge_idx, child_ns, &msgs[0]);
                if (r >= 0 && !routed)
                        r = build_isolate(host, &msgs[1]);
                if (r >= 0)
                        r = send_batch(sk, &e, msgs, n_msgs);
                for (size_t i = 0; i < 2; i++) {
                        if (msgs[i])
                                nlmsg_free(msgs[i]);
                        msgs[i] = NULL;
                }
                if (r != -EEXIST || attempt > 0)
                        break;
                r = delete_stale(sk, host);
                if (r < 0 && r != -ENODEV && r != -ENOENT)
                        return r;
        }
        if (r < 0)
                goto undo;
        if (routed) {
                int idx = (int)if_nametoindex(host);

                r = idx > 0 ? configure_host_end(sk, &e, idx, addr, gateway) : -errno;
                if (r < 0)
                        goto undo;
        }

        r = sock_in_netns(self_ns, child_ns, "eth0", &sk_in, &eth0, &e_in);
        if (r < 0)
                goto undo;
        r = configure_inside(sk_in, &e_in, eth0, addr, prefix, gateway, routed);
        if (r < 0)
                goto undo;
        if (ret_host_ifname)
                memcpy(ret_host_ifname, host, NET_IFNAME_SIZE);
        return 0;

undo:
        /* sk is bound to the host's netns, wherever this thread is now. */
        (void)delete_link(sk, host);
        return r;
}

int net_setup_loopback(pid_t child)
{
        _cleanup_close_ int self_ns = -1, child_ns = -1;
        _cleanup_sock_ struct nl_sock *sk = NULL;
        _cleanup_link_ struct rtnl_link *lo = rtnl_link_alloc(), *up = rtnl_link_alloc();
        _cleanup_msg_ struct nl_msg *m = NULL;
        NlErr e = { 0 };
        int r;

        if (!lo || !up)
                return -ENOMEM;
        r = open_netns(child, &self_ns, &child_ns);
        if (r < 0)
                return r;
        r = sock_in_netns(self_ns, child_ns, NULL, &sk, NULL, &e);
        if (r < 0)
                return r;
        rtnl_link_set_ifindex(lo, 1);
        rtnl_link_set_flags(up, IFF_UP);
        r = nle_to_errno(rtnl_link_build_change_request(lo, up, 0, &m));
        if (r < 0)
                return r;
        return send_batch(sk, &e, &m, 1);
}

int net_remove_veth(const char *host_ifname)
{
        _cleanup_sock_ struct nl_sock *sk = NULL;
        NlErr e = { 0 };
        int r;

        if (!ifname_valid(host_ifname) || strncmp(host_ifname, "cb", 2) != 0)
                return -EINVAL;
        r = sock_open(&sk, &e);
        if (r < 0)
                return r;
        r = delete_stale(sk, host_ifname);
        return r == -ENOENT ? -ENODEV : r;
}
