/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lifetime of a per-user container (lib/container-life.c): its stop,
 * its release, the sweep that decides when a lingering container stops,
 * and gc's reaping of dead or unrecorded ones.
 *
 * When a container stops (policy keys linger, idle_cpu, stop_grace, read
 * from the policy as it is at that moment):
 *  - linger = 0: when its user's last live session ends (close_session),
 *    or at the next sweep if that never ran (a crashed opener);
 *  - linger = D: the sweep stops it once it has had no live session and no
 *    busy CPU sample for D;
 *  - linger = always: only `cubbyctl stop` or gc;
 *  - its init died: the sweep and gc reap what is left.
 * The sweep runs every 5 s in a child of the anchor holder and in
 * `cubbyctl gc`; no systemd is needed.
 *
 * The idle state of a container (its last CPU sample and the last moment
 * it was in use) is <run_dir>/containers/u<uid>.idle, root's, 0600, beside
 * the record: "INIT_START SAMPLE_NS USAGE_NS ACTIVE_NS\n", times on
 * CLOCK_BOOTTIME (the run dir is a tmpfs: it never outlives a boot).
 *
 * Lock order: the container lock first, the user lock (home references,
 * the user's cgroup dir) inside it, never the other way round.
 * Every function returns 0 or -errno. Stops and reaps are logged here
 * (event container_stop, with the reason), where they are decided. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cubby/conf.h"
#include "cubby/container.h"

typedef enum {
        CT_STOP_LINGER = 0, /* linger = 0: the last session ended */
        CT_STOP_IDLE,       /* linger = D: no session and no busy sample for D */
        CT_STOP_ADMIN,      /* cubbyctl stop */
        CT_STOP_GC,         /* gc: its init is dead, or nothing records it */
        _CT_STOP_MAX,
} CtStopReason;

const char *ct_stop_reason_name(CtStopReason reason);

/* What the lifetime code works on. */
typedef struct CtLife {
        const ConfGlobal *global; /* run_dir, state_dir, cgroup_parent */
        int sessions;             /* the session records' dir */
        int locks;                /* <run_dir>/locks (session_lock_dir_path) */
        /* one line of each thing done (cubbyctl's output), or NULL */
        void (*note)(const char *line, void *userdata);
        void *userdata;
        /* the sweep waits this long for a container's lock (a login or a
         * stop holds it); 0: 200 ms, then the container waits for the
         * next sweep (the holder's) */
        unsigned lock_ms;
} CtLife;

/* Live sessions of uid that join its container (records with
 * container=user and a live opener) other than the one named exclude_key
 * (may be NULL): what keeps a container in use. */
int ct_live_sessions(const CtLife *l, uid_t uid, const char *exclude_key);

/* The container's processes are gone: remove its cgroup tree (ct/ and
 * below, in every hierarchy; then the user's dir if it is empty, under the
 * user lock), release the init's address lease, remove the record and its
 * idle state, and drop the container's one reference on the user's
 * overlay home (unmounting it with the last). Call with the container
 * lock held. -EBUSY if a cgroup still has processes (nothing released
 * then: a later gc finishes). */
int ct_release(const CtLife *l, const CtRecord *r);

/* Stop the container of r, whose container lock the caller holds: SIGTERM
 * to every process in its cgroup tree, wait until only the init is left
 * or grace_s passed, SIGKILL the init through its verified pidfd (the
 * kernel kills the rest of its pid namespace), kill what is left in the
 * tree (a SIGKILL loop through pidfds, v1 and v2 alike: never cgroup.kill,
 * which would kill a next init cloned into ct/init), wait until empty,
 * ct_release. A dead init is fine (a reap). Logs container_stop. */
int ct_stop_locked(const CtLife *l, const CtRecord *r, CtStopReason reason, unsigned grace_s);

/* Take the container lock of uid, read its record (-ENOENT: no
 * container), and with if_unused give up (-EBUSY) when the user has a live
 * session other than exclude_key (checked under the lock, so a login that
 * joins first keeps it); then ct_stop_locked. */
int ct_stop(const CtLife *l, uid_t uid, CtStopReason reason, unsigned grace_s, bool if_unused,
            const char *exclude_key);

/* The container of uid was in use until now (close_session of the last
 * session, when it lingers): its linger starts now, not at the last
 * sweep. Nothing when there is no container. */
int ct_mark_active(const CtLife *l, uid_t uid);

/* ---- the decision, pure (unit-tested) ---- */

typedef struct CtIdleState {
        uint64_t init_start; /* the container it is about (its init's start time) */
        uint64_t sample_ns;  /* CLOCK_BOOTTIME of the last CPU sample; 0: none */
        uint64_t usage_ns;   /* the container's CPU time at that sample */
        uint64_t active_ns;  /* the last moment with a live session or a busy sample */
} CtIdleState;

typedef struct CtIdleInput {
        uint64_t now_ns;     /* CLOCK_BOOTTIME */
        uint64_t init_start;
        int live;            /* live sessions of the user */
        bool have_usage;     /* the CPU time could be read */
        uint64_t usage_ns;
        uint64_t linger_s;   /* ConfPolicy.linger_s */
        unsigned idle_cpu;   /* ConfPolicy.idle_cpu */
} CtIdleInput;

/* Samples closer together than this do not make an average (a gc right
 * after the holder's sweep): the older one is kept. */
#define CT_SAMPLE_MIN_NS (1000ULL * 1000 * 1000)

typedef enum {
        CT_KEEP = 0,
        CT_STOP_NOW_LINGER, /* linger = 0 and no live session */
        CT_STOP_NOW_IDLE,   /* linger = D passed without use */
} CtVerdict;

/* Update *state (a state of another container, or from the future, starts
 * afresh) with the input and decide. A linger runs out only on a sample
 * that makes an average (where the CPU time can be read at all): a busy
 * container is never stopped for want of a second sample. *ret_busy (may be NULL): whether this
 * sample counted as busy (CPU use since the last sample, per second of
 * time, at or above idle_cpu percent of one CPU). */
CtVerdict ct_idle_decide(const CtIdleInput *in, CtIdleState *state, bool *ret_busy);

/* The idle state file's text. */
int ct_idle_parse(const char *text, size_t len, CtIdleState *ret);
int ct_idle_format(const CtIdleState *s, char *buf, size_t size);

/* ---- the sweep and gc ---- */

/* For each container record: a dead init is reaped (ct_stop_locked, reason
 * gc); with conf (the current policy; NULL: only reap), linger decides as
 * above, each container under its lock (a busy lock: skipped until the
 * next sweep). *ret_stopped (may be NULL): how many stopped or were
 * reaped. */
int ct_sweep(const CtLife *l, const Conf *conf, unsigned *ret_stopped);

/* cgroup trees <parent>/u<uid>/ct with no container record (the run dir
 * was wiped, a crash between steps): under the container lock, kill
 * everything in them and remove them. Returns how many. */
int ct_gc_orphans(const CtLife *l);

/* Whether uid has a container record (1), none (0). */
int ct_exists(const char *run_dir, uid_t uid);
/* Whether any container record exists (1), none (0). */
int ct_any(const char *run_dir);

/* The CPU time of a cgroup dir set: v2 cpu.stat usage_usec, else v1
 * cpuacct.usage where cpuacct shares a hierarchy with cpu. -ENODATA where
 * neither exists (v1 with cpuacct apart from cpu and no v2 hierarchy). */
int ct_cpu_usage(const CgSet *set, uint64_t *ret_ns);
