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
#include <sys/statvfs.h>
#include <sys/wait.h>
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
#include "cubby/netcfg.h"
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
        int r;

        /* no live holder (it was killed, or its opener died before it
         * was recorded): no overlay is mounted, but the counts, the stale
         * record and the holder's cgroup are still ours to clean up */
        r = anchor_open(c->conf.global.run_dir, &anchor);
        if (r < 0 && r != -ENOENT)
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
                {
                        /* reconcile the home's reference count with the
                         * sessions that are really alive */
                        int live = session_count_live(sessions, hs.uid, NULL, false);

                        if (live < 0) {
                                busy = true;
                                continue;
                        }
                        (void)session_home_refs_set(locks, hs.uid, (unsigned)live);
                        if (live > 0) {
                                busy = true;
                                continue;
                        }
                }
                if (anchor >= 0 && home_is_mounted(&hs, anchor) > 0) {
                        r = home_umount(&hs, anchor);
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

static int for_each_record(int (*fn)(Ctl *, const Record *, const char *, void *), Ctl *c,
                           void *userdata);

typedef struct Ids {
        char (*id)[CUBBY_ID_LEN + 1];
        size_t n, cap;
} Ids;

static int collect_id(Ctl *c, const Record *rec, const char *key, void *userdata)
{
        Ids *ids = userdata;

        if (ids->n == ids->cap) {
                size_t cap = ids->cap ? ids->cap * 2 : 64;
                void *n = realloc(ids->id, cap * sizeof *ids->id);

                if (!n)
                        return -ENOMEM;
                ids->id = n;
                ids->cap = cap;
        }
        memcpy(ids->id[ids->n++], rec->id, sizeof ids->id[0]);
        return 0;
}

/* Session cgroups that no record names (a record lost after a failed
 * teardown, or a crash between steps): kill and remove them. Works from
 * the first hierarchy's listing; each is then handled in all. */
static void gc_orphan_cgroups(Ctl *c, int locks)
{
        CgSet user, sess;
        Ids ids = {};
        DIR *d;
        struct dirent *ud;
        char parent[PATH_MAX - 64];
        char *slash;

        if (for_each_record(collect_id, c, &ids) < 0)
                goto out;
        if (cg_paths(c->conf.global.cgroup_parent, 0, 0, "0000000000000000", &user, &sess) < 0 ||
            user.n == 0)
                goto out;
        if (snprintf(parent, sizeof parent, "%s", user.dir[0].path) >= (int)sizeof parent)
                goto out;
        slash = strrchr(parent, '/');
        if (!slash)
                goto out;
        *slash = 0;
        d = opendir(parent);
        while (d && (ud = readdir(d))) {
                char udir[PATH_MAX];
                struct dirent *sd;
                uint64_t uid;
                DIR *u;

                if (ud->d_name[0] != 'u' || parse_u64(ud->d_name + 1, &uid) < 0 || uid >= UINT32_MAX)
                        continue;
                if (snprintf(udir, sizeof udir, "%s/%s", parent, ud->d_name) >= (int)sizeof udir)
                        continue;
                u = opendir(udir);
                while (u && (sd = readdir(u))) {
                        _cleanup_close_ int lock = -1;
                        bool known = false;
                        CgSet su, ss;

                        if (sd->d_name[0] != 's' || strlen(sd->d_name) != CUBBY_ID_LEN + 1 ||
                            strspn(sd->d_name + 1, "0123456789abcdef") != CUBBY_ID_LEN)
                                continue;
                        for (size_t i = 0; i < ids.n && !known; i++)
                                known = strcmp(ids.id[i], sd->d_name + 1) == 0;
                        /* a login writes its record before its cgroup, but
                         * one may have begun after the records were listed:
                         * only cgroups older than a minute are orphans */
                        {
                                struct stat st;

                                if (fstatat(dirfd(u), sd->d_name, &st, 0) < 0 ||
                                    st.st_mtime + 60 > time(NULL))
                                        continue;
                        }
                        if (known || cg_paths(c->conf.global.cgroup_parent, 0, (uid_t)uid,
                                              sd->d_name + 1, &su, &ss) < 0)
                                continue;
                        if (cg_kill(&ss, 5000) < 0 ||
                            session_lock_user(locks, (uid_t)uid, 5000, &lock) < 0 ||
                            cg_remove(&su, &ss) < 0) {
                                printf("gc: cannot remove orphan session cgroup %s of uid %llu\n",
                                       sd->d_name + 1, (unsigned long long)uid);
                                continue;
                        }
                        log_event(LOG_INFO, "gc_reaped", "session", sd->d_name + 1, "what",
                                  "orphan cgroup", NULL);
                        printf("gc: removed orphan session cgroup %s of uid %llu\n", sd->d_name + 1,
                               (unsigned long long)uid);
                }
                if (u)
                        closedir(u);
        }
        if (d)
                closedir(d);
out:
        free(ids.id);
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
        gc_orphan_cgroups(c, locks);
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

/* The addresses leased to the session's containers, "a,b" or "-". */
static void session_addresses(Ctl *c, const Record *rec, char *buf, size_t size)
{
        _cleanup_free_ IpamLease *leases = NULL;
        size_t n = 0, o = 0;

        snprintf(buf, size, "-");
        if (!rec->network || ipam_list(rec->run_dir, &leases, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                char a[16];

                if (strcmp(leases[i].owner.session, rec->id) != 0)
                        continue;
                o += (size_t)snprintf(buf + o, size > o ? size - o : 0, "%s%s", o ? "," : "",
                                      netcfg_ipv4_str(leases[i].addr, a, sizeof a));
                if (o >= size)
                        break;
        }
}

/* A cgroup counter: the decimal digits up to the end of the line, divided
 * by div; -1 if it is not one (atoll would return 0 or wrap). */
static long long counter_value(const char *s, uint64_t div)
{
        char buf[24];
        size_t n = strcspn(s, "\n");
        uint64_t v;

        if (n >= sizeof buf)
                return -1;
        memcpy(buf, s, n);
        buf[n] = 0;
        if (parse_u64(buf, &v) < 0 || v > INT64_MAX)
                return -1;
        return (long long)(v / div);
}

/* CPU time used by the session in ms (v2 cpu.stat usage_usec, v1
 * cpuacct.usage where cpuacct shares the cpu hierarchy), -1 if unknown. */
static long long session_cpu_ms(const Record *rec)
{
        for (size_t i = 0; i < rec->cgroup.n; i++) {
                const CgDir *d = &rec->cgroup.dir[i];
                _cleanup_close_ int fd = -1;
                _cleanup_free_ char *t = NULL;
                char *p;

                if (!(d->ctrl & CG_CTRL_CPU))
                        continue;
                fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return -1;
                if (d->v2) {
                        if (read_file_at(fd, "cpu.stat", 4096, &t, NULL, NULL) < 0)
                                return -1;
                        p = strstr(t, "usage_usec ");
                        return p ? counter_value(p + 11, 1000) : -1;
                }
                if (read_file_at(fd, "cpuacct.usage", 64, &t, NULL, NULL) < 0)
                        return -1;
                return counter_value(t, 1000000);
        }
        return -1;
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
                return counter_value(t, 1);
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
        long long cpu = rec->sandbox ? session_cpu_ms(rec) : -1;
        char addr[128];

        session_addresses(c, rec, addr, sizeof addr);
        if (!localtime_r(&t, &tm) || strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                snprintf(started, sizeof started, "?");
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
                printf(",\"address\":");
                json_str(addr);
                printf(",\"sandbox\":%s,\"alive\":%s,\"memory_bytes\":%lld,\"cpu_ms\":%lld}",
                       rec->sandbox ? "true" : "false", alive > 0 ? "true" : "false", mem, cpu);
        } else {
                char esc[3][128];

                printf("%-16s %-12s %6u %-10s %-15s %7d %s %-4s %-5s %-15s %8lld %lld\n", rec->id,
                       log_escape(esc[0], sizeof esc[0], rec->user), (unsigned)rec->uid,
                       log_escape(esc[1], sizeof esc[1], rec->service),
                       log_escape(esc[2], sizeof esc[2], rec->rhost[0] ? rec->rhost : "-"),
                       (int)rec->opener_pid, started, rec->sandbox ? "yes" : "no",
                       alive > 0 ? "live" : "stale", addr, cpu, mem);
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
                printf("%-16s %-12s %6s %-10s %-15s %7s %-19s %-4s %-5s %-15s %8s %s\n", "ID", "USER",
                       "UID", "SERVICE", "RHOST", "OPENER", "STARTED", "SBOX", "STATE", "ADDRESS",
                       "CPU_MS", "MEMORY");
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
        if (record_format(rec, &text) < 0)
                return 1;
        if (!c->json) {
                printf("record=%s\n%s", key, text);
                return 1;
        }
        /* the record's key=value lines as [key, value] pairs */
        printf("{\"record\":");
        json_str(key);
        printf(",\"fields\":[");
        {
                char *save = NULL;
                bool first = true;

                for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                        char *eq = strchr(l, '=');

                        if (!eq)
                                continue;
                        *eq = 0;
                        printf("%s[", first ? "" : ",");
                        json_str(l);
                        putchar(',');
                        json_str(eq + 1);
                        putchar(']');
                        first = false;
                }
        }
        printf("]}\n");
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

/* A user the section applies to, to ask sshd about: the [user] itself, or
 * a member of the [group] (supplementary, or primary). */
static bool section_user(const ConfSection *sec, char *buf, size_t size)
{
        struct group *gr;
        struct passwd *pw;

        if (sec->kind == CONF_SECTION_USER) {
                snprintf(buf, size, "%s", sec->name);
                return getpwnam(sec->name) != NULL;
        }
        if (sec->kind != CONF_SECTION_GROUP || !(gr = getgrnam(sec->name)))
                return false;
        if (gr->gr_mem && gr->gr_mem[0]) {
                snprintf(buf, size, "%s", gr->gr_mem[0]);
                return true;
        }
        setpwent();
        while ((pw = getpwent()))
                if (pw->pw_gid == gr->gr_gid) {
                        snprintf(buf, size, "%s", pw->pw_name);
                        endpwent();
                        return true;
                }
        endpwent();
        return false;
}

/* sshd's effective settings for user (sshd -T -C): everything that runs
 * outside the container must be off. Returns the number of problems, -1
 * if sshd could not be asked. */
static int check_sshd_for(const char *sshd_config, const char *user)
{
        static const char *const want[][2] = {
                { "allowtcpforwarding", "no" }, { "allowstreamlocalforwarding", "no" },
                { "x11forwarding", "no" },      { "allowagentforwarding", "no" },
                { "permittunnel", "no" },       { "permituserrc", "no" },
        };
        char conn[128], *line = NULL;
        size_t cap = 0;
        int p[2], bad = 0, seen = 0, st = 0;
        FILE *f;
        pid_t pid;

        snprintf(conn, sizeof conn, "user=%s,host=localhost,addr=127.0.0.1", user);
        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                char *const args[] = { (char *)"sshd", (char *)"-T", (char *)"-f", (char *)sshd_config,
                                       (char *)"-C", conn, NULL };
                char *const envp[] = { (char *)"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
                int null = open("/dev/null", O_RDWR);

                dup2(p[1], 1);
                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 2);
                }
                execve("/usr/sbin/sshd", args, envp);
                _exit(127);
        }
        close(p[1]);
        f = fdopen(p[0], "r");
        while (f && getline(&line, &cap, f) > 0) {
                char key[64], val[256];

                if (sscanf(line, "%63s %255[^\n]", key, val) != 2)
                        continue;
                seen++;
                for (size_t i = 0; i < ELEMENTSOF(want); i++)
                        if (strcmp(key, want[i][0]) == 0 && strcmp(val, want[i][1]) != 0) {
                                fprintf(stderr, "cubbyctl: sshd gives %s %s for sandboxed user %s (want %s)\n",
                                        key, val, user, want[i][1]);
                                bad++;
                        }
                /* internal-sftp runs inside sshd, outside any container */
                if ((strcmp(key, "subsystem") == 0 || strcmp(key, "forcecommand") == 0) &&
                    strstr(val, "internal-sftp")) {
                        fprintf(stderr, "cubbyctl: sshd uses internal-sftp for %s (%s); use the "
                                        "external sftp-server\n", user, key);
                        bad++;
                }
        }
        free(line);
        if (f)
                (void)fclose(f);
        else
                close(p[0]);
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || seen == 0)
                return -1;
        return bad;
}

static int cmd_check(Ctl *c, int argc, char **argv)
{
        const char *sshd_config = "/etc/ssh/sshd_config";
        struct statvfs sv;
        struct stat st;
        int problems = 0;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--sshd-config") == 0 && i + 1 < argc) {
                        sshd_config = argv[++i];
                } else {
                        fprintf(stderr, "usage: cubbyctl check [--sshd-config PATH]\n");
                        return 2;
                }
        }
        if (load_config(c, true) < 0)
                return 1;
        if (stat(CUBBY_HELPER_PATH, &st) < 0 || st.st_uid != 0 || !(st.st_mode & S_ISUID) ||
            (st.st_mode & 022)) {
                fprintf(stderr, "cubbyctl: %s is not installed setuid root\n", CUBBY_HELPER_PATH);
                problems++;
        } else if (statvfs(CUBBY_HELPER_PATH, &sv) == 0 && (sv.f_flag & ST_NOSUID)) {
                fprintf(stderr, "cubbyctl: %s is on a nosuid mount; logins would be refused\n",
                        CUBBY_HELPER_PATH);
                problems++;
        }
        /* sshd's settings for one user of every section that sandboxes */
        if (access("/usr/sbin/sshd", X_OK) == 0 && access(sshd_config, R_OK) == 0) {
                for (size_t i = 0; i < c->conf.n_sections; i++) {
                        const ConfSection *sec = &c->conf.sections[i];
                        char user[CONF_NAME_MAX];
                        int r;

                        if (!(sec->set & (1u << CONF_KEY_SANDBOX)) || !sec->values.sandbox ||
                            !section_user(sec, user, sizeof user))
                                continue;
                        r = check_sshd_for(sshd_config, user);
                        if (r < 0)
                                fprintf(stderr, "cubbyctl: cannot ask sshd about %s (sshd -T failed)\n",
                                        user);
                        problems += r < 0 ? 1 : r;
                }
        }
        if (c->json) {
                printf("{\"config\":");
                json_str(c->config);
                printf(",\"sections\":%zu,\"problems\":%d}\n", c->conf.n_sections, problems);
        } else if (problems == 0) {
                printf("%s: ok (%zu sections)\n", c->config, c->conf.n_sections);
        }
        return problems ? 1 : 0;
}

static void explain_value(Ctl *c, bool *first, const char *key, const char *value,
                          const ConfSection *src)
{
        if (!c->json) {
                printf("%-16s %s", key, value);
                if (src)
                        printf("    # %s:%u", src->file, src->line);
                else
                        printf("    # default");
                printf("\n");
                return;
        }
        printf("%s\"%s\":{\"value\":", *first ? "" : ",", key);
        json_str(value);
        printf(",\"from\":");
        if (src) {
                char where[PATH_MAX + 16];

                snprintf(where, sizeof where, "%s:%u", src->file, src->line);
                json_str(where);
        } else {
                printf("null");
        }
        putchar('}');
        *first = false;
}

static void fmt_limit(uint64_t v, char *buf, size_t size)
{
        if (v == CONF_UNLIMITED)
                snprintf(buf, size, "max");
        else
                snprintf(buf, size, "%llu", (unsigned long long)v);
}

static int cmd_explain(Ctl *c, int argc, char **argv)
{
        const ConfSection *src[_CONF_KEY_MAX];
        char *groups[256], v[PATH_MAX];
        gid_t gids[256];
        int ng = 256;
        struct passwd *pw;
        bool admin, first = true;
        ConfPolicy p;

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
        if (c->json) {
                printf("{\"user\":");
                json_str(pw->pw_name);
                printf(",\"uid\":%u,\"admin\":%s,\"policy\":{", (unsigned)pw->pw_uid,
                       admin ? "true" : "false");
        } else {
                printf("user %s (uid %u)%s\n", pw->pw_name, (unsigned)pw->pw_uid,
                       admin ? ": root or admin group, never sandboxed" : "");
        }
        explain_value(c, &first, "sandbox", p.sandbox && !admin ? "yes" : "no", src[CONF_KEY_SANDBOX]);
        if (p.cpu_milli == CONF_UNLIMITED)
                snprintf(v, sizeof v, "max");
        else
                snprintf(v, sizeof v, "%llu.%03llu", (unsigned long long)p.cpu_milli / 1000,
                         (unsigned long long)p.cpu_milli % 1000);
        explain_value(c, &first, "cpu", v, src[CONF_KEY_CPU]);
        explain_value(c, &first, "cpus", p.cpus[0] ? p.cpus : "all", src[CONF_KEY_CPUS]);
        fmt_limit(p.memory, v, sizeof v);
        explain_value(c, &first, "memory", v, src[CONF_KEY_MEMORY]);
        fmt_limit(p.swap, v, sizeof v);
        explain_value(c, &first, "swap", v, src[CONF_KEY_SWAP]);
        fmt_limit(p.pids, v, sizeof v);
        explain_value(c, &first, "pids", v, src[CONF_KEY_PIDS]);
        fmt_limit(p.max_sessions, v, sizeof v);
        explain_value(c, &first, "max_sessions", v, src[CONF_KEY_MAX_SESSIONS]);
        fmt_limit(p.max_containers, v, sizeof v);
        explain_value(c, &first, "max_containers", v, src[CONF_KEY_MAX_CONTAINERS]);
        explain_value(c, &first, "network", p.network == CONF_NETWORK_NAT ? "nat" : "none",
                      src[CONF_KEY_NETWORK]);
        explain_value(c, &first, "network_fallback", p.network_fallback_none ? "none" : "refuse",
                      src[CONF_KEY_NETWORK_FALLBACK]);
        /* A [global] key (the same for everyone), shown where it applies. */
        if (p.network == CONF_NETWORK_NAT && c->json) {
                printf(",\"network_mode\":{\"value\":\"%s\",\"from\":\"[global]\"}",
                       conf_net_mode_name(c->conf.global.network_mode));
        } else if (p.network == CONF_NETWORK_NAT) {
                printf("%-16s %s    # [global]\n", "network_mode",
                       conf_net_mode_name(c->conf.global.network_mode));
        }
        explain_value(c, &first, "shell", p.shell, src[CONF_KEY_SHELL]);
        v[0] = 0;
        for (size_t i = 0; i < p.n_services; i++)
                snprintf(v + strlen(v), sizeof v - strlen(v), "%s%s", i ? " " : "", p.services[i]);
        explain_value(c, &first, "services", v, src[CONF_KEY_SERVICES]);
        explain_value(c, &first, "hostname", p.hostname, src[CONF_KEY_HOSTNAME]);
        v[0] = 0;
        for (size_t i = 0; i < p.n_hide; i++)
                snprintf(v + strlen(v), sizeof v - strlen(v), "%s%s", i ? " " : "", p.hide[i]);
        explain_value(c, &first, "hide", v, src[CONF_KEY_HIDE]);
        explain_value(c, &first, "home", p.home == CONF_HOME_EPHEMERAL ? "ephemeral" : "persistent",
                      src[CONF_KEY_HOME]);
        explain_value(c, &first, "home_lower", p.home_lower, src[CONF_KEY_HOME_LOWER]);
        explain_value(c, &first, "seccomp", p.seccomp ? "yes" : "no", src[CONF_KEY_SECCOMP]);
        if (c->json)
                printf("}}\n");
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
        char *args[8];
        int n = 0;

        if (load_config(c, true) < 0)
                return 1;
        /* the global --json applies to net status too */
        for (int i = 0; i < argc && n < 6; i++)
                args[n++] = argv[i];
        if (c->json && n >= 2 && strcmp(args[1], "status") == 0)
                args[n++] = (char *)"--json";
        args[n] = NULL;
        return ctl_net(&c->conf, n, args);
}

static void usage(FILE *f)
{
        fprintf(f, "usage: cubbyctl [--config PATH] [--json] COMMAND\n"
                   "commands:\n"
                   "  list               live sessions\n"
                   "  show ID            one session's record\n"
                   "  kill ID|USER       end a session, or all of a user's\n"
                   "  gc                 remove what crashed sessions left\n"
                   "  check [--sshd-config PATH]  validate the policy, the installation and\n"
                   "                     sshd's settings for sandboxed users\n"
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
        /* internal: the anchor holder, exec'd by pam_cubby with the report
         * pipe on fd 3 */
        if (strcmp(argv[optind], "__anchor") == 0 && geteuid() == 0 && fcntl(3, F_GETFD) >= 0)
                anchor_hold(3);
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
