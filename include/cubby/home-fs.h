/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which file systems an overlay home may take its lower layer from
 * (lib/home-fs.c).
 *
 * overlayfs does not allow a change to a lower layer while the overlay is
 * mounted: the result is undefined (Documentation/filesystems/
 * overlayfs.rst, "Changes to underlying filesystems"). A lower on a file
 * system that other machines or the host of a VM write (a batch job,
 * another login node, an admin copying course files on the file server)
 * changes under the overlay whenever they write. So the overlay modes
 * (home = persistent | ephemeral) refuse a lower on such a file system
 * unless the policy says it is static (home_lower_static = yes); a home
 * on one belongs to home = direct.
 *
 * The list (statfs f_type): NFS; SMB/CIFS (cifs, smb3); AFS (OpenAFS and
 * kAFS); Coda; Ceph; Lustre; GPFS (Spectrum Scale); BeeGFS; OrangeFS;
 * GlusterFS and every other FUSE file system (sshfs, s3fs, ceph-fuse:
 * from f_type alone a local FUSE file system cannot be told from a
 * network one); 9p (a VM's host share: the host writes it); the shared
 * disk cluster file systems OCFS2 and GFS2 (other nodes write the same
 * blocks).
 */
#pragma once

#include <stddef.h>

/* The name of a network (or otherwise shared) file system type, from
 * statfs()'s f_type; NULL for a local one. */
const char *home_fs_network_name(long long f_type);

/* What home_fs_network_name says about the file system of fd: its name,
 * or NULL when local or when fstatfs fails. */
const char *home_fs_network_name_fd(int fd);

/* The part of a home_lower pattern before its first component with "%u"
 * in it ("/home/%u" -> "/home", "/srv/%u/home" -> "/srv", "/tmpl" ->
 * "/tmpl"): a path that exists for every user, for cubbyctl check. */
int home_fs_pattern_prefix(const char *pattern, char *buf, size_t size);
