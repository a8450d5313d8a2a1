/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl: the admin's tool. Root only. Reads the same policy file as
 * pam_cubby and the session records under the compiled-in run dir.
 * Each command is one function; `net` lives in net.c (libnl, libnftables). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cubby-build.h"
#include "cubby/cgroup.h"
#include "cubby/conf.h"
#include "cubby/ctl-net.h"
#include "cubby/home.h"
#include "cubby/ipam.h"
#include "cubby/log.h"
#include "cubby/record.h"
#include "cubby/session.h"
#include "cubby/util.h"

typedef struct Ctl {
        const char *config;
        bool json;
        Conf conf;
        bool conf_ok;
} Ctl;

static int load_config(Ctl *c, bool required)
{
        ConfError err;
        char buf[PATH_MAX + 300];
        int r;

        conf_init(&c->conf);
        r = conf_load(&c->conf, c->config, 0, &err);
        if (r < 0) {
                conf_error_format(&err, buf, sizeof buf);
                if (required)
                        fprintf(stderr, "cubbyctl: %s\n", buf);
                return r;
        }
        c->conf_ok = true;
        return 0;
}

/* JSON string with the characters JSON requires escaped. */
static void json_str(const char *s)
{
        putchar('"');
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        printf("\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f)
                        printf("\\u%04x", *p);
                else
                        putchar(*p);
        }
        putchar('"');
}

static void reap_logged(const Record *rec, int result, void *userdata)
{
        char uid[16], res[16];

        snprintf(uid, sizeof uid, "%u", (unsigned)rec->uid);
        snprintf(res, sizeof res, "%d", result);
        log_event(result < 0 ? LOG_ERR : LOG_INFO, "gc_reaped", "session", rec->id, "uid", uid,
                  "user", rec->user, "service", rec->service, "result", res, NULL);
        printf("reaped session %s (user %s): %s\n", rec->id, rec->user,
               result < 0 ? strerror(-result) : "ok");
}

/* The user of a state tree entry: the owner of its upper dir. */
static int home_spec_for(Ctl *c, const char *user, HomeSpec *hs)
{
        char path[PATH_MAX];
        struct passwd *pw;
        struct stat st;

        if (!name_is_safe(user, 63))
                return -EINVAL;
        *hs = (HomeSpec){ .state_dir = c->conf.global.state_dir, .run_dir = c->conf.global.run_dir,
                          .user = user };
        pw = getpwnam(user);
        if (pw) {
                hs->uid = pw->pw_uid;
                hs->gid = pw->pw_gid;
                return 0;
        }
        if (snprintf(path, sizeof path, "%s/users/%s/upper", hs->state_dir, user) >= (int)sizeof path ||
            lstat(path, &st) < 0)
                return -ENOENT;
        hs->uid = st.st_uid;
        hs->gid = st.st_gid;
        return 0;
}

/* Overlays of users with no live session are unmounted; with no session
 * left at all, the anchor holder is stopped too. Both under the user lock
 * taken by the PAM module, so they cannot race a login. */
static void gc_homes(Ctl *c, int sessions, int locks)
{
        _cleanup_close_ int anchor = -1;
        char users[PATH_MAX];
        struct dirent *de;
        bool busy = false;
        DIR *d;

        if (anchor_open(c->conf.global.run_dir, &anchor) < 0)
                return;
        if (snprintf(users, sizeof users, "%s/users", c->conf.global.state_dir) >= (int)sizeof users)
                return;
        d = opendir(users);
        while (d && (de = readdir(d))) {
                _cleanup_close_ int lock = -1;
                HomeSpec hs;

                if (de->d_name[0] == '.' || home_spec_for(c, de->d_name, &hs) < 0)
                        continue;
                if (session_lock_user(locks, hs.uid, 5000, &lock) < 0) {
                        busy = true;
                        continue;
                }
                if (session_count_live(sessions, hs.uid, NULL, false) != 0) {
                        busy = true;
                        continue;
                }
                if (home_is_mounted(&hs, anchor) > 0) {
                        int r = home_umount(&hs, anchor);

                        printf("gc: unmounted the home of %s%s%s\n", hs.user, r < 0 ? ": " : "",
                               r < 0 ? strerror(-r) : "");
                        if (r < 0)
                                busy = true;
                }
        }
        if (d)
                closedir(d);
        if (!busy) {
                CgSet user, sess, parents;

                /* the parent dirs of <parent>/u<uid>: where the holder's cgroup is */
                if (cg_paths(c->conf.global.cgroup_parent, 0, 0, "0000000000000000", &user, &sess) < 0)
                        user.n = 0;
                parents = user;
                for (size_t i = 0; i < parents.n; i++) {
                        char *slash = strrchr(parents.dir[i].path, '/');

                        if (slash && slash != parents.dir[i].path)
                                *slash = 0;
                }
                if (anchor_stop(c->conf.global.run_dir, &parents) > 0)
                        printf("gc: stopped the idle anchor namespace\n");
        }
}

static int cmd_gc(Ctl *c, int argc, char **argv)
{
        _cleanup_close_ int sessions = -1, locks = -1;
        char lockdir[PATH_MAX];
        unsigned reaped = 0;
        size_t n_leases = 0;
        IpamLease *gone = NULL;
        int r;

        if (load_config(c, true) < 0)
                return 1;
        if (session_lock_dir_path(c->conf.global.run_dir, lockdir, sizeof lockdir) < 0) {
                fprintf(stderr, "cubbyctl: run_dir is too long\n");
                return 1;
        }
        r = session_dir_open(CUBBY_SESSIONS_DIR, false, &sessions);
        if (r == -ENOENT) {
                printf("gc: no sessions\n");
                return 0;
        }
        if (r < 0 || (r = session_dir_open(lockdir, true, &locks)) < 0) {
                fprintf(stderr, "cubbyctl: cannot open the run directories: %s\n", strerror(-r));
                return 1;
        }
        r = session_gc(sessions, locks, reap_logged, NULL, &reaped);
        if (r < 0)
                fprintf(stderr, "cubbyctl: gc: %s\n", strerror(-r));
        gc_homes(c, sessions, locks);
        if (ipam_gc(c->conf.global.run_dir, &gone, &n_leases) > 0)
                printf("gc: released %zu stale address leases\n", n_leases);
        free(gone);
        printf("gc: %u sessions reaped\n", reaped);
        return r < 0 ? 1 : 0;
}

/* Calls fn for each readable record; fn returns non-zero to stop. */
static int for_each_record(int (*fn)(Ctl *, const Record *, const char *, void *), Ctl *c,
                           void *userdata)
{
        _cleanup_close_ int sessions = -1;
        struct dirent *de;
        DIR *d;
        int r = session_dir_open(CUBBY_SESSIONS_DIR, false, &sessions);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        d = fdopendir(TAKE_FD(sessions));
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ Record *rec = NULL;

                if (de->d_name[0] == '.')
                        continue;
                rec = malloc(sizeof *rec);
                if (!rec) {
                        r = -ENOMEM;
                        break;
                }
                if (record_read(dirfd(d), de->d_name, 0, rec) < 0) {
                        fprintf(stderr, "cubbyctl: unreadable session record %s\n", de->d_name);
                        continue;
                }
                r = fn(c, rec, de->d_name, userdata);
                if (r != 0)
                        break;
        }
        closedir(d);
        return r < 0 ? r : 0;
}

/* Memory in use by the session (v2 memory.current, v1 usage_in_bytes). */
static long long session_memory(const Record *rec)
{
        for (size_t i = 0; i < rec->cgroup.n; i++) {
                const CgDir *d = &rec->cgroup.dir[i];
                _cleanup_close_ int fd = -1;
                _cleanup_free_ char *t = NULL;

                if (!(d->ctrl & CG_CTRL_MEMORY))
                        continue;
                fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return -1;
                if (read_file_at(fd, d->v2 ? "memory.current" : "memory.usage_in_bytes", 64, &t,
                                 NULL, NULL) < 0)
                        return -1;
                return atoll(t);
        }
        return -1;
}

static int list_one(Ctl *c, const Record *rec, const char *key, void *userdata)
{
        unsigned *n = userdata;
        char started[32];
        time_t t = (time_t)rec->created;
        struct tm tm;
        int alive = session_opener_alive(rec);
        long long mem = rec->sandbox ? session_memory(rec) : -1;

        strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%S", localtime_r(&t, &tm));
        if (c->json) {
                printf("%s{\"id\":", (*n)++ ? "," : "");
                json_str(rec->id);
                printf(",\"user\":");
                json_str(rec->user);
                printf(",\"uid\":%u,\"service\":", (unsigned)rec->uid);
                json_str(rec->service);
                printf(",\"rhost\":");
                json_str(rec->rhost);
                printf(",\"opener_pid\":%d,\"started\":", (int)rec->opener_pid);
                json_str(started);
                printf(",\"sandbox\":%s,\"alive\":%s,\"memory_bytes\":%lld}",
                       rec->sandbox ? "true" : "false", alive > 0 ? "true" : "false", mem);
        } else {
                char esc[3][128];

                printf("%-16s %-12s %6u %-10s %-15s %7d %s %-4s %-5s %lld\n", rec->id,
                       log_escape(esc[0], sizeof esc[0], rec->user), (unsigned)rec->uid,
                       log_escape(esc[1], sizeof esc[1], rec->service),
                       log_escape(esc[2], sizeof esc[2], rec->rhost[0] ? rec->rhost : "-"),
                       (int)rec->opener_pid, started, rec->sandbox ? "yes" : "no",
                       alive > 0 ? "live" : "stale", mem);
                (*n)++;
        }
        return 0;
}

static int cmd_list(Ctl *c, int argc, char **argv)
{
        unsigned n = 0;
        int r;

        if (c->json)
                printf("[");
        else
                printf("%-16s %-12s %6s %-10s %-15s %7s %-19s %-4s %-5s %s\n", "ID", "USER", "UID",
                       "SERVICE", "RHOST", "OPENER", "STARTED", "SBOX", "STATE", "MEMORY");
        r = for_each_record(list_one, c, &n);
        if (c->json)
                printf("]\n");
        if (r < 0) {
                fprintf(stderr, "cubbyctl: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}

typedef struct Match {
        const char *what;
        unsigned found;
        int err;
} Match;

static int show_one(Ctl *c, const Record *rec, const char *key, void *userdata)
{
        Match *m = userdata;
        _cleanup_free_ char *text = NULL;

        if (strcmp(rec->id, m->what) != 0)
                return 0;
        m->found++;
        if (record_format(rec, &text) == 0)
                printf("record=%s\n%s", key, text);
        return 1;
}

static int cmd_show(Ctl *c, int argc, char **argv)
{
        Match m = { .what = argc > 1 ? argv[1] : "" };

        if (argc != 2) {
                fprintf(stderr, "usage: cubbyctl show SESSION-ID\n");
                return 2;
        }
        (void)for_each_record(show_one, c, &m);
        if (!m.found) {
                fprintf(stderr, "cubbyctl: no session %s\n", argv[1]);
                return 1;
        }
        return 0;
}

static int kill_one(Ctl *c, const Record *rec, const char *key, void *userdata)
{
        Match *m = userdata;
        int r;

        if (strcmp(rec->id, m->what) != 0 && strcmp(rec->user, m->what) != 0)
                return 0;
        m->found++;
        if (!rec->sandbox)
                return 0;
        /* The opener sees its shell die and closes the session itself. */
        r = cg_kill(&rec->cgroup, 5000);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: cannot kill session %s: %s\n", rec->id, strerror(-r));
                m->err = r;
        } else {
                char uid[16];

                snprintf(uid, sizeof uid, "%u", (unsigned)rec->uid);
                log_event(LOG_NOTICE, "session_killed", "session", rec->id, "uid", uid, "user",
                          rec->user, NULL);
                printf("killed session %s (user %s)\n", rec->id, rec->user);
        }
        return 0;
}

static int cmd_kill(Ctl *c, int argc, char **argv)
{
        Match m = { .what = argc > 1 ? argv[1] : "" };

        if (argc != 2) {
                fprintf(stderr, "usage: cubbyctl kill SESSION-ID|USER\n");
                return 2;
        }
        (void)for_each_record(kill_one, c, &m);
        if (!m.found) {
                fprintf(stderr, "cubbyctl: no session or user %s\n", argv[1]);
                return 1;
        }
        return m.err < 0 ? 1 : 0;
}

static int cmd_check(Ctl *c, int argc, char **argv)
{
        struct stat st;

        if (load_config(c, true) < 0)
                return 1;
        if (stat(CUBBY_HELPER_PATH, &st) < 0 || st.st_uid != 0 || !(st.st_mode & S_ISUID)) {
                fprintf(stderr, "cubbyctl: %s is not installed setuid root\n", CUBBY_HELPER_PATH);
                return 1;
        }
        printf("%s: ok (%zu sections)\n", c->config, c->conf.n_sections);
        return 0;
}

static void print_limit(const char *key, uint64_t v, const ConfSection *src)
{
        if (v == CONF_UNLIMITED)
                printf("%-14s max", key);
        else
                printf("%-14s %llu", key, (unsigned long long)v);
        if (src)
                printf("    # %s:%u", src->file, src->line);
        printf("\n");
}

static int cmd_explain(Ctl *c, int argc, char **argv)
{
        const ConfSection *src[_CONF_KEY_MAX];
        char *groups[256];
        gid_t gids[256];
        int ng = 256;
        struct passwd *pw;
        ConfPolicy p;
        bool admin;

        if (argc != 2) {
                fprintf(stderr, "usage: cubbyctl explain USER\n");
                return 2;
        }
        if (load_config(c, true) < 0)
                return 1;
        pw = getpwnam(argv[1]);
        if (!pw) {
                fprintf(stderr, "cubbyctl: no user %s\n", argv[1]);
                return 1;
        }
        if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &ng) < 0)
                ng = 0;
        for (int i = 0; i < ng; i++) {
                struct group *g = getgrgid(gids[i]);

                groups[i] = strdup(g ? g->gr_name : "");
        }
        conf_resolve(&c->conf, pw->pw_name, (const char *const *)groups, (size_t)ng, &p, src);
        admin = pw->pw_uid == 0;
        for (int i = 0; i < ng; i++)
                admin |= groups[i] && strcmp(groups[i], c->conf.global.admin_group) == 0;
        printf("user %s (uid %u)%s\n", pw->pw_name, (unsigned)pw->pw_uid,
               admin ? ": root or admin group, never sandboxed" : "");
        printf("%-14s %s\n", "sandbox", p.sandbox && !admin ? "yes" : "no");
        if (p.cpu_milli == CONF_UNLIMITED)
                printf("%-14s max\n", "cpu");
        else
                printf("%-14s %llu.%03llu\n", "cpu", (unsigned long long)p.cpu_milli / 1000,
                       (unsigned long long)p.cpu_milli % 1000);
        print_limit("memory", p.memory, src[CONF_KEY_MEMORY]);
        print_limit("swap", p.swap, src[CONF_KEY_SWAP]);
        print_limit("pids", p.pids, src[CONF_KEY_PIDS]);
        print_limit("max_sessions", p.max_sessions, src[CONF_KEY_MAX_SESSIONS]);
        printf("%-14s %s\n", "network", p.network == CONF_NETWORK_NAT ? "nat" : "none");
        printf("%-14s %s\n", "shell", p.shell);
        printf("%-14s", "services");
        for (size_t i = 0; i < p.n_services; i++)
                printf(" %s", p.services[i]);
        printf("\n%-14s %s\n", "seccomp", p.seccomp ? "yes" : "no");
        for (int i = 0; i < ng; i++)
                free(groups[i]);
        return 0;
}

static int cmd_home(Ctl *c, int argc, char **argv)
{
        _cleanup_close_ int anchor = -1, sessions = -1, locks = -1, lock = -1;
        char lockdir[PATH_MAX], moved[64];
        HomeSpec hs;
        int mounted = 0, live = 0, r;

        if (argc != 3 || (strcmp(argv[1], "show") != 0 && strcmp(argv[1], "reset") != 0)) {
                fprintf(stderr, "usage: cubbyctl home show|reset USER\n");
                return 2;
        }
        if (load_config(c, true) < 0)
                return 1;
        if (home_spec_for(c, argv[2], &hs) < 0) {
                fprintf(stderr, "cubbyctl: no user or home %s\n", argv[2]);
                return 1;
        }
        if (anchor_open(hs.run_dir, &anchor) == 0)
                mounted = home_is_mounted(&hs, anchor);
        if (session_dir_open(CUBBY_SESSIONS_DIR, false, &sessions) == 0)
                live = session_count_live(sessions, hs.uid, NULL, false);
        if (strcmp(argv[1], "show") == 0) {
                char merged[PATH_MAX];

                (void)home_merged_path(hs.state_dir, hs.user, merged, sizeof merged);
                if (c->json) {
                        printf("{\"user\":");
                        json_str(hs.user);
                        printf(",\"uid\":%u,\"state\":", (unsigned)hs.uid);
                        json_str(merged);
                        printf(",\"mounted\":%s,\"sessions\":%d}\n", mounted > 0 ? "true" : "false",
                               live);
                } else {
                        printf("user %s (uid %u)\nstate %s/users/%s\nupper %s/users/%s/upper\n"
                               "mounted %s\nsessions %d\n",
                               hs.user, (unsigned)hs.uid, hs.state_dir, hs.user, hs.state_dir,
                               hs.user, mounted > 0 ? "yes" : "no", live);
                }
                return 0;
        }
        /* reset: only while the user has no session, under the user lock */
        if (session_lock_dir_path(hs.run_dir, lockdir, sizeof lockdir) < 0 ||
            session_dir_open(lockdir, true, &locks) < 0 ||
            session_lock_user(locks, hs.uid, 5000, &lock) < 0) {
                fprintf(stderr, "cubbyctl: cannot lock the user's sessions\n");
                return 1;
        }
        if (sessions >= 0)
                live = session_count_live(sessions, hs.uid, NULL, false);
        if (live != 0) {
                fprintf(stderr, "cubbyctl: %s has %d live session(s); end them first (cubbyctl kill %s)\n",
                        hs.user, live, hs.user);
                return 1;
        }
        if (anchor >= 0 && home_is_mounted(&hs, anchor) > 0 && (r = home_umount(&hs, anchor)) < 0) {
                fprintf(stderr, "cubbyctl: cannot unmount the home: %s\n", strerror(-r));
                return 1;
        }
        r = home_reset(&hs, moved, sizeof moved);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: cannot reset the home of %s: %s\n", hs.user, strerror(-r));
                return 1;
        }
        printf("home of %s reset; the old files are in %s/users/%s/%s\n", hs.user, hs.state_dir,
               hs.user, moved);
        return 0;
}

static int cmd_net(Ctl *c, int argc, char **argv)
{
        if (load_config(c, true) < 0)
                return 1;
        return ctl_net(&c->conf, argc, argv);
}

static void usage(FILE *f)
{
        fprintf(f, "usage: cubbyctl [--config PATH] [--json] COMMAND\n"
                   "commands:\n"
                   "  list               live sessions\n"
                   "  show ID            one session's record\n"
                   "  kill ID|USER       end a session, or all of a user's\n"
                   "  gc                 remove what crashed sessions left\n"
                   "  check              validate the policy and the installation\n"
                   "  explain USER       the policy that applies to USER\n"
                   "  home show|reset USER  the user's persistent home\n"
                   "  net up|down|status the host network (bridge, NAT)\n");
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const struct {
                const char *name;
                int (*fn)(Ctl *, int, char **);
        } cmds[] = {
                { "gc", cmd_gc },     { "list", cmd_list },   { "show", cmd_show },
                { "kill", cmd_kill }, { "check", cmd_check }, { "explain", cmd_explain },
                { "home", cmd_home }, { "net", cmd_net },
        };
        Ctl c = { .config = CUBBY_CONFIG_PATH };
        int o, r;

        while ((o = getopt_long(argc, argv, "+c:jh", opts, NULL)) >= 0) {
                switch (o) {
                case 'c':
                        c.config = optarg;
                        break;
                case 'j':
                        c.json = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind >= argc) {
                usage(stderr);
                return 2;
        }
        if (geteuid() != 0) {
                fprintf(stderr, "cubbyctl: must be run as root\n");
                return 1;
        }
        openlog("cubbyctl", LOG_PID, LOG_AUTHPRIV);
        for (size_t i = 0; i < ELEMENTSOF(cmds); i++)
                if (strcmp(argv[optind], cmds[i].name) == 0) {
                        r = cmds[i].fn(&c, argc - optind, argv + optind);
                        conf_free(&c.conf);
                        return r;
                }
        fprintf(stderr, "cubbyctl: unknown command %s\n", argv[optind]);
        usage(stderr);
        return 2;
}
