/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl net up | down | status [--json]: the host side of the sandbox
 * network (bridge with the gateway address, ip_forward, cubby's own
 * nftables tables "inet cubby" and "bridge cubby"). Root only. */
#pragma once

#include "cubby/conf.h"

/* argv[0] is "net", argv[1] the verb, then its options. Prints a one-line
 * error to stderr itself; returns the exit code (0 ok, 1 error). */
int ctl_net(const Conf *conf, int argc, char **argv);
