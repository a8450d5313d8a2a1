/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pam_cubby: the session half of cubby.
 *
 * open_session runs as root in the process that opened the PAM session (the
 * "opener": sshd's per-connection monitor, su's or login's parent). It
 * decides from the policy whether the user is sandboxed, prepares what does
 * not need the container (the cgroups with their limits, the session
 * record the setuid helper will trust) and, in redirect mode, puts the
 * helper on the exec path of the user's shell: a private mount namespace
 * for the opener in which pw_shell's name leads to cubby-shell (an overlay
 * on the shell's directory, see redirect_shell()). Everything
 * else happens in cubby-shell, which the opener's child then execs.
 *
 * close_session runs in the same process: kill and remove the session's
 * cgroups, remove the record. It always returns PAM_SUCCESS.
 *
 * container = user: the session cgroup is <user>/ct/s<sid> and the shell
 * joins the user's container, which open_session makes sure runs (the
 * helper's root-only --start-container); close_session kills nothing
 * (jobs outlive the logout) and removes the session dir only when empty.
 *
 * Failures refuse the session (PAM_SESSION_ERR, a one-line message with an
 * incident id, a log line); nothing lets a sandboxed user in unsandboxed.
 */
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "cubby-build.h"
#include "cubby/cgroup-layout.h"
#include "cubby/cgroup-lifecycle.h"
#include "cubby/conf.h"
#include "cubby/container-life.h"
#include "cubby/container.h"
#include "cubby/fault.h"
#include "cubby/gc.h"
#include "cubby/anchor-holder.h"
#include "cubby/anchor.h"
#include "cubby/home.h"
#include "cubby/home-quota.h"
#include "cubby/ipam.h"
#include "cubby/host-netcfg.h"
#include "cubby/host-nftcheck.h"
#include "cubby/log.h"
#include "cubby/proc.h"
#include "cubby/record-write.h"
#include "cubby/record.h"
#include "cubby/session.h"
#include "cubby/spawn.h"
#include "cubby/user-policy.h"
#include "cubby/util.h"

#define DATA_NAME "pam_cubby_session"
#define LAST_GOOD_DIR CUBBY_RUNDIR "/last-good"
#define LOCK_TIMEOUT_MS 10000
#define START_TIMEOUT_MS 15000

typedef struct Args {
        const char *config;
        bool debug;
        RecordMode mode;
} Args;

/* What close_session needs, kept with pam_set_data. */
typedef struct Session {
        Record rec;
        char key[RECORD_KEY_MAX];
        char lock_dir[PATH_MAX];
        struct timespec started;
        /* the opener's own network namespace, kept while it is in the
         * container's (sshd, container = user); -1 otherwise */
        int host_net;
} Session;

static void parse_args(pam_handle_t *pamh, int argc, const char **argv, Args *a)
{
        a->config = CUBBY_CONFIG_PATH;
        a->debug = false;
        a->mode = RECORD_MODE_REDIRECT;
        for (int i = 0; i < argc; i++) {
                if (strncmp(argv[i], "config=", 7) == 0 && argv[i][7] == '/')
                        a->config = argv[i] + 7;
                else if (strcmp(argv[i], "debug") == 0)
                        a->debug = true;
                else if (strcmp(argv[i], "mode=redirect") == 0)
                        a->mode = RECORD_MODE_REDIRECT;
                else if (strcmp(argv[i], "mode=login-shell") == 0)
                        a->mode = RECORD_MODE_LOGIN_SHELL;
                else
                        pam_syslog(pamh, LOG_ERR, "unknown option: %s", argv[i]);
        }
}

/* Shown to the user, logged with the same incident id. */
static int refuse(pam_handle_t *pamh, const char *user, const char *service, const char *reason,
                  const char *detail)
{
        char id[CUBBY_ID_LEN + 1] = "0000000000000000";

        (void)random_id(id);
        log_event(LOG_WARNING, "session_refused", "incident", id, "user", user, "service",
                  service, "reason", reason, "detail", detail, NULL);
        pam_error(pamh, "cubby: login refused (%s); incident %s. Please contact your administrator.",
                  reason, id);
        return PAM_SESSION_ERR;
}

/* The admin group when the policy cannot be read: the last good copy's, or
 * the compiled-in default. Never anything from the broken file. */
static void last_good_name(const char *config, char *buf, size_t size)
{
        size_t o = 0;

        for (const char *c = config; *c && o + 1 < size; c++)
                buf[o++] = (char)(*c == '/' ? '_' : *c);
        buf[o] = 0;
}

static void last_good_admin_group(const char *config, char *ret, size_t size)
{
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *text = NULL;
        char name[NAME_MAX + 1];
        struct stat st;

        snprintf(ret, size, "sudo");
        last_good_name(config, name, sizeof name);
        if (session_dir_open(LAST_GOOD_DIR, false, &dfd) < 0)
                return;
        if (read_file_at(dfd, name, 4096, &text, NULL, &st) < 0 || st.st_uid != 0)
                return;
        if (strncmp(text, "admin_group=", 12) == 0) {
                char *nl = strchr(text, '\n');

                if (nl)
                        *nl = 0;
                if (name_is_safe(text + 12, CONF_NAME_MAX - 1))
                        snprintf(ret, size, "%s", text + 12);
        }
}

static void save_last_good(const Conf *conf, const char *config)
{
        _cleanup_close_ int dfd = -1;
        char name[NAME_MAX + 1], text[CONF_NAME_MAX + 16];

        if (session_dir_open(LAST_GOOD_DIR, true, &dfd) < 0)
                return;
        last_good_name(config, name, sizeof name);
        snprintf(text, sizeof text, "admin_group=%s\n", conf->global.admin_group);
        {
                _cleanup_free_ char *old = NULL;

                /* unchanged: no write (and no fsync) on every login */
                if (read_file_at(dfd, name, 4096, &old, NULL, NULL) == 0 && strcmp(old, text) == 0)
                        return;
        }
        (void)write_file_atomic_at(dfd, name, text, strlen(text), 0600);
}

static bool service_allowed(const ConfPolicy *p, const char *service)
{
        for (size_t i = 0; i < p->n_services; i++)
                if (strcmp(p->services[i], service) == 0)
                        return true;
        return false;
}

static bool shell_listed(const char *shell)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;

        if (read_file_at(AT_FDCWD, "/etc/shells", (size_t)1024 * 1024, &text, NULL, NULL) < 0)
                return false;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                if (strcmp(line, shell) == 0)
                        return true;
        return false;
}

typedef struct ShellRedirect {
        int dir_fd;             /* the shell's directory (symlinks resolved) */
        int shell_fd;           /* the shell in it, O_PATH|O_NOFOLLOW */
        const char *base;       /* pw_shell's last component */
        bool done;              /* this opener is redirected already */
} ShellRedirect;

static void shell_redirect_done(ShellRedirect *s)
{
        if (s->dir_fd >= 0)
                close(s->dir_fd);
        if (s->shell_fd >= 0)
                close(s->shell_fd);
        s->dir_fd = s->shell_fd = -1;
}

/* Ours: the shell's directory is an overlay, and the shell in it is a
 * symlink whose text is the helper's path and which leads to the helper. */
static bool shell_redirected(int dfd, int fd, const char *base, int helper_fd)
{
        char target[sizeof CUBBY_HELPER_PATH + 1];
        struct statfs sf;
        struct stat a, b;
        ssize_t n;

        if (fstatfs(dfd, &sf) < 0 || sf.f_type != OVERLAYFS_SUPER_MAGIC)
                return false;
        n = readlinkat(fd, "", target, sizeof target);
        if (n != (ssize_t)strlen(CUBBY_HELPER_PATH) || memcmp(target, CUBBY_HELPER_PATH, (size_t)n) != 0)
                return false;
        return fstatat(dfd, base, &a, 0) == 0 && fstat(helper_fd, &b) == 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

/* The redirect covers every exec of pw_shell in the opener's namespace, so
 * pw_shell must be a root-owned regular file (no symlink: the redirect
 * would land on its target), listed in /etc/shells, and not /bin/sh, which
 * the opener itself and later modules may run. The redirect is mounted on
 * the directory pw_shell really lives in (/bin may be a symlink to usr/bin):
 * root-owned, writable by root only, and not / itself. */
static int check_redirect_shell(const char *shell, int helper_fd, ShellRedirect *ret, const char **ret_why)
{
        _cleanup_close_ int dfd = -1, fd = -1;
        char dir[PATH_MAX];
        const char *slash;
        struct stat st, sh;

        if (!path_is_normalized_absolute(shell)) {
                *ret_why = "the login shell path is not absolute";
                return -EINVAL;
        }
        slash = strrchr(shell, '/');
        if (slash == shell) {
                *ret_why = "the login shell is not in a directory below / (use mode=login-shell)";
                return -EINVAL;
        }
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - shell), shell);
        dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                *ret_why = "the login shell does not exist";
                return -errno;
        }
        if (fstat(dfd, &st) < 0)
                return -errno;
        if (st.st_uid != 0 || (st.st_mode & 022)) {
                *ret_why = "the login shell's directory is not root-owned and writable by root only";
                return -EPERM;
        }
        fd = openat(dfd, slash + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                *ret_why = "the login shell does not exist";
                return -errno;
        }
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!shell_listed(shell)) {
                *ret_why = "the login shell is not listed in /etc/shells";
                return -EPERM;
        }
        if (S_ISLNK(st.st_mode) && shell_redirected(dfd, fd, slash + 1, helper_fd)) {
                *ret = (ShellRedirect){ .dir_fd = -1, .shell_fd = -1, .base = slash + 1, .done = true };
                return 0;
        }
        if (S_ISLNK(st.st_mode)) {
                *ret_why = "the login shell is a symlink (use mode=login-shell)";
                return -ELOOP;
        }
        if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022)) {
                *ret_why = "the login shell is not a root-owned regular file";
                return -EPERM;
        }
        if (stat("/bin/sh", &sh) == 0 && sh.st_dev == st.st_dev && sh.st_ino == st.st_ino) {
                *ret_why = "the login shell is /bin/sh, which cannot be redirected (use mode=login-shell)";
                return -EPERM;
        }
        *ret = (ShellRedirect){ .dir_fd = TAKE_FD(dfd), .shell_fd = TAKE_FD(fd), .base = slash + 1 };
        return 0;
}

/* Give the opener its own mount namespace (as pam_namespace does), slave
 * to the host so nothing propagates back, and put the helper on the exec
 * path of pw_shell there: the next exec of pw_shell by this process's
 * children runs the setuid helper.
 *
 * Not a bind over the shell file: package managers replace a file by
 * renaming a new one over it, and the kernel then detaches every mount on
 * the old file in every mount namespace, so a bind would fall away with the
 * next upgrade of the shell and leave a long-lived opener (an sshd
 * connection) exec'ing the real shell on the host. Upgrades do not replace
 * directories: the shell's directory gets a read-only overlay whose top
 * layer, a private tmpfs, holds a symlink of the shell's name to the helper
 * (exec follows it, and the setuid bit of its target counts), and whose
 * lower layer is the directory itself, so every other name in it is the
 * host's. */
static int reopen_same(int dfd, const char *path, int flags, const struct stat *want)
{
        struct stat st;
        int fd = openat(dfd, path, O_PATH | O_CLOEXEC | flags);

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0 || st.st_dev != want->st_dev || st.st_ino != want->st_ino) {
                close(fd);
                return -ESTALE; /* replaced between the check and now */
        }
        return fd;
}

/* A tmpfs of our own, not yet attached anywhere, with NAME a symlink to
 * the helper. */
static int redirect_top_layer(const char *name)
{
        _cleanup_close_ int fs = -1, mnt = -1;

        fs = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0)
                return -errno;
        if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", "0755", NULL, 0) < 0 ||
            syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", "4k", NULL, 0) < 0 ||
            syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC,
                           MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        if (mnt < 0)
                return -errno;
        if (symlinkat(CUBBY_HELPER_PATH, mnt, name) < 0)
                return -errno;
        return TAKE_FD(mnt);
}

/* The overlay's layers must be mounts of this namespace (before Linux
 * 6.15 overlayfs refuses a detached one): the top layer is attached for
 * the moment of the overlay mount on the root-only sessions dir, in this
 * namespace only, and detached again at once; the overlay keeps its own
 * private clone of it, which nothing else can reach. */
static int redirect_mount(int top, int stage, int d)
{
        char opts[96], target[64], layer[64];
        int r = 0;

        if (syscall(SYS_move_mount, top, "", stage, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        /* Lower-only, so read-only: the top layer's symlink hides the
         * shell's name whatever the host later renames over it. */
        snprintf(layer, sizeof layer, "/proc/self/fd/%d", top);
        snprintf(opts, sizeof opts, "lowerdir=/proc/self/fd/%d:/proc/self/fd/%d", top, d);
        snprintf(target, sizeof target, "/proc/self/fd/%d", d);
        if (mount("cubby-redirect", target, "overlay", MS_RDONLY, opts) < 0)
                r = -errno;
        /* the sessions dir must be ours again either way: close_session
         * reopens it by path in this namespace */
        if (umount2(layer, MNT_DETACH) < 0 && r == 0)
                r = -errno;
        return r;
}

static int redirect_shell(int helper_fd, const ShellRedirect *s, int sessions_fd, const char *shell)
{
        _cleanup_close_ int h = -1, d = -1, sh = -1, stage = -1, top = -1;
        char dir[PATH_MAX];
        struct stat a, b, c, e;

        if (s->done)
                return 0; /* this opener is redirected already */
        if (!s->base || s->base <= shell)
                return -EINVAL; /* check_redirect_shell names the shell's last component */
        if (fstat(helper_fd, &a) < 0 || fstat(s->dir_fd, &b) < 0 || fstat(s->shell_fd, &c) < 0 ||
            fstat(sessions_fd, &e) < 0)
                return -errno;
        if (unshare(CLONE_NEWNS) < 0)
                return -errno;
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return -errno;
        /* fds opened before unshare() point into the old namespace, where
         * mount() refuses them: open again and insist on the same files. */
        h = reopen_same(AT_FDCWD, CUBBY_HELPER_PATH, O_NOFOLLOW, &a);
        if (h < 0)
                return h;
        snprintf(dir, sizeof dir, "%.*s", (int)(s->base - 1 - shell), shell);
        d = reopen_same(AT_FDCWD, dir, O_DIRECTORY, &b);
        if (d < 0)
                return d;
        sh = reopen_same(d, s->base, O_NOFOLLOW, &c);
        if (sh < 0)
                return sh;
        stage = reopen_same(AT_FDCWD, CUBBY_SESSIONS_DIR, O_DIRECTORY | O_NOFOLLOW, &e);
        if (stage < 0)
                return stage;
        top = redirect_top_layer(s->base);
        if (top < 0)
                return top;
        return redirect_mount(top, stage, d);
}

static void hostname_expand(const char *pattern, const char *user, char *out, size_t size)
{
        char host[HOST_NAME_MAX + 1] = "";

        if (gethostname(host, sizeof host) < 0)
                host[0] = 0;
        host[HOST_NAME_MAX] = 0;
        conf_hostname_expand(pattern, user, host, out, size);
}

static void save_pam_env(pam_handle_t *pamh, Record *rec)
{
        char **env = pam_getenvlist(pamh);

        if (!env)
                return;
        for (char **e = env; *e; e++) {
                if (rec->n_env < RECORD_MAX_ENV && strlen(*e) < RECORD_VALUE_MAX && strchr(*e, '=') &&
                    **e != '=')
                        snprintf(rec->env[rec->n_env++], RECORD_VALUE_MAX, "%s", *e);
                free(*e);
        }
        free(env);
}

static void cleanup_data(pam_handle_t *pamh, void *data, int error_status)
{
        Session *s = data;

        if (s && s->host_net >= 0)
                close(s->host_net);
        free(data);
}

/* su hands the caller's rlimits to the module; writes must not fail half
 * way because of them. */
typedef struct Limits {
        struct rlimit fsize, nofile;
        struct sigaction xfsz;
        mode_t umask;
} Limits;

/* Raise only: a lowered hard limit could not be raised back without
 * CAP_SYS_RESOURCE, which some hosts take even from root. A raise that
 * fails is fine: a write that then fails refuses the login. */
static void limits_raise(Limits *l)
{
        struct rlimit fs = { RLIM_INFINITY, RLIM_INFINITY }, nf;

        getrlimit(RLIMIT_FSIZE, &l->fsize);
        getrlimit(RLIMIT_NOFILE, &l->nofile);
        if (setrlimit(RLIMIT_FSIZE, &fs) < 0) {
                fs.rlim_max = l->fsize.rlim_max;
                fs.rlim_cur = fs.rlim_max;
                (void)setrlimit(RLIMIT_FSIZE, &fs);
        }
        nf = l->nofile;
        if (nf.rlim_cur < 4096) {
                nf.rlim_cur = 4096;
                if (nf.rlim_max < nf.rlim_cur)
                        nf.rlim_max = nf.rlim_cur;
                if (setrlimit(RLIMIT_NOFILE, &nf) < 0) {
                        nf.rlim_cur = nf.rlim_max = l->nofile.rlim_max;
                        (void)setrlimit(RLIMIT_NOFILE, &nf);
                }
        }
        l->umask = umask(077);
        /* A file size limit that cannot be raised must make a write fail
         * (and the login be refused with a message), not kill the caller
         * with SIGXFSZ half way. */
        {
                struct sigaction ign = { .sa_handler = SIG_IGN };

                sigemptyset(&ign.sa_mask);
                (void)sigaction(SIGXFSZ, &ign, &l->xfsz);
        }
}

static void limits_restore(const Limits *l)
{
        /* The caller may block SIGXFSZ: then it stayed pending although
         * ignored (Linux discards an ignored signal only when unblocked).
         * Setting SIG_IGN again discards it before the old action returns. */
        struct sigaction ign = { .sa_handler = SIG_IGN };

        sigemptyset(&ign.sa_mask);
        (void)sigaction(SIGXFSZ, &ign, NULL);
        (void)sigaction(SIGXFSZ, &l->xfsz, NULL);
        setrlimit(RLIMIT_FSIZE, &l->fsize);
        setrlimit(RLIMIT_NOFILE, &l->nofile);
        umask(l->umask);
}

typedef struct OpenCtx {
        pam_handle_t *pamh;
        Args args;
        const char *user;
        const char *service;
        const char *rhost;
        const char *tty;
        struct passwd pw;
        char pwbuf[16384];
        Conf conf;
        bool conf_ok;
        ConfError cerr;
        /* looked up once: the policy matches the names, the record keeps
         * gids and names */
        UserGroups groups;
        struct timespec t0;
        /* each step's time, "name:us,...", for session_start's steps_us:
         * the module's own profile, in every login's log line */
        StepTimes steps;
} OpenCtx;

static void step_mark(OpenCtx *c, const char *name)
{
        steps_mark(&c->steps, name);
}

static void expand_user(const char *pattern, const char *user, char *out, size_t size)
{
        size_t o = 0;

        for (const char *c = pattern; *c && o + 1 < size; c++) {
                if (c[0] == '%' && c[1] == 'u') {
                        for (const char *u = user; *u && o + 1 < size; u++)
                                out[o++] = *u;
                        c++;
                } else {
                        out[o++] = *c;
                }
        }
        out[o] = 0;
}

/* The user's overlay home lives in the anchor namespace: mounted by the
 * first session of the user, shared by the others, unmounted after the
 * last (home_release). Under the user lock, so open and close of one user
 * never race. */
static uint64_t home_limit(uint64_t v)
{
        return v == CONF_UNLIMITED ? 0 : v;
}

/* At 90% of a limit and above: usage and limit, shown at login. */
static void home_quota_notice(pam_handle_t *pamh, int state, const HomeSpec *hs)
{
        char used[32], limit[32], files[32];
        QuotaUsage u;
        bool full, near;

        if (state < 0 || quota_get(state, quota_project_of(hs->uid), &u) < 0)
                return;
        full = (u.bytes_limit && u.bytes >= u.bytes_limit) ||
               (u.inodes_limit && u.inodes >= u.inodes_limit);
        near = (u.bytes_limit && u.bytes >= u.bytes_limit / 10 * 9) ||
               (u.inodes_limit && u.inodes >= u.inodes_limit / 10 * 9);
        if (!near)
                return;
        quota_format_size(u.bytes, used, sizeof used);
        if (u.bytes_limit)
                quota_format_size(u.bytes_limit, limit, sizeof limit);
        else
                snprintf(limit, sizeof limit, "no limit");
        if (u.inodes_limit)
                snprintf(files, sizeof files, "%llu", (unsigned long long)u.inodes_limit);
        else
                snprintf(files, sizeof files, "unlimited");
        /* an error message when full: su shows no PAM_TEXT_INFO of a
         * session (sshd shows both, with the login's messages) */
        if (full)
                pam_error(pamh, "cubby: your home uses %s of %s and %llu of %s files: it is full, "
                          "new files and writes fail until you delete some",
                          used, limit, (unsigned long long)u.inodes, files);
        else
                pam_info(pamh, "cubby: your home uses %s of %s and %llu of %s files: it is nearly full",
                         used, limit, (unsigned long long)u.inodes, files);
}

static int prepare_home(OpenCtx *c, const ConfPolicy *pol, Record *rec, const char *key,
                        int sessions, int locks, const CgSet *user_set, const char **ret_why)
{
        _cleanup_close_ int anchor = -1, lock = -1, state = -1;
        char lower[PATH_MAX];
        unsigned refs = 0;
        CgSet parents;
        HomeSpec hs;
        int r;

        expand_user(pol->home_lower, c->user, lower, sizeof lower);
        hs = (HomeSpec){ .state_dir = c->conf.global.state_dir, .run_dir = c->conf.global.run_dir,
                         .user = c->user, .uid = rec->uid, .gid = rec->gid, .lower = lower,
                         .lower_static = pol->home_lower_static,
                         .ephemeral = pol->home == CONF_HOME_EPHEMERAL,
                         .size_limit = home_limit(pol->home_size),
                         .inode_limit = home_limit(pol->home_inodes) };
        parents = *user_set;
        for (size_t i = 0; i < parents.n; i++) {
                char *slash = strrchr(parents.dir[i].path, '/');

                if (slash && slash != parents.dir[i].path)
                        *slash = 0;
        }
        r = anchor_ensure(hs.run_dir, &parents, CUBBY_CTL_PATH, c->args.config, &anchor);
        if (r < 0) {
                *ret_why = "the home namespace cannot be set up";
                return r;
        }
        CUBBY_FAULT("pam.anchor");
        r = session_lock_user(locks, rec->uid, LOCK_TIMEOUT_MS, &lock);
        if (r < 0) {
                *ret_why = "the user's sessions are busy";
                return r;
        }
        CUBBY_FAULT("pam.home.locked");
        /* Mount only when no session of the user is counted: a counted
         * session without the overlay in the anchor holds one of a
         * previous anchor, and a second overlay on the same upper dir is
         * undefined behaviour. */
        r = session_home_refs_get(locks, rec->uid, &refs);
        if (r < 0)
                refs = 1; /* unreadable: recount below */
        hs.may_mount = refs == 0;
        r = home_mount(&hs, anchor);
        if (r == -ENOTCONN) {
                /* a count left by crashed sessions? recount from the records */
                r = session_count_live(sessions, rec->uid, key, true);
                if (r != 0) {
                        *ret_why = "the user's home is still held by earlier sessions";
                        return -EBUSY;
                }
                refs = 0;
                hs.may_mount = true;
                r = home_mount(&hs, anchor);
        }
        if (r == -EPERM || r == -ENOTDIR || r == -ELOOP) {
                *ret_why = "the home's state directory is unsafe (wrong owner, mode or type)";
                return r;
        }
        if (r == -EREMOTE) {
                *ret_why = "home_lower is on a network file system, which may change under the "
                           "overlay; use home = direct, or home_lower_static = yes if it never "
                           "changes";
                return r;
        }
        if (r == -EMEDIUMTYPE) {
                *ret_why = "home_size or home_inodes is set, but the home's file system has no "
                           "project quotas (cubbyctl check says how to fix it)";
                return r;
        }
        if (r < 0) {
                *ret_why = "the home overlay cannot be mounted";
                return r;
        }
        CUBBY_FAULT("pam.home.mounted");
        if (!hs.ephemeral && (hs.size_limit || hs.inode_limit) &&
            session_dir_open(hs.state_dir, false, &state) >= 0)
                home_quota_notice(c->pamh, state, &hs);
        if (strscpy(rec->run_dir, sizeof rec->run_dir, hs.run_dir) < 0 ||
            home_merged_path(hs.state_dir, c->user, rec->home_mount, sizeof rec->home_mount) < 0) {
                *ret_why = "the state directory path is too long";
                return -ENAMETOOLONG;
        }
        r = session_home_refs_set(locks, rec->uid, refs + 1);
        if (r < 0) {
                rec->home_mount[0] = 0;
                *ret_why = "the run directory cannot be written";
                return r;
        }
        CUBBY_FAULT("pam.home.counted");
        return 0;
}

/* The session no longer uses the overlay (its record is gone): the
 * user's last holder unmounts it (session_home_release, which a
 * container's stop and gc's reap share). */
static void home_release(const Record *rec, int sessions, int locks)
{
        HomeSpec hs;

        /* no sessions dir open: the records cannot be checked */
        if (!session_holds_home(rec) || sessions < 0)
                return;
        session_home_spec(rec, &hs);
        (void)session_home_release(sessions, locks, &hs, LOCK_TIMEOUT_MS);
}

/* The host side of the network (bridge, nft table, forwarding) is made
 * once; a login only checks for it (net_is_up), and when it is missing runs
 * cubbyctl (a fixed path, an empty environment, no inherited fds) to
 * bring it up rather than linking netlink and nftables into sshd. */
static void run_net_up(const char *config)
{
        char *const argv[] = { (char *)"cubbyctl", (char *)"--config", (char *)config,
                               (char *)"net", (char *)"up", NULL };
        pid_t pid;

        if (spawn_fixed(CUBBY_CTL_PATH, argv, -1, &pid) < 0)
                return;
        /* ECHILD when the caller ignores SIGCHLD: the check after tells */
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

/* Bridge mode: the bridge exists. Routed mode has no bridge: net.state in
 * run_dir (tmpfs, gone at boot) says that `net up` put routed rules in
 * place; a state left by bridge mode is not enough (its rules name the
 * bridge, not the host ends). In both modes cubby's nftables tables must
 * be there: a ruleset flushed behind cubby's back (Debian's nftables.conf
 * begins with `flush ruleset`) would leave NAT, the deny list, the
 * gateway's ports and, in routed mode, the isolation between sandboxes
 * open; the next login puts them back (`net up` is idempotent). The
 * question is a read-only netlink request; an answer we cannot get counts
 * as down, so net up runs and a network still missing refuses the login. */
static bool net_is_up(const ConfGlobal *g)
{
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *text = NULL;
        NetState st;

        if (nft_table_present(NFT_FAMILY_INET, "cubby") != 1)
                return false;
        if (g->network_mode == CONF_NET_MODE_BRIDGE)
                return if_nametoindex(g->bridge) != 0 && nft_table_present(NFT_FAMILY_BRIDGE, "cubby") == 1;
        if (session_dir_open(g->run_dir, false, &dfd) < 0 ||
            read_file_at(dfd, NETCFG_STATE_FILE, NETCFG_STATE_MAX, &text, NULL, NULL) < 0 ||
            netcfg_state_parse(text, &st) < 0)
                return false;
        return st.mode == CONF_NET_MODE_ROUTED;
}

static int prepare_network(OpenCtx *c, const ConfPolicy *pol, Record *rec, const char **ret_why)
{
        const ConfGlobal *g = &c->conf.global;
        NetDns dns;
        int r;

        rec->network = 0;
        if (pol->network != CONF_NETWORK_NAT)
                return 0;
        if (!net_is_up(g))
                run_net_up(c->args.config);
        r = net_is_up(g) ? 0 : -ENETDOWN;
        if (r >= 0)
                r = netcfg_dns_load(g->dns, netcfg_gateway(g->subnet_addr), &dns);
        if (r >= 0)
                r = netcfg_resolv_conf_format(&dns, rec->resolv, sizeof rec->resolv);
        if (r < 0) {
                /* never the host's network; loopback only if the policy says so */
                if (pol->network_fallback_none)
                        return 0;
                *ret_why = "the sandbox network is not available";
                return r;
        }
        rec->network = 1;
        snprintf(rec->bridge, sizeof rec->bridge, "%s", g->bridge);
        rec->subnet = g->subnet_addr;
        rec->prefix = g->subnet_prefix;
        rec->net_fallback_none = pol->network_fallback_none;
        rec->net_routed = g->network_mode == CONF_NET_MODE_ROUTED;
        /* every network container holds a lease and a bridge port of a
         * pool all users share: the helper takes the lease only while the
         * user holds fewer than this (counted under the leases lock) */
        rec->max_containers = pol->max_containers == CONF_UNLIMITED ? 0 : (uint32_t)pol->max_containers;
        return 0;
}

/* Step 1: the helper is installed setuid root, and the shell that sshd, su
 * and login will exec leads to it: in redirect mode a shell we may
 * redirect to the helper, in login-shell mode the helper itself. */
static int check_shell(const OpenCtx *c, int *ret_helper, ShellRedirect *ret_shell, const char **ret_why)
{
        _cleanup_close_ int helper = -1;
        int r;

        r = spawn_helper_check(&helper, ret_why);
        if (r < 0)
                return r;
        if (c->args.mode == RECORD_MODE_REDIRECT) {
                /* A non-root caller (su) chooses the shell with -s, -m, -p;
                 * only root openers may use the redirect. */
                if (getuid() != 0) {
                        *ret_why = "su to a sandboxed user is only allowed for root in redirect mode";
                        return -EPERM;
                }
                r = check_redirect_shell(c->pw.pw_shell, helper, ret_shell, ret_why);
                if (r < 0)
                        return r;
        } else {
                /* Login-shell mode only works if the shell sshd, su and
                 * login will exec is the helper: otherwise the user would
                 * get a host shell. */
                struct stat a, b;

                if (stat(c->pw.pw_shell, &a) < 0 || fstat(helper, &b) < 0 || a.st_dev != b.st_dev ||
                    a.st_ino != b.st_ino) {
                        *ret_why = "the user's shell is not cubby-shell (mode=login-shell)";
                        return -EPERM;
                }
        }

        *ret_helper = TAKE_FD(helper);
        return 0;
}

/* Step 2: the root-only records and lock dirs; then the leftovers of
 * crashed openers go, so they cannot hold the user's budget. */
static int open_state_dirs(OpenCtx *c, Session *s, int *ret_sessions, int *ret_locks,
                           const char **ret_why)
{
        _cleanup_close_ int sessions = -1, locks = -1;
        int r;

        r = session_dir_open(CUBBY_SESSIONS_DIR, true, &sessions);
        if (r < 0) {
                *ret_why = "the session directory is missing or unsafe";
                return r;
        }
        if (session_lock_dir_path(c->conf.global.run_dir, s->lock_dir, sizeof s->lock_dir) < 0) {
                *ret_why = "the run directory path is too long";
                return -ENAMETOOLONG;
        }
        r = session_dir_open(s->lock_dir, true, &locks);
        if (r < 0) {
                *ret_why = "the run directory is unsafe";
                return r;
        }
        /* throttled: a login storm must not read every record each time */
        {
                GcCtx gc = { .global = &c->conf.global, .sessions = sessions, .locks = locks };

                (void)gc_run(&gc, GC_THROTTLE, NULL);
        }
        CUBBY_FAULT("pam.gc");

        *ret_sessions = TAKE_FD(sessions);
        *ret_locks = TAKE_FD(locks);
        return 0;
}

/* Step 3: what the record says: the opener, the user, where they come
 * from, and the policy values the helper acts on. */
static int fill_record(OpenCtx *c, const ConfPolicy *pol, Record *rec, const char **ret_why)
{
        uint64_t start;
        int r;

        r = proc_stat("/proc", getpid(), NULL, &start);
        if (r < 0)
                return r;
        memset(rec, 0, sizeof *rec);
        rec->version = 1;
        r = random_id(rec->id);
        if (r < 0)
                return r;
        rec->opener_pid = getpid();
        rec->opener_start = start;
        rec->uid = c->pw.pw_uid;
        rec->gid = c->pw.pw_gid;
        rec->mode = c->args.mode;
        rec->sandbox = true;
        rec->seccomp = pol->seccomp;
        rec->container = pol->container;
        rec->created = (uint64_t)time(NULL);
        rec->n_hide = pol->n_hide < RECORD_MAX_HIDE ? pol->n_hide : RECORD_MAX_HIDE;
        for (size_t i = 0; i < rec->n_hide; i++)
                snprintf(rec->hide[i], sizeof rec->hide[i], "%s", pol->hide[i]);
        /* The record, the helper's mounts and the container's passwd take
         * the home as a plain absolute path: one with "..", "." or a '/'
         * at its end (useradd -d keeps those) is refused here, saying so,
         * before anything is made for the session */
        if (!path_is_normalized_absolute(c->pw.pw_dir) || strchr(c->pw.pw_dir, ':') ||
            strchr(c->pw.pw_dir, '\n')) {
                *ret_why = "the home path (pw_dir) is not usable: not a plain absolute path "
                           "(no '.', '..', '//' or '/' at its end)";
                return -EINVAL;
        }
        if (strscpy(rec->user, sizeof rec->user, c->user) < 0 ||
            strscpy(rec->home, sizeof rec->home, c->pw.pw_dir) < 0 ||
            strscpy(rec->state_dir, sizeof rec->state_dir, c->conf.global.state_dir) < 0 ||
            strscpy(rec->run_dir, sizeof rec->run_dir, c->conf.global.run_dir) < 0 ||
            strscpy(rec->shell, sizeof rec->shell,
                    c->args.mode == RECORD_MODE_REDIRECT ? c->pw.pw_shell : pol->shell) < 0) {
                *ret_why = "a path of the user is too long";
                return -ENAMETOOLONG;
        }
        if (c->args.mode == RECORD_MODE_REDIRECT)
                snprintf(rec->redirect, sizeof rec->redirect, "%s", c->pw.pw_shell);
        snprintf(rec->gecos, sizeof rec->gecos, "%s", c->pw.pw_gecos ? c->pw.pw_gecos : "");
        for (char *g = rec->gecos; *g; g++)
                if (*g == ':' || *g == '\n')
                        *g = ' ';
        snprintf(rec->service, sizeof rec->service, "%s", c->service);
        snprintf(rec->rhost, sizeof rec->rhost, "%s", c->rhost ? c->rhost : "");
        snprintf(rec->tty, sizeof rec->tty, "%s", c->tty ? c->tty : "");
        hostname_expand(pol->hostname, c->user, rec->hostname, sizeof rec->hostname);
        save_pam_env(c->pamh, rec);
        {
                /* the groups sshd, su and login give the user (initgroups),
                 * as the policy step looked them up: they follow the user
                 * into the container */
                const UserGroups *g = &c->groups;

                if (g->n > RECORD_MAX_GROUPS) {
                        *ret_why = "the user is in too many groups";
                        return -E2BIG;
                }
                for (size_t i = 0; i < g->n; i++) {
                        rec->groups[rec->n_groups++] = g->gids[i];
                        /* the name for the container's /etc/group: an
                         * LDAP group is in no /etc/group; without a name
                         * (or one the record cannot carry) it stays a
                         * number there */
                        if (!g->names[i] || !name_is_safe(g->names[i], sizeof rec->group_names[0].name - 1))
                                continue;
                        rec->group_names[rec->n_group_names].gid = g->gids[i];
                        (void)strscpy(rec->group_names[rec->n_group_names].name,
                                      sizeof rec->group_names[0].name, g->names[i]);
                        rec->n_group_names++;
                }
        }

        return 0;
}

/* Step 5: the user's and the session's cgroup dirs in every hierarchy. */
static int resolve_cgroups(OpenCtx *c, Record *rec, CgSet *ret_user, const char **ret_why)
{
        CgSet *user = ret_user;
        int r;

        r = cg_paths(c->conf.global.cgroup_parent, getpid(), rec->uid, rec->id, user, &rec->cgroup);
        /* container = user: the session joins the user's container, at
         * <user>/ct/s<sid> */
        if (r >= 0 && rec->container == CONF_CONTAINER_USER)
                r = ct_session_cgroup_set(user, rec->id, &rec->cgroup);
        if (r < 0) {
                *ret_why = "the cgroup parent cannot be resolved";
                return r;
        }
        /* cubby.service's cgroup is systemd's to create (Delegate=yes):
         * making it ourselves would write into systemd's tree. */
        if (strstr(c->conf.global.cgroup_parent, ".slice/") && user->n > 0) {
                char parent[PATH_MAX];
                char *slash;
                struct stat st;

                snprintf(parent, sizeof parent, "%s", user->dir[0].path);
                slash = strrchr(parent, '/');
                if (slash)
                        *slash = 0;
                if (stat(parent, &st) < 0) {
                        *ret_why = "cubby.service is not running (its cgroup is missing)";
                        return -ENOENT;
                }
        }
        return 0;
}

/* container = user, under the user lock: the user dir with its limits and
 * the container's dirs below it, none with limits of its own: <user>/ct
 * (the container; made by the first login, kept while the container
 * runs), ct/init (its init alone), and the session's ct/s<sid> (made here,
 * exclusively). No process is ever in ct itself, so v2's rule against
 * processes beside child cgroups with controllers never applies. */
static int create_ct_cgroups(const CgSet *user, const CgLimits *lim, const Record *rec)
{
        CgSet ct, init;
        int r;

        r = ct_cgroup_set(user, &ct);
        if (r >= 0)
                r = ct_init_cgroup_set(user, &init);
        if (r < 0)
                return r;
        /* the user dir and its limits, as for a login, and ct; cg_create
         * writes the limits before it meets an existing ct (-EEXIST) */
        r = cg_create(user, &ct, lim);
        if (r < 0 && r != -EEXIST)
                return r;
        CUBBY_FAULT("pam.ct.cgroup");
        r = cg_create_below(&ct, false);
        if (r >= 0)
                r = cg_create_below(&init, false);
        if (r >= 0)
                r = cg_create_below(&rec->cgroup, true);
        return r;
}

/* Step 7: the session cgroup with the user's limits, under the user's
 * lock: max_sessions is counted there, so two logins cannot both take the
 * last place. */
static int create_session_cgroup(const ConfPolicy *pol, Session *s, int sessions, int locks,
                                 const CgSet *user, const char **ret_why)
{
        _cleanup_close_ int lock = -1;
        Record *rec = &s->rec;
        CgLimits lim;
        int r;

        lim = (CgLimits){ .cpu_milli = pol->cpu_milli, .memory = pol->memory, .swap = pol->swap,
                          .pids = pol->pids, .cpus = pol->cpus };
        CUBBY_FAULT("pam.user_locked");
        r = session_lock_user(locks, rec->uid, LOCK_TIMEOUT_MS, &lock);
        /* max_sessions: counted under the user lock, so two logins cannot
         * both take the last place */
        if (r >= 0 && pol->max_sessions != CONF_UNLIMITED &&
            session_count_live(sessions, rec->uid, s->key, false) >= (int64_t)pol->max_sessions) {
                *ret_why = "too many sessions for this user (max_sessions)";
                return -EUSERS;
        }
        if (r >= 0 && rec->container == CONF_CONTAINER_USER)
                r = create_ct_cgroups(user, &lim, rec);
        else if (r >= 0)
                r = cg_create(user, &rec->cgroup, &lim);
        if (r < 0) {
                *ret_why = "the session cgroup cannot be created";
                return r;
        }
        CUBBY_FAULT("pam.cgroup");
        return 0;
}

/* Run `cubby-shell --start-container UID KEY` (a fixed path, an empty
 * environment, no inherited fds) and wait for it, at most
 * START_TIMEOUT_MS; then it is killed. 0 when it exited 0; its status may
 * be lost (a caller that ignores SIGCHLD or reaps for itself: -ECHILD),
 * so the caller checks the container record either way. */
static int run_start_container(uid_t uid, const char *key)
{
        char uidbuf[16];
        char *const argv[] = { (char *)"cubby-shell", (char *)"--start-container", uidbuf,
                               (char *)key, NULL };
        _cleanup_close_ int pidfd = -1;
        struct pollfd pfd;
        siginfo_t si;
        pid_t pid;
        int r;

        snprintf(uidbuf, sizeof uidbuf, "%u", (unsigned)uid);
        r = spawn_fixed(CUBBY_HELPER_PATH, argv, -1, &pid);
        if (r < 0)
                return r;
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0) {
                /* reaped already by a SIGCHLD handler of the caller */
                return -ECHILD;
        }
        pfd = (struct pollfd){ .fd = pidfd, .events = POLLIN };
        do
                r = poll(&pfd, 1, START_TIMEOUT_MS);
        while (r < 0 && errno == EINTR);
        if (r == 0) {
                (void)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                (void)waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
                return -ETIMEDOUT;
        }
        memset(&si, 0, sizeof si);
        if (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0)
                return -errno;
        return si.si_code == CLD_EXITED && si.si_status == 0 ? 0 : -EPROTO;
}

/* One more reference on the user's overlay home: the container's (it
 * keeps the overlay mounted while the container lives; its stop drops
 * it). Under the user lock, taken while holding the container lock (the
 * order of container.h). */
static int home_ref_take(const Record *rec, int locks)
{
        _cleanup_close_ int lock = -1;
        unsigned refs = 0;
        int r;

        r = session_lock_user(locks, rec->uid, LOCK_TIMEOUT_MS, &lock);
        if (r >= 0)
                r = session_home_refs_get(locks, rec->uid, &refs);
        if (r >= 0)
                r = session_home_refs_set(locks, rec->uid, refs + 1);
        return r;
}

/* container = user: make sure the user's container runs before the shell
 * is exec'd (the helper only joins one, it never creates one from a
 * login). Under the container lock: a valid container is used as it is;
 * none, or one whose init is gone or not what the record says (stale), is
 * started by the helper in its root-only mode. A new container takes one
 * reference on the home; one that replaces a stale record takes over the
 * dead one's reference and releases its lease. Then the record is read
 * and verified again. Every failure refuses the login. */
/* A running container gives no more than the policy gives now: no
 * network unless the policy has one, and the policy's seccomp filter (its
 * init and jobs run under the one it was started with). */
static bool container_fits(const ConfPolicy *pol, const Record *rec, const CtRecord *ct)
{
        if (ct->addr != 0 && pol->network != CONF_NETWORK_NAT)
                return false;
        return ct->seccomp == rec->seccomp;
}

static int ensure_container(OpenCtx *c, const ConfPolicy *pol, Session *s, int sessions, int locks,
                            const CgSet *user, const char **ret_why)
{
        _cleanup_close_ int lock = -1, dfd = -1, pidfd = -1;
        _cleanup_free_ CtRecord *old = calloc(1, sizeof *old);
        _cleanup_free_ CtRecord *now = calloc(1, sizeof *now);
        const Record *rec = &s->rec;
        bool stale = false;
        int r, started;

        if (!old || !now)
                return -ENOMEM;
        r = ct_lock(rec->run_dir, rec->uid, CT_LOCK_TIMEOUT_MS, &lock);
        if (r < 0) {
                *ret_why = "the user's container is busy (its lock cannot be taken)";
                return r;
        }
        CUBBY_FAULT("pam.ct.locked");
        r = ct_dir_open(rec->run_dir, true, &dfd);
        if (r < 0) {
                *ret_why = "the container directory is missing or unsafe";
                return r;
        }
        r = ct_read(dfd, rec->uid, old);
        if (r >= 0) {
                r = ct_open_init("/proc", old, &pidfd);
                if (r >= 0 && container_fits(pol, rec, old))
                        return 0; /* running: the helper joins it */
                if (r >= 0) {
                        /* started under a policy that gave more: never
                         * joined; replaced once no other session uses it
                         * (as a login container keeps its settings until
                         * its session ends). Its whole tree goes, this
                         * session's dir included, and is made again: a v2
                         * dir that had cgroup.kill written kills what is
                         * later cloned into it (CLONE_INTO_CGROUP). */
                        CtLife life = { .global = &c->conf.global, .sessions = sessions,
                                        .locks = locks, .exclude_key = s->key };

                        *ret_why = "the user's container runs under an earlier policy and is "
                                   "still in use";
                        r = ct_live_sessions(&life, rec->uid, s->key);
                        if (r != 0)
                                return r < 0 ? r : -EBUSY;
                        *ret_why = "the user's container under an earlier policy cannot be stopped";
                        r = ct_stop_locked(&life, old, CT_STOP_POLICY, (unsigned)pol->stop_grace_s);
                        if (r < 0)
                                return r;
                        r = create_session_cgroup(pol, s, sessions, locks, user, ret_why);
                        if (r < 0)
                                return r;
                        r = -ENOENT; /* gone, with its lease and home reference */
                } else if (r != -ESRCH && r != -ESTALE) {
                        *ret_why = "the user's container cannot be checked";
                        return r;
                } else {
                        stale = true;
                }
        }
        if (r < 0 && r != -ENOENT && !stale) {
                *ret_why = "the user's container record is unusable";
                return r;
        }
        CUBBY_FAULT("pam.ct.checked");
        /* the dead container's address goes back to the pool first: the
         * new one may need it (max_containers) */
        if (stale && old->addr)
                (void)ipam_release(rec->run_dir, rec->uid, old->init_pid, old->init_start);

        started = run_start_container(rec->uid, s->key);
        CUBBY_FAULT("pam.ct.started");
        if (started == -ETIMEDOUT) {
                *ret_why = "the user's container did not start in time";
                return started;
        }
        /* what counts is a record of a new init, whatever the status */
        r = ct_read(dfd, rec->uid, now);
        if (r >= 0 && stale && now->init_pid == old->init_pid &&
            now->init_start == old->init_start)
                r = -ENOENT;
        if (r < 0) {
                *ret_why = "the user's container cannot be started";
                return started < 0 && started != -ECHILD ? started : r;
        }
        /* a new container: its reference on the home (a replaced stale one
         * had one already, which it takes over) */
        if (!stale) {
                r = home_ref_take(rec, locks);
                if (r < 0) {
                        *ret_why = "the run directory cannot be written";
                        return r;
                }
        }
        CUBBY_FAULT("pam.ct.home_ref");
        r = ct_open_init("/proc", now, &pidfd);
        if (r < 0) {
                *ret_why = "the user's container is not running after its start";
                return r;
        }
        return 0;
}

/* Writes the record, makes the cgroups, marks the record ready, redirects
 * the shell. Undoes what it did on failure. */
static int prepare(OpenCtx *c, const ConfPolicy *pol, Session *s, const char **ret_why)
{
        _cleanup_close_ int sessions = -1, locks = -1, helper = -1;
        _cleanup_(shell_redirect_done) ShellRedirect shell = { .dir_fd = -1, .shell_fd = -1 };
        Record *rec = &s->rec;
        CgSet user;
        int r;

        r = check_shell(c, &helper, &shell, ret_why);
        if (r < 0)
                return r;
        step_mark(c, "shell");
        r = open_state_dirs(c, s, &sessions, &locks, ret_why);
        if (r < 0)
                return r;
        step_mark(c, "dirs_gc");
        r = fill_record(c, pol, rec, ret_why);
        if (r < 0)
                return r;
        step_mark(c, "fill");
        /* Step 4 */
        r = prepare_network(c, pol, rec, ret_why);
        if (r < 0)
                return r;
        CUBBY_FAULT("pam.network");
        step_mark(c, "net");
        r = resolve_cgroups(c, rec, &user, ret_why);
        if (r < 0)
                return r;
        step_mark(c, "cgpaths");
        r = record_key(rec->opener_pid, rec->opener_start, s->key, sizeof s->key);
        if (r < 0)
                return r;

        /* Step 6: recorded before it is made, so gc can undo a crash at
         * any step. */
        rec->ready = false;
        r = session_record_write(sessions, rec);
        if (r < 0) {
                *ret_why = "the session record cannot be written";
                return r;
        }
        CUBBY_FAULT("pam.record");
        step_mark(c, "record");

        r = create_session_cgroup(pol, s, sessions, locks, &user, ret_why);
        if (r < 0)
                goto undo;
        step_mark(c, "cgroup");

        /* home = direct: nothing to prepare here; the helper opens the
         * real home as the user (home-direct.h), no anchor, no state_dir,
         * no reference count */
        if (pol->home == CONF_HOME_DIRECT)
                rec->home_direct = true;
        else
                r = prepare_home(c, pol, rec, s->key, sessions, locks, &user, ret_why);
        if (r < 0)
                goto undo;
        step_mark(c, "home");

        rec->ready = true;
        r = session_record_write(sessions, rec);
        if (r < 0) {
                *ret_why = "the session record cannot be written";
                goto undo;
        }
        CUBBY_FAULT("pam.ready");
        step_mark(c, "ready");
        if (rec->container == CONF_CONTAINER_USER) {
                r = ensure_container(c, pol, s, sessions, locks, &user, ret_why);
                if (r < 0)
                        goto undo;
                step_mark(c, "container");
        }
        if (c->args.mode == RECORD_MODE_REDIRECT) {
                r = redirect_shell(helper, &shell, sessions, c->pw.pw_shell);
                if (r < 0) {
                        *ret_why = "the shell cannot be redirected to cubby-shell";
                        goto undo;
                }
        }
        CUBBY_FAULT("pam.redirected");
        step_mark(c, "redirect");
        return 0;

undo:
        /* a teardown that fails keeps the record, and with it the home,
         * for gc's reap */
        if (session_teardown(rec, locks, CG_KILL_TIMEOUT_MS, CG_KILL_CAP_MS) >= 0 &&
            session_record_remove(sessions, s->rec.uid, s->key) >= 0)
                home_release(rec, sessions, locks);
        return r;
}

/* Login-shell mode, user not sandboxed: the helper still runs (it is the
 * passwd shell) and needs a record telling it to exec the real shell. */
static int write_passthrough(OpenCtx *c, const char *shell, Session *s, const char **ret_why)
{
        _cleanup_close_ int sessions = -1;
        Record *rec = &s->rec;
        uint64_t start;
        int r;

        r = session_dir_open(CUBBY_SESSIONS_DIR, true, &sessions);
        if (r < 0) {
                *ret_why = "the session directory is missing or unsafe";
                return r;
        }
        r = proc_stat("/proc", getpid(), NULL, &start);
        if (r < 0)
                return r;
        memset(rec, 0, sizeof *rec);
        rec->version = 1;
        r = random_id(rec->id);
        if (r < 0)
                return r;
        rec->ready = true;
        rec->opener_pid = getpid();
        rec->opener_start = start;
        rec->uid = c->pw.pw_uid;
        rec->gid = c->pw.pw_gid;
        rec->mode = RECORD_MODE_LOGIN_SHELL;
        rec->sandbox = false;
        rec->created = (uint64_t)time(NULL);
        if (strscpy(rec->user, sizeof rec->user, c->user) < 0 ||
            strscpy(rec->home, sizeof rec->home, c->pw.pw_dir) < 0 ||
            strscpy(rec->shell, sizeof rec->shell, shell) < 0) {
                *ret_why = "a path of the user is too long";
                return -ENAMETOOLONG;
        }
        snprintf(rec->service, sizeof rec->service, "%s", c->service);
        r = record_key(rec->opener_pid, rec->opener_start, s->key, sizeof s->key);
        if (r < 0)
                return r;
        r = session_record_write(sessions, rec);
        if (r < 0)
                *ret_why = "the session record cannot be written";
        return r;
}

/* sshd's PAM service is the name it runs under: "sshd", or "NAME-sshd"
 * for one run under another name (a second instance, the tests'). */
static bool service_is_sshd(const char *service)
{
        size_t n = strlen(service);

        return strcmp(service, "sshd") == 0 || (n > 5 && strcmp(service + n - 5, "-sshd") == 0);
}

/* container = user over sshd, the very last step of open_session: the
 * opener (sshd's monitor, which forks the process that serves every
 * channel of this connection) moves into the container's network
 * namespace. Every -L/-D connect() and -R listen() of the connection then
 * happens inside the container, under the sandbox's own rules. Its own
 * namespace is kept (s->host_net) for close_session, which switches back
 * first. Under the container lock: the record read again, its init
 * verified (ct_open_init), and the namespace reached checked against the
 * record. Any failure refuses the session: sshd then forwards nothing. */
static int move_to_container_net(Session *s, const char **ret_why)
{
        _cleanup_close_ int lock = -1, dfd = -1, pidfd = -1, host = -1, now = -1;
        _cleanup_free_ CtRecord *ct = calloc(1, sizeof *ct);
        const Record *rec = &s->rec;
        struct stat st;
        int r;

        if (!ct)
                return -ENOMEM;
        *ret_why = "the user's container is not running";
        r = ct_lock(rec->run_dir, rec->uid, CT_LOCK_TIMEOUT_MS, &lock);
        if (r < 0) {
                *ret_why = "the user's container is busy (its lock cannot be taken)";
                return r;
        }
        r = ct_dir_open(rec->run_dir, false, &dfd);
        if (r >= 0)
                r = ct_read(dfd, rec->uid, ct);
        if (r >= 0 && (ct->uid != rec->uid || ct->gid != rec->gid))
                r = -EINVAL;
        if (r >= 0)
                r = ct_open_init("/proc", ct, &pidfd);
        if (r < 0)
                return r;
        host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (host < 0) {
                *ret_why = "the network namespace of sshd cannot be opened";
                return -errno;
        }
        CUBBY_FAULT("pam.net.move");
        *ret_why = "sshd cannot enter the network namespace of the user's container";
        if (setns(pidfd, CLONE_NEWNET) < 0)
                return -errno;
        now = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (now < 0 || fstat(now, &st) < 0)
                r = -errno;
        else if ((uint64_t)st.st_dev != ct->ns_dev || (uint64_t)st.st_ino != ct->ns_ino[CT_NS_NET])
                r = -ESTALE;
        if (r < 0) {
                /* not where it should be: back, or refuse with no way out */
                if (setns(host, CLONE_NEWNET) < 0)
                        r = -errno;
                return r;
        }
        s->host_net = TAKE_FD(host);
        return 0;
}

/* close_session's first step: the opener back in its own network
 * namespace (what follows is netlink and lease work on the host's). */
static int move_back_net(Session *s)
{
        int r = 0;

        if (s->host_net < 0)
                return 0;
        if (setns(s->host_net, CLONE_NEWNET) < 0)
                r = -errno;
        close(s->host_net);
        s->host_net = -1;
        return r;
}

static int open_session(OpenCtx *c)
{
        pam_handle_t *pamh = c->pamh;
        _cleanup_free_ Session *s = NULL;
        char admin_group[CONF_NAME_MAX], cerrbuf[PATH_MAX + 300], move_us[24] = "";
        const char *why = NULL;
        struct passwd *res = NULL;
        ConfPolicy pol;
        bool admin;
        int r;

        if (fault_guard() < 0)
                return refuse(pamh, c->user, c->service, "this pam_cubby is a fault-injection test build",
                              "the kernel command line lacks cubby.fault_injection=1");
        if (getpwnam_r(c->user, &c->pw, c->pwbuf, sizeof c->pwbuf, &res) != 0 || !res)
                /* no such user for us: nothing to sandbox, but never let an
                 * NSS failure look like "not sandboxed" to a sandboxed user */
                return refuse(pamh, c->user, c->service, "the user cannot be looked up", "");
        step_mark(c, "user");

        conf_init(&c->conf);
        r = conf_load(&c->conf, c->args.config, 0, &c->cerr);
        c->conf_ok = r >= 0;
        if (c->conf_ok) {
                snprintf(admin_group, sizeof admin_group, "%s", c->conf.global.admin_group);
                save_last_good(&c->conf, c->args.config);
        } else {
                last_good_admin_group(c->args.config, admin_group, sizeof admin_group);
                conf_error_format(&c->cerr, cerrbuf, sizeof cerrbuf);
                pam_syslog(pamh, LOG_ERR, "cannot use %s: %s", c->args.config, cerrbuf);
        }

        step_mark(c, "conf");
        r = user_groups_get(&c->pw, &c->groups);
        if (r >= 0)
                r = user_policy_of(c->conf_ok ? &c->conf : NULL, admin_group, &c->pw, &c->groups,
                                   &admin, &pol, NULL);
        step_mark(c, "policy");
        if (r < 0)
                return refuse(pamh, c->user, c->service, "the user's groups cannot be looked up", "");
        if (!admin && !c->conf_ok)
                return refuse(pamh, c->user, c->service, "the cubby policy is broken", cerrbuf);

        s = calloc(1, sizeof *s);
        if (!s)
                return PAM_BUF_ERR;
        s->started = c->t0;
        s->host_net = -1;

        if (admin || !pol.sandbox) {
                if (c->args.mode == RECORD_MODE_REDIRECT)
                        return PAM_IGNORE;
                r = write_passthrough(c, c->conf_ok ? pol.shell : "/bin/bash", s, &why);
                if (r < 0)
                        return refuse(pamh, c->user, c->service, why ? why : "internal error", strerror(-r));
                if (pam_set_data(pamh, DATA_NAME, s, cleanup_data) != PAM_SUCCESS)
                        return PAM_BUF_ERR;
                s = NULL;
                return PAM_SUCCESS;
        }

        if (!service_allowed(&pol, c->service))
                return refuse(pamh, c->user, c->service,
                              "this service may not open sandboxed sessions", c->service);
        if (!name_is_safe(c->user, sizeof s->rec.user - 1))
                return refuse(pamh, c->user, c->service, "the user name has unsupported characters", "");

        r = prepare(c, &pol, s, &why);
        if (r < 0)
                return refuse(pamh, c->user, c->service, why ? why : "internal error", strerror(-r));

        /* the very last step that changes anything: what follows (the
         * log line, pam_set_data) needs nothing of the host's network
         * namespace */
        if (s->rec.container == CONF_CONTAINER_USER && service_is_sshd(c->service)) {
                struct timespec m0, m1;

                clock_gettime(CLOCK_MONOTONIC, &m0);
                r = move_to_container_net(s, &why);
                clock_gettime(CLOCK_MONOTONIC, &m1);
                if (r < 0) {
                        _cleanup_close_ int sessions = -1, locks = -1;

                        /* prepare()'s undo: no process of the session yet */
                        if (session_dir_open(s->lock_dir, false, &locks) >= 0 &&
                            session_teardown(&s->rec, locks, CG_KILL_TIMEOUT_MS, CG_KILL_CAP_MS) >= 0) {
                                if (session_dir_open(CUBBY_SESSIONS_DIR, false, &sessions) >= 0 &&
                                    session_record_remove(sessions, s->rec.uid, s->key) >= 0)
                                        home_release(&s->rec, sessions, locks);
                        }
                        return refuse(pamh, c->user, c->service, why, strerror(-r));
                }
                snprintf(move_us, sizeof move_us, "%lld",
                         (long long)(m1.tv_sec - m0.tv_sec) * 1000000 + (m1.tv_nsec - m0.tv_nsec) / 1000);
        }
        {
                char uid[16];

                snprintf(uid, sizeof uid, "%u", (unsigned)s->rec.uid);
                struct timespec now;
                char ms[24];

                clock_gettime(CLOCK_MONOTONIC, &now);
                snprintf(ms, sizeof ms, "%.1f",
                         (double)(now.tv_sec - s->started.tv_sec) * 1e3 +
                                 (double)(now.tv_nsec - s->started.tv_nsec) / 1e6);
                /* net_move_us: the move into the container's network
                 * namespace (sshd, container = user only) */
                log_event(LOG_INFO, "session_start", "session", s->rec.id, "uid", uid, "user",
                          c->user, "service", c->service, "rhost", c->rhost ? c->rhost : "",
                          "mode", c->args.mode == RECORD_MODE_REDIRECT ? "redirect" : "login-shell",
                          "network", s->rec.network ? "nat" : "none", "setup_ms", ms, "steps_us",
                          c->steps.text, move_us[0] ? "net_move_us" : NULL, move_us, NULL);
        }
        if (pam_set_data(pamh, DATA_NAME, s, cleanup_data) != PAM_SUCCESS) {
                _cleanup_close_ int sessions = -1, locks = -1;

                if (move_back_net(s) < 0)
                        return PAM_BUF_ERR;
                if (session_dir_open(s->lock_dir, false, &locks) >= 0)
                        (void)session_teardown(&s->rec, locks, CG_KILL_TIMEOUT_MS, CG_KILL_CAP_MS);
                if (session_dir_open(CUBBY_SESSIONS_DIR, false, &sessions) >= 0)
                        (void)session_record_remove(sessions, s->rec.uid, s->key);
                return PAM_BUF_ERR;
        }
        CUBBY_FAULT("pam.opened");
        s = NULL;
        return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        OpenCtx *c;
        const void *item = NULL;
        Limits lim;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return PAM_BUF_ERR;
        c->pamh = pamh;
        clock_gettime(CLOCK_MONOTONIC, &c->t0);
        steps_begin(&c->steps, &c->t0);
        parse_args(pamh, argc, argv, &c->args);
        if (pam_get_user(pamh, &c->user, NULL) != PAM_SUCCESS || !c->user || !*c->user) {
                free(c);
                return PAM_USER_UNKNOWN;
        }
        if (pam_get_item(pamh, PAM_SERVICE, &item) != PAM_SUCCESS || !item)
                item = "";
        c->service = item;
        item = NULL;
        if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS)
                c->rhost = item;
        item = NULL;
        if (pam_get_item(pamh, PAM_TTY, &item) == PAM_SUCCESS)
                c->tty = item;

        /* Debian's su-l includes su: with pam_cubby in both, the module
         * runs twice on one handle. The first run made the session. */
        {
                const void *prev = NULL;

                if (pam_get_data(pamh, DATA_NAME, &prev) == PAM_SUCCESS && prev) {
                        free(c);
                        return PAM_SUCCESS;
                }
        }
        limits_raise(&lim);
        r = open_session(c);
        limits_restore(&lim);
        if (c->args.debug)
                pam_syslog(pamh, LOG_DEBUG, "open_session user=%s service=%s -> %s", c->user,
                           c->service, pam_strerror(pamh, r));
        user_groups_done(&c->groups);
        conf_free(&c->conf);
        free(c);
        return r;
}

/* The session's user has a per-user container, and this was the user's
 * last live session: with linger = 0 (the policy as it is now) the
 * container stops here (if no other session got in meanwhile: checked
 * under the container lock); with a linger it starts to count now. */
static void container_last_session(pam_handle_t *pamh, const Args *args, const Session *s,
                                   int sessions, int locks)
{
        _cleanup_free_ char *pwbuf = NULL;
        _cleanup_free_ ConfPolicy *pol = NULL;
        struct passwd pw, *res = NULL;
        ConfError cerr;
        Conf conf;
        CtLife life;
        bool admin;
        int r;

        if (ct_exists(s->rec.run_dir, s->rec.uid) != 1)
                return;
        life = (CtLife){ .sessions = sessions, .locks = locks };
        if (ct_live_sessions(&life, s->rec.uid, s->key) != 0)
                return;
        pwbuf = malloc(16384);
        pol = malloc(sizeof *pol);
        if (!pwbuf || !pol)
                return;
        conf_init(&conf);
        /* a broken policy decides nothing: the sweep retries with a good one */
        if (conf_load(&conf, args->config, 0, &cerr) < 0) {
                conf_free(&conf);
                return;
        }
        if (getpwnam_r(s->rec.user, &pw, pwbuf, 16384, &res) != 0 || !res ||
            user_policy(&conf, conf.global.admin_group, &pw, &admin, pol, NULL) < 0) {
                conf_free(&conf);
                return;
        }
        life.global = &conf.global;
        if (pol->linger_s == 0) {
                r = ct_stop(&life, s->rec.uid, CT_STOP_LINGER, (unsigned)pol->stop_grace_s, true,
                            s->key);
                if (r < 0 && r != -EBUSY && r != -ENOENT)
                        pam_syslog(pamh, LOG_ERR, "cannot stop the container of %s: %s", s->rec.user,
                                   strerror(-r));
        } else if (pol->linger_s != CONF_LINGER_ALWAYS) {
                (void)ct_mark_active(&life, s->rec.uid);
        }
        conf_free(&conf);
}

PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
        _cleanup_close_ int sessions = -1, locks = -1;
        const void *data = NULL;
        Session *s;
        struct timespec now;
        char uid[16], ms[32], res[16];
        Limits lim;
        Args args;
        int r = 0;

        if (pam_get_data(pamh, DATA_NAME, &data) != PAM_SUCCESS || !data)
                return PAM_SUCCESS;
        s = (Session *)data;
        /* first: everything below works in the host's network namespace */
        r = move_back_net(s);
        if (r < 0) {
                /* the record stays for gc, which finishes from the host */
                pam_syslog(pamh, LOG_ERR, "cannot return to the host's network namespace: %s",
                           strerror(-r));
                (void)pam_set_data(pamh, DATA_NAME, NULL, NULL);
                return PAM_SUCCESS;
        }
        parse_args(pamh, argc, argv, &args);
        limits_raise(&lim);
        if (s->rec.sandbox) {
                r = session_dir_open(s->lock_dir, true, &locks);
                if (r >= 0)
                        r = session_teardown(&s->rec, locks, CG_KILL_TIMEOUT_MS, CG_KILL_CAP_MS);
        }
        CUBBY_FAULT("pam.close.torn_down");
        /* Only a session whose processes are gone lets go of its record,
         * home and addresses; otherwise the record stays for gc, which
         * finishes the teardown once this opener has exited. */
        if (r >= 0 && session_dir_open(CUBBY_SESSIONS_DIR, false, &sessions) >= 0) {
                (void)session_record_remove(sessions, s->rec.uid, s->key);
                CUBBY_FAULT("pam.close.unrecorded");
                if (s->rec.sandbox && locks >= 0)
                        home_release(&s->rec, sessions, locks);
                CUBBY_FAULT("pam.close.home_released");
                /* a container's lease is free once its helper is gone; the
                 * session's containers are all gone now. A session that
                 * joined its user's container has none: that lease is the
                 * container's init's. */
                if (s->rec.network && s->rec.container != CONF_CONTAINER_USER)
                        (void)ipam_release_session(s->rec.run_dir, s->rec.uid, s->rec.id);
                CUBBY_FAULT("pam.close.leases_released");
                /* container = user: the place where the last live session of
                 * the user is known to have ended; the container's lifetime
                 * (linger) decides from here */
                if (s->rec.sandbox && s->rec.container == CONF_CONTAINER_USER && locks >= 0)
                        container_last_session(pamh, &args, s, sessions, locks);
        }
        limits_restore(&lim);

        clock_gettime(CLOCK_MONOTONIC, &now);
        snprintf(uid, sizeof uid, "%u", (unsigned)s->rec.uid);
        snprintf(ms, sizeof ms, "%lld",
                 (long long)(now.tv_sec - s->started.tv_sec) * 1000 +
                         (now.tv_nsec - s->started.tv_nsec) / 1000000);
        snprintf(res, sizeof res, "%d", r);
        if (s->rec.sandbox)
                log_event(r < 0 ? LOG_ERR : LOG_INFO, "session_end", "session", s->rec.id, "uid",
                          uid, "user", s->rec.user, "service", s->rec.service, "duration_ms", ms,
                          "result", res, NULL);
        (void)pam_set_data(pamh, DATA_NAME, NULL, NULL);
        return PAM_SUCCESS;
}
