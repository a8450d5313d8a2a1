/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-user container (container = user): its record, its lock and the
 * verified way to its init.
 *
 * A user's container is one set of namespaces whose PID 1 is cubby-init,
 * running as the user. Every login of the user joins it. What root knows
 * about it is the container record, <run_dir>/containers/u<uid> (the
 * policy's run_dir; the directory root's and 0700, the file root's, 0600,
 * one link, written atomically): text, one "key=value" a line, strict.
 *
 *   version=1
 *   uid=1001
 *   gid=1001
 *   user=alice
 *   session=<id of the session that created it>
 *   init_pid=4242                (in the host's pid namespace)
 *   init_start=<field 22 of /proc/PID/stat>
 *   ns=DEV:user:mnt:pid:net:uts:ipc:cgroup   (st_dev, then st_ino of each
 *                                 /proc/PID/ns/ file, decimal)
 *   addr=10.88.0.5               (its lease; "-" for network = none)
 *   created=<unix time>
 *   cgroup=<record form of a dir> (one line per hierarchy: .../u<uid>/ct)
 *   home=/home/alice
 *   shell=/bin/bash
 *   seccomp=yes|no|allow_io_uring
 *   groups=1001,27               (the user's groups, as in its id map)
 *
 * The cgroup tree of a container, in each hierarchy cubby uses:
 *   <parent>/u<uid>          the user's limits (as for login containers)
 *   <parent>/u<uid>/ct       the container
 *   <parent>/u<uid>/ct/init  its init, alone
 *   <parent>/u<uid>/ct/s<id> one per joined session
 *
 * Lock order: the container lock (<run_dir>/locks/u<uid>.ct.lock) is taken
 * first or alone, never while holding the user lock (u<uid>.lock).
 * Nothing here logs. Everything returns 0 or -errno. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cubby/cgroup.h"
#include "cubby/record.h"
#include "cubby/util.h"

#define CT_DIR_NAME "containers"
#define CT_RECORD_MAX_SIZE ((size_t)16 * 1024)
#define CT_LOCK_TIMEOUT_MS 20000

/* The namespaces of a container, in the order of the record's ns= line. */
enum {
        CT_NS_USER = 0,
        CT_NS_MNT,
        CT_NS_PID,
        CT_NS_NET,
        CT_NS_UTS,
        CT_NS_IPC,
        CT_NS_CGROUP,
        _CT_NS_MAX,
};

/* The /proc/PID/ns/ names, in that order. */
extern const char *const ct_ns_names[_CT_NS_MAX];

typedef struct CtRecord {
        unsigned version; /* 1 */
        uid_t uid;
        gid_t gid;
        char user[64];
        char session[CUBBY_ID_LEN + 1];
        pid_t init_pid;
        uint64_t init_start;
        uint64_t ns_dev;
        uint64_t ns_ino[_CT_NS_MAX];
        uint32_t addr; /* host byte order; 0: no lease */
        uint64_t created;
        CgSet cgroup; /* .../u<uid>/ct */
        char home[PATH_MAX];
        char shell[PATH_MAX];
        int seccomp; /* ConfSeccomp */
        gid_t groups[RECORD_MAX_GROUPS];
        size_t n_groups;
} CtRecord;

/* "u<uid>" */
int ct_name(uid_t uid, char *buf, size_t size);

/* Strict: unknown or repeated keys (cgroup= may repeat), bad values, a
 * missing key: -EINVAL; over CT_RECORD_MAX_SIZE: -E2BIG. */
int ct_parse(const char *text, size_t len, CtRecord *ret);
/* The text of a record; the caller frees *ret. */
int ct_format(const CtRecord *r, char **ret, size_t *ret_len);

/* <run_dir>/containers, root-only (session_dir_open); create makes it. */
int ct_dir_open(const char *run_dir, bool create, int *ret_fd);
/* Read u<uid> from that dir: a regular file, no symlink, owned by root,
 * mode 0600 at most, one link, naming uid. -ENOENT when there is none. */
int ct_read(int ct_dirfd, uid_t uid, CtRecord *ret);
/* Write u<uid> atomically (0600). */
int ct_write(int ct_dirfd, const CtRecord *r);
/* Remove u<uid>; a missing one is not an error. */
int ct_remove(int ct_dirfd, uid_t uid);

/* flock <run_dir>/locks/u<uid>.ct.lock exclusively, waiting at most
 * timeout_ms (-ETIMEDOUT). The fd holds the lock until closed. */
int ct_lock(const char *run_dir, uid_t uid, unsigned timeout_ms, int *ret_fd);

/* st_dev and st_ino of each /proc/PID/ns/ file of pid (under proc_root). */
int ct_ns_read(const char *proc_root, pid_t pid, uint64_t *ret_dev,
               uint64_t ret_ino[_CT_NS_MAX]);

/* A pidfd of the record's init, verified: opened first, then the start
 * time and every namespace checked against the record, then the pidfd
 * checked still alive (so what was checked was that process). -ESRCH: the
 * init is gone or its pid was reused; -ESTALE: its namespaces are not the
 * record's. The caller may setns(pidfd, ...) into it. */
int ct_open_init(const char *proc_root, const CtRecord *r, int *ret_pidfd);

/* The container's dirs (<user>/ct), its init's (<user>/ct/init) and a
 * joined session's (<user>/ct/s<sid>), from the user level dirs. */
int ct_cgroup_set(const CgSet *user, CgSet *ret_ct);
int ct_init_cgroup_set(const CgSet *user, CgSet *ret_init);
int ct_session_cgroup_set(const CgSet *user, const char *sid, CgSet *ret_session);
