/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* gc (lib/gc.c): one collector of what crashed sessions left, for the PAM
 * module (before a login, throttled, records only: GC_THROTTLE) and
 * `cubbyctl gc` (everything: GC_FULL). */
#pragma once

#include "cubby/conf.h"
#include "cubby/session.h"

enum {
        GC_THROTTLE = 1u << 0,       /* nothing if the last gc ran less than GC_INTERVAL_S ago */
        GC_ORPHAN_CGROUPS = 1u << 1, /* session cgroups no record names (older than a minute) */
        GC_HOMES = 1u << 2,          /* overlays of users with no live session, then the idle anchor */
        GC_LEASES = 1u << 3,         /* address leases whose owner is gone */
        GC_CONTAINERS = 1u << 4,     /* per-user containers: the sweep (dead inits, linger),
                                        container cgroup trees no record names */
        GC_FULL = GC_ORPHAN_CGROUPS | GC_HOMES | GC_LEASES | GC_CONTAINERS,
};
#define GC_INTERVAL_S 10

typedef struct GcCtx {
        const ConfGlobal *global; /* run_dir, state_dir, cgroup_parent */
        const Conf *conf;         /* the whole policy, for the containers' linger; NULL:
                                     dead containers are reaped, none is stopped */
        int sessions, locks;      /* the open sessions and lock dirs */
        /* one line of each thing done (cubbyctl's output), or NULL */
        void (*note)(const char *line, void *userdata);
        void *userdata;
} GcCtx;

/* Reap the sessions whose opener is gone (session_gc, each logged), then
 * what flags add. Returns session_gc's result; *ret_reaped (if given) the
 * sessions reaped. */
int gc_run(const GcCtx *g, unsigned flags, unsigned *ret_reaped);
