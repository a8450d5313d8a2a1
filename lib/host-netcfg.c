/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The network policy's derived values: the deny list, a sandbox's
 * nameservers and resolv.conf, the host side's state file. Pure. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cubby/netaddr.h"
#include "cubby/host-netcfg.h"
#include "cubby/util.h"

#define RESOLV_CONF_MAX ((size_t)64 * 1024)

int netcfg_deny_list(const ConfGlobal *g, NetCidr **ret, size_t *ret_n)
{
        NetCidr subnet = netcfg_cidr_from_ipv4(g->subnet_addr, g->subnet_prefix);
        _cleanup_free_ NetCidr *list = NULL;
        size_t n = 0;
        int r;

        r = netcfg_check_subnet(g->subnet_addr, g->subnet_prefix);
        if (r < 0)
                return r;
        if (g->n_deny > ELEMENTSOF(g->deny))
                return -EINVAL;
        /* Each entry yields at most 30 pieces (prefix 0 less a /30). */
        list = calloc(g->n_deny * 31 + 1, sizeof *list);
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < g->n_deny; i++) {
                NetCidr c;
                uint32_t sub = g->subnet_addr;

                r = netcfg_parse_cidr(g->deny[i], &c);
                if (r < 0)
                        return r;
                if (!netcfg_cidr_contains(&c, &subnet)) {
                        list[n++] = c;
                        continue;
                }
                /* c minus the subnet: at each prefix length between the two,
                 * the sibling of the subnet's ancestor. */
                for (unsigned k = c.prefix + 1; k <= subnet.prefix; k++) {
                        uint32_t mask = UINT32_MAX << (32 - k);

                        list[n++] = netcfg_cidr_from_ipv4((sub & mask) ^ (1u << (32 - k)), k);
                }
        }
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

/* --- DNS --- */

static bool ipv4_usable_ns(uint32_t a)
{
        /* A loopback resolver (systemd-resolved's 127.0.0.53, dnsmasq on
         * 127.0.0.1) is the sandbox's own loopback inside its netns. */
        return (a >> 24) != 127 && a != 0;
}

/* Collect the usable IPv4 nameservers and the search line of a resolv.conf
 * text. ret_any counts every nameserver line, usable or not. */
static void parse_resolv(const char *text, NetDns *d, size_t *ret_any)
{
        const char *p = text;

        *ret_any = 0;
        while (p && *p) {
                const char *eol = strchr(p, '\n');
                size_t len = eol ? (size_t)(eol - p) : strlen(p);
                char line[512], *save = NULL, *kw;

                if (len < sizeof line) {
                        memcpy(line, p, len);
                        line[len] = 0;
                        kw = strtok_r(line, " \t\r", &save);
                        if (kw && strcmp(kw, "nameserver") == 0) {
                                char *a = strtok_r(NULL, " \t\r", &save);
                                struct in_addr in;

                                (*ret_any)++;
                                if (a && inet_pton(AF_INET, a, &in) == 1 &&
                                    ipv4_usable_ns(ntohl(in.s_addr)) &&
                                    d->n_servers < NETCFG_MAX_NAMESERVERS)
                                        d->servers[d->n_servers++] = ntohl(in.s_addr);
                        } else if (kw && (strcmp(kw, "search") == 0 || strcmp(kw, "domain") == 0)) {
                                /* The last search/domain line wins, as in glibc. */
                                char out[NETCFG_SEARCH_MAX] = "", *dom;
                                size_t o = 0, count = 0;
                                bool ok = true;

                                while (ok && (dom = strtok_r(NULL, " \t\r", &save))) {
                                        size_t dl = strlen(dom);

                                        if (*dom == '#' || *dom == ';')
                                                break;
                                        for (const char *c = dom; *c; c++)
                                                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                                                      (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_'))
                                                        ok = false;
                                        if (++count > 6 || o + dl + 2 > sizeof out)
                                                ok = false;
                                        if (ok) {
                                                if (o)
                                                        out[o++] = ' ';
                                                memcpy(out + o, dom, dl + 1);
                                                o += dl;
                                        }
                                }
                                if (ok)
                                        memcpy(d->search, out, sizeof out);
                        }
                }
                p = eol ? eol + 1 : NULL;
        }
}

int netcfg_dns_resolve(const char *dns, const char *host_text, const char *upstream_text,
                       uint32_t gateway, NetDns *ret)
{
        NetDns d = { 0 };
        size_t any;

        if (!dns)
                return -EINVAL;
        if (strcmp(dns, "auto") != 0) {
                const char *p = dns;

                d.source = NETCFG_DNS_EXPLICIT;
                while (*p) {
                        char a[INET6_ADDRSTRLEN];
                        size_t n, t;
                        struct in_addr in;
                        struct in6_addr in6;

                        p += strspn(p, " \t");
                        n = strcspn(p, ",");
                        for (t = n; t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'); t--)
                                ;
                        if (t == 0 || t >= sizeof a || d.n_servers >= NETCFG_MAX_NAMESERVERS)
                                return -EINVAL;
                        memcpy(a, p, t);
                        a[t] = 0;
                        p += n;
                        /* A sandbox has no IPv6 route: an IPv6 server is
                         * skipped (the config parser accepts them). */
                        if (inet_pton(AF_INET6, a, &in6) != 1) {
                                if (inet_pton(AF_INET, a, &in) != 1 || !ipv4_usable_ns(ntohl(in.s_addr)))
                                        return -EINVAL;
                                d.servers[d.n_servers++] = ntohl(in.s_addr);
                        }
                        if (*p == ',' && !*++p)
                                return -EINVAL;
                }
                if (d.n_servers == 0)
                        return -EINVAL;
                *ret = d;
                return 0;
        }

        d.source = NETCFG_DNS_HOST;
        parse_resolv(host_text ? host_text : "", &d, &any);
        if (d.n_servers == 0 && upstream_text) {
                /* The host resolves through a loopback stub (systemd-resolved):
                 * use the upstream servers it forwards to, which the sandbox
                 * can reach through NAT. */
                NetDns up = { 0 };

                parse_resolv(upstream_text, &up, &any);
                if (up.n_servers > 0) {
                        memcpy(d.servers, up.servers, sizeof d.servers);
                        d.n_servers = up.n_servers;
                        d.source = NETCFG_DNS_UPSTREAM;
                        if (!d.search[0])
                                memcpy(d.search, up.search, sizeof d.search);
                }
        }
        if (d.n_servers == 0) {
                /* Nothing reachable from inside: point at the bridge address.
                 * This only answers if the admin runs a resolver listening
                 * there (cubbyctl opens port 53 on the gateway for it). */
                d.servers[0] = gateway;
                d.n_servers = 1;
                d.source = NETCFG_DNS_GATEWAY;
        }
        *ret = d;
        return 0;
}

static int read_optional(const char *path, char **ret)
{
        int r = read_file_at(AT_FDCWD, path, RESOLV_CONF_MAX, ret, NULL, NULL);

        /* /etc/resolv.conf is often a symlink into /run: read_file_at does
         * not follow the last component, so open it the ordinary way. */
        if (r == -ELOOP) {
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

                if (fd < 0)
                        return errno == ENOENT ? 0 : -errno;
                return read_fd(fd, RESOLV_CONF_MAX, ret, NULL);
        }
        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        return r;
}

int netcfg_dns_load(const char *dns, uint32_t gateway, NetDns *ret)
{
        _cleanup_free_ char *host = NULL, *upstream = NULL;
        int r;

        if (dns && strcmp(dns, "auto") == 0) {
                r = read_optional("/etc/resolv.conf", &host);
                if (r < 0)
                        return r;
                r = read_optional("/run/systemd/resolve/resolv.conf", &upstream);
                if (r < 0)
                        return r;
        }
        return netcfg_dns_resolve(dns, host, upstream, gateway, ret);
}

int netcfg_resolv_conf_format(const NetDns *dns, char *buf, size_t size)
{
        size_t o = 0;
        int n;

        n = snprintf(buf, size, "# generated by cubby (%s)\n", netcfg_dns_source_name(dns->source));
        if (n < 0 || (size_t)n >= size)
                return -ENOBUFS;
        o = (size_t)n;
        for (size_t i = 0; i < dns->n_servers && i < NETCFG_MAX_NAMESERVERS; i++) {
                char a[INET_ADDRSTRLEN];

                n = snprintf(buf + o, size - o, "nameserver %s\n",
                             netcfg_ipv4_str(dns->servers[i], a, sizeof a));
                if (n < 0 || (size_t)n >= size - o)
                        return -ENOBUFS;
                o += (size_t)n;
        }
        if (dns->search[0]) {
                n = snprintf(buf + o, size - o, "search %s\n", dns->search);
                if (n < 0 || (size_t)n >= size - o)
                        return -ENOBUFS;
        }
        return 0;
}

const char *netcfg_dns_source_name(NetDnsSource s)
{
        switch (s) {
        case NETCFG_DNS_EXPLICIT:
                return "dns from cubby.conf";
        case NETCFG_DNS_HOST:
                return "host resolv.conf";
        case NETCFG_DNS_UPSTREAM:
                return "upstream of the host's resolver stub";
        case NETCFG_DNS_GATEWAY:
                return "gateway";
        }
        return "?";
}

/* --- net.state --- */

int netcfg_state_parse(const char *text, NetState *ret)
{
        /* Few possible contents: compare with each exactly, no number
         * parsing to get wrong (sscanf's %u takes signs, spaces and wraps). */
        for (unsigned created = 0; created <= 1; created++)
                for (int fwd = -1; fwd <= 1; fwd++) {
                        char want[64];
                        const char *rest;
                        ConfNetMode mode;
                        size_t n;

                        snprintf(want, sizeof want, "cubby-net 1\nbridge_created %u\nip_forward %d\n",
                                 created, fwd);
                        n = strlen(want);
                        if (!text || strncmp(text, want, n) != 0)
                                continue;
                        rest = text + n;
                        /* no mode line: written before routed mode existed */
                        if (*rest == 0 || strcmp(rest, "mode bridge\n") == 0)
                                mode = CONF_NET_MODE_BRIDGE;
                        else if (strcmp(rest, "mode routed\n") == 0)
                                mode = CONF_NET_MODE_ROUTED;
                        else
                                return -EBADMSG;
                        *ret = (NetState){ .bridge_created = created, .ip_forward = fwd, .mode = mode };
                        return 0;
                }
        return -EBADMSG;
}

int netcfg_state_format(const NetState *s, char *buf, size_t size)
{
        int n = snprintf(buf, size, "cubby-net 1\nbridge_created %u\nip_forward %d\nmode %s\n",
                         (unsigned)s->bridge_created, s->ip_forward, conf_net_mode_name(s->mode));

        return n < 0 || (size_t)n >= size ? -ENOBUFS : 0;
}
