/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IPv4 leases for containers: one per container (per helper run), one file
 * each, named by its address: <run_dir>/leases.d/A.B.C.D (root-only, 0600),
 * made whole before it gets its name and linked without replacing, so two
 * acquires never get one address and nobody waits for another user. A
 * hard link in leases.d/u<UID>/ indexes each lease by its owner's uid,
 * named A.B.C.D,PID,START,SESSION (its address and owner; an earlier
 * version named it A.B.C.D, still read): the check for a lease the owner
 * already holds and the releases read that dir's names and open only the
 * entries named for their owner; the per-user cap counts the names, and
 * opens every entry only where that count reaches it. The cap is counted
 * under a flock of that dir. Addresses are handed out round-robin (leases.d/next, the last
 * one handed out) over the subnet's hosts, never the network address, the
 * gateway (first host) or the broadcast address. A lease's owner is the
 * helper process (pid + start time, so a reused pid cannot keep it), with
 * the session id, uid, user name and time for attribution of NAT'd
 * traffic. Whoever removes a lease holds the flock of its file.
 *
 * A lease file is one line, strict, its address equal to its name:
 *   A.B.C.D SESSION PID START UID USER TIME
 * An earlier version kept every lease in <run_dir>/leases under
 * <run_dir>/leases.lock:
 *   cubby-leases 1
 *   next A.B.C.D                      (the last address handed out)
 *   A.B.C.D SESSION PID START UID USER TIME
 * The first call that finds that file converts it under its lock (each of
 * its leases kept as it was) and removes it.
 * Addresses are uint32_t in host byte order. Nothing here logs. */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "cubby/conf.h"
#include "cubby/util.h"

#define IPAM_MAX_LEASES 65536
#define IPAM_LOCK_TIMEOUT_MS 5000

typedef struct IpamOwner {
        char session[CUBBY_ID_LEN + 1];       /* lowercase hex session id */
        pid_t pid;                            /* the helper holding the lease */
        uint64_t starttime;                   /* field 22 of /proc/PID/stat */
        uid_t uid;
        char user[CONF_NAME_MAX];             /* name_is_safe() */
        int64_t time;                         /* seconds since the epoch */
} IpamOwner;

typedef struct IpamLease {
        uint32_t addr;
        IpamOwner owner;
} IpamLease;

/* Fill owner for pid (0: the calling process) with its start time and the
 * current time; session and user are copied (validated). */
int ipam_owner_init(IpamOwner *owner, const char *session, pid_t pid, uid_t uid,
                    const char *user);

/* Lease an address of subnet/prefix for owner. If owner (pid + start time)
 * already holds one, that one is returned. Leases of processes that are
 * gone are reclaimed before the pool is declared exhausted. Returns 0,
 * -EADDRNOTAVAIL when every address is held by a live owner, -ETIMEDOUT
 * when the user's lock cannot be had, -EBADMSG on a corrupt old leases
 * file. */
int ipam_acquire(const char *run_dir, uint32_t subnet, unsigned prefix,
                 const IpamOwner *owner, uint32_t *ret_addr);

/* ipam_acquire, and -EDQUOT when owner's uid already holds max_per_uid
 * leases of live owners (0: no cap). Counted under the user's lock, so two
 * containers of one user cannot both take the last place. */
int ipam_acquire_capped(const char *run_dir, uint32_t subnet, unsigned prefix,
                        const IpamOwner *owner, uint32_t max_per_uid, uint32_t *ret_addr);

/* Release the lease of the owner pid + start time (whose uid is uid);
 * -ENOENT if it has none. */
int ipam_release(const char *run_dir, uid_t uid, pid_t pid, uint64_t starttime);

/* Release every lease of a session of uid (close_session). Returns how
 * many. */
int ipam_release_session(const char *run_dir, uid_t uid, const char *session);

/* Drop the leases whose owner process is gone. Returns how many; with
 * ret_reaped, a malloc()ed copy of them (for the gc_reaped log lines). */
int ipam_gc(const char *run_dir, IpamLease **ret_reaped, size_t *ret_n);

/* All leases (malloc()ed; *ret may be NULL when there are none). */
int ipam_list(const char *run_dir, IpamLease **ret, size_t *ret_n);
/* The same for the leases of uid only (its index: O(its leases)). */
int ipam_list_user(const char *run_dir, uid_t uid, IpamLease **ret, size_t *ret_n);

/* Whether the process of owner still exists (pid and start time match). */
bool ipam_owner_alive(const IpamOwner *owner);

/* Pure: parse the earlier version's leases file, and one lease file named
 * name (exposed for unit tests and fuzzing). */
int ipam_parse(const char *text, size_t len, IpamLease **ret, size_t *ret_n,
               uint32_t *ret_next);
int ipam_parse_lease(const char *name, const char *text, size_t len, IpamLease *ret);
