/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* State shared by the helper's files. Each file owns one concern: main.c
 * the order of the steps, the caller and the supervisor; mount.c the
 * container's root file system, mount-dev.c its /dev, mount-etc.c its
 * generated /etc files; ns.c the clone, the id maps and the child; netup.c
 * (with net.c) the network; sandbox.c capabilities and the process
 * state the shell inherits; seccomp.c the system call filter. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "cubby/cgroup-attach.h"
#include "cubby/record.h"
#include "pty.h"

/* The staging area: a tmpfs mounted over the root-only run dir inside the
 * helper's private mount namespace; the container's root is built below. */
#define STAGE_DIR CUBBY_RUNDIR
#define STAGE_ROOT CUBBY_RUNDIR "/root"

typedef struct Helper {
        Record rec;
        char **argv;                  /* shaped argv for the real shell */
        char **envp;                  /* allow-listed environment */
        int orig_mnt_fd;              /* the opener's mount namespace */
        bool has_tty;                 /* fd 0 is a terminal */
        bool gave_up_tty;             /* we led its session and let go of it */
        PtyPlan pty;                  /* otherwise: a pty of the container's own (pty.c) */
        struct rlimit rlim[RLIM_NLIMITS]; /* the caller's limits, given back to the shell */
        mode_t umask;
        CgAttach att;
        pid_t child;                  /* the container's PID 1, from step 5 on */
        int child_pidfd;
        int sync_w;                   /* step 8 releases the child through it */
        int err_r;                    /* the child's failed step, or EOF on exec */
} Helper;

/* mount.c: step 4, leaving the staging namespace after step 5, the
 * child's root */
int mnt_build_root(Helper *h);
int mnt_leave_staging(const Helper *h);
int mnt_child_enter_root(void);
int mnt_child_mount_kernel_fs(const Helper *h);
int mnt_child_pivot(const Helper *h);
/* mount.c: the primitives of the files below (paths inside the root are
 * resolved with RESOLVE_IN_ROOT and mounted on through /proc/self/fd) */
int mnt_open_in_root(int rootfd, const char *path, int flags);
int mnt_on_fd(const char *src, int fd, const char *type, unsigned long flags, const char *data);
int mnt_detach_below(const char *path);
int mnt_tmpfs_at(int rootfd, const char *path, unsigned long flags, const char *data, bool optional);
int mnt_bind_at(int rootfd, const char *src, const char *path, unsigned long flags);
int mnt_open_dir_in_root(int rootfd, const char *path);
int mnt_create_file_at(int dirfd, const char *name, mode_t mode);

/* mount-dev.c */
int mnt_build_dev(int rootfd);
void mnt_bind_console(void);

/* mount-etc.c */
int mnt_build_etc(int rootfd, const Record *rec);

/* ns.c: step 5 (clone3 into the session cgroup h->att opened), step 6 (id maps), step 8
 * (release the child, wait for its exec: on failure *ret_child_step names
 * the child's step). ns_kill_child undoes step 5. */
int ns_clone_container(Helper *h);
int ns_write_id_maps(const Helper *h);
int ns_release_child(Helper *h, const char **ret_child_step);
void ns_kill_child(Helper *h);

/* netup.c: step 7 */
int netup_container(Helper *h, pid_t child);

/* sandbox.c */
void sbx_save_process_state(Helper *h);
int sbx_setup_limits(void);
void sbx_restore_process_state(const Helper *h);
int sbx_drop_all_caps(void);
int sbx_seccomp(int mode);                /* ConfSeccomp (seccomp.c) */
int sbx_loopback_up(void);
