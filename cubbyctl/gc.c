/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cubbyctl gc: remove what crashed sessions left: records whose opener is
 * gone (session_gc), session cgroups that no record names, overlays of users
 * with no live session, the idle anchor holder, stale address leases. What
 * it did is a list of lines (JSON: {"messages": [...], "reaped": N}). */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>

#include "cubby-build.h"
#include "ctl.h"
#include "cubby/anchor-holder.h"
#include "cubby/anchor.h"
#include "cubby/cgroup-layout.h"
#include "cubby/cgroup-lifecycle.h"
#include "cubby/cgroup.h"
#include "cubby/home.h"
#include "cubby/ipam.h"
#include "cubby/log.h"
#include "cubby/session.h"
#include "cubby/util.h"

/* One line of what gc did. */
static void note(json_t *msgs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(json_t *msgs, const char *fmt, ...)
{
        char line[PATH_MAX + 256];
        va_list ap;

        va_start(ap, fmt);
        (void)vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        out_append(msgs, out_str(line));
}

static void gc_text(const json_t *v)
{
        const json_t *msgs = json_object_get(v, "messages");

        for (size_t i = 0; i < json_array_size(msgs); i++)
                printf("%s\n", json_string_value(json_array_get(msgs, i)));
}

static int gc_emit(const Ctl *c, json_t *msgs, unsigned reaped)
{
        json_t *v = json_object();
        int r;

        out_set(v, "messages", msgs);
        out_set(v, "reaped", json_integer(reaped));
        r = out_emit(c, v, gc_text);
        if (r < 0)
                fprintf(stderr, "cubbyctl: gc: %s\n", strerror(-r));
        return r;
}

static void reap_logged(const Record *rec, int result, void *userdata)
{
        json_t *msgs = userdata;
        char uid[16], res[16];

        snprintf(uid, sizeof uid, "%u", (unsigned)rec->uid);
        snprintf(res, sizeof res, "%d", result);
        log_event(result < 0 ? LOG_ERR : LOG_INFO, "gc_reaped", "session", rec->id, "uid", uid,
                  "user", rec->user, "service", rec->service, "result", res, NULL);
        note(msgs, "reaped session %s (user %s): %s", rec->id, rec->user,
               result < 0 ? strerror(-result) : "ok");
}


/* Overlays of users with no live session are unmounted; with no session
 * left at all, the anchor holder is stopped too. Both under the user lock
 * taken by the PAM module, so they cannot race a login. */
static void gc_homes(Ctl *c, int sessions, int locks, json_t *msgs)
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

                if (de->d_name[0] == '.' || ctl_home_spec(c, de->d_name, &hs) < 0)
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
                        note(msgs, "gc: unmounted the home of %s%s%s", hs.user, r < 0 ? ": " : "",
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
                        note(msgs, "gc: stopped the idle anchor namespace");
        }
}

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
static void gc_orphan_cgroups(Ctl *c, int locks, json_t *msgs)
{
        CgSet user, sess;
        Ids ids = {};
        DIR *d;
        struct dirent *ud;
        char parent[PATH_MAX - 64];
        char *slash;

        if (ctl_for_each_record(collect_id, c, &ids) < 0)
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
                                note(msgs, "gc: cannot remove orphan session cgroup %s of uid %llu",
                                       sd->d_name + 1, (unsigned long long)uid);
                                continue;
                        }
                        log_event(LOG_INFO, "gc_reaped", "session", sd->d_name + 1, "what",
                                  "orphan cgroup", NULL);
                        note(msgs, "gc: removed orphan session cgroup %s of uid %llu", sd->d_name + 1,
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

int cmd_gc(Ctl *c, int argc, char **argv)
{
        _cleanup_close_ int sessions = -1, locks = -1;
        char lockdir[PATH_MAX];
        unsigned reaped = 0;
        size_t n_leases = 0;
        IpamLease *gone = NULL;
        json_t *msgs;
        int r, e;

        if (ctl_load_config(c, true) < 0)
                return 1;
        if (session_lock_dir_path(c->conf.global.run_dir, lockdir, sizeof lockdir) < 0) {
                fprintf(stderr, "cubbyctl: run_dir is too long\n");
                return 1;
        }
        r = session_dir_open(CUBBY_SESSIONS_DIR, false, &sessions);
        if (r == -ENOENT) {
                msgs = json_array();
                note(msgs, "gc: no sessions");
                return gc_emit(c, msgs, 0) < 0 ? 1 : 0;
        }
        if (r < 0 || (r = session_dir_open(lockdir, true, &locks)) < 0) {
                fprintf(stderr, "cubbyctl: cannot open the run directories: %s\n", strerror(-r));
                return 1;
        }
        msgs = json_array();
        r = session_gc(sessions, locks, reap_logged, msgs, &reaped);
        if (r < 0)
                fprintf(stderr, "cubbyctl: gc: %s\n", strerror(-r));
        gc_orphan_cgroups(c, locks, msgs);
        gc_homes(c, sessions, locks, msgs);
        if (ipam_gc(c->conf.global.run_dir, &gone, &n_leases) > 0)
                note(msgs, "gc: released %zu stale address leases", n_leases);
        free(gone);
        note(msgs, "gc: %u sessions reaped", reaped);
        e = gc_emit(c, msgs, reaped);
        return r < 0 || e < 0 ? 1 : 0;
}

