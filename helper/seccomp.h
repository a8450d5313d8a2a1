/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The container's seccomp filter, in a file of its own so that the unit
 * test (tests/unit/test_seccomp.c) runs the very program the helper
 * installs. */
#pragma once

#include <stddef.h>

#include <linux/filter.h>

#include "cubby/conf.h"

/* Enough for the longest program (seccomp = yes). */
#define SECCOMP_FILTER_MAX 64

/* The program for mode into prog; returns its length. A mode out of range
 * gets the default rules (fail closed). */
size_t seccomp_filter_build(ConfSeccomp mode, struct sock_filter prog[static SECCOMP_FILTER_MAX]);

/* Build and load it into the calling thread. The caller has set
 * NO_NEW_PRIVS (the kernel refuses a filter without it unless the caller
 * has CAP_SYS_ADMIN). 0 or -errno. */
int seccomp_filter_install(ConfSeccomp mode);
