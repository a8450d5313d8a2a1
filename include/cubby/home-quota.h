/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Disk quotas of the persistent home (lib/home-quota.c): a project quota
 * on the overlay's upper and work dirs.
 *
 * Each user's home is one project, id = the user's uid. Its upper and work
 * dirs (and, once, every dir and file already in them) carry the project id
 * and the inherit flag, so everything overlayfs makes there afterwards
 * (copy-ups, new files, whiteouts, the work dir's scratch files) is counted
 * in the project. Both dirs must carry it: ext4 and XFS refuse a rename
 * into an inherit dir from another project (EXDEV), and overlayfs makes
 * files in work and renames them into upper.
 *
 * The limits are hard limits, set at every login from the policy. The
 * overlay is mounted with the user's fsuid and without CAP_SYS_RESOURCE
 * (lib/home.c mount_creds), so the kernel stops the student's writes at
 * the limit (ext4 lets CAP_SYS_RESOURCE pass a project's hard limit; XFS
 * does not). Root's own writes elsewhere on the file system are in
 * project 0, which has no limit.
 *
 * Needs ext4 with the features project and quota, mounted with prjquota,
 * or XFS mounted with prjquota (pquota); quota_fs_check says what is
 * missing and how to fix it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define QUOTA_NONE 0 /* no limit (the kernel's 0) */

typedef struct QuotaUsage {
        uint32_t projid;
        uint64_t bytes;           /* in use */
        uint64_t inodes;
        uint64_t bytes_limit;     /* hard limits; QUOTA_NONE: none */
        uint64_t inodes_limit;
} QuotaUsage;

/* The project of a user's home. */
static inline uint32_t quota_project_of(uid_t uid)
{
        return (uint32_t)uid;
}

/* Whether the file system of fd (any file or dir on it) enforces project
 * quotas. 0 if it does; else a negative errno and, in why (if not NULL),
 * one sentence on what is missing and how to fix it:
 * -EOPNOTSUPP: the file system or the kernel has no project quotas;
 * -ESRCH: the file system can, but project quotas are not on;
 * -ENOLINK: they are counted but not enforced (mounted without the
 *  enforcing option). */
int quota_fs_check(int fd, char *why, size_t size);

/* Put the tree at dirfd (upper or work) in project projid: the dir gets the
 * project and the inherit flag, after every dir and regular file below it
 * (no symlink followed, no other mount entered) got the project (dirs the
 * inherit flag too). Runs the walk only when dirfd is not in the project
 * yet. Entries that cannot carry a project (symlinks, device nodes, FIFOs,
 * sockets) and dirs deeper than 256 levels are skipped and counted in
 * *ret_skipped (may be NULL). Returns 1 if it walked, 0 if the tree was
 * tagged already. */
int quota_tag_tree(int dirfd, uint32_t projid, unsigned *ret_skipped);

/* The project of dirfd and whether it has the inherit flag. */
int quota_dir_project(int dirfd, uint32_t *ret_projid, bool *ret_inherit);

/* Set the project's hard limits (bytes are rounded up to 1 KiB, the
 * quota's unit; QUOTA_NONE for none). fd: anything on the file system. */
int quota_set_limits(int fd, uint32_t projid, uint64_t bytes, uint64_t inodes);

/* The project's usage and hard limits. -ESRCH when project quotas are off. */
int quota_get(int fd, uint32_t projid, QuotaUsage *ret);

/* "1.5G", "512K", "300B" (powers of 1024, one decimal) into buf. */
void quota_format_size(uint64_t bytes, char *buf, size_t size);
