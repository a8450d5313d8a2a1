/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pure network helpers shared by cubbyctl and the PAM module
 * (lib/host-netcfg.c): the effective deny list, the nameservers a sandbox uses
 * and its resolv.conf, the host side's state file. No privileges, no
 * netlink, no logging. IPv4 addresses are uint32_t in host byte order, as
 * in ConfGlobal; addresses in netaddr.h, CIDRs in
 * cidr.h. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cubby/conf.h"
#include "cubby/cidr.h"
#include "cubby/netaddr.h"

#define NETCFG_MAX_NAMESERVERS 3              /* what glibc's resolver uses */
#define NETCFG_SEARCH_MAX 256

/* The configured deny list with the cubby subnet taken out of any range
 * that contains it (10.0.0.0/8 less 10.213.0.0/16 becomes eight CIDRs, so
 * the rest of 10/8 stays denied). *ret is malloc()ed. -EINVAL when an
 * entry does not parse. */
int netcfg_deny_list(const ConfGlobal *g, NetCidr **ret, size_t *ret_n);

typedef enum {
        NETCFG_DNS_EXPLICIT,                  /* dns = ADDR[,ADDR] */
        NETCFG_DNS_HOST,                      /* the host's /etc/resolv.conf servers */
        NETCFG_DNS_UPSTREAM,                  /* systemd-resolved's upstream servers */
        NETCFG_DNS_GATEWAY,                   /* no usable server: the bridge address */
} NetDnsSource;

typedef struct NetDns {
        uint32_t servers[NETCFG_MAX_NAMESERVERS]; /* IPv4, host order: sandboxes have no IPv6 */
        size_t n_servers;
        NetDnsSource source;
        char search[NETCFG_SEARCH_MAX];       /* "a.example b.example" or "" */
} NetDns;

/* Decide the nameservers of a sandbox. dns is ConfGlobal.dns ("auto" or a
 * comma-separated list of IPv4 addresses). For "auto", host_text is the
 * host's /etc/resolv.conf and upstream_text (may be NULL) systemd-resolved's
 * /run/systemd/resolve/resolv.conf. Pure. */
int netcfg_dns_resolve(const char *dns, const char *host_text, const char *upstream_text,
                       uint32_t gateway, NetDns *ret);
/* The same, reading those two files (either may be missing). */
int netcfg_dns_load(const char *dns, uint32_t gateway, NetDns *ret);
/* The resolv.conf text for a sandbox. -ENOBUFS if size is too small. */
int netcfg_resolv_conf_format(const NetDns *dns, char *buf, size_t size);
const char *netcfg_dns_source_name(NetDnsSource s);

/* <run_dir>/net.state: written by `cubbyctl net up`, removed by `net down`.
 * It records what down must undo, and the mode the host side was brought up
 * in: in routed mode there is no bridge to look for, so the PAM module
 * checks this file instead (a mismatch means the rules in place do not
 * match the sandboxes' interfaces). */
#define NETCFG_STATE_FILE "net.state"
#define NETCFG_STATE_MAX 256

typedef struct NetState {
        bool bridge_created;                  /* up made the bridge: down deletes it */
        int ip_forward;                       /* value found by the first up; -1 unknown */
        ConfNetMode mode;                     /* absent in files of older versions: bridge */
} NetState;

/* Strict; -EBADMSG when the text is not a state file. */
int netcfg_state_parse(const char *text, NetState *ret);
/* -ENOBUFS if size is too small (NETCFG_STATE_MAX is enough). */
int netcfg_state_format(const NetState *s, char *buf, size_t size);
