/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy file: /etc/security/cubby.conf then cubby.conf.d/ *.conf in name
 * order. conf_parse() is a pure function (text in, sections or a file:line
 * error out); conf_load() adds the file handling and its ownership checks;
 * conf_resolve() computes the policy of one user. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONF_NAME_MAX 64        /* user, group, service names */
#define CONF_MAX_SERVICES 16
#define CONF_MAX_HIDE 32
#define CONF_MAX_FILE_SIZE (1 << 20)
#define CONF_MAX_LINE 4096
#define CONF_MAX_SECTIONS 4096
#define CONF_MAX_FILES 256
#define CONF_UNLIMITED UINT64_MAX
/* One user's share of the host's pools when the policy says nothing. A
 * bridge holds 1023 ports: at 16 network containers each, 63 students at
 * their cap still fit, so a full class cannot be locked out by one
 * student; 16 is more than a student's terminals, editor channels and
 * scp together. Each session also costs its opener (su, sshd's monitor)
 * memory outside the student's budget, which max_sessions bounds. */
#define CONF_DEFAULT_MAX_SESSIONS 16
#define CONF_DEFAULT_MAX_CONTAINERS 16
/* linger = always; the bounds of the lifetime keys of a per-user container */
#define CONF_LINGER_ALWAYS UINT64_MAX
#define CONF_LINGER_MAX_S ((uint64_t)365 * 86400)
#define CONF_STOP_GRACE_MAX_S 60
#define CONF_DEFAULT_IDLE_CPU 5
#define CONF_DEFAULT_STOP_GRACE_S 5


typedef enum {
        CONF_NETWORK_NONE = 0,
        CONF_NETWORK_NAT,
} ConfNetwork;

/* How the containers' veths reach the host (a [global] key). */
typedef enum {
        CONF_NET_MODE_BRIDGE = 0,             /* host ends are ports of one bridge (at most 1023) */
        CONF_NET_MODE_ROUTED,                 /* no bridge: each host end is a routed /32 link */
} ConfNetMode;

typedef enum {
        CONF_HOME_PERSISTENT = 0,
        CONF_HOME_EPHEMERAL,
        CONF_HOME_DIRECT,                     /* the real home (pw_dir), bound read-write */
} ConfHome;

/* Where a login's shell runs (container = ...). */
typedef enum {
        CONF_CONTAINER_LOGIN = 0,             /* login: a container of its own per login */
        CONF_CONTAINER_USER,                  /* user: one container per user, every login joins it */
} ConfContainer;

/* The setting's name, as written in the policy, the session record and
 * explain. */
static inline const char *conf_container_name(ConfContainer c)
{
        return c == CONF_CONTAINER_USER ? "user" : "login";
}

/* The container's system call filter (seccomp = ...). The terminal rule
 * and the refusal of foreign ABIs hold in every mode. */
typedef enum {
        CONF_SECCOMP_NO = 0,                  /* no: only the rules that always hold */
        CONF_SECCOMP_YES,                     /* yes: the default rules, io_uring denied */
        CONF_SECCOMP_ALLOW_IO_URING,          /* allow_io_uring: the default rules but io_uring */
        _CONF_SECCOMP_MAX,
} ConfSeccomp;

/* The setting's name, as written in the policy, the session record and
 * explain; inline so that the helper's record parser needs no conf.c. */
static inline const char *conf_seccomp_name(ConfSeccomp s)
{
        switch (s) {
        case CONF_SECCOMP_NO: return "no";
        case CONF_SECCOMP_ALLOW_IO_URING: return "allow_io_uring";
        default: return "yes";
        }
}

/* Everything a section may set. Which keys a section really set is in
 * ConfSection.set (bit CONF_KEY_x). */
typedef struct ConfPolicy {
        bool sandbox;                         /* sandbox = yes|no */
        uint64_t cpu_milli;                   /* cpu = 1.5 -> 1500; CONF_UNLIMITED for "max" */
        uint64_t memory;                      /* bytes; CONF_UNLIMITED for "max" */
        uint64_t swap;                        /* bytes; CONF_UNLIMITED for "max" */
        uint64_t pids;                        /* CONF_UNLIMITED for "max" */
        ConfNetwork network;                  /* network = none|nat */
        char shell[PATH_MAX];                 /* shell = /bin/bash */
        char services[CONF_MAX_SERVICES][CONF_NAME_MAX];
        size_t n_services;                    /* services = sshd su su-l login */
        char hostname[CONF_NAME_MAX];         /* hostname = %u-%h (pattern) */
        char hide[CONF_MAX_HIDE][PATH_MAX];
        size_t n_hide;                        /* hide = /srv /mnt */
        uint64_t max_sessions;                /* CONF_DEFAULT_MAX_SESSIONS by default */
        ConfHome home;                        /* home = persistent|ephemeral|direct */
        char home_lower[PATH_MAX];            /* home_lower = /home/%u */
        ConfSeccomp seccomp;                  /* seccomp = yes|no|allow_io_uring (default yes) */
        bool network_fallback_none;           /* network_fallback = refuse|none: on a
                                                 network failure refuse the login (default)
                                                 or give network = none */
        char cpus[257];                       /* cpus = 0-3 or 0,2,4-7 (a cpuset list, CPU
                                                 numbers < 4096); "" = not set: no cpuset
                                                 restriction */
        uint64_t max_containers;              /* network containers (leases, bridge ports)
                                                 of one user at once; CONF_DEFAULT_MAX_CONTAINERS */
        ConfContainer container;              /* container = login (default) | user */
        uint64_t linger_s;                    /* linger = 0 | DURATION | always: how long a
                                                 per-user container outlives its last session
                                                 (seconds; CONF_LINGER_ALWAYS); default 0 */
        unsigned idle_cpu;                    /* idle_cpu = PERCENT (1-100) of one CPU at or
                                                 above which a container counts as busy;
                                                 default 5 */
        uint64_t stop_grace_s;                /* stop_grace = DURATION from SIGTERM to SIGKILL
                                                 when a container stops; default 5 */
        uint64_t home_size;                   /* bytes in the home (the persistent home's
                                                 project quota, the ephemeral tmpfs' size);
                                                 CONF_UNLIMITED by default */
        uint64_t home_inodes;                 /* files and dirs in the home; CONF_UNLIMITED
                                                 by default */
        bool home_lower_static;               /* home_lower_static = yes: the admin says the
                                                 overlay's lower never changes, so a lower
                                                 on a network file system is allowed
                                                 (home-fs.h); default no */
} ConfPolicy;

enum {
        CONF_KEY_SANDBOX = 0,
        CONF_KEY_CPU,
        CONF_KEY_MEMORY,
        CONF_KEY_SWAP,
        CONF_KEY_PIDS,
        CONF_KEY_NETWORK,
        CONF_KEY_SHELL,
        CONF_KEY_SERVICES,
        CONF_KEY_HOSTNAME,
        CONF_KEY_HIDE,
        CONF_KEY_MAX_SESSIONS,
        CONF_KEY_HOME,
        CONF_KEY_HOME_LOWER,
        CONF_KEY_SECCOMP,
        CONF_KEY_NETWORK_FALLBACK,
        CONF_KEY_CPUS,
        CONF_KEY_MAX_CONTAINERS,
        CONF_KEY_CONTAINER,
        CONF_KEY_LINGER,
        CONF_KEY_IDLE_CPU,
        CONF_KEY_STOP_GRACE,
        CONF_KEY_HOME_SIZE,
        CONF_KEY_HOME_INODES,
        CONF_KEY_HOME_LOWER_STATIC,
        _CONF_KEY_MAX,
};

typedef struct ConfGlobal {
        char admin_group[CONF_NAME_MAX];      /* default "sudo" */
        char state_dir[PATH_MAX];             /* default /var/lib/cubby */
        char run_dir[PATH_MAX];               /* default /run/cubby */
        char cgroup_parent[PATH_MAX];         /* default /system.slice/cubby.service (the
                                                 unit's delegated cgroup); "./x" is relative */
        ConfNetMode network_mode;             /* network_mode = bridge (default) | routed */
        char bridge[16];                      /* default cubby0 (IFNAMSIZ); bridge mode only */
        uint32_t subnet_addr;                 /* host byte order; default 10.213.0.0 */
        unsigned subnet_prefix;               /* default 16; 8..30 */
        char dns[128];                        /* "auto" (default) or ADDR[,ADDR] as written */
        char deny[32][64];                    /* CIDRs, IPv4 or IPv6, as written */
        size_t n_deny;                        /* default list: see cubby.conf(5) */
        uint16_t gateway_ports[16];           /* TCP/UDP ports sandboxes may reach on the gateway */
        size_t n_gateway_ports;               /* default none (DNS is handled separately) */
} ConfGlobal;

typedef enum {
        CONF_SECTION_DEFAULT,
        CONF_SECTION_GROUP,
        CONF_SECTION_USER,
} ConfSectionKind;

typedef struct ConfSection {
        ConfSectionKind kind;
        char name[CONF_NAME_MAX];             /* group or user name; "" for default */
        char file[PATH_MAX];                  /* where it was read, for explain */
        unsigned line;
        uint32_t set;                         /* bit (1u << CONF_KEY_x) for each key set */
        ConfPolicy values;
} ConfSection;

typedef struct Conf {
        ConfGlobal global;
        ConfSection *sections;                /* in file order across all files */
        size_t n_sections;
} Conf;

typedef struct ConfError {
        char file[PATH_MAX];
        unsigned line;                        /* 0 when the error is about the whole file */
        char msg[256];
} ConfError;

/* The compiled-in defaults: what an empty file gives. */
void conf_init(Conf *conf);
void conf_free(Conf *conf);

/* Parse one file's text (len bytes, need not be NUL-terminated) into conf,
 * appending sections; filename is only used in errors and ConfSection.file.
 * On error returns -EINVAL (or -ENOMEM, -E2BIG) and fills *err with
 * file:line and a message; conf is then left in a state only good for
 * conf_free(). */
int conf_parse(Conf *conf, const char *text, size_t len, const char *filename,
               ConfError *err);

/* Read path and then the drop-in dir <path>.d (cubby.conf -> cubby.conf.d):
 * its *.conf files in strcmp() name order, dotfiles and other names
 * skipped. Every file and the drop-in dir must be owned by owner_uid (0 in
 * production) and not writable by group or others; the files regular (no
 * symlink, FIFO, directory), the dir no symlink. Missing drop-in dir is
 * fine; a missing main file is an error (err->line 0). conf is first set up
 * with conf_init(), so pass a fresh or conf_free()d Conf, and conf_free() it
 * afterwards on success and on error. */
int conf_load(Conf *conf, const char *path, uid_t owner_uid, ConfError *err);

/* The policy for user who is a member of groups (names): built-in defaults,
 * then every [default] section, then every [group G] for a G in groups,
 * then every [user U] for U == user, each in file order; a key set later
 * wins. With sources != NULL, sources[k] is set to the section that last set
 * key k (or NULL for the compiled default). */
void conf_resolve(const Conf *conf, const char *user, const char *const *groups,
                  size_t n_groups, ConfPolicy *ret, const ConfSection **sources);

/* "1.5" -> 1500 (milli-CPUs; at most 3 decimals; > 0; <= 4096 CPUs), "max". */
int conf_parse_cpu(const char *s, uint64_t *ret_milli);
/* "512", "64K", "1.5G", "2T" (powers of 1024, suffix in any case, then an
 * optional "B" or "iB"; decimals only with a suffix, at most 6, rounded
 * down), "max"/"unlimited" -> CONF_UNLIMITED. -ERANGE on overflow. */
int conf_parse_size(const char *s, uint64_t *ret_bytes);
/* "0", or a whole number with one unit: s, m, h or d ("30s", "15m", "2h",
 * "1d") -> seconds; -EINVAL for anything else, -ERANGE above max_s. */
int conf_parse_duration(const char *s, uint64_t max_s, uint64_t *ret_s);
/* A duration in the policy's own form: "0", "90s", "15m", "2h", "1d" (the
 * largest unit that divides it). */
void conf_duration_format(uint64_t s, char *buf, size_t size);

/* The container's hostname from a hostname pattern: %u -> user, %h ->
 * host (its first label); bytes outside [A-Za-z0-9-] of either become '-';
 * cut to size - 1 (size at most 64: a label), then stripped of leading and
 * trailing '-' so that a cut never leaves an invalid name; "cubby" if
 * nothing is left. Pure: the caller passes gethostname()'s result. */
void conf_hostname_expand(const char *pattern, const char *user, const char *host, char *out,
                          size_t size);

/* "bridge" or "routed". */
const char *conf_net_mode_name(ConfNetMode m);

/* "sandbox" for CONF_KEY_SANDBOX ...; NULL when key is out of range. */
const char *conf_key_name(int key);
void conf_error_format(const ConfError *err, char *buf, size_t size);

/* Paths every sandbox hides, whatever the policy says (the helper's mount
 * step; `cubbyctl check` counts them as hidden): host agents reachable
 * through sockets or spools outside /run, /tmp and /var/tmp: the sssd
 * responder pipes (user enumeration), cron's spool, other users' mail. */
#define CONF_BUILTIN_HIDE { "/var/lib/sss/pipes", "/var/spool/cron", "/var/mail", "/var/spool/mail" }
