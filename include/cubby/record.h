/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The session record: how the PAM module tells the setuid helper what a
 * session may do. Root-only files under <rundir>/sessions/u<uid>/ (the run dir
 * compiled in with -Drundir, not the policy's run_dir), named by the
 * opener's pid and start time ("<pid>-<starttime>") so that pid reuse
 * cannot alias. Text, one "key=value" a line, values escaped (record_escape),
 * bounded. Nothing in argv or the environment is trusted instead. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cubby/cgroup.h"
#include "cubby/util.h"

#define RECORD_MAX_SIZE ((size_t)64 * 1024)
#define RECORD_MAX_ENV 64
#define RECORD_MAX_HIDE 32
#define RECORD_VALUE_MAX 4096
#define RECORD_KEY_MAX 48 /* "<pid>-<starttime>" */
#define RECORD_MAX_GROUPS 64

typedef enum {
        RECORD_MODE_REDIRECT = 0,
        RECORD_MODE_LOGIN_SHELL,
} RecordMode;

typedef struct Record {
        unsigned version;                   /* 1 */
        char id[CUBBY_ID_LEN + 1];          /* session id */
        bool ready;                         /* state=ready: everything prepared */
        pid_t opener_pid;
        uint64_t opener_start;              /* field 22 of /proc/PID/stat */
        uid_t uid;
        gid_t gid;
        char user[64];
        char home[PATH_MAX];                /* pw_dir */
        char shell[PATH_MAX];               /* the real shell */
        char gecos[256];
        RecordMode mode;
        char redirect[PATH_MAX];            /* pw_shell path bound over (redirect mode) */
        bool sandbox;                       /* false: pass-through (login-shell mode, not sandboxed) */
        char service[64];
        char rhost[256];
        char tty[64];
        char hostname[64];
        int seccomp;                        /* ConfSeccomp */
        int container;                      /* ConfContainer: container=login|user
                                               (missing: login, as older records) */
        int network;                        /* ConfNetwork */
        uint64_t created;                   /* unix time */
        CgSet cgroup;                       /* the session's cgroup dirs */
        char env[RECORD_MAX_ENV][RECORD_VALUE_MAX]; /* saved PAM environment, "K=V" */
        size_t n_env;
        char hide[RECORD_MAX_HIDE][PATH_MAX];
        size_t n_hide;
        char state_dir[PATH_MAX];
        char run_dir[PATH_MAX];             /* the config's run_dir: anchor, leases */
        char home_mount[PATH_MAX];          /* the overlay home's mount point in the anchor */
        bool home_direct;                   /* home = direct: the real home, opened as the
                                               user (home-direct.h); never with home_mount */
        /* network = nat */
        char bridge[16];
        uint32_t subnet;                    /* host byte order */
        unsigned prefix;
        bool net_fallback_none;             /* a network failure gives loopback only */
        bool net_routed;                    /* network_mode = routed: no bridge */
        uint32_t max_containers;            /* leases of this uid at once; 0: no cap */
        char resolv[1024];                  /* the container's /etc/resolv.conf */
        /* the user's supplementary groups: kept in the container, so a
         * group that is denied access stays denied (CVE-2014-8989) */
        gid_t groups[RECORD_MAX_GROUPS];
        size_t n_groups;
        /* their names from NSS (an LDAP group is in no /etc/group), for
         * the container's generated /etc/group: "group_name=GID NAME",
         * a name as name_is_safe() allows; a group without one stays a
         * number */
        struct {
                gid_t gid;
                char name[64];
        } group_names[RECORD_MAX_GROUPS];
        size_t n_group_names;
} Record;

/* "<pid>-<starttime>" */
int record_key(pid_t pid, uint64_t starttime, char *buf, size_t size);

/* Strict parse: unknown keys, duplicate single keys, bad values, a
 * missing required key, more than RECORD_MAX_SIZE: -EINVAL (-E2BIG).
 * *ret is reset first, except env[] and hide[] at and past n_env and
 * n_hide, which keep what they held (never read). */
int record_parse(const char *text, size_t len, Record *ret);

/* Open, verify and parse <key> in the sessions dir: a regular file (no
 * symlink), owned by owner_uid, not writable by group or others, whose
 * opener fields match key. */
int record_read(int sessions_dirfd, const char *key, uid_t owner_uid, Record *ret);

/* Each user's records are in a dir of their own, <sessions>/u<uid>: the
 * name of uid's (-ENAMETOOLONG if buf is too small). */
int record_user_dir_name(uid_t uid, char *buf, size_t size);

/* Open (with create: make if missing) <sessions>/u<uid>; -EPERM if it is
 * not a dir owned like the sessions dir and private to its owner. */
int record_user_dir(int sessions_fd, uid_t uid, bool create, int *ret_fd);

/* record_read of key in uid's dir (owned by root); -EPERM if the record
 * names another uid. */
int record_read_user(int sessions_fd, uid_t uid, const char *key, Record *ret);

/* Walk the ancestry of start_pid (start_pid itself is depth 0: pass
 * getppid()), up to max_depth further parents, reading <proc_root>/PID/stat;
 * return the record of the first ancestor that has one (-ENOENT if none).
 * The record must also name uid/gid (the helper's real ids). */
int record_find_ancestor(const char *proc_root, int sessions_dirfd, pid_t start_pid,
                         unsigned max_depth, uid_t owner_uid, uid_t uid, gid_t gid,
                         Record *ret, unsigned *ret_depth);

/* Bytes outside printable ASCII, and '\\', as \\xHH: a value never adds a
 * key or a line. -ENAMETOOLONG when out is too small. */
int record_escape(const char *in, char *out, size_t size);

/* Reverses record_escape; refuses malformed input. */
int record_unescape(const char *in, char *out, size_t size);
