/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl net up | down | status: the host side of the sandbox network.
 *
 * up (idempotent, also at boot and on a login's first use):
 *   - network_mode = bridge: bridge <bridge> with the gateway address (first
 *     host of the subnet), up. network_mode = routed: no bridge; each
 *     container's host end carries the gateway address and the /32 route to
 *     the container itself (helper/veth.c), so there is nothing to make here;
 *   - net.ipv4.ip_forward = 1 (its previous value is kept in
 *     <run_dir>/net.state so that down can restore it; the file also
 *     records the mode, and up refuses to switch modes without a down);
 *   - nftables tables "inet cubby" and (bridge mode) "bridge cubby",
 *     replaced as a whole in one transaction, so a changed config applies
 *     at once. The sandboxes' interface is the bridge, or in routed mode
 *     every "cb*" host end:
 *       prerouting (routed): a packet from a host end whose source does not
 *       route back through that same host end is dropped (anti-spoofing:
 *       each host end has exactly its container's /32);
 *       forward: sandbox-to-sandbox dropped; spoofed sources and IPv6 from
 *       the sandboxes dropped; DNS to the sandboxes' nameservers allowed;
 *       the deny list dropped; the rest accepted (return traffic by conntrack);
 *       input from the sandboxes: only conntrack replies, DNS on the gateway
 *       (when the sandboxes use it) and gateway_ports;
 *       postrouting: masquerade for the subnet leaving by another interface;
 *       bridge forward (bridge mode): frames between two "cb*" ports dropped
 *       (the helper also isolates each port; this holds even if a port is not).
 * down: removes the tables, and the bridge if up created it (routed: every
 *   "cb*" host end, which takes the containers' routes with it); restores
 *   ip_forward as recorded.
 * status [--json]: what exists.
 *
 * libnl's and libnftables' errors become -errno in this file. Every nft
 * command is built from validated, binary values (addresses formatted here,
 * the bridge name checked against [A-Za-z0-9_.-]). */
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ctl.h"
#include "host-net.h"
#include "cubby/ipam.h"
#include "cubby/host-netcfg.h"
#include "cubby/session.h"
#include "cubby/util.h"

#define STATE_FILE NETCFG_STATE_FILE
#define IP_FORWARD "/proc/sys/net/ipv4/ip_forward"
/* Every sandbox's host end matches this (helper/veth.c: "cb" + 8 hex digits). */
#define HOST_ENDS "cb*"

/* --- libnl --- */

static int nl_err;

static int nle_to_errno(int nle)
{
        switch (nle < 0 ? -nle : nle) {
        case 0:
                return 0;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_EXIST:
                return -EEXIST;
        case NLE_INVAL:
                return -EINVAL;
        case NLE_PERM:
                return -EPERM;
        case NLE_NOACCESS:
                return -EACCES;
        case NLE_OBJ_NOTFOUND:
        case NLE_NODEV:
                return -ENODEV;
        case NLE_BUSY:
                return -EBUSY;
        case NLE_OPNOTSUPP:
                return -EOPNOTSUPP;
        case NLE_NOADDR:
                return -EADDRNOTAVAIL;
        default:
                return -EIO;
        }
}

/* A kernel error in an ack: keep its exact errno (libnl's mapping is lossy). */
static int on_nl_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
        nl_err = e->error < 0 ? e->error : -EIO;
        return NL_STOP;
}

static int nl_result(int r)
{
        int k = nl_err;

        nl_err = 0;
        if (r >= 0)
                return 0;
        return k ? k : nle_to_errno(r);
}

static void sock_freep(struct nl_sock **sk)
{
        if (*sk)
                nl_socket_free(*sk);
}

static void link_putp(struct rtnl_link **l)
{
        if (*l)
                rtnl_link_put(*l);
}

static void addr_putp(struct rtnl_addr **a)
{
        if (*a)
                rtnl_addr_put(*a);
}

static void cache_freep(struct nl_cache **c)
{
        if (*c)
                nl_cache_free(*c);
}

static int sock_open(struct nl_sock **ret)
{
        _cleanup_(sock_freep) struct nl_sock *sk = nl_socket_alloc();
        int r;

        if (!sk)
                return -ENOMEM;
        r = nl_connect(sk, NETLINK_ROUTE);
        if (r >= 0)
                r = nl_socket_modify_err_cb(sk, NL_CB_CUSTOM, on_nl_error, NULL);
        if (r < 0)
                return nle_to_errno(r);
        *ret = TAKE_PTR(sk);
        return 0;
}

/* The bridge, or -ENODEV; -ENOTTY when the name belongs to something else. */
static int bridge_get(struct nl_sock *sk, const char *name, struct rtnl_link **ret)
{
        _cleanup_(link_putp) struct rtnl_link *l = NULL;
        int r = nl_result(rtnl_link_get_kernel(sk, 0, name, &l));

        if (r < 0)
                return r == -ENOENT ? -ENODEV : r;
        if (!rtnl_link_is_bridge(l))
                return -ENOTTY;
        *ret = TAKE_PTR(l);
        return 0;
}

static int bridge_up(struct nl_sock *sk, const ConfGlobal *g, bool *ret_created)
{
        _cleanup_(link_putp) struct rtnl_link *br = NULL, *change = NULL;
        _cleanup_(addr_putp) struct rtnl_addr *a = NULL;
        struct nl_addr *local;
        uint32_t be = htonl(netcfg_gateway(g->subnet_addr));
        int r;

        *ret_created = false;
        r = bridge_get(sk, g->bridge, &br);
        if (r == -ENODEV) {
                _cleanup_(link_putp) struct rtnl_link *n = rtnl_link_bridge_alloc();

                if (!n)
                        return -ENOMEM;
                rtnl_link_set_name(n, g->bridge);
                r = nl_result(rtnl_link_add(sk, n, NLM_F_CREATE | NLM_F_EXCL));
                if (r < 0)
                        return r;
                *ret_created = true;
                r = bridge_get(sk, g->bridge, &br);
        }
        if (r < 0)
                return r;

        a = rtnl_addr_alloc();
        local = nl_addr_build(AF_INET, &be, 4);
        if (!a || !local) {
                nl_addr_put(local);
                return -ENOMEM;
        }
        nl_addr_set_prefixlen(local, (int)g->subnet_prefix);
        rtnl_addr_set_ifindex(a, rtnl_link_get_ifindex(br));
        r = rtnl_addr_set_local(a, local);
        nl_addr_put(local);
        if (r < 0)
                return nle_to_errno(r);
        /* REPLACE: the same address again is not an error. */
        r = nl_result(rtnl_addr_add(sk, a, NLM_F_REPLACE));
        if (r < 0)
                return r;

        change = rtnl_link_alloc();
        if (!change)
                return -ENOMEM;
        rtnl_link_set_flags(change, IFF_UP);
        return nl_result(rtnl_link_change(sk, br, change, 0));
}

static int bridge_delete(struct nl_sock *sk, const char *name)
{
        _cleanup_(link_putp) struct rtnl_link *br = NULL;
        int r = bridge_get(sk, name, &br);

        if (r < 0)
                return r;
        return nl_result(rtnl_link_delete(sk, br));
}

/* "cb" and 8 lower-case hex digits: the name helper/veth.c gives a host end. */
static bool is_host_end(const char *name)
{
        if (!name || strncmp(name, "cb", 2) != 0 || strlen(name) != 10)
                return false;
        for (const char *p = name + 2; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
                        return false;
        return true;
}

/* Routed mode: the number of host ends, and with del, delete them (each
 * takes its gateway address and its container's /32 route along). */
static int host_ends_walk(struct nl_sock *sk, bool del)
{
        _cleanup_(cache_freep) struct nl_cache *links = NULL;
        int r, n = 0;

        r = nl_result(rtnl_link_alloc_cache(sk, AF_UNSPEC, &links));
        if (r < 0)
                return r;
        for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o)) {
                struct rtnl_link *l = (struct rtnl_link *)o;
                const char *type = rtnl_link_get_type(l);

                if (!type || strcmp(type, "veth") != 0 || !is_host_end(rtnl_link_get_name(l)))
                        continue;
                if (del) {
                        r = nl_result(rtnl_link_delete(sk, l));
                        /* gone by itself meanwhile (its container ended) */
                        if (r < 0 && r != -ENODEV && r != -ENOENT)
                                return r;
                }
                n++;
        }
        return n;
}

static int host_ends_delete(struct nl_sock *sk)
{
        return host_ends_walk(sk, true);
}

/* --- files --- */

static int ip_forward_get(void)
{
        char buf[8] = "";
        _cleanup_close_ int fd = open(IP_FORWARD, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
                return -errno;
        if (n < 1 || (buf[0] != '0' && buf[0] != '1'))
                return -EBADMSG;
        return buf[0] - '0';
}

static int ip_forward_set(int v)
{
        return write_string_at(AT_FDCWD, IP_FORWARD, v ? "1\n" : "0\n");
}

/* The run dir is root's and private (0700, as the PAM module insists):
 * created the same way here, so `net up` at boot cannot make it wrong. */
static int run_dir_open(const char *run_dir, bool create)
{
        int fd = -1, r;

        r = session_dir_open(run_dir, create, &fd);
        return r < 0 ? r : fd;
}

static int state_read(const char *run_dir, NetState *ret)
{
        _cleanup_close_ int dfd = run_dir_open(run_dir, false);
        _cleanup_free_ char *text = NULL;

        if (dfd < 0)
                return dfd == -ENOENT ? -ENOENT : dfd;
        int r = read_file_at(dfd, STATE_FILE, 4096, &text, NULL, NULL);
        if (r < 0)
                return r;
        return netcfg_state_parse(text, ret);
}

static int state_write(const char *run_dir, const NetState *s)
{
        _cleanup_close_ int dfd = run_dir_open(run_dir, true);
        char buf[NETCFG_STATE_MAX];
        int r;

        if (dfd < 0)
                return dfd;
        r = netcfg_state_format(s, buf, sizeof buf);
        if (r < 0)
                return r;
        return write_file_atomic_at(dfd, STATE_FILE, buf, strlen(buf), 0600);
}

static int state_remove(const char *run_dir)
{
        _cleanup_close_ int dfd = run_dir_open(run_dir, false);

        if (dfd < 0)
                return dfd;
        return unlinkat(dfd, STATE_FILE, 0) < 0 ? -errno : 0;
}

/* --- nftables --- */

static void nft_freep(struct nft_ctx **c)
{
        if (*c)
                nft_ctx_free(*c);
}

/* Run cmd as one transaction. On failure, the first line of nft's message
 * goes to errbuf. */
static int nft_run(const char *cmd, char *errbuf, size_t errsize)
{
        _cleanup_(nft_freep) struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
        const char *msg;
        size_t n;

        if (errsize)
                errbuf[0] = 0;
        if (!nft)
                return -ENOMEM;
        if (nft_ctx_buffer_output(nft) < 0 || nft_ctx_buffer_error(nft) < 0)
                return -ENOMEM;
        if (nft_run_cmd_from_buffer(nft, cmd) == 0)
                return 0;
        msg = nft_ctx_get_error_buffer(nft);
        if (!msg)
                msg = "";
        /* "Error: Could not process rule: Operation not permitted" is the
         * only errno libnftables tells; map the ones we can name. */
        n = strcspn(msg, "\n");
        if (errsize)
                snprintf(errbuf, errsize, "%.*s", (int)n, msg);
        if (strstr(msg, "Operation not permitted"))
                return -EPERM;
        if (strstr(msg, "No such file or directory"))
                return -ENOENT;
        if (strstr(msg, "Operation not supported"))
                return -EOPNOTSUPP;
        return -EINVAL;
}

static bool nft_table_exists(const char *family)
{
        char cmd[64];

        snprintf(cmd, sizeof cmd, "list table %s cubby", family);
        return nft_run(cmd, NULL, 0) == 0;
}

static bool bridge_name_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n >= IFNAMSIZ)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '_' || *p == '.' || *p == '-'))
                        return false;
        return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int nft_ruleset(const ConfGlobal *g, const NetDns *dns, const NetCidr *deny, size_t n_deny,
                       char **ret)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f;
        char sub[NETCFG_CIDR_STRLEN], gw[INET_ADDRSTRLEN], a[NETCFG_CIDR_STRLEN];
        NetCidr subnet = netcfg_cidr_from_ipv4(g->subnet_addr, g->subnet_prefix);
        bool routed = g->network_mode == CONF_NET_MODE_ROUTED;
        /* The sandboxes' side: the bridge, or every host end. */
        const char *br = routed ? HOST_ENDS : g->bridge;
        bool dns_on_gw = false, dns_out = false, any4 = false, any6 = false;
        int r;

        r = netcfg_format_cidr(&subnet, sub, sizeof sub);
        if (r < 0)
                return r;
        netcfg_ipv4_str(netcfg_gateway(g->subnet_addr), gw, sizeof gw);
        for (size_t i = 0; i < dns->n_servers; i++)
                if (dns->servers[i] == netcfg_gateway(g->subnet_addr))
                        dns_on_gw = true;
                else
                        dns_out = true;

        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "table inet cubby\ndelete table inet cubby\ntable inet cubby {\n");
        for (int v6 = 0; v6 <= 1; v6++) {
                size_t k = 0;

                for (size_t i = 0; i < n_deny; i++) {
                        if (deny[i].family != (v6 ? AF_INET6 : AF_INET) ||
                            netcfg_format_cidr(&deny[i], a, sizeof a) < 0)
                                continue;
                        if (k++ == 0)
                                (void)fprintf(f, "\tset deny%d {\n\t\ttype %s; flags interval\n"
                                                 "\t\telements = { ",
                                              v6 ? 6 : 4, v6 ? "ipv6_addr" : "ipv4_addr");
                        else
                                (void)fputs(", ", f);
                        (void)fputs(a, f);
                }
                if (k > 0)
                        (void)fputs(" }\n\t}\n", f);
                if (v6)
                        any6 = k > 0;
                else
                        any4 = k > 0;
        }

        if (routed) {
                /* Each host end routes exactly its container's /32: a source
                 * that does not route back through the interface it came in
                 * by is forged (another sandbox's address, or any other).
                 * Before conntrack, so a forged packet leaves no entry. */
                fprintf(f, "\tchain prerouting {\n\t\ttype filter hook prerouting priority raw; "
                           "policy accept;\n");
                fprintf(f, "\t\tiifname \"%s\" fib saddr . iif oif missing drop\n\t}\n", br);
        }
        fprintf(f, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
        fprintf(f, "\t\tct state established,related accept\n");
        /* Bridge: hairpinned through the host (and bridged, with
         * br_netfilter). Routed: every packet between two sandboxes
         * crosses this chain; this rule is what isolates them. */
        fprintf(f, "\t\tiifname \"%s\" oifname \"%s\" drop\n", br, br);
        fprintf(f, "\t\tiifname \"%s\" ip saddr != %s drop\n", br, sub);
        /* Sandboxes have no IPv6 address or route. */
        fprintf(f, "\t\tiifname \"%s\" meta nfproto ipv6 drop\n", br);
        if (dns_out) {
                /* Before the deny list: the upstream resolvers are often on
                 * a private range (a LAN router, a cloud resolver). */
                fprintf(f, "\t\tiifname \"%s\" ip daddr { ", br);
                for (size_t i = 0, k = 0; i < dns->n_servers; i++)
                        if (dns->servers[i] != netcfg_gateway(g->subnet_addr))
                                fprintf(f, "%s%s", k++ ? ", " : "",
                                        netcfg_ipv4_str(dns->servers[i], a, sizeof a));
                fprintf(f, " } meta l4proto { tcp, udp } th dport 53 accept\n");
        }
        if (any4)
                fprintf(f, "\t\tiifname \"%s\" ip daddr @deny4 drop\n", br);
        if (any6)
                fprintf(f, "\t\tiifname \"%s\" ip6 daddr @deny6 drop\n", br);
        fprintf(f, "\t}\n");

        fprintf(f, "\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n");
        fprintf(f, "\t\tiifname \"%s\" ct state established,related accept\n", br);
        if (dns_on_gw)
                fprintf(f, "\t\tiifname \"%s\" ip daddr %s meta l4proto { tcp, udp } th dport 53 accept\n",
                        br, gw);
        if (g->n_gateway_ports > 0) {
                fprintf(f, "\t\tiifname \"%s\" ip daddr %s meta l4proto { tcp, udp } th dport { ", br, gw);
                for (size_t i = 0; i < g->n_gateway_ports && i < ELEMENTSOF(g->gateway_ports); i++)
                        fprintf(f, "%s%u", i ? ", " : "", (unsigned)g->gateway_ports[i]);
                fprintf(f, " } accept\n");
        }
        fprintf(f, "\t\tiifname \"%s\" drop\n\t}\n", br);

        fprintf(f, "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
        fprintf(f, "\t\tip saddr %s oifname != \"%s\" masquerade\n\t}\n}\n", sub, br);

        /* Layer 2, independent of br_netfilter and of port isolation. */
        if (!routed) {
                fprintf(f, "table bridge cubby\ndelete table bridge cubby\ntable bridge cubby {\n");
                fprintf(f, "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n");
                fprintf(f, "\t\tiifname \"cb*\" oifname \"cb*\" drop\n\t}\n}\n");
        }
        /* a failed write above leaves the stream's error flag set */
        r = ferror(f) ? -ENOMEM : 0;
        if (fclose(f) != 0 || r < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* --- verbs --- */

static int validate(const ConfGlobal *g, const char **what)
{
        *what = "bridge name";
        if (!bridge_name_valid(g->bridge))
                return -EINVAL;
        *what = "subnet";
        if (netcfg_check_subnet(g->subnet_addr, g->subnet_prefix) < 0)
                return -EINVAL;
        *what = "gateway_ports";
        for (size_t i = 0; i < g->n_gateway_ports; i++)
                if (i >= ELEMENTSOF(g->gateway_ports) || g->gateway_ports[i] == 0)
                        return -EINVAL;
        return 0;
}

static int fail(const char *verb, const char *what, int r, const char *detail)
{
        if (detail && *detail)
                fprintf(stderr, "cubbyctl: net %s: %s: %s (%s)\n", verb, what, strerror(-r), detail);
        else
                fprintf(stderr, "cubbyctl: net %s: %s: %s\n", verb, what, strerror(-r));
        return 1;
}

static int net_up(const ConfGlobal *g)
{
        _cleanup_(sock_freep) struct nl_sock *sk = NULL;
        _cleanup_free_ NetCidr *deny = NULL;
        _cleanup_free_ char *rules = NULL;
        char nft_err[256];
        const char *what;
        size_t n_deny = 0;
        NetState st;
        NetDns dns;
        bool created = false, have_state;
        int r, fwd;

        r = validate(g, &what);
        if (r < 0)
                return fail("up", what, r, NULL);
        r = state_read(g->run_dir, &st);
        if (r < 0 && r != -ENOENT)
                return fail("up", "reading " STATE_FILE, r, g->run_dir);
        have_state = r >= 0;
        /* The rules name the sandboxes' interfaces (the bridge, or the host
         * ends): switching under running sandboxes would leave some of them
         * outside every rule. */
        if (have_state && st.mode != g->network_mode) {
                fprintf(stderr, "cubbyctl: net up: the network is up in %s mode; run 'cubbyctl net down' "
                                "before switching to network_mode = %s\n",
                        conf_net_mode_name(st.mode), conf_net_mode_name(g->network_mode));
                return 1;
        }
        r = netcfg_deny_list(g, &deny, &n_deny);
        if (r < 0)
                return fail("up", "deny list", r, NULL);
        r = netcfg_dns_load(g->dns, netcfg_gateway(g->subnet_addr), &dns);
        if (r < 0)
                return fail("up", "dns", r, g->dns);
        r = nft_ruleset(g, &dns, deny, n_deny, &rules);
        if (r < 0)
                return fail("up", "building the nftables ruleset", r, NULL);

        /* Filter first, then the bridge, then forwarding: at no point does
         * the host forward sandbox traffic without cubby's rules in place. */
        r = nft_run(rules, nft_err, sizeof nft_err);
        if (r < 0)
                return fail("up", "nftables", r, nft_err);
        if (g->network_mode == CONF_NET_MODE_BRIDGE) {
                r = sock_open(&sk);
                if (r < 0)
                        return fail("up", "netlink", r, NULL);
                r = bridge_up(sk, g, &created);
                if (r < 0)
                        return fail("up", r == -ENOTTY ? "an interface of that name is not a bridge" : "bridge",
                                    r == -ENOTTY ? -EEXIST : r, g->bridge);
        }

        fwd = ip_forward_get();
        if (!have_state)
                st = (NetState){ .bridge_created = created, .ip_forward = fwd < 0 ? -1 : fwd,
                                 .mode = g->network_mode };
        else if (created)
                st.bridge_created = true;
        r = state_write(g->run_dir, &st);
        if (r < 0)
                return fail("up", "writing " STATE_FILE, r, g->run_dir);
        if (fwd != 1) {
                r = ip_forward_set(1);
                if (r < 0)
                        return fail("up", IP_FORWARD, r, NULL);
        }
        return 0;
}

static int net_down(const ConfGlobal *g)
{
        _cleanup_(sock_freep) struct nl_sock *sk = NULL;
        char nft_err[256];
        const char *what;
        NetState st = { .bridge_created = true, .ip_forward = -1, .mode = g->network_mode };
        bool have_state;
        int r;

        r = validate(g, &what);
        if (r < 0)
                return fail("down", what, r, NULL);
        r = state_read(g->run_dir, &st);
        if (r < 0 && r != -ENOENT)
                return fail("down", "reading " STATE_FILE, r, g->run_dir);
        have_state = r >= 0;

        /* The bridge (routed: the host ends, with their routes) first: no
         * sandbox traffic is forwarded once it is gone. */
        r = sock_open(&sk);
        if (r < 0)
                return fail("down", "netlink", r, NULL);
        if (st.mode == CONF_NET_MODE_ROUTED) {
                r = host_ends_delete(sk);
                if (r < 0)
                        return fail("down", "deleting the sandboxes' host ends", r, NULL);
                if (r > 0)
                        printf("removed %d sandbox host end%s (those sandboxes have no network now)\n", r,
                               r == 1 ? "" : "s");
        } else if (st.bridge_created) {
                r = bridge_delete(sk, g->bridge);
                if (r < 0 && r != -ENODEV && r != -ENOTTY)
                        return fail("down", "deleting the bridge", r, g->bridge);
        } else {
                printf("bridge %s was there before 'net up': left in place\n", g->bridge);
        }
        if (nft_table_exists("inet")) {
                r = nft_run("delete table inet cubby", nft_err, sizeof nft_err);
                if (r < 0)
                        return fail("down", "nftables", r, nft_err);
        }
        if (nft_table_exists("bridge")) {
                r = nft_run("delete table bridge cubby", nft_err, sizeof nft_err);
                if (r < 0)
                        return fail("down", "nftables", r, nft_err);
        }
        if (have_state && st.ip_forward >= 0) {
                r = ip_forward_set(st.ip_forward);
                if (r < 0)
                        return fail("down", IP_FORWARD, r, NULL);
        } else {
                printf("net.ipv4.ip_forward left at %d: its value before 'net up' was not recorded\n",
                       ip_forward_get());
        }
        if (have_state) {
                r = state_remove(g->run_dir);
                if (r < 0 && r != -ENOENT)
                        return fail("down", "removing " STATE_FILE, r, g->run_dir);
        }
        return 0;
}

typedef struct BridgeInfo {
        bool present, is_bridge, up;
        int ports;
        char addrs[4][NETCFG_CIDR_STRLEN];
        size_t n_addrs;
} BridgeInfo;

static void bridge_info(const char *name, BridgeInfo *bi)
{
        _cleanup_(sock_freep) struct nl_sock *sk = NULL;
        _cleanup_(link_putp) struct rtnl_link *br = NULL;
        _cleanup_(cache_freep) struct nl_cache *links = NULL, *addrs = NULL;
        int r, idx;

        *bi = (BridgeInfo){ 0 };
        if (sock_open(&sk) < 0)
                return;
        r = bridge_get(sk, name, &br);
        bi->present = r == 0 || r == -ENOTTY;
        bi->is_bridge = r == 0;
        if (r < 0)
                return;
        idx = rtnl_link_get_ifindex(br);
        bi->up = rtnl_link_get_flags(br) & IFF_UP;
        if (rtnl_link_alloc_cache(sk, AF_UNSPEC, &links) >= 0)
                for (struct nl_object *o = nl_cache_get_first(links); o; o = nl_cache_get_next(o))
                        if (rtnl_link_get_master((struct rtnl_link *)o) == idx)
                                bi->ports++;
        if (rtnl_addr_alloc_cache(sk, &addrs) >= 0)
                for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
                        struct rtnl_addr *a = (struct rtnl_addr *)o;

                        if (rtnl_addr_get_ifindex(a) != idx || rtnl_addr_get_family(a) != AF_INET ||
                            bi->n_addrs >= ELEMENTSOF(bi->addrs))
                                continue;
                        nl_addr2str(rtnl_addr_get_local(a), bi->addrs[bi->n_addrs++], NETCFG_CIDR_STRLEN);
                }
        nl_err = 0;
}

/* net status as text, from the value that --json prints */
static void status_text(const json_t *v)
{
        const json_t *br = json_object_get(v, "bridge"), *st = json_object_get(v, "state");
        const json_t *nft = json_object_get(v, "nft"), *leases = json_object_get(v, "leases");
        const char *mode = out_get_str(v, "mode");
        bool routed = strcmp(mode, conf_net_mode_name(CONF_NET_MODE_ROUTED)) == 0;
        const json_t *addrs = json_object_get(br, "addresses");
        long long ports = out_get_int(br, "ports");

        printf("network:       %s\n", out_get_bool(v, "up") ? "up" : "not up");
        printf("mode:          %s\n", mode);
        if (routed) {
                printf("host ends:     %lld (one per sandbox: the gateway address and a /32 route each)\n",
                       out_get_int(v, "host_ends"));
        } else if (!out_get_bool(br, "present")) {
                printf("bridge:        %s absent\n", out_get_str(br, "name"));
        } else if (!out_get_bool(br, "is_bridge")) {
                printf("bridge:        %s exists but is not a bridge\n", out_get_str(br, "name"));
        } else {
                printf("bridge:        %s %s, %lld port%s,", out_get_str(br, "name"),
                       out_get_bool(br, "up") ? "up" : "down", ports, ports == 1 ? "" : "s");
                for (size_t i = 0; i < json_array_size(addrs); i++)
                        printf(" %s", json_string_value(json_array_get(addrs, i)));
                printf("%s\n", json_array_size(addrs) ? "" : " no address");
        }
        printf("gateway:       %s\n", out_get_str(v, "gateway"));
        printf("nftables:      inet cubby %s, bridge cubby %s\n",
               out_get_bool(nft, "inet cubby") ? "present" : "absent",
               out_get_bool(nft, "bridge cubby") ? "present" : "absent");
        printf("ip_forward:    %lld\n", out_get_int(v, "ip_forward"));
        if (json_is_integer(leases))
                printf("leases:        %lld\n", (long long)json_integer_value(leases));
        else
                printf("leases:        unknown (cannot read %s/leases.d)\n", out_get_str(v, "run_dir"));
        if (!json_is_object(st))
                return;
        if (strcmp(out_get_str(st, "mode"), conf_net_mode_name(CONF_NET_MODE_ROUTED)) == 0)
                printf("recorded:      up in routed mode, ip_forward was %lld\n",
                       out_get_int(st, "ip_forward_before"));
        else
                printf("recorded:      bridge %s by net up, ip_forward was %lld\n",
                       out_get_bool(st, "bridge_created") ? "created" : "pre-existing",
                       out_get_int(st, "ip_forward_before"));
        if (strcmp(out_get_str(st, "mode"), mode) != 0)
                printf("warning:       up in %s mode, but the config says %s: net down, then net up\n",
                       out_get_str(st, "mode"), mode);
}

static int net_status(const ConfGlobal *g, bool json)
{
        BridgeInfo bi;
        NetState st;
        IpamLease *leases = NULL;
        size_t n_leases = 0;
        bool inet, bridge, have_state, leases_ok, all_up;
        bool routed = g->network_mode == CONF_NET_MODE_ROUTED;
        char gw[NETCFG_CIDR_STRLEN], a[INET_ADDRSTRLEN];
        int fwd, host_ends = -1, r;
        json_t *v, *addrs;

        if (!bridge_name_valid(g->bridge) || netcfg_check_subnet(g->subnet_addr, g->subnet_prefix) < 0)
                return fail("status", "config", -EINVAL, NULL);
        bridge_info(g->bridge, &bi);
        {
                _cleanup_(sock_freep) struct nl_sock *sk = NULL;

                if (sock_open(&sk) >= 0)
                        host_ends = host_ends_walk(sk, false);
                nl_err = 0;
        }
        inet = nft_table_exists("inet");
        bridge = nft_table_exists("bridge");
        fwd = ip_forward_get();
        have_state = state_read(g->run_dir, &st) >= 0;
        leases_ok = ipam_list(g->run_dir, &leases, &n_leases) >= 0;
        free(leases);
        snprintf(gw, sizeof gw, "%s/%u", netcfg_ipv4_str(netcfg_gateway(g->subnet_addr), a, sizeof a),
                 g->subnet_prefix);
        if (routed)
                /* no bridge: the host ends carry the gateway address */
                all_up = inet && fwd == 1 && have_state && st.mode == CONF_NET_MODE_ROUTED;
        else
                all_up = bi.is_bridge && bi.up && inet && bridge && fwd == 1;
        if (all_up && !routed) {
                bool has_gw = false;

                for (size_t i = 0; i < bi.n_addrs; i++)
                        has_gw |= strcmp(bi.addrs[i], gw) == 0;
                all_up = has_gw;
        }

        v = json_object();
        out_set(v, "up", json_boolean(all_up));
        addrs = json_array();
        for (size_t i = 0; i < bi.n_addrs; i++)
                out_append(addrs, out_str(bi.addrs[i]));
        out_set(v, "bridge",
                json_pack("{s:o,s:b,s:b,s:b,s:i,s:o}", "name", out_str(g->bridge), "present",
                          bi.present, "is_bridge", bi.is_bridge, "up", bi.up, "ports", bi.ports,
                          "addresses", addrs));
        out_set(v, "gateway", out_str(gw));
        out_set(v, "nft", json_pack("{s:b,s:b}", "inet cubby", inet, "bridge cubby", bridge));
        out_set(v, "ip_forward", json_integer(fwd));
        out_set(v, "leases", leases_ok ? json_integer((json_int_t)n_leases) : json_null());
        out_set(v, "mode", out_str(conf_net_mode_name(g->network_mode)));
        out_set(v, "host_ends", json_integer(host_ends));
        out_set(v, "state", have_state ? json_pack("{s:b,s:i,s:s}", "bridge_created", st.bridge_created,
                                                   "ip_forward_before", st.ip_forward, "mode",
                                                   conf_net_mode_name(st.mode))
                                       : json_null());
        out_set(v, "run_dir", out_str(g->run_dir));
        r = out_emit(&(Ctl){ .json = json }, v, status_text);
        return r < 0 ? fail("status", "output", r, NULL) : 0;
}

int ctl_net(const Conf *conf, int argc, char **argv)
{
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *verb;
        bool json = false;
        int c;

        if (argc < 2) {
                fprintf(stderr, "cubbyctl: net: expected up, down or status\n");
                return 1;
        }
        verb = argv[1];
        optind = 1;
        while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case 'h':
                        printf("cubbyctl [--config PATH] net up | down | status [--json]\n");
                        return 0;
                default:
                        return 1;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, "cubbyctl: net %s: unexpected argument '%s'\n", verb, argv[optind + 1]);
                return 1;
        }
        if (json && strcmp(verb, "status") != 0) {
                fprintf(stderr, "cubbyctl: net %s: --json is for status only\n", verb);
                return 1;
        }
        if (strcmp(verb, "up") == 0)
                return net_up(&conf->global);
        if (strcmp(verb, "down") == 0)
                return net_down(&conf->global);
        if (strcmp(verb, "status") == 0)
                return net_status(&conf->global, json);
        fprintf(stderr, "cubbyctl: net: unknown command '%s' (expected up, down or status)\n", verb);
        return 1;
}
