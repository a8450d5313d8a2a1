/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl list | show ID|USER | kill ID|USER: the live sessions, from the
 * records under the compiled-in run dir and the sessions' cgroups, and the
 * per-user containers they joined (containers.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cubby-build.h"
#include "ctl.h"
#include "cubby/cgroup-lifecycle.h"
#include "cubby/cgroup.h"
#include "cubby/ipam.h"
#include "cubby/log.h"
#include "cubby/host-netcfg.h"
#include "cubby/record-write.h"
#include "cubby/session.h"
#include "cubby/util.h"

typedef struct {
        CtlRecordFn fn;
        Ctl *c;
        void *userdata;
} EachRecord;

static int each_record(int dirfd, const char *key, const Record *rec, int err, void *userdata)
{
        EachRecord *e = userdata;

        (void)dirfd;
        if (err < 0) {
                fprintf(stderr, "cubbyctl: unreadable session record %s\n", key);
                return 0;
        }
        return e->fn(e->c, rec, key, e->userdata);
}

int ctl_for_each_record(CtlRecordFn fn, Ctl *c, void *userdata)
{
        _cleanup_close_ int sessions = -1;
        EachRecord e = { .fn = fn, .c = c, .userdata = userdata };
        int r = session_dir_open(CUBBY_SESSIONS_DIR, false, &sessions);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = session_walk(sessions, NULL, NULL, each_record, &e, NULL);
        return r < 0 ? r : 0;
}

/* The addresses leased to the session's containers, "a,b" or "-". */
static void session_addresses(const Record *rec, char *buf, size_t size)
{
        _cleanup_free_ IpamLease *leases = NULL;
        size_t n = 0, o = 0;

        snprintf(buf, size, "-");
        if (!rec->network || ipam_list_user(rec->run_dir, rec->uid, &leases, &n) < 0)
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

/* CPU time used by a cgroup set in ms, -1 if unknown: v2 cpu.stat
 * usage_usec; on v1, cpuacct.usage, which exists only where cpuacct is
 * mounted together with cpu. Where cpuacct is a hierarchy of its own (as on
 * many v1 hosts), cubby makes no group there, so the session's CPU time is
 * not counted anywhere: unknown, not an error. */
long long ctl_cpu_ms(const CgSet *set)
{
        for (size_t i = 0; i < set->n; i++) {
                const CgDir *d = &set->dir[i];
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

/* Memory in use where a cgroup set is charged (v2 memory.current, v1
 * usage_in_bytes): the user dir, since sessions and containers have no
 * memory cgroup of their own (v1: the set's entry is the user dir; v2:
 * the dirs below it carry no memory files, so the first dir up to the
 * user dir that does). */
long long ctl_memory(const CgSet *set)
{
        for (size_t i = 0; i < set->n; i++) {
                const CgDir *d = &set->dir[i];
                const char *knob = d->v2 ? "memory.current" : "memory.usage_in_bytes";
                char path[PATH_MAX];

                if (!(d->ctrl & CG_CTRL_MEMORY))
                        continue;
                snprintf(path, sizeof path, "%s", d->path);
                for (int up = 0; up < 3; up++) {
                        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        _cleanup_free_ char *t = NULL;
                        char *slash;
                        int r;

                        if (fd < 0)
                                return -1;
                        r = read_file_at(fd, knob, 64, &t, NULL, NULL);
                        if (r >= 0)
                                return counter_value(t, 1);
                        slash = strrchr(path, '/');
                        if (r != -ENOENT || !d->v2 || !slash || slash[1] == 'u' || slash == path)
                                return -1;
                        *slash = 0;
                }
                return -1;
        }
        return -1;
}

/* A counter, or null where it is unknown. */
static json_t *counter_json(long long v)
{
        return v < 0 ? json_null() : json_integer(v);
}

/* What list and show USER gather, in one pass over the records: the
 * session rows (each with where it lives), the run dirs the records name,
 * then the containers of those run dirs. */
typedef struct Listing {
        const char *user;          /* NULL: every user */
        json_t *rows;
        CtlSessionPlace *places;   /* one per session row, in order */
        size_t n_places;
        CtlRunDirs *dirs;
        CtlContainer *cts;
        size_t n_cts;
} Listing;

/* The bytes in the user's home (its project quota), or null where the
 * home is not counted (no home, ephemeral, no project quota). */
static json_t *session_disk(const Record *rec)
{
        char dir[PATH_MAX], *slash;
        json_t *q, *v;

        if (!rec->sandbox || !rec->home_mount[0] ||
            snprintf(dir, sizeof dir, "%s", rec->home_mount) >= (int)sizeof dir ||
            !(slash = strrchr(dir, '/')) || strcmp(slash, "/merged") != 0)
                return json_null();
        *slash = 0;
        q = home_disk_json(dir, rec->uid);
        v = json_is_object(q) ? json_incref(json_object_get(q, "bytes")) : json_null();
        json_decref(q);
        return v;
}

static int list_one(Ctl *c, const Record *rec, const char *key, void *userdata)
{
        Listing *l = userdata;
        CtlSessionPlace *more;
        json_t *row;
        char started[32], addr[128];
        time_t t = (time_t)rec->created;
        bool alive = session_opener_alive(rec) > 0;
        struct tm tm;
        int r;

        ctl_run_dirs_add(l->dirs, rec->run_dir);
        if (l->user && strcmp(rec->user, l->user) != 0)
                return 0;
        more = realloc(l->places, (l->n_places + 1) * sizeof *l->places);
        if (!more)
                return -ENOMEM;
        l->places = more;
        r = ctl_session_place(rec, &l->places[l->n_places]);
        if (r < 0)
                return r;
        l->n_places++;
        row = json_object();
        session_addresses(rec, addr, sizeof addr);
        if (!localtime_r(&t, &tm) || strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                snprintf(started, sizeof started, "?");
        out_set(row, "id", out_str(rec->id));
        out_set(row, "user", out_str(rec->user));
        out_set(row, "uid", json_integer(rec->uid));
        out_set(row, "service", out_str(rec->service));
        out_set(row, "rhost", out_str(rec->rhost));
        out_set(row, "opener_pid", json_integer(rec->opener_pid));
        out_set(row, "started", out_str(started));
        out_set(row, "address", out_str(addr));
        out_set(row, "sandbox", json_boolean(rec->sandbox));
        out_set(row, "alive", json_boolean(alive));
        out_set(row, "state", out_str(alive ? "live" : "stale"));
        out_set(row, "memory_bytes", counter_json(rec->sandbox ? ctl_memory(&rec->cgroup) : -1));
        out_set(row, "cpu_ms", counter_json(rec->sandbox ? ctl_cpu_ms(&rec->cgroup) : -1));
        out_set(row, "disk_bytes", session_disk(rec));
        /* added after the fields of login containers, which keep their
         * order: the kind of row and (listing_build) the per-user
         * container it joined */
        out_set(row, "kind", out_str("session"));
        out_set(row, "container", json_null());
        out_append(l->rows, row);
        return 0;
}

/* Sessions, then containers (of l->user, or all): l->rows. */
static int listing_build(Ctl *c, Listing *l)
{
        size_t n_rows;
        time_t now = time(NULL);
        int r;

        l->rows = json_array();
        l->dirs = malloc(sizeof *l->dirs);
        if (!l->dirs)
                return -ENOMEM;
        ctl_run_dirs_conf(c, l->dirs);
        r = ctl_for_each_record(list_one, c, l);
        if (r < 0)
                return r;
        r = ctl_containers(l->dirs, &l->cts, &l->n_cts);
        if (r < 0)
                return r;
        n_rows = json_array_size(l->rows);
        for (size_t i = 0; i < l->n_cts; i++) {
                json_t *ids = json_array();
                char name[16];

                if (l->user && strcmp(l->cts[i].rec.user, l->user) != 0) {
                        json_decref(ids);
                        continue;
                }
                (void)ct_name(l->cts[i].rec.uid, name, sizeof name);
                for (size_t k = 0; k < l->n_places && k < n_rows; k++) {
                        json_t *row = json_array_get(l->rows, k);

                        if (!json_is_null(json_object_get(row, "container")) ||
                            !ctl_session_in_container(&l->places[k], &l->cts[i].rec))
                                continue;
                        out_set(row, "container", out_str(name));
                        out_append(ids, out_str(out_get_str(row, "id")));
                }
                out_append(l->rows, ctl_ct_row(&l->cts[i], ids, now));
        }
        return 0;
}

static void listing_free(Listing *l)
{
        for (size_t i = 0; i < l->n_places; i++)
                ctl_session_place_free(&l->places[i]);
        free(l->places);
        free(l->dirs);
        free(l->cts);
        json_decref(l->rows);
}

static bool row_is(const json_t *row, const char *kind)
{
        return strcmp(out_get_str(row, "kind"), kind) == 0;
}

/* The rows of one kind (new references). */
static json_t *rows_of_kind(const json_t *rows, const char *kind)
{
        json_t *v = json_array();

        for (size_t i = 0; i < json_array_size(rows); i++)
                if (row_is(json_array_get(rows, i), kind))
                        out_append(v, json_incref(json_array_get(rows, i)));
        return v;
}

static void sessions_table(const json_t *rows)
{
        static const OutColumn cols[] = {
                { "id", "ID", -16, NULL },        { "user", "USER", -12, NULL },
                { "uid", "UID", 6, NULL },        { "service", "SERVICE", -10, NULL },
                { "rhost", "RHOST", -15, "-" },   { "opener_pid", "OPENER", 7, NULL },
                { "started", "STARTED", -19, NULL }, { "sandbox", "SBOX", -4, NULL },
                { "state", "STATE", -5, NULL },   { "address", "ADDRESS", -15, NULL },
                { "cpu_ms", "CPU_MS", 8, "-" },   { "disk_bytes", "DISK", 10, "-" },
                { "memory_bytes", "MEMORY", 0, "-" },
        };

        out_table(stdout, rows, cols, ELEMENTSOF(cols));
}

/* The sessions table as for login containers alone; the containers table
 * after it, only where there are containers. */
static void list_text(const json_t *rows)
{
        json_t *s = rows_of_kind(rows, "session"), *ct = rows_of_kind(rows, "container");

        sessions_table(s);
        if (json_array_size(ct) > 0) {
                putchar('\n');
                ctl_ct_table(stdout, ct);
        }
        json_decref(s);
        json_decref(ct);
}

int cmd_list(Ctl *c, int argc, char **argv)
{
        Listing l = { 0 };
        json_t *rows;
        int r;

        if (argc != 1) {
                fprintf(stderr, "usage: cubbyctl list\n");
                return 2;
        }
        r = listing_build(c, &l);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: %s\n", strerror(-r));
                listing_free(&l);
                return 1;
        }
        rows = json_incref(l.rows);
        listing_free(&l);
        r = out_emit(c, rows, list_text);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: list: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}

typedef struct Match {
        const char *what;
        unsigned found;
        int err;
        json_t *out;
} Match;

static int show_one(Ctl *c, const Record *rec, const char *key, void *userdata)
{
        Match *m = userdata;
        _cleanup_free_ char *text = NULL;
        json_t *fields;
        char *save = NULL;

        if (strcmp(rec->id, m->what) != 0)
                return 0;
        m->found++;
        if (record_format(rec, &text) < 0)
                return 1;
        /* the record's key=value lines (escaped as in the file) as
         * [key, value] pairs, in the file's order */
        m->out = json_object();
        fields = json_array();
        out_set(m->out, "record", out_str(key));
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *eq = strchr(l, '=');

                if (!eq)
                        continue;
                *eq = 0;
                out_append(fields, json_pack("[oo]", out_str(l), out_str(eq + 1)));
        }
        out_set(m->out, "fields", fields);
        return 1;
}

static void show_text(const json_t *v)
{
        const json_t *fields = json_object_get(v, "fields");

        printf("record=%s\n", out_get_str(v, "record"));
        for (size_t i = 0; i < json_array_size(fields); i++) {
                const json_t *f = json_array_get(fields, i);

                printf("%s=%s\n", json_string_value(json_array_get(f, 0)),
                       json_string_value(json_array_get(f, 1)));
        }
}

/* show USER: the user's container (the first record of a uid; one per
 * run dir at most) and sessions. */
static void show_user_text(const json_t *v)
{
        const json_t *ct = json_object_get(v, "container");

        if (json_is_object(ct))
                ctl_ct_fields(stdout, ct);
        else
                printf("container=-\n");
        if (json_array_size(json_object_get(v, "sessions")) > 0) {
                putchar('\n');
                sessions_table(json_object_get(v, "sessions"));
        }
}

static int show_user(Ctl *c, const char *user)
{
        Listing l = { .user = user };
        json_t *v, *ct;
        int r = listing_build(c, &l);

        if (r < 0) {
                fprintf(stderr, "cubbyctl: %s\n", strerror(-r));
                listing_free(&l);
                return 1;
        }
        if (json_array_size(l.rows) == 0) {
                fprintf(stderr, "cubbyctl: no session or user %s\n", user);
                listing_free(&l);
                return 1;
        }
        ct = rows_of_kind(l.rows, "container");
        v = json_object();
        out_set(v, "user", out_str(user));
        out_set(v, "container", json_array_size(ct) ? json_incref(json_array_get(ct, 0)) : json_null());
        out_set(v, "sessions", rows_of_kind(l.rows, "session"));
        json_decref(ct);
        listing_free(&l);
        r = out_emit(c, v, show_user_text);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: show: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}

int cmd_show(Ctl *c, int argc, char **argv)
{
        Match m = { .what = argc > 1 ? argv[1] : "" };
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: cubbyctl show SESSION-ID|USER\n");
                return 2;
        }
        (void)ctl_for_each_record(show_one, c, &m);
        if (!m.found)
                return show_user(c, argv[1]);
        r = out_emit(c, m.out, show_text);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: show: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}

static int kill_one(Ctl *c, const Record *rec, const char *key, void *userdata)
{
        Match *m = userdata;
        char uid[16];
        int r;

        if (strcmp(rec->id, m->what) != 0 && strcmp(rec->user, m->what) != 0)
                return 0;
        m->found++;
        if (!rec->sandbox)
                return 0;
        /* The opener sees its shell die and closes the session itself. */
        r = cg_kill(&rec->cgroup, CG_KILL_TIMEOUT_MS, CG_KILL_CAP_MS);
        if (r < 0) {
                fprintf(stderr, "cubbyctl: cannot kill session %s: %s\n", rec->id, strerror(-r));
                m->err = r;
                return 0;
        }
        snprintf(uid, sizeof uid, "%u", (unsigned)rec->uid);
        log_event(LOG_NOTICE, "session_killed", "session", rec->id, "uid", uid, "user", rec->user,
                  NULL);
        out_append(m->out, json_pack("{s:o,s:o}", "id", out_str(rec->id), "user", out_str(rec->user)));
        return 0;
}

static void kill_text(const json_t *v)
{
        const json_t *killed = json_object_get(v, "killed");

        for (size_t i = 0; i < json_array_size(killed); i++) {
                const json_t *s = json_array_get(killed, i);

                printf("killed session %s (user %s)\n", out_get_str(s, "id"), out_get_str(s, "user"));
        }
}

int cmd_kill(Ctl *c, int argc, char **argv)
{
        Match m = { .what = argc > 1 ? argv[1] : "", .out = json_array() };
        json_t *v;
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: cubbyctl kill SESSION-ID|USER\n");
                json_decref(m.out);
                return 2;
        }
        (void)ctl_for_each_record(kill_one, c, &m);
        if (!m.found) {
                fprintf(stderr, "cubbyctl: no session or user %s\n", argv[1]);
                json_decref(m.out);
                return 1;
        }
        v = json_object();
        out_set(v, "killed", m.out);
        r = out_emit(c, v, kill_text);
        return m.err < 0 || r < 0 ? 1 : 0;
}
