/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-user overlay home and the anchor mount namespace it lives in.
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
 *         upper/                 the user, 0755 (persistent writes)
 *         work/                  root 0700 (overlayfs' work dir)
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
#include <sys/types.h>

#include "cubby/cgroup.h"

typedef struct HomeSpec {
        const char *state_dir;
        const char *run_dir;
        const char *user;
        uid_t uid;
        gid_t gid;
        const char *lower;        /* resolved lower dir (home_lower with %u), or NULL */
        bool ephemeral;
        bool may_mount;           /* home_mount: -ENOTCONN instead of mounting */
} HomeSpec;

/* <state_dir>/users/<user>/merged */
int home_merged_path(const char *state_dir, const char *user, char *buf, size_t size);

/* Open the anchor's mount namespace (O_RDONLY fd usable with setns), after
 * checking that the holder recorded in <run_dir>/anchor is the process that
 * was recorded (pid + start time) and still has that namespace. -ENOENT if
 * there is no live anchor. */
int anchor_open(const char *run_dir, int *ret_nsfd);

/* anchor_open, creating the holder first if there is none. cg_parent_dirs:
 * cgroup directories (one per hierarchy) below which the holder is moved
 * into an "anchor" cgroup, so that no session scope kill takes it along;
 * may be NULL. holder_exe: a program to exec as the holder (cubbyctl,
 * which runs anchor_hold() for "__anchor"), so that it is not a copy of
 * sshd or su; NULL or a failed exec: the forked process holds it. */
int anchor_ensure(const char *run_dir, const CgSet *cg_parent_dirs, const char *holder_exe,
                  int *ret_nsfd);

/* The holder's life, in the process that is to hold the anchor: reports
 * its pid (or -errno) on report_fd (a socket), waits there for the byte 'k'
 * that anchor_ensure sends once the holder is recorded (EOF first: it
 * exits), then sleeps forever. */
_Noreturn void anchor_hold(int report_fd);

/* Stop the holder (the overlays go with its namespace), remove its record
 * and its "anchor" cgroups below cg_parent_dirs (may be NULL; removed also
 * when there is no record, if empty). For gc, when no session is left. 1 if
 * a holder was recorded (and is stopped now), 0 if there was none. */
int anchor_stop(const char *run_dir, const CgSet *cg_parent_dirs);

/* Create (or check) the user's state tree and make sure the user's overlay
 * is mounted in the anchor. 1 if it mounted it now, 0 if it was there;
 * -ENOTCONN if it was not there and spec->may_mount is false.
 * Runs the namespace work in a short-lived child, so the caller's own
 * mount namespace, root and cwd are untouched. */
int home_mount(const HomeSpec *spec, int anchor_nsfd);

/* 1 if the user's overlay is mounted in the anchor, 0 if not. */
int home_is_mounted(const HomeSpec *spec, int anchor_nsfd);

/* Unmount the user's overlay (and the ephemeral tmpfs) in the anchor. */
int home_umount(const HomeSpec *spec, int anchor_nsfd);

/* Move <state_dir>/users/<user>/upper aside to upper.reset-<time> (never
 * deleted) and start empty; the overlay must not be mounted. */
int home_reset(const HomeSpec *spec, char *ret_moved, size_t size);
