/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-user overlay home (lib/home.c). It lives in the anchor mount
 * namespace (anchor.h, anchor-holder.h).
 *
 * Openers (sshd, su, login) live in different mount namespaces, and the
 * redirect gives each its own, so an overlay mounted by one would be
 * invisible to the next, which would mount a second one on the same upper
 * dir (undefined behaviour in the kernel). So every overlay is mounted in
 * one "anchor" mount namespace, held by a tiny holder process whose
 * identity (pid, start time, namespace inode) is in <run_dir>/anchor, a
 * file every namespace sees. Whoever needs the overlays setns()es there.
 *
 * State tree, every component opened by fd, no-follow, owner and type
 * checked, never "fixed" when unexpected:
 *   <state_dir>/                 root 0700
 *     users/                     root 0700
 *       <user>/                  root 0700
 *         upper/                 the user, 0755 (persistent writes); with
 *                                home_size/home_inodes: project = uid, inherit
 *         work/                  root 0700 (overlayfs' work dir); the same project
 *         merged/                root 0755 (mount point in the anchor)
 *         eph/                   root 0700 (tmpfs in the anchor, ephemeral mode)
 *     reserve/0..7               root 0700, empty: spare inodes (below)
 *
 * Space: overlayfs writes into upper with the credentials of whoever
 * mounted it, and ext4 lets fsuid 0 use the blocks it reserves for root.
 * So the overlay is mounted with fsuid/fsgid = the user, no supplementary
 * groups and no CAP_SYS_RESOURCE: a student who fills the disk stops where
 * every user stops, and root (and cubby's own mkdirs, made as root) keep
 * the reserve. ext4 keeps no inodes for root, and every mount needs some
 * (overlayfs replaces work/work and makes two scratch inodes; a new user's
 * tree needs four dirs): work/work is made by root before the mount (so
 * its replacement is one for one), and when a mount still fails for want
 * of space, the reserve's dirs are removed and the mount retried; they
 * are made again when there is room. Measured on ext4 (6.18): see
 * SECURITY.md (pam_cubby 11a).
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* What the mount of an overlay may take in the user's project beyond its
 * use (overlayfs remakes work/work and tries a tmpfile and a whiteout;
 * see SECURITY.md), and what an ephemeral tmpfs gets in inodes beyond
 * home_inodes for what is not the user's (its root, upper, work, work/work
 * and one more overlayfs keeps: 5 on Linux 6.12). */
#define HOME_QUOTA_SLACK_BYTES (UINT64_C(1024) * 1024)
#define HOME_QUOTA_SLACK_INODES 16
#define HOME_TMPFS_EXTRA_INODES 5

typedef struct HomeSpec {
        const char *state_dir;
        const char *run_dir;
        const char *user;
        uid_t uid;
        gid_t gid;
        const char *lower;        /* resolved lower dir (home_lower with %u), or NULL */
        bool lower_static;        /* home_lower_static: a lower on a network file
                                     system is allowed (home-fs.h) */
        bool ephemeral;
        bool may_mount;           /* home_mount: -ENOTCONN instead of mounting */
        uint64_t size_limit;      /* home_size in bytes, 0 for none: the project quota
                                     (persistent, home-quota.h) or the tmpfs size (ephemeral) */
        uint64_t inode_limit;     /* home_inodes, 0 for none: likewise */
} HomeSpec;

/* The spec of user's home (the user by name; a deleted user by the owner
 * of its upper dir). -EINVAL for an unsafe name, -ENOENT if neither. */
int home_spec_of(const char *state_dir, const char *run_dir, const char *user, HomeSpec *hs);

/* <state_dir>/users/<user>/merged */
int home_merged_path(const char *state_dir, const char *user, char *buf, size_t size);

/* Create (or check) the user's state tree and make sure the user's overlay
 * is mounted in the anchor. 1 if it mounted it now, 0 if it was there;
 * -ENOTCONN if it was not there and spec->may_mount is false.
 * Persistent home: with a size or inode limit, upper and work are put in
 * the user's project (home-quota.h) and its limits set, mounted or not;
 * while it mounts, the limits are raised by HOME_QUOTA_SLACK_* above what
 * is in use, so a user over the limit still gets a writable home (to
 * delete files). Without limits, a project left from earlier gets none.
 * -EMEDIUMTYPE: a limit is set, but the file system of state_dir (as the
 * anchor namespace sees it) does not enforce project quotas (logged with
 * what to fix).
 * -EREMOTE: the lower is on a network file system (home-fs.h) and
 * spec->lower_static is false (logged with the file system's name).
 * The lower is opened, and the overlay mounted, with the user's fsuid and
 * fsgid (mount_creds), so a root-squashed server answers the user.
 * Runs the namespace work in a short-lived child, so the caller's own
 * mount namespace, root and cwd are untouched. */
int home_mount(const HomeSpec *spec, int anchor_nsfd);

/* 1 if the user's overlay is mounted in the anchor, 0 if not. */
int home_is_mounted(const HomeSpec *spec, int anchor_nsfd);

/* Unmount the user's overlay (and the ephemeral tmpfs) in the anchor. */
int home_umount(const HomeSpec *spec, int anchor_nsfd);

/* Move <state_dir>/users/<user>/upper aside to upper.reset-<time> (never
 * deleted) and start empty; the overlay must not be mounted. The old files
 * leave the user's project (project 0): they no longer count. */
int home_reset(const HomeSpec *spec, char *ret_moved, size_t size);
