/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* home = direct (lib/home-direct.c): the user's real home, pw_dir, bound
 * read-write at its own path in the container (nosuid, nodev). Nothing of
 * it passes through state_dir; quotas stay with the file server.
 *
 * It is opened as the user, not as root: with fsuid and fsgid set to the
 * user (the caller already holds exactly the user's supplementary groups)
 * around one openat2(RESOLVE_NO_SYMLINKS), so
 *  - a root-squashed NFS home (0700, root is "nobody" to the server) is
 *    reached with the same rights the user has, never with root's;
 *  - no symlink is followed at any component: a student who swaps a
 *    component (or the home itself) for a symlink cannot point root at
 *    another path;
 *  - the result must be a directory owned by the user, checked on the fd
 *    that is then bound (through /proc/self/fd), so there is no window
 *    between the check and the mount.
 * fsuid and fsgid are back to what they were (root, in the helper) before
 * it returns, on every path.
 */
#pragma once

#include <sys/types.h>

/* Open path (absolute, normalised, not directly under "/") as uid/gid as
 * above; on success *ret_fd is an O_PATH directory fd owned by uid.
 * -ENOENT: missing; -ELOOP: a symlink on the way; -EACCES: the user cannot
 * reach it; -ENOTDIR: not a directory; -EPERM: not owned by the user;
 * -EINVAL: not a usable path; -EIO: the credentials could not be set or
 * restored (the caller must stop). */
int home_direct_open(const char *path, uid_t uid, gid_t gid, int *ret_fd);

/* A short text for the errors above, for the user's and the log's line. */
const char *home_direct_strerror(int err);
