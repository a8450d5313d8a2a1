/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the lease files share among themselves, not with their callers
 * (those use cubby/ipam.h): ipam.c (the leases dir, one lease, acquire and
 * release: what the setuid helper links) and ipam-gc.c (gc and the lists,
 * which read every lease: pam_cubby and cubbyctl only). */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "cubby/ipam.h"

#define IPAM_DROP_LOCK_TIMEOUT_MS 1000
#define IPAM_TMP_PREFIX ".tmp." /* .tmp.PID.RANDOM: gc removes those of dead pids */

int ipam_lock_bounded(int fd, unsigned timeout_ms);
int ipam_cmp_lease(const void *a, const void *b);

/* <run_dir>/leases.d, made with create (without: *ret_fd is -1 when there
 * is none); an older cubby's single leases file is converted first. */
int ipam_dir_open(const char *run_dir, bool create, int *ret_fd);
/* leases.d/u<uid>: the user's index. */
int ipam_user_dir_open(int dfd, uid_t uid, bool create, int *ret_fd);
/* A DIR of its own (its own offset) over the directory dirfd. */
int ipam_dir_list(int dirfd, DIR **ret);

/* Unlink NAME in dirfd if it still names the inode st. */
int ipam_unlink_same(int dirfd, const char *name, const struct stat *st);
/* Whether a user's index entry (inode st, its lease l, whose address its
 * name states) is still the lease at that address in the leases dir dfd. */
bool ipam_index_current(int dfd, const IpamLease *l, const struct stat *st);

/* An owner looked for: the pid and start time, or with session that
 * session's. */
typedef struct IpamMatch {
        pid_t pid;
        uint64_t starttime;
        const char *session;
} IpamMatch;

/* fn for each valid lease named in dirfd (open as fd, its stat st): names
 * that are neither A.B.C.D nor an index entry's A.B.C.D,PID,START,SESSION
 * and files that are no valid lease (or not the one their name states) are
 * skipped; with m, so is every entry whose name states another owner,
 * unopened. fn returns < 0 to stop. Returns how many names were taken
 * (opened or not), or fn's error. */
typedef int (*IpamLeaseFn)(int dirfd, const char *name, int fd, const struct stat *st,
                           const IpamLease *l, void *arg);
int ipam_lease_walk(int dirfd, const IpamMatch *m, IpamLeaseFn fn, void *arg);

/* Remove the leases of dead owners in the leases dir dfd; with keep, a
 * copy of each in reaped. Returns how many. */
typedef struct IpamReap {
        IpamLease *reaped;
        size_t n;
        bool keep;
        int count;
} IpamReap;
int ipam_reap_dead(int dfd, IpamReap *g);
