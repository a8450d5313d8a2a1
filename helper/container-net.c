/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Step 7: the container's network. network = nat: an address leased for
 * this container (owned by this process, which stays alive as the
 * supervisor for as long as the container runs; for a user's container,
 * by its init), then the veth pair
 * (net.c). network = none: the child brings up loopback itself. A failure
 * refuses the login, or gives loopback only where the policy says so; it
 * never gives the host's network. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "cubby/fault.h"
#include "cubby/ipam.h"
#include "cubby/log.h"
#include "veth.h"
#include "cubby/netaddr.h"
#include "helper.h"

int netup_container(Helper *h, pid_t child)
{
        const Record *rec = &h->rec;
        char ifname[NET_IFNAME_SIZE], addr_s[16], uid[16];
        IpamOwner owner;
        uint32_t addr;
        int r;

        if (!rec->network)
                return 0;
        /* a user's container outlives this process: its init owns the lease */
        r = ipam_owner_init(&owner, rec->id, h->start_container ? child : 0, rec->uid, rec->user);
        if (r >= 0)
                r = ipam_acquire_capped(rec->run_dir, rec->subnet, rec->prefix, &owner,
                                        rec->max_containers, &addr);
        if (r == -EDQUOT) {
                /* the user's own cap: no fallback to loopback, which would
                 * hand out containers beyond it */
                fprintf(stderr, "cubby-shell: you already have %u sandboxes with a network open "
                                "(max_containers = %u); close one and try again\n",
                        (unsigned)rec->max_containers, (unsigned)rec->max_containers);
                return r;
        }
        if (r == -EADDRNOTAVAIL) {
                fprintf(stderr, "cubby-shell: no network address is free for a new sandbox "
                                "(the address pool is exhausted)\n");
                return r;
        }
        CUBBY_FAULT("helper.lease");
        if (r < 0)
                goto fail;
        r = net_setup_veth(child, rec->net_routed ? NULL : rec->bridge, addr, rec->prefix,
                           netcfg_gateway(rec->subnet), ifname);
        if (r < 0) {
                (void)ipam_release(rec->run_dir, owner.uid, owner.pid, owner.starttime);
                goto fail;
        }
        CUBBY_FAULT("helper.veth");
        h->lease_addr = addr;
        /* NAT'd traffic is attributed through this line: address, user, time */
        snprintf(uid, sizeof uid, "%u", (unsigned)rec->uid);
        log_event(LOG_INFO, "lease", "session", rec->id, "uid", uid, "user", rec->user, "address",
                  netcfg_ipv4_str(addr, addr_s, sizeof addr_s), "veth", ifname, NULL);
        return 0;

fail:
        if (rec->net_fallback_none) {
                fprintf(stderr, "cubby-shell: the network is not available; this sandbox has "
                                "loopback only\n");
                return 0;
        }
        fprintf(stderr, "cubby-shell: cannot set up the sandbox network: %s\n", strerror(-r));
        return r;
}
