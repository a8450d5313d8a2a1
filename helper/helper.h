/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* State shared by the helper's files. Each file owns one concern: main.c
 * the order of the steps, the caller and the supervisor; mount.c the
 * container's root file system, mount-dev.c its /dev, mount-etc.c its
 * generated /etc files; ns.c the clone, the id maps and the child; netup.c
 * (with net.c) the network; sandbox.c capabilities and the process
 * state the shell inherits; seccomp.c the system call filter; start.c the
 * start of a user's container (--start-container), join.c the join of
 * one (a container = user login, --enter). */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
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
        int home_err;                 /* home = direct: why the home was refused (step 4) */
        int home_tree;                /* home = direct: the home, a detached mount (step 4) */
        bool has_tty;                 /* fd 0 is a terminal */
        bool gave_up_tty;             /* we led its session and let go of it */
        PtyPlan pty;                  /* otherwise: a pty of the container's own (pty.c) */
        struct rlimit rlim[RLIM_NLIMITS]; /* the caller's limits, given back to the shell */
        mode_t umask;
        CgAttach att;
        bool att_v2_self;             /* a join: the supervisor moves into att's v2 dir */
        pid_t child;                  /* the container's PID 1, from step 5 on */
        int child_pidfd;
        int sync_w;                   /* step 8 releases the child through it */
        int err_r;                    /* the child's failed step, or EOF on exec */
        /* --start-container: the child becomes the init of the user's
         * container (ns.c): cloned into <user>/ct (its cgroup namespace is
         * rooted there), moves itself into ct/init, execs cubby-init */
        bool start_container;
        int init_exe_fd;              /* O_PATH fd of cubby-init, opened before the clone */
        CgAttach att_init;            /* ct/init: v1 tasks fds */
        int init_procs_fd;            /* ct/init's v2 cgroup.procs, or -1 */
        uint32_t lease_addr;          /* step 7's address (host order), 0: none */
        /* container = user, ssh -A: the agent socket sshd made (agent.c) */
        char agent_path[108];         /* SSH_AUTH_SOCK, checked for its shape */
        int agent_tree;               /* a detached bind mount of it, or -1 */
        uint64_t agent_dev, agent_ino;
        StepTimes steps;              /* setup's profile, for container_start's steps_us */
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

/* container-net.c: step 7. The lease's owner is the helper (a login
 * container) or the child (the init of a user's container). */
int netup_container(Helper *h, pid_t child);

/* start.c: --start-container KEY (root only): the user's container, its
 * init and its record; returns only on success (exit status 0). */
_Noreturn void start_container_main(Helper *h, uid_t uid, const char *key);
/* <user>/ct/s<sid> -> <user>/ct and <user>/ct/init */
int helper_ct_sets(const CgSet *session, CgSet *ret_ct, CgSet *ret_init);

/* join.c: the login of a container = user session joins the user's
 * container (never creates one); --enter UID [-- CMD...] (root only)
 * joins it as that user from the container record. Both end in the
 * supervisor and never return. */
_Noreturn void join_main(Helper *h, const struct timespec *t0);

/* agent.c: SSH_AUTH_SOCK into the user's container */
void agent_pick(Helper *h, char *const env[]);
int agent_open(Helper *h);
int agent_place(Helper *h);
_Noreturn void enter_main(Helper *h, int argc, char *argv[], char **caller_env);

/* main.c: shared by the modes */
_Noreturn void helper_fail(const char *what, int err);
_Noreturn void helper_supervise(Helper *h, int child_pidfd, int opener_fd, int master,
                                bool joined);
void helper_take_privileges(void);
void helper_set_user_groups(const Helper *h);
void helper_release_tty(Helper *h);
int helper_open_opener(const Record *rec);
void helper_log_start(const Helper *h, const char *event, const struct timespec *t0);

/* sandbox.c */
void sbx_save_process_state(Helper *h);
int sbx_setup_limits(void);
void sbx_restore_process_state(const Helper *h);
int sbx_drop_all_caps(void);
int sbx_seccomp(int mode);                /* ConfSeccomp (seccomp.c) */
int sbx_loopback_up(void);
