/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* State shared by the helper's files. Each file owns one concern: mount.c
 * the container's root, ns.c the clone and the child, sandbox.c
 * capabilities, seccomp and the process state the shell inherits. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "cubby/cgroup.h"
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
} Helper;

/* mount.c */
int mnt_build_root(Helper *h);
int mnt_child_enter_root(void);
int mnt_child_mount_kernel_fs(const Helper *h);
int mnt_child_pivot(const Helper *h);

/* ns.c */
int ns_start_container(Helper *h, pid_t *ret_pid, int *ret_pidfd);

/* netup.c */
int netup_container(Helper *h, pid_t child);

/* sandbox.c */
void sbx_save_process_state(Helper *h);
int sbx_setup_limits(void);
void sbx_restore_process_state(const Helper *h);
int sbx_drop_all_caps(void);
int sbx_seccomp(bool strict);
int sbx_loopback_up(void);
